// ApiServer over real loopback sockets (the parser and the JSON mapping have their own tests):
// /health and /v1/models follow the loaded model; chat and text completions whole and streamed
// (a scripted backend; a random-weight model through the real engine, where the streamed chunks
// must join to the whole answer and the usage must agree; stories260K continuing its published
// story); 503 without a model; 404/405/403/408/413/431/501 and the connection afterwards; split
// and pipelined requests; a client that leaves cancels its request, running or queued; API
// requests queue behind the chat's without mixing tokens or failures; a taken port; the
// settings, and the App starting the server when they enable it.
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSettings>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>

#include "app.h"
#include "chat/chat_controller.h"
#include "http_test_client.h"
#include "server/api_server.h"
#include "settings.h"
#include "storage/chat_store.h"
#include "storage/database.h"
#include "test_models.h"
#include "test_paths.h"
#include "api_server_fixture.h"
#include "worker_fixture.h"

using namespace strata;
using namespace strata::app;
using strata::test::FakeScript;
using strata::test::HttpReply;
using strata::test::httpRequest;
using strata::test::parseSse;
using strata::test::RawClient;
using strata::test::WorkerFixture;
using namespace strata::test;


class TestApiServer : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { registerWorkerMetaTypes(); }

    // ---- the server over sockets, with a scripted backend

    void healthAndModelsFollowTheLoadedModel() {
        Served s;
        QVERIFY2(s.server.listen(testOptions()), qPrintable(s.server.errorString()));
        RawClient c(s.port());
        c.send(httpRequest("GET", "/health") + httpRequest("GET", "/v1/models"));
        auto health = c.read();
        auto models = c.read();
        QVERIFY(health && models);
        QCOMPARE(health->status, 503);
        QCOMPARE(health->errorType(), QStringLiteral("unavailable_error"));
        QCOMPARE(models->status, 200);
        QCOMPARE(models->json().value("object").toString(), QStringLiteral("list"));
        QCOMPARE(models->json().value("data").toArray().size(), 0);

        s.load(QStringLiteral("/models/Tiny-Fake.Q8_0.gguf"));
        QTRY_COMPARE(s.server.modelId(), QStringLiteral("Tiny-Fake.Q8_0"));
        c.send(httpRequest("GET", "/health") + httpRequest("GET", "/v1/models/"));  // a trailing slash is fine
        health = c.read();
        models = c.read();
        QVERIFY(health && models);
        QCOMPARE(health->status, 200);
        QCOMPARE(health->json().value("status").toString(), QStringLiteral("ok"));
        const QJsonArray data = models->json().value("data").toArray();
        QCOMPARE(data.size(), 1);
        QCOMPARE(data[0].toObject().value("id").toString(), QStringLiteral("Tiny-Fake.Q8_0"));
        QCOMPARE(data[0].toObject().value("object").toString(), QStringLiteral("model"));
        // Not from a browser (no Origin): no CORS permission is given, none is needed.
        QVERIFY(!models->headers.contains("access-control-allow-origin"));

        s.workers.worker->requestUnload();
        QTRY_VERIFY(s.server.modelId().isEmpty());
        c.send(httpRequest("GET", "/v1/models"));
        models = c.read();
        QVERIFY(models);
        QCOMPARE(models->json().value("data").toArray().size(), 0);
    }

    void completionsWithoutAModelAre503() {
        Served s;
        QVERIFY(s.server.listen(testOptions()));
        RawClient c(s.port());
        c.send(httpRequest("POST", "/v1/chat/completions", chatBody("hi")));
        const auto r = c.read();
        QVERIFY(r);
        QCOMPARE(r->status, 503);
        QCOMPARE(r->errorType(), QStringLiteral("unavailable_error"));
        QVERIFY2(r->errorMessage().contains("no model is loaded"), qPrintable(r->errorMessage()));
        std::lock_guard lock(s.workers.record->mutex);
        QVERIFY(s.workers.record->prompts.empty());  // nothing reached the engine
    }

    void chatCompletionWhole() {
        Served s;
        QVERIFY(s.server.listen(testOptions()));
        s.load(QStringLiteral("/m/fake.gguf"));
        QTRY_VERIFY(!s.server.modelId().isEmpty());
        QNetworkAccessManager nam;
        const NamReply r = namPost(nam, s.port(), "/v1/chat/completions",
                                   chatBody("Why?", {{"temperature", 0.25}, {"seed", 7}, {"stop", "END"}}));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.contentType, QByteArray("application/json"));
        const QJsonObject o = r.json();
        QCOMPARE(o.value("object").toString(), QStringLiteral("chat.completion"));
        QVERIFY(o.value("id").toString().startsWith("chatcmpl-"));
        QCOMPARE(o.value("model").toString(), QStringLiteral("fake"));
        const QJsonObject choice = o.value("choices").toArray().first().toObject();
        QCOMPARE(choice.value("message").toObject().value("role").toString(), QStringLiteral("assistant"));
        QCOMPARE(choice.value("message").toObject().value("content").toString(), QStringLiteral("Hello, world!"));
        QCOMPARE(choice.value("finish_reason").toString(), QStringLiteral("stop"));
        // The fake counts one prompt token per byte of the messages: "Be brief." + "Why?".
        QCOMPARE(usageOf(o, "prompt_tokens"), 13);
        QCOMPARE(usageOf(o, "completion_tokens"), 4);
        QCOMPARE(usageOf(o, "total_tokens"), 17);
        std::lock_guard lock(s.workers.record->mutex);
        QCOMPARE(s.workers.record->prompts.size(), size_t(1));
        QCOMPARE(s.workers.record->prompts[0][0].role, std::string("system"));
        QCOMPARE(s.workers.record->prompts[0][1].content, std::string("Why?"));
        const GenerateParams& p = s.workers.record->params[0];
        QCOMPARE(p.sampler.temperature, 0.25f);
        QCOMPARE(p.sampler.seed, quint64(7));
        QCOMPARE(p.stop_strings, std::vector<std::string>{"END"});
        QCOMPARE(p.max_tokens, 512);  // no max_tokens: up to the loaded context (the fake's 512)
    }

    void chatCompletionStreamed_data() {
        QTest::addColumn<int>("maxTokens");
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("finish");
        QTest::newRow("to the end") << 100 << "Hello, world!" << "stop";
        QTest::newRow("cut by max_tokens") << 2 << "Hello," << "length";
    }
    void chatCompletionStreamed() {
        QFETCH(int, maxTokens);
        QFETCH(QString, text);
        QFETCH(QString, finish);
        Served s;
        QVERIFY(s.server.listen(testOptions()));
        s.load(QStringLiteral("/m/fake.gguf"));
        QTRY_VERIFY(!s.server.modelId().isEmpty());
        QNetworkAccessManager nam;
        const NamReply r = namPost(nam, s.port(), "/v1/chat/completions",
                                   chatBody("hi", {{"stream", true}, {"max_tokens", maxTokens},
                                                   {"stream_options", QJsonObject{{"include_usage", true}}}}));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.contentType, QByteArray("text/event-stream"));
        const auto sse = parseSse(r.body);
        QVERIFY2(sse.wellFormed && sse.done, r.body.constData());
        QCOMPARE(sse.text, text);
        QCOMPARE(sse.finishReason, finish);
        const QJsonObject first = sse.chunks.first().value("choices").toArray().first().toObject();
        QCOMPARE(first.value("delta").toObject().value("role").toString(), QStringLiteral("assistant"));
        for (const QJsonObject& c : sse.chunks) {
            QCOMPARE(c.value("object").toString(), QStringLiteral("chat.completion.chunk"));
            QCOMPARE(c.value("id").toString(), sse.chunks.first().value("id").toString());
        }
        // include_usage: a last chunk without choices; as many tokens as the pieces streamed.
        QVERIFY(sse.chunks.last().value("choices").toArray().isEmpty());
        QCOMPARE(sse.usage.value("completion_tokens").toInt(), maxTokens < 4 ? maxTokens : 4);
        QCOMPARE(sse.usage.value("total_tokens").toInt(),
                 sse.usage.value("prompt_tokens").toInt() + sse.usage.value("completion_tokens").toInt());
    }

    void textCompletionWholeAndStreamed() {
        Served s;
        QVERIFY(s.server.listen(testOptions()));
        s.load(QStringLiteral("/m/fake.gguf"));
        QTRY_VERIFY(!s.server.modelId().isEmpty());
        QNetworkAccessManager nam;
        const NamReply whole = namPost(nam, s.port(), "/v1/completions", R"({"prompt":"Once upon","max_tokens":3})");
        QCOMPARE(whole.status, 200);
        const QJsonObject o = whole.json();
        QCOMPARE(o.value("object").toString(), QStringLiteral("text_completion"));
        QVERIFY(o.value("id").toString().startsWith("cmpl-"));
        const QJsonObject choice = o.value("choices").toArray().first().toObject();
        QCOMPARE(choice.value("text").toString(), QStringLiteral("Hello, world"));
        QCOMPARE(choice.value("finish_reason").toString(), QStringLiteral("length"));
        QCOMPARE(usageOf(o, "prompt_tokens"), 9);
        const NamReply streamed = namPost(nam, s.port(), "/v1/completions", R"({"prompt":["Once upon"],"stream":true})");
        const auto sse = parseSse(streamed.body);
        QVERIFY(sse.wellFormed && sse.done);
        QCOMPARE(sse.text, QStringLiteral("Hello, world!"));
        QCOMPARE(sse.chunks.first().value("object").toString(), QStringLiteral("text_completion"));
        std::lock_guard lock(s.workers.record->mutex);
        QCOMPARE(s.workers.record->rawPrompts, (std::vector<std::string>{"Once upon", "Once upon"}));
        QVERIFY(s.workers.record->prompts.empty());  // no chat template in between
    }

    void routingAndRefusals_data() {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("errorType");
        QTest::newRow("unknown path") << httpRequest("GET", "/v2/models") << 404 << "not_found_error";
        QTest::newRow("GET a POST route") << httpRequest("GET", "/v1/chat/completions") << 405 << "invalid_request_error";
        QTest::newRow("POST a GET route") << httpRequest("POST", "/v1/models", "{}") << 405 << "invalid_request_error";
        QTest::newRow("malformed JSON") << httpRequest("POST", "/v1/chat/completions", "{\"messages\": [") << 400
                                        << "invalid_request_error";
        QTest::newRow("wrong type") << httpRequest("POST", "/v1/chat/completions", R"({"messages":"hi"})") << 400
                                    << "invalid_request_error";
        QTest::newRow("DNS rebinding") << QByteArray("GET /v1/models HTTP/1.1\r\nHost: evil.example:8313\r\n\r\n") << 403
                                       << "permission_error";
        QTest::newRow("preflight") << QByteArray("OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: localhost:1\r\n"
                                                 "Origin: http://localhost:3000\r\nAccess-Control-Request-Method: POST\r\n"
                                                 "Access-Control-Request-Headers: content-type, x-api-key\r\n\r\n")
                                   << 204 << QString();
    }
    void routingAndRefusals() {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        QFETCH(QString, errorType);
        Served s;
        QVERIFY(s.server.listen(testOptions()));
        s.load(QStringLiteral("/m/fake.gguf"));
        QTRY_VERIFY(!s.server.modelId().isEmpty());
        RawClient c(s.port());
        c.send(request);
        const auto r = c.read();
        QVERIFY(r);
        QCOMPARE(r->status, status);
        QCOMPARE(r->headers.value("access-control-allow-origin"),
                 request.contains("Origin: ") ? QByteArray("http://localhost:3000") : QByteArray());
        if (status == 204) {
            QVERIFY(r->headers.value("access-control-allow-methods").contains("POST"));
            QCOMPARE(r->headers.value("access-control-allow-headers"), QByteArray("content-type, x-api-key"));
            QVERIFY(r->body.isEmpty());
        } else {
            QCOMPARE(r->errorType(), errorType);
            QVERIFY(!r->errorMessage().isEmpty());
        }
        if (status == 405) QVERIFY(r->headers.value("allow").contains("OPTIONS"));
        // These are answers, not framing errors: the connection stays usable.
        c.send(httpRequest("GET", "/health"));
        const auto next = c.read();
        QVERIFY(next);
        QCOMPARE(next->status, 200);
        std::lock_guard lock(s.workers.record->mutex);
        QVERIFY(s.workers.record->prompts.empty());
    }

    // Browser pages: a listed origin gets its own origin back (and Vary: Origin), "*" gets "*",
    // an unlisted one is refused before anything runs, preflight included; trailing slashes and
    // case in the scheme and host do not matter.
    void corsAllowList_data() {
        QTest::addColumn<QList<QByteArray>>("allowed");
        QTest::addColumn<QByteArray>("origin");
        QTest::addColumn<QByteArray>("expected");  // Access-Control-Allow-Origin; empty: refused
        QTest::newRow("listed") << QList<QByteArray>{"http://localhost:3000"} << QByteArray("http://localhost:3000")
                                << QByteArray("http://localhost:3000");
        QTest::newRow("listed, other case") << QList<QByteArray>{"https://App.example/"} << QByteArray("https://app.example")
                                            << QByteArray("https://app.example");
        QTest::newRow("any") << QList<QByteArray>{"*"} << QByteArray("https://anywhere.example")
                             << QByteArray("*");
        QTest::newRow("unlisted") << QList<QByteArray>{"http://localhost:3000"} << QByteArray("http://localhost:3001")
                                  << QByteArray();
        QTest::newRow("none allowed") << QList<QByteArray>{} << QByteArray("http://localhost:3000") << QByteArray();
    }
    void corsAllowList() {
        QFETCH(QList<QByteArray>, allowed);
        QFETCH(QByteArray, origin);
        QFETCH(QByteArray, expected);
        Served s;
        ApiServerOptions o = testOptions();
        o.allowedOrigins = allowed;
        QVERIFY(s.server.listen(o));
        s.load(QStringLiteral("/m/fake.gguf"));
        QTRY_VERIFY(!s.server.modelId().isEmpty());
        RawClient c(s.port());
        c.send(httpRequest("OPTIONS", "/v1/chat/completions", {},
                           "Origin: " + origin + "\r\nAccess-Control-Request-Method: POST\r\n") +
               httpRequest("POST", "/v1/chat/completions", chatBody("Hi"), "Origin: " + origin + "\r\n"));
        const auto preflight = c.read();
        const auto post = c.read();
        QVERIFY(preflight && post);
        QCOMPARE(preflight->headers.value("access-control-allow-origin"), expected);
        QCOMPARE(post->headers.value("access-control-allow-origin"), expected);
        if (expected.isEmpty()) {
            QCOMPARE(preflight->status, 403);
            QCOMPARE(post->status, 403);
            QCOMPARE(post->errorType(), QStringLiteral("permission_error"));
            QVERIFY2(post->errorMessage().contains(QString::fromUtf8(origin)), qPrintable(post->errorMessage()));
            std::lock_guard lock(s.workers.record->mutex);
            QVERIFY(s.workers.record->prompts.empty());  // refused before anything ran
        } else {
            QCOMPARE(preflight->status, 204);
            QCOMPARE(post->status, 200);
            QCOMPARE(post->headers.contains("vary"), expected != "*");
        }
    }

    // An API key: requests without "Authorization: Bearer KEY" (or with another key) get 401 and
    // run nothing; with it they are answered; a preflight needs none (browsers send no key there).
    void apiKeyRequired_data() {
        QTest::addColumn<QByteArray>("headers");
        QTest::addColumn<int>("status");
        QTest::newRow("no key") << QByteArray() << 401;
        QTest::newRow("wrong key") << QByteArray("Authorization: Bearer sk-wrong\r\n") << 401;
        QTest::newRow("key prefix only") << QByteArray("Authorization: Bearer sk-loc\r\n") << 401;
        QTest::newRow("not bearer") << QByteArray("Authorization: Basic sk-local-123\r\n") << 401;
        QTest::newRow("right key") << QByteArray("Authorization: Bearer sk-local-123\r\n") << 200;
        QTest::newRow("scheme in lower case") << QByteArray("authorization: bearer sk-local-123\r\n") << 200;
    }
    void apiKeyRequired() {
        QFETCH(QByteArray, headers);
        QFETCH(int, status);
        Served s;
        ApiServerOptions o = testOptions();
        o.apiKey = "sk-local-123";
        QVERIFY(s.server.listen(o));
        s.load(QStringLiteral("/m/fake.gguf"));
        QTRY_VERIFY(!s.server.modelId().isEmpty());
        RawClient c(s.port());
        c.send(httpRequest("GET", "/v1/models", {}, headers) + httpRequest("POST", "/v1/chat/completions", chatBody("Hi"), headers) +
               httpRequest("OPTIONS", "/v1/models", {}, "Origin: http://localhost:3000\r\n"));
        const auto models = c.read();
        const auto chat = c.read();
        const auto preflight = c.read();
        QVERIFY(models && chat && preflight);
        QCOMPARE(models->status, status);
        QCOMPARE(chat->status, status);
        QCOMPARE(preflight->status, 204);
        if (status == 401) {
            QCOMPARE(chat->errorType(), QStringLiteral("authentication_error"));
            QVERIFY(chat->errorMessage().contains(QLatin1String("Bearer")));
            std::lock_guard lock(s.workers.record->mutex);
            QVERIFY(s.workers.record->prompts.empty());
        }
    }

    void framingErrorsAnswerAndClose_data() {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        QTest::newRow("garbage") << QByteArray("\x16\x03\x01 hello\r\n\r\n") << 400;
        QTest::newRow("huge body announced") << httpRequest("POST", "/v1/chat/completions").replace("Content-Length: 0", "Content-Length: 10000000")
                                             << 413;
        QTest::newRow("huge headers") << "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: " + QByteArray(40000, 'c') << 431;
        QTest::newRow("chunked body") << QByteArray("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n")
                                      << 501;
    }
    void framingErrorsAnswerAndClose() {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        Served s;
        QVERIFY(s.server.listen(testOptions()));
        RawClient c(s.port());
        c.send(request);
        const auto r = c.read();
        QVERIFY(r);
        QCOMPARE(r->status, status);
        QVERIFY(!r->errorMessage().isEmpty());
        QCOMPARE(r->headers.value("connection"), QByteArray("close"));
        QVERIFY(c.waitClosed());
    }

    void slowClientTimesOutWithoutBlockingOthers() {
        Served s;
        QVERIFY(s.server.listen(testOptions()));  // 300 ms for a whole request
        RawClient slow(s.port());
        QVERIFY(slow.waitConnected());
        QElapsedTimer clock;
        clock.start();
        const QByteArray request = httpRequest("POST", "/v1/chat/completions", chatBody("hi"));
        // A byte every 40 ms: each one arrives well within any per-read timeout.
        qsizetype sent = 0;
        RawClient other(s.port());
        other.send(httpRequest("GET", "/v1/models"));
        std::optional<HttpReply> otherReply;
        while (!slow.closed() && clock.elapsed() < 3000) {
            if (sent < request.size()) slow.send(request.mid(sent++, 1));
            if (!otherReply) otherReply = other.read(40);
            else QTest::qWait(40);
        }
        QVERIFY(otherReply);  // the server answered someone else meanwhile
        QCOMPARE(otherReply->status, 200);
        const auto r = slow.read(100);
        QVERIFY(r);
        QCOMPARE(r->status, 408);
        QVERIFY(slow.waitClosed());
        QVERIFY2(clock.elapsed() < 1500, qPrintable(QString::number(clock.elapsed())));
        QVERIFY(sent < request.size());
    }

    void bodyShorterThanContentLengthTimesOut() {
        Served s;
        QVERIFY(s.server.listen(testOptions()));
        RawClient c(s.port());
        QByteArray request = httpRequest("POST", "/v1/completions", R"({"prompt":"x"})");
        request.chop(3);  // Content-Length says 14; 11 come
        c.send(request);
        const auto r = c.read(2000);
        QVERIFY(r);
        QCOMPARE(r->status, 408);
        QVERIFY(c.waitClosed());
    }

    void expectContinueGetsAnInterimAnswer() {
        Served s;
        QVERIFY(s.server.listen(testOptions()));
        s.load(QStringLiteral("/m/fake.gguf"));
        QTRY_VERIFY(!s.server.modelId().isEmpty());
        RawClient c(s.port());
        const QByteArray body = R"({"prompt":"x","max_tokens":1})";
        const QByteArray request = httpRequest("POST", "/v1/completions", body, "Expect: 100-continue\r\n");
        c.send(request.left(request.size() - body.size()));
        const auto interim = c.read();
        QVERIFY(interim);
        QCOMPARE(interim->status, 100);
        c.send(body);
        const auto r = c.read();
        QVERIFY(r);
        QCOMPARE(r->status, 200);
        QCOMPARE(r->json().value("choices").toArray().first().toObject().value("text").toString(), QStringLiteral("Hello"));
    }

    void clientThatLeavesCancelsItsRequest_data() {
        QTest::addColumn<bool>("stream");
        QTest::newRow("streaming") << true;
        QTest::newRow("whole") << false;
    }
    void clientThatLeavesCancelsItsRequest() {
        QFETCH(bool, stream);
        FakeScript script;
        script.pieces.assign(400, "z");
        script.pieceDelayMs = 5;  // 2 s if nobody stops it
        Served s(script);
        QVERIFY(s.server.listen(testOptions()));
        s.load(QStringLiteral("/m/fake.gguf"));
        QTRY_VERIFY(!s.server.modelId().isEmpty());
        QSignalSpy finished(s.workers.worker.get(), &EngineWorker::generationFinished);
        QSignalSpy tokens(s.workers.worker.get(), &EngineWorker::tokenReceived);
        {
            RawClient c(s.port());
            c.send(httpRequest("POST", "/v1/chat/completions", chatBody("go", {{"stream", stream}})));
            if (stream) QVERIFY(c.waitFor("\"content\":\"z\""));
            else QTRY_VERIFY(tokens.size() >= 5);
            c.abort();
        }
        QTRY_COMPARE(finished.size(), 1);
        QCOMPARE(int(finished[0][1].value<GenerateStats>().stop), int(StopReason::cancelled));
        {
            std::lock_guard lock(s.workers.record->mutex);
            QVERIFY2(s.workers.record->generated < 200, qPrintable(QString::number(s.workers.record->generated)));
        }
        // The worker is free again for the next client.
        RawClient next(s.port());
        next.send(httpRequest("POST", "/v1/chat/completions", chatBody("again", {{"max_tokens", 2}})));
        const auto r = next.read(2000);
        QVERIFY(r);
        QCOMPARE(r->status, 200);
        QCOMPARE(r->json().value("choices").toArray().first().toObject().value("message").toObject().value("content").toString(),
                 QStringLiteral("zz"));
    }

    // The second request waits for a sequence (held, as when every slot is answering); its
    // client leaves: it is cancelled and never generates.
    void queuedRequestOfALeavingClientNeverRuns() {
        FakeScript script;
        script.pieces.assign(20, "q");
        script.pieceDelayMs = 10;
        script.holdPrompt = "second";
        Served s(script);
        QVERIFY(s.server.listen(testOptions()));
        s.load(QStringLiteral("/m/fake.gguf"));
        QTRY_VERIFY(!s.server.modelId().isEmpty());
        QSignalSpy finished(s.workers.worker.get(), &EngineWorker::generationFinished);
        RawClient first(s.port());
        first.send(httpRequest("POST", "/v1/chat/completions", chatBody("first")));
        QTRY_VERIFY(s.workers.worker->isBusy());
        {
            RawClient second(s.port());
            second.send(httpRequest("POST", "/v1/chat/completions", chatBody("second")));
            QTest::qWait(30);  // waiting for a slot
            second.abort();
        }
        const auto r = first.read();
        QVERIFY(r);
        QCOMPARE(r->status, 200);
        QTRY_COMPARE(finished.size(), 2);
        int cancelled = 0;
        for (const QList<QVariant>& f : finished) cancelled += f[1].value<GenerateStats>().stop == StopReason::cancelled;
        QCOMPARE(cancelled, 1);
        std::lock_guard lock(s.workers.record->mutex);
        QCOMPARE(s.workers.record->prompts.size(), size_t(1));  // the second never reached the engine
        QCOMPARE(s.workers.record->prompts[0][1].content, std::string("first"));
    }

    // Every sequence answering and the queue full: 503 with Retry-After, while the request
    // that holds the slot is answered normally.
    void busyEngineIsA503WithRetryAfter() {
        FakeScript script;
        script.maxAnswers = 1;
        script.holdPrompt = "hold";
        Served s(script);
        QVERIFY(s.server.listen(testOptions()));
        s.load(QStringLiteral("/m/fake.gguf"));
        QTRY_VERIFY(!s.server.modelId().isEmpty());
        RawClient first(s.port());
        first.send(httpRequest("POST", "/v1/chat/completions", chatBody("hold")));
        QTRY_COMPARE(s.workers.record->running.load(), 1);
        RawClient second(s.port());
        second.send(httpRequest("POST", "/v1/chat/completions", chatBody("next")));
        const auto refused = second.read();
        QVERIFY(refused);
        QCOMPARE(refused->status, 503);
        QCOMPARE(refused->headers.value("retry-after"), QByteArray("1"));
        QVERIFY2(refused->body.contains("busy"), refused->body.constData());
        s.workers.record->release = true;
        const auto answered = first.read();
        QVERIFY(answered);
        QCOMPARE(answered->status, 200);
    }

    void pipelinedRequestsAreAnsweredInOrder() {
        Served s;
        QVERIFY(s.server.listen(testOptions()));
        s.load(QStringLiteral("/m/fake.gguf"));
        QTRY_VERIFY(!s.server.modelId().isEmpty());
        RawClient c(s.port());
        c.send(httpRequest("POST", "/v1/completions", R"({"prompt":"a","max_tokens":1})") + httpRequest("GET", "/nope") +
               httpRequest("POST", "/v1/completions", R"({"prompt":"b","max_tokens":2,"stream":true})") +
               httpRequest("GET", "/v1/models"));
        const auto a = c.read(), nope = c.read(), b = c.read(), models = c.read();
        QVERIFY(a && nope && b && models);
        QCOMPARE(a->json().value("choices").toArray().first().toObject().value("text").toString(), QStringLiteral("Hello"));
        QCOMPARE(nope->status, 404);
        QCOMPARE(b->headers.value("transfer-encoding"), QByteArray("chunked"));
        QCOMPARE(parseSse(b->body).text, QStringLiteral("Hello,"));
        QCOMPARE(models->json().value("data").toArray().size(), 1);
    }

    // Two chats and an API client are answered at the same time (each on a sequence of its
    // own), and none sees another's tokens or failures.
    void twoChatsAndAnApiClientAnswerAtOnce() {
        QTemporaryDir dir;
        Database db;
        QVERIFY(db.open(dir.filePath("chat.sqlite3")));
        ChatStore store(db);
        FakeScript script;
        script.pieceDelayMs = 20;
        Served s(script);
        ChatController chat(store, *s.workers.worker, *s.workers.model);
        QVERIFY(s.server.listen(testOptions()));
        s.load(QStringLiteral("/m/fake.gguf"));
        QTRY_VERIFY(!s.server.modelId().isEmpty());
        QSignalSpy chatDone(&chat, &ChatController::answerFinished);
        QSignalSpy chatErrors(&chat, &ChatController::errorOccurred);
        QVERIFY(chat.send(QStringLiteral("from the chat")));
        const qint64 first = chat.currentConversation();
        QVERIFY(chat.newConversation());
        QVERIFY(chat.send(QStringLiteral("from another chat")));
        const qint64 second = chat.currentConversation();
        RawClient api(s.port());
        api.send(httpRequest("POST", "/v1/chat/completions", chatBody("from the API")));
        const auto r = api.read();
        QVERIFY(r);
        QCOMPARE(r->status, 200);
        QTRY_COMPARE(chatDone.size(), 2);
        QCOMPARE(store.messages(first).last().content, QStringLiteral("Hello, world!"));
        QCOMPARE(store.messages(second).last().content, QStringLiteral("Hello, world!"));
        QCOMPARE(r->json().value("choices").toArray().first().toObject().value("message").toObject().value("content").toString(),
                 QStringLiteral("Hello, world!"));
        QVERIFY2(s.workers.record->maxRunning.load() >= 2, "the answers ran one after another");
        {
            std::lock_guard lock(s.workers.record->mutex);
            std::vector<std::string> asked;
            for (const auto& p : s.workers.record->prompts) asked.push_back(p.back().content);
            std::sort(asked.begin(), asked.end());
            QCOMPARE(asked, (std::vector<std::string>{"from another chat", "from the API", "from the chat"}));
        }
        QCOMPARE(chatErrors.size(), 0);
    }

    void engineFailureIsA500ForItsClientOnly() {
        QTemporaryDir dir;
        Database db;
        QVERIFY(db.open(dir.filePath("chat.sqlite3")));
        ChatStore store(db);
        FakeScript script;
        script.failGenerate = "cuda0: illegal memory access";
        Served s(script);
        ChatController chat(store, *s.workers.worker, *s.workers.model);
        QVERIFY(s.server.listen(testOptions()));
        s.load(QStringLiteral("/m/fake.gguf"));
        QTRY_VERIFY(!s.server.modelId().isEmpty());
        QSignalSpy chatErrors(&chat, &ChatController::errorOccurred);
        RawClient api(s.port());
        api.send(httpRequest("POST", "/v1/chat/completions", chatBody("x")));
        auto r = api.read();
        QVERIFY(r);
        QCOMPARE(r->status, 500);
        QCOMPARE(r->errorType(), QStringLiteral("server_error"));
        QCOMPARE(r->errorMessage(), QStringLiteral("cuda0: illegal memory access"));
        QCOMPARE(chatErrors.size(), 0);  // not the chat's answer: no banner

        // Streamed: the status is not sent before the first token, so it is still a 500.
        api.send(httpRequest("POST", "/v1/chat/completions", chatBody("x", {{"stream", true}})));
        r = api.read();
        QVERIFY(r);
        QCOMPARE(r->status, 500);

        QSignalSpy chatDone(&chat, &ChatController::answerFinished);
        QVERIFY(chat.send(QStringLiteral("and the chat's own")));
        QTRY_COMPARE(chatDone.size(), 1);
        QCOMPARE(chatErrors.size(), 1);
        QVERIFY(chatErrors[0][0].toString().contains("illegal memory access"));
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
        RawClient c(a.port());  // the first one is unharmed
        c.send(httpRequest("GET", "/v1/models"));
        const auto r = c.read();
        QVERIFY(r);
        QCOMPARE(r->status, 200);
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
        o.makeBackend = [] { return std::make_unique<strata::test::FakeBackend>(FakeScript{}, std::make_shared<strata::test::FakeRecord>()); };
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

    // ---- the real engine on a random-weight model

    void realModelStreamedEqualsWhole() {
        QTemporaryDir dir;
        RandomModelConfig config;  // tiny: 2 layers, 64 wide, 512-token vocabulary
        config.seed = 20240611;
        QString error;
        const QString path = strata::test::writeRandomModel(dir, "random-tiny", config, &error);
        QVERIFY2(!path.isEmpty(), qPrintable(error));
        Served s(makeStrataBackend());
        QVERIFY(s.server.listen(testOptions()));
        LoadOptions o;
        o.n_ctx = 256;
        o.n_threads = 2;
        s.load(path, o);
        QTRY_COMPARE_WITH_TIMEOUT(s.server.modelId(), QStringLiteral("random-tiny"), 10000);
        QNetworkAccessManager nam;
        const QJsonObject greedy{{"temperature", 0}, {"max_tokens", 24}, {"seed", 3}};

        const NamReply whole = namPost(nam, s.port(), "/v1/chat/completions", chatBody("Tell me a story", greedy));
        QCOMPARE(whole.status, 200);
        const QJsonObject w = whole.json();
        const QString text = w.value("choices").toArray().first().toObject().value("message").toObject().value("content").toString();
        const QString finish = w.value("choices").toArray().first().toObject().value("finish_reason").toString();
        const qint64 completionTokens = usageOf(w, "completion_tokens");
        QVERIFY2(!text.isEmpty(), whole.body.constData());
        QVERIFY(usageOf(w, "prompt_tokens") > 5);
        QCOMPARE(finish == QLatin1String("length"), completionTokens == 24);

        QJsonObject streaming = greedy;
        streaming.insert("stream", true);
        streaming.insert("stream_options", QJsonObject{{"include_usage", true}});
        const NamReply streamed = namPost(nam, s.port(), "/v1/chat/completions", chatBody("Tell me a story", streaming));
        const auto sse = parseSse(streamed.body);
        QVERIFY(sse.wellFormed && sse.done);
        QCOMPARE(sse.text, text);
        QCOMPARE(sse.finishReason, finish);
        QCOMPARE(sse.usage.value("completion_tokens").toInteger(), completionTokens);
        QCOMPARE(sse.usage.value("prompt_tokens").toInteger(), usageOf(w, "prompt_tokens"));

        // A stop string taken from the middle of the answer cuts it right there. (Random
        // weights may emit stray byte tokens, shown as U+FFFD: those cannot be asked for.)
        qsizetype at = text.size() / 2;
        auto plain = [](QChar ch) { return ch != QChar(0xFFFD) && !ch.isSurrogate(); };
        while (at + 1 < text.size() && !(plain(text[at]) && plain(text[at + 1]))) ++at;
        const QString stop = text.mid(at, 2);
        QVERIFY2(stop.size() == 2 && plain(stop[0]) && plain(stop[1]), qPrintable(text));
        QJsonObject stopping = greedy;
        stopping.insert("stop", QJsonArray{stop});
        const NamReply cut = namPost(nam, s.port(), "/v1/chat/completions", chatBody("Tell me a story", stopping));
        const QJsonObject c = cut.json().value("choices").toArray().first().toObject();
        QCOMPARE(c.value("message").toObject().value("content").toString(), text.left(text.indexOf(stop)));
        QCOMPARE(c.value("finish_reason").toString(), QStringLiteral("stop"));

        // Raw completions: the same agreement without the chat template.
        const QByteArray prompt = R"({"prompt":"Once upon a time","temperature":0,"max_tokens":12)";
        const NamReply rawWhole = namPost(nam, s.port(), "/v1/completions", prompt + "}");
        const NamReply rawStreamed = namPost(nam, s.port(), "/v1/completions", prompt + R"(,"stream":true})");
        const QString rawText = rawWhole.json().value("choices").toArray().first().toObject().value("text").toString();
        QVERIFY2(!rawText.isEmpty(), rawWhole.body.constData());
        QCOMPARE(parseSse(rawStreamed.body).text, rawText);
        QVERIFY(usageOf(rawWhole.json(), "prompt_tokens") < usageOf(w, "prompt_tokens"));
    }

    // A trained model over HTTP: stories260K continues its published greedy story.
    void stories260kTellsItsStory() {
        const QString path = strata::test::stories260kPath();
        if (path.isEmpty()) QSKIP("stories260K.gguf not found (../shared/models)");
        Served s(makeStrataBackend());
        QVERIFY(s.server.listen(testOptions()));
        LoadOptions o;
        o.n_ctx = 256;
        o.n_threads = 2;
        s.load(path, o);
        QTRY_COMPARE_WITH_TIMEOUT(s.server.modelId(), QStringLiteral("stories260K"), 10000);
        QNetworkAccessManager nam;
        const QByteArray body = R"({"prompt":"Once upon a time","temperature":0,"max_tokens":30)";
        const NamReply whole = namPost(nam, s.port(), "/v1/completions", body + "}");
        const QString text = whole.json().value("choices").toArray().first().toObject().value("text").toString();
        // Published by the model's author (llama2.c, doc/stories260K.md), greedy from BOS.
        const QString published = QStringLiteral(
            "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, "
            "she saw a big, red ball.");
        QVERIFY2(text.size() > 60 && published.startsWith(QStringLiteral("Once upon a time") + text), qPrintable(text));
        QCOMPARE(usageOf(whole.json(), "completion_tokens"), 30);
        QCOMPARE(usageOf(whole.json(), "prompt_tokens"), 5);  // BOS + 4
        const NamReply streamed = namPost(nam, s.port(), "/v1/completions", body + R"(,"stream":true})");
        QCOMPARE(parseSse(streamed.body).text, text);
    }
};

QTEST_GUILESS_MAIN(TestApiServer)
#include "tst_api_server.moc"
