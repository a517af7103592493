#include "server/api_server.h"

#include <QDateTime>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QTcpSocket>
#include <algorithm>
#include <limits>

#include "engine/engine_worker.h"
#include "engine/model_state.h"
#include "strata/chat_turn.h"

namespace strata::app {

Q_LOGGING_CATEGORY(lcApi, "strata.api")

namespace {

struct Route {
    const char* path;
    const char* method;
};

constexpr Route kRoutes[] = {
    {"/health", "GET"},
    {"/v1/models", "GET"},
    {"/v1/chat/completions", "POST"},
    {"/v1/completions", "POST"},
};

QByteArray sse(const QByteArray& json) { return "data: " + json + "\n\n"; }

// Compares in time that does not depend on where the first difference is, so a client cannot
// find the key byte by byte from response times.
bool sameSecret(const QByteArray& a, const QByteArray& b) {
    unsigned diff = unsigned(a.size() ^ b.size());
    for (qsizetype i = 0; i < a.size(); ++i) diff |= unsigned(quint8(a[i]) ^ quint8(i < b.size() ? b[i] : 0));
    return diff == 0;
}

QByteArray withoutTrailingSlash(QByteArray origin) {
    while (origin.endsWith('/')) origin.chop(1);
    return origin.toLower();
}

}  // namespace

bool originAllowed(const QByteArray& origin, const QList<QByteArray>& allowed) {
    if (origin.isEmpty()) return false;
    const QByteArray o = withoutTrailingSlash(origin);
    for (const QByteArray& a : allowed)
        if (a == "*" || withoutTrailingSlash(a.trimmed()) == o) return true;
    return false;
}

ApiServer::ApiServer(EngineWorker& worker, const ModelState& model, QObject* parent)
    : QObject(parent), m_worker(worker), m_model(model) {
    connect(&m_tcp, &QTcpServer::newConnection, this, &ApiServer::onNewConnection);
    connect(&worker, &EngineWorker::tokenReceived, this, &ApiServer::onToken);
    connect(&worker, &EngineWorker::reasoningReceived, this, &ApiServer::onReasoning);
    connect(&worker, &EngineWorker::promptReady, this, &ApiServer::onPrompt);
    connect(&worker, &EngineWorker::answerParsed, this, [this](quint64 requestId, const ParsedAnswer& answer) {
        if (const auto it = m_jobs.find(requestId); it != m_jobs.end()) it->second.parsed = answer;
    });
    connect(&worker, &EngineWorker::generationFailed, this, &ApiServer::onFailed);
    connect(&worker, &EngineWorker::generationFinished, this, &ApiServer::onFinished);
}

QString ApiServer::modelId() const {
    if (!m_model.isLoaded()) return {};
    QString id = QFileInfo(m_model.loadedPath()).fileName();
    if (id.endsWith(QLatin1String(".gguf"), Qt::CaseInsensitive)) id.chop(5);
    return id;
}

ApiServer::~ApiServer() { close(); }

bool ApiServer::listen(const ApiServerOptions& options) {
    close();
    m_options = options;
    m_error.clear();
    if (!m_tcp.listen(options.address, options.port)) {
        const QString where = QStringLiteral("%1:%2").arg(options.address.toString()).arg(options.port);
        if (m_tcp.serverError() == QAbstractSocket::AddressInUseError)
            m_error = tr("Port %1 is already in use on %2 (another program, perhaps another Strata, LM Studio or "
                         "llama-server, is listening there). Choose another port: strata --serve PORT, or "
                         "server/port in strata.ini.")
                          .arg(options.port)
                          .arg(options.address.toString());
        else
            m_error = tr("Could not listen on %1: %2").arg(where, m_tcp.errorString());
        return false;
    }
    emit listeningChanged(true);
    return true;
}

void ApiServer::close() {
    const bool was = m_tcp.isListening();
    m_tcp.close();
    // Aborting a connection cancels its request (onConnectionClosed).
    const QList<HttpConnection*> open = m_connections;
    for (HttpConnection* c : open) c->abort();
    if (was) emit listeningChanged(false);
}

QString ApiServer::url() const {
    const QHostAddress a = m_tcp.serverAddress();
    const QString host = a.protocol() == QAbstractSocket::IPv6Protocol ? QStringLiteral("[%1]").arg(a.toString()) : a.toString();
    return QStringLiteral("http://%1:%2").arg(host).arg(m_tcp.serverPort());
}

void ApiServer::onNewConnection() {
    while (QTcpSocket* socket = m_tcp.nextPendingConnection()) {
        if (m_connections.size() >= m_options.maxConnections) {
            const QByteArray body = errorJson(503, tr("too many connections (%1)").arg(m_options.maxConnections));
            socket->write("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: " +
                          QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
            socket->disconnectFromHost();
            connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            continue;
        }
        auto* c = new HttpConnection(socket, m_options.limits, m_options.timeouts, this);
        m_connections.append(c);
        connect(c, &HttpConnection::requestReceived, this, &ApiServer::onRequest);
        connect(c, &HttpConnection::closed, this, &ApiServer::onConnectionClosed);
    }
}

void ApiServer::onConnectionClosed(HttpConnection* connection) {
    m_connections.removeOne(connection);
    // Its requests are cancelled; their entries stay until the worker finishes them, so their
    // last tokens are recognised and dropped.
    for (auto& [id, job] : m_jobs)
        if (job.connection == connection) {
            m_worker.requestCancel(job.requestId);
            job.connection = nullptr;
        }
}

bool ApiServer::hostAllowed(const HttpRequest& request) const {
    if (!m_options.address.isLoopback()) return true;
    const QByteArray host = request.header("host");
    if (host.isNull()) return true;  // HTTP/1.0 without Host: not a browser
    QByteArray name = host.toLower();
    if (name.startsWith('[')) name = name.mid(1, name.indexOf(']') - 1);
    else if (const qsizetype colon = name.indexOf(':'); colon >= 0) name.truncate(colon);
    return name == "127.0.0.1" || name == "localhost" || name == "::1";
}

bool ApiServer::keyAccepted(const HttpRequest& request) const {
    if (m_options.apiKey.isEmpty()) return true;
    const QByteArray auth = request.header("authorization").trimmed();
    const QByteArray scheme = "bearer ";
    if (auth.size() <= scheme.size() || auth.left(scheme.size()).toLower() != scheme) return false;
    return sameSecret(auth.mid(scheme.size()).trimmed(), m_options.apiKey);
}

void ApiServer::sendError(HttpConnection* connection, int status, const QString& message) {
    connection->respond(status, errorJson(status, message));
}

void ApiServer::sendModelUnavailable(HttpConnection* connection) {
    if (const QString loading = m_model.loadingPath(); !loading.isEmpty())
        sendError(connection, 503, tr("the model %1 is loading; try again shortly").arg(QFileInfo(loading).fileName()));
    else
        sendError(connection, 503, tr("no model is loaded: load one in Strata's library, or start Strata with "
                                      "`strata --serve MODEL.gguf`"));
}

void ApiServer::onRequest(HttpConnection* connection, const HttpRequest& request) {
    QByteArray path = request.path;
    if (path.size() > 1 && path.endsWith('/')) path.chop(1);

    // CORS: a browser sends Origin; only listed origins get an answer they may read. Requests
    // without one (curl, SDKs) are not from a page and need no permission.
    const QByteArray origin = request.header("origin");
    const bool fromPage = !origin.isEmpty();
    const bool pageAllowed = fromPage && originAllowed(origin, m_options.allowedOrigins);
    connection->setCorsOrigin(!pageAllowed                               ? QByteArray()
                              : m_options.allowedOrigins.contains("*") ? QByteArray("*")
                                                                       : origin);
    if (request.method == "OPTIONS") {
        if (fromPage && !pageAllowed) {
            sendError(connection, 403, tr("the origin %1 may not use this API (Settings ▸ Server ▸ Allowed origins)")
                                           .arg(QString::fromUtf8(origin)));
            return;
        }
        // CORS preflight: allow what a browser front-end sends (JSON bodies, an API key).
        QByteArray asked = request.header("access-control-request-headers");
        if (asked.isEmpty()) asked = "Content-Type, Authorization";
        connection->respond(204, {}, {},
                            {{"Access-Control-Allow-Methods", "GET, POST, OPTIONS"},
                             {"Access-Control-Allow-Headers", asked},
                             {"Access-Control-Max-Age", "86400"}});
        return;
    }
    if (!hostAllowed(request)) {
        sendError(connection, 403, tr("the Host header must name this machine (127.0.0.1 or localhost)"));
        return;
    }
    if (fromPage && !pageAllowed) {
        sendError(connection, 403, tr("the origin %1 may not use this API (Settings ▸ Server ▸ Allowed origins)")
                                       .arg(QString::fromUtf8(origin)));
        return;
    }
    if (!keyAccepted(request)) {
        sendError(connection, 401, tr("this server needs an API key: send \"Authorization: Bearer KEY\" with the key "
                                      "set in Strata's Settings ▸ Server"));
        return;
    }
    const Route* route = nullptr;
    for (const Route& r : kRoutes)
        if (path == r.path) route = &r;
    if (!route) {
        sendError(connection, 404,
                  tr("no such endpoint: %1 (this server has GET /v1/models, POST /v1/chat/completions, "
                     "POST /v1/completions and GET /health)")
                      .arg(QString::fromUtf8(path)));
        return;
    }
    if (request.method != route->method) {
        connection->respond(405,
                            errorJson(405, tr("%1 takes %2, not %3")
                                               .arg(QString::fromUtf8(path), QLatin1String(route->method),
                                                    QString::fromLatin1(request.method))),
                            "application/json", {{"Allow", QByteArray(route->method) + ", OPTIONS"}});
        return;
    }

    if (path == "/health") {
        if (!m_model.isLoaded()) sendModelUnavailable(connection);
        else connection->respond(200, R"({"status":"ok"})");
    } else if (path == "/v1/models") {
        connection->respond(200, modelsJson(modelId(), m_model.loadedAt()));
    } else {
        startCompletion(connection, request, path == "/v1/chat/completions");
    }
}

void ApiServer::startCompletion(HttpConnection* connection, const HttpRequest& request, bool chat) {
    Job job;
    if (auto e = chat ? parseChatRequest(request.body, job.request) : parseCompletionRequest(request.body, job.request)) {
        connection->respond(e->status, errorJson(*e));
        return;
    }
    if (!m_model.isLoaded()) {
        sendModelUnavailable(connection);
        return;
    }
    strata::GenerateParams& params = job.request.params;
    // Unbounded by default, as with OpenAI: the answer runs until it ends or the context is full.
    if (!job.request.hasMaxTokens)
        params.max_tokens = int(std::clamp<qint64>(m_model.loaded()->nCtx, 1, std::numeric_limits<int>::max()));
    if (!job.request.hasSeed) params.sampler.seed = QRandomGenerator::global()->generate64();

    job.connection = connection;
    job.requestId = m_worker.newRequestId();
    job.meta = newResponseMeta(chat, modelId());
    const quint64 requestId = job.requestId;
    const CompletionRequest& r = m_jobs.emplace(requestId, std::move(job)).first->second.request;
    if (chat) m_worker.requestChat(requestId, r.chat, r.params);
    else m_worker.requestCompletion(requestId, r.prompt, r.params);
}

void ApiServer::startStream(Job& job, HttpConnection* connection) {
    // The status line goes out with the first token, not when the request is queued: until
    // then a failure (a prompt longer than the context) can still be a proper error status.
    job.streamStarted = true;
    connection->beginStream(200, "text/event-stream");
    if (job.meta.chat) connection->writeStream(sse(chunkJson(job.meta, {}, true, {})));
}

void ApiServer::onPrompt(quint64 requestId, const PromptInfo& info) {
    const auto it = m_jobs.find(requestId);
    if (it == m_jobs.end()) return;
    it->second.formats = info.formats;
    if (!info.warning.isEmpty())
        qCWarning(lcApi).noquote() << "request" << it->second.meta.id << "is prompted with the" << info.templateName
                                   << "format:" << info.warning;
}

void ApiServer::streamContent(Job& job, HttpConnection* connection) {
    // While tools are offered, text that may be the start of a call waits for the parse. Without
    // tools everything goes out as it comes: no per-token pass over the whole answer.
    qsizetype safe = job.text.size();
    if (!job.request.chat.toolsJson.isEmpty()) {
        const QByteArray utf8 = job.text.toUtf8();
        const size_t safeBytes = strata::tool_call_safe_prefix(std::string_view(utf8.data(), size_t(utf8.size())),
                                                               job.formats.tool_calls);
        safe = QString::fromUtf8(utf8.left(qsizetype(safeBytes))).size();
    }
    if (safe <= job.sent) return;
    if (!job.streamStarted) startStream(job, connection);
    connection->writeStream(sse(chunkJson(job.meta, job.text.mid(job.sent, safe - job.sent), false, {})));
    job.sent = safe;
}

void ApiServer::onToken(quint64 requestId, const QString& text) {
    const auto it = m_jobs.find(requestId);
    if (it == m_jobs.end()) return;  // the chat's, or a request whose client left
    Job& job = it->second;
    job.text += text;
    if (!job.request.stream) return;
    // A write that finds the client gone closes the connection at once (job.connection is then
    // cleared), but the object lives until the event loop runs: keep a plain pointer.
    HttpConnection* c = job.connection;
    if (!c) return;
    if (!job.meta.chat) {
        if (!job.streamStarted) startStream(job, c);
        c->writeStream(sse(chunkJson(job.meta, text, false, {})));
        job.sent = job.text.size();
        return;
    }
    streamContent(job, c);
}

void ApiServer::onReasoning(quint64 requestId, const QString& text) {
    const auto it = m_jobs.find(requestId);
    if (it == m_jobs.end() || !it->second.request.stream) return;  // whole answers take it from answerParsed
    Job& job = it->second;
    HttpConnection* c = job.connection;
    if (!c) return;
    if (!job.streamStarted) startStream(job, c);
    c->writeStream(sse(reasoningChunkJson(job.meta, text)));
}

void ApiServer::onFailed(quint64 requestId, strata::ErrorCode code, const QString& message) {
    const auto it = m_jobs.find(requestId);
    if (it == m_jobs.end()) return;
    it->second.error = message;
    it->second.errorCode = code;
}

void ApiServer::onFinished(quint64 requestId, const strata::GenerateStats& stats) {
    const auto it = m_jobs.find(requestId);
    if (it == m_jobs.end()) return;
    Job job = std::move(it->second);
    m_jobs.erase(it);
    HttpConnection* c = job.connection;
    if (!c || !c->isOpen()) return;

    if (stats.stop == strata::StopReason::error || stats.stop == strata::StopReason::cancelled) {
        // Not this client's cancel (it would be gone): the app is shutting down or replacing the
        // model, or the engine failed.
        int status = 500;
        QString message = job.error.isEmpty() ? tr("the answer failed") : job.error;
        HttpConnection::Headers headers;
        if (stats.stop == strata::StopReason::cancelled) {
            status = 503;
            message = tr("the request was cancelled (Strata is closing, or the model was unloaded)");
        } else if (job.errorCode == strata::ErrorCode::busy) {
            // Every sequence slot is answering and the wait queue is full.
            status = 503;
            message = tr("the server is busy: %1").arg(message);
            headers.append(qMakePair(QByteArray("Retry-After"), QByteArray("1")));
        } else if (!m_model.isLoaded()) {
            status = 503;
        }
        if (job.streamStarted) {
            c->writeStream(sse(errorJson(status, message)));
            c->endStream(true);
        } else {
            c->respond(status, errorJson(status, message), "application/json", headers);
        }
        return;
    }

    // Tool calls count only when tools were offered; otherwise the answer is the text as it came.
    const bool toolsOffered = !job.request.chat.toolsJson.isEmpty();
    ParsedAnswer answer;
    if (job.parsed) answer = *job.parsed;
    if (!toolsOffered || !job.parsed) {
        answer.content = job.text;
        answer.toolCalls.clear();
    }
    if (!job.request.stream) {
        c->respond(200, job.meta.chat ? chatCompletionJson(job.meta, answer, stats) : completionJson(job.meta, job.text, stats));
        return;
    }
    if (!job.streamStarted) startStream(job, c);
    QString finish = finishReason(stats.stop);
    if (job.meta.chat) {
        // What was held back: the parsed content's rest (the calls' text removed), then the calls.
        const QString sentText = job.text.left(job.sent);
        const QString rest = answer.content.startsWith(sentText) ? answer.content.mid(sentText.size()) : QString();
        if (!rest.isEmpty()) c->writeStream(sse(chunkJson(job.meta, rest, false, {})));
        if (!answer.toolCalls.isEmpty()) {
            c->writeStream(sse(toolCallsChunkJson(job.meta, answer.toolCalls)));
            finish = QStringLiteral("tool_calls");
        }
    }
    c->writeStream(sse(chunkJson(job.meta, {}, false, finish)));
    if (job.request.includeUsage) c->writeStream(sse(usageChunkJson(job.meta, stats)));
    c->writeStream("data: [DONE]\n\n");
    c->endStream();
}
}  // namespace strata::app
