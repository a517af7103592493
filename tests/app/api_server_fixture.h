// Helpers shared by the ApiServer tests: a worker with the server hosted on its model, request bodies, and a
// real HTTP client (QNetworkAccessManager) for whole and streamed answers.
#pragma once

#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTimer>

#include "http_test_client.h"
#include "server/api_server.h"
#include "worker_fixture.h"

namespace strata::test {

using namespace strata::app;


inline ApiServerOptions testOptions() {
    ApiServerOptions o;
    o.port = 0;  // any free port: tests run in parallel
    o.limits.request_timeout = std::chrono::milliseconds(300);
    o.limits.idle_timeout = std::chrono::milliseconds(3000);
    o.allowedOrigins = {"http://localhost:3000"};
    return o;
}

// A worker (fake or real backend) and the server hosted on its model source. The server is
// declared after the worker, so it goes first.
struct Served {
    explicit Served(FakeScript script = {}) : workers(std::move(script)), server(workers.worker->modelSource()) {}
    explicit Served(std::unique_ptr<EngineBackend> backend)
        : workers(std::move(backend)), server(workers.worker->modelSource()) {}
    void load(const QString& path, const LoadOptions& o = {}) { workers.model->load(path, o); }
    quint16 port() const { return server.port(); }
    WorkerFixture workers;
    ApiServer server;
};

inline QByteArray chatBody(const QString& user, const QJsonObject& extra = {}) {
    QJsonObject o = extra;
    o.insert("model", "whatever");
    o.insert("messages", QJsonArray{QJsonObject{{"role", "system"}, {"content", "Be brief."}},
                                    QJsonObject{{"role", "user"}, {"content", user}}});
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

// POSTs with QNetworkAccessManager (a real HTTP client checks our framing too).
struct NamReply {
    int status = 0;
    QByteArray contentType;
    QByteArray body;
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
};

inline NamReply namPost(QNetworkAccessManager& nam, quint16 port, const QString& path, const QByteArray& body) {
    QNetworkRequest req(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(port).arg(path)));
    req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
    QNetworkReply* reply = nam.post(req, body);
    QSignalSpy finished(reply, &QNetworkReply::finished);
    if (!reply->isFinished()) finished.wait(10000);
    NamReply r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.contentType = reply->header(QNetworkRequest::ContentTypeHeader).toByteArray();
    r.body = reply->readAll();
    reply->deleteLater();
    return r;
}

inline qint64 usageOf(const QJsonObject& o, const char* key) { return o.value("usage").toObject().value(key).toInteger(); }

}  // namespace strata::test
