// The app hosting the engine's API server (engine/server: its routes, limits, CORS, API key and
// OpenAI JSON have their own tests in tests/server) on the worker's loaded model, through the
// real engine on random-weight models: /health and /v1/models follow what is loaded; an API
// answer streams while two chats answer beside it (they share the model's sequences); loading
// another model cancels the API answers on the old one, which say why; a device failure under
// an API request is recovered from as a chat's is; a taken port is a clear
// error; the settings, and the App starting the server when they enable it; stories260K
// continuing its published story over HTTP.
#include <QSettings>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QtTest>

#include "api_server_fixture.h"
#include "app.h"
#include "chat/chat_controller.h"
#include "http_test_client.h"
#include "server/api_server.h"
#include "settings.h"
#include "storage/chat_store.h"
#include "storage/database.h"
#include "test_models.h"
#include "test_paths.h"

using namespace strata;
using namespace strata::app;
using namespace strata::test;

namespace {

constexpr int kRandomModelEos = 2;  // what gen-model writes as tokenizer.ggml.eos_token_id

QString randomModel(const QTemporaryDir& dir, const QString& name, QString* error) {
    RandomModelConfig config;  // tiny: 2 layers, 64 wide, 512-token vocabulary
    config.seed = 20240611;
    config.n_ctx_train = 4096;
    return writeRandomModel(dir, name, config, error);
}

LoadOptions smallLoad(int nSeq) {
    LoadOptions o;
    o.n_ctx = 4096;
    o.n_threads = 2;
    o.n_seq = nSeq;
    return o;
}

std::optional<HttpReply> get(quint16 port, const QByteArray& path) {
    RawClient c(port);
    c.send(httpRequest("GET", path));
    return c.read();
}

QString servedId(quint16 port) {
    const auto r = get(port, "/v1/models");
    if (!r || r->status != 200) return QStringLiteral("(no answer)");
    const QJsonArray data = r->json().value("data").toArray();
    return data.isEmpty() ? QString() : data.first().toObject().value("id").toString();
}

// A streamed completion that runs to the context's end unless cancelled: EOS is banned.
QByteArray endlessStream() {
    const QJsonObject body{{"prompt", "Once"},
                           {"stream", true},
                           {"temperature", 0},
                           {"logit_bias", QJsonObject{{QString::number(kRandomModelEos), -100}}}};
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

}  // namespace

class TestApiServer : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { registerWorkerMetaTypes(); }

    void healthAndModelsFollowTheLoadedModel() {
        QTemporaryDir dir;
        QString error;
        const QString path = randomModel(dir, QStringLiteral("random-tiny"), &error);
        QVERIFY2(!path.isEmpty(), qPrintable(error));
        Served s(makeStrataBackend());
        QVERIFY(s.server.listen(testOptions()));
        auto health = get(s.port(), "/health");
        QVERIFY(health);
        QCOMPARE(health->status, 503);
        QVERIFY(health->headers.contains("retry-after"));
        QCOMPARE(servedId(s.port()), QString());

        s.load(path, smallLoad(2));
        QTRY_VERIFY_WITH_TIMEOUT(s.workers.model->isLoaded(), 10000);
        QCOMPARE(servedId(s.port()), QStringLiteral("random-tiny"));
        health = get(s.port(), "/health");
        QVERIFY(health);
        QCOMPARE(health->status, 200);
        RawClient api(s.port());
        api.send(httpRequest("POST", "/v1/chat/completions", chatBody("Hi", {{"max_tokens", 6}, {"temperature", 0}})));
        const auto answer = api.read(10000);
        QVERIFY(answer);
        QCOMPARE(answer->status, 200);
        QCOMPARE(answer->json().value("model").toString(), QStringLiteral("random-tiny"));
        QCOMPARE(usageOf(answer->json(), "completion_tokens"), 6);

        s.workers.model->unload();
        QTRY_VERIFY_WITH_TIMEOUT(!s.workers.model->isLoaded(), 10000);
        api.send(httpRequest("POST", "/v1/chat/completions", chatBody("Hi")));
        const auto none = api.read();
        QVERIFY(none);
        QCOMPARE(none->status, 503);
        QVERIFY2(none->errorMessage().contains(QStringLiteral("no model is loaded")), qPrintable(none->errorMessage()));
    }

    // An API client and two chats share the loaded model (three sequences): both chat answers
    // finish while an API stream keeps going; then loading another model ends that stream with an error event
    // that says why, and the API serves the new model.
    void apiAndChatAnswerAtOnceAndAReloadCancelsTheApi() {
        QTemporaryDir dir;
        QString error;
        const QString first = randomModel(dir, QStringLiteral("random-first"), &error);
        const QString second = randomModel(dir, QStringLiteral("random-second"), &error);
        QVERIFY2(!first.isEmpty() && !second.isEmpty(), qPrintable(error));
        Database db;
        QVERIFY(db.open(dir.filePath("chat.sqlite3")));
        ChatStore store(db);
        Served s(makeStrataBackend());
        ChatController chat(store, *s.workers.worker, *s.workers.model);
        QVERIFY(s.server.listen(testOptions()));
        s.load(first, smallLoad(3));
        QTRY_VERIFY_WITH_TIMEOUT(s.workers.model->isLoaded(), 10000);

        RawClient api(s.port());
        api.send(httpRequest("POST", "/v1/completions", endlessStream()));
        QVERIFY(api.waitFor("data: {", 10000));

        QSignalSpy chatDone(&chat, &ChatController::answerFinished);
        QSignalSpy chatErrors(&chat, &ChatController::errorOccurred);
        SamplingSettings brief;
        brief.maxTokens = 8;
        QVERIFY(chat.setConversationSettings(QString(), QString(), brief));
        QVERIFY(chat.send(QStringLiteral("Tell me a story")));
        const qint64 firstChat = chat.currentConversation();
        QVERIFY(chat.newConversation());
        QVERIFY(chat.setConversationSettings(QString(), QString(), brief));
        QVERIFY(chat.send(QStringLiteral("And another one")));
        const qint64 secondChat = chat.currentConversation();
        QVERIFY(secondChat != firstChat);
        QTRY_COMPARE_WITH_TIMEOUT(chatDone.size(), 2, 20000);
        QCOMPARE(chatErrors.size(), 0);
        for (const qint64 c : {firstChat, secondChat}) {
            const Message answer = store.messages(c).last();
            QVERIFY(answer.role == Role::assistant && answer.state == MessageState::complete);
        }
        QVERIFY(!api.closed());
        QVERIFY2(!api.waitFor("[DONE]", 1), "the API stream ended before the chat's answer");

        s.load(second, smallLoad(2));
        const auto stream = api.read(20000);
        QVERIFY(stream);
        QCOMPARE(stream->status, 200);
        const QByteArray body = stream->body;
        QVERIFY2(body.contains("model was unloaded") && !body.contains("[DONE]"), body.right(300).constData());
        QTRY_COMPARE_WITH_TIMEOUT(s.workers.model->loadedPath(), second, 10000);
        QCOMPARE(servedId(s.port()), QStringLiteral("random-second"));
        api.send(httpRequest("POST", "/v1/completions", R"({"prompt":"x","max_tokens":2})"));
        const auto next = api.read(10000);  // the same connection, not cancelled
        QVERIFY(next);
        QCOMPARE(next->status, 200);
    }

    // A device that fails under an API request: that request fails (500), the worker re-plans
    // the model on the remaining device (recovered with request id 0, the layout in ModelState),
    // and the next request is answered.
    void deviceFailureUnderAnApiRequestIsRecovered() {
        QTemporaryDir dir;
        QString error;
        const QString path = randomModel(dir, QStringLiteral("random-split"), &error);
        QVERIFY2(!path.isEmpty(), qPrintable(error));
        Served s(makeStrataBackend());
        QVERIFY(s.server.listen(testOptions()));
        LoadOptions o = smallLoad(1);
        std::string why;
        QVERIFY(strata::parse_device_specs("cpu:1GiB,cpu:1GiB:fail-after=300", o.devices, why));
        o.mode = SplitMode::ratios;
        o.ratios = {1.0, 1.0};
        QSignalSpy recovered(s.workers.worker.get(), &EngineWorker::recovered);
        s.load(path, o);
        QTRY_VERIFY_WITH_TIMEOUT(s.workers.model->isLoaded(), 10000);
        QCOMPARE(s.workers.model->loaded()->plan.stages.size(), size_t(2));

        RawClient api(s.port());
        api.send(httpRequest("POST", "/v1/completions", R"({"prompt":"Once","max_tokens":400,"temperature":0})"));
        const auto failed = api.read(20000);
        QVERIFY(failed);
        QCOMPARE(failed->status, 500);
        QVERIFY2(failed->errorMessage().contains(QStringLiteral("cpu1")), qPrintable(failed->errorMessage()));

        QTRY_COMPARE_WITH_TIMEOUT(recovered.size(), 1, 10000);
        QCOMPARE(recovered[0][0].toULongLong(), quint64(0));
        QTRY_COMPARE_WITH_TIMEOUT(s.workers.model->loaded()->plan.stages.size(), size_t(1), 5000);
        QCOMPARE(s.workers.model->loaded()->plan.stages[0].device_id, std::string("cpu"));
        api.send(httpRequest("POST", "/v1/completions", R"({"prompt":"Once","max_tokens":20,"temperature":0})"));
        const auto next = api.read(20000);
        QVERIFY(next);
        QCOMPARE(next->status, 200);
        QCOMPARE(usageOf(next->json(), "completion_tokens"), 20);
    }

    void portInUseIsAClearError() {
        Served a, b;
        QVERIFY(a.server.listen(testOptions()));
        ApiServerOptions o = testOptions();
        o.port = a.port();
        QVERIFY(!b.server.listen(o));
        QVERIFY2(b.server.errorString().contains(QStringLiteral("%1 is already in use").arg(o.port)),
                 qPrintable(b.server.errorString()));
        QVERIFY(!b.server.isListening());
        QCOMPARE(servedId(a.port()), QString());  // the first one is unharmed (and has no model)
        QVERIFY(a.server.url().startsWith("http://127.0.0.1:"));
    }

    void settingsKeepPortAndSwitch() {
        QTemporaryDir dir;
        const QString ini = dir.filePath("strata.ini");
        {
            Settings s(ini);
            QVERIFY(!s.apiServerEnabled());  // off unless asked for
            QCOMPARE(s.apiServerPort(), kDefaultApiPort);
            s.setApiServerPort(4321);
            s.setApiServerEnabled(true);
        }
        Settings s(ini);
        QVERIFY(s.apiServerEnabled());
        QCOMPARE(s.apiServerPort(), quint16(4321));
        QSettings(ini, QSettings::IniFormat).setValue("server/port", 70000);  // edited by hand
        QCOMPARE(Settings(ini).apiServerPort(), kDefaultApiPort);
    }

    // The App starts the server with itself when the settings say so, and stops it first on
    // shutdown.
    void appStartsTheServerWhenEnabled() {
        QTemporaryDir dir;
        QTcpServer probe;  // a port free right now
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        const quint16 port = probe.serverPort();
        probe.close();
        {
            Settings s(dir.filePath("strata.ini"));
            s.setApiServerEnabled(true);
            s.setApiServerPort(port);
        }
        AppOptions o;
        o.dataDir = dir.path();
        o.makeBackend = [] { return std::make_unique<FakeBackend>(FakeScript{}, std::make_shared<FakeRecord>()); };
        App app(o);
        QVERIFY(!app.apiServer().isListening());
        QVERIFY(app.start());
        QVERIFY(app.apiServer().isListening());
        QCOMPARE(app.apiServer().port(), port);
        RawClient c(port);
        c.send(httpRequest("GET", "/v1/models"));
        const auto r = c.read();
        QVERIFY(r);
        QCOMPARE(r->status, 200);
        app.shutdown();
        QVERIFY(!app.apiServer().isListening());
        QVERIFY(c.waitClosed());
    }

    // A trained model over HTTP: stories260K continues its published greedy story.
    void stories260kTellsItsStory() {
        const QString path = stories260kPath();
        if (path.isEmpty()) QSKIP("stories260K.gguf not found (../shared/models)");
        Served s(makeStrataBackend());
        QVERIFY(s.server.listen(testOptions()));
        LoadOptions o;
        o.n_ctx = 256;
        o.n_threads = 2;
        s.load(path, o);
        QTRY_VERIFY_WITH_TIMEOUT(s.workers.model->isLoaded(), 10000);
        QCOMPARE(servedId(s.port()), QStringLiteral("stories260K"));
        RawClient api(s.port());
        const QByteArray body = R"({"prompt":"Once upon a time","temperature":0,"max_tokens":30)";
        api.send(httpRequest("POST", "/v1/completions", body + "}"));
        const auto whole = api.read(10000);
        QVERIFY(whole);
        const QString text = whole->json().value("choices").toArray().first().toObject().value("text").toString();
        // Published by the model's author (llama2.c, doc/stories260K.md), greedy from BOS.
        const QString published = QStringLiteral(
            "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, "
            "she saw a big, red ball.");
        QVERIFY2(text.size() > 60 && published.startsWith(QStringLiteral("Once upon a time") + text), qPrintable(text));
        QCOMPARE(usageOf(whole->json(), "completion_tokens"), 30);
        QCOMPARE(usageOf(whole->json(), "prompt_tokens"), 5);  // BOS + 4
        api.send(httpRequest("POST", "/v1/completions", body + R"(,"stream":true})"));
        const auto streamed = api.read(10000);
        QVERIFY(streamed);
        QCOMPARE(parseSse(streamed->body).text, text);
    }
};

QTEST_GUILESS_MAIN(TestApiServer)
#include "tst_api_server.moc"
