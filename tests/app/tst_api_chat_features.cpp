// The API's chat features over real loopback sockets, with a scripted backend: tool calls
// parsed out of the answer when tools are offered (whole and streamed, where the call's text is
// never streamed as content) and left alone when not; reasoning apart from the content.
#include <QSignalSpy>
#include <QtTest>

#include "api_server_fixture.h"

using namespace strata;
using namespace strata::app;
using namespace strata::test;

class TestApiChatFeatures : public QObject {
    Q_OBJECT
private slots:
    // Tools offered: the call is parsed out of the answer, whole or streamed (where the call's
    // text is never streamed as content); not offered: the text is the answer as it came.
    void toolCallsAreReturnedWhenToolsAreOffered_data() {
        QTest::addColumn<bool>("stream");
        QTest::addColumn<bool>("offered");
        QTest::newRow("whole, offered") << false << true;
        QTest::newRow("streamed, offered") << true << true;
        QTest::newRow("whole, not offered") << false << false;
        QTest::newRow("streamed, not offered") << true << false;
    }
    void toolCallsAreReturnedWhenToolsAreOffered() {
        QFETCH(bool, stream);
        QFETCH(bool, offered);
        FakeScript script;
        script.pieces = {"Let me ", "check. <", "tool_", "call>\n{\"name\": \"get_weather\", ", "\"arguments\": {\"city\": ",
                         "\"Paris\"}}\n</tool_call>"};
        script.formats.tool_calls = ToolCallFormat::hermes;
        Served s(script);
        QVERIFY(s.server.listen(testOptions()));
        s.load(QStringLiteral("/m/fake.gguf"));
        QTRY_VERIFY(!s.server.modelId().isEmpty());
        QJsonObject extra{{"stream", stream}};
        const QJsonArray tools{QJsonObject{{"type", "function"},
                                           {"function", QJsonObject{{"name", "get_weather"},
                                                                    {"parameters", QJsonObject{{"type", "object"}}}}}}};
        if (offered) extra.insert("tools", tools);
        QNetworkAccessManager nam;
        const NamReply r = namPost(nam, s.port(), "/v1/chat/completions", chatBody("weather?", extra));
        QCOMPARE(r.status, 200);
        {
            std::lock_guard lock(s.workers.record->mutex);
            QCOMPARE(s.workers.record->requests.back().tools.has_value(), offered);
        }
        const QString raw = QStringLiteral("Let me check. <tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
                                           "{\"city\": \"Paris\"}}\n</tool_call>");
        QString content, finish;
        QJsonArray calls;
        if (stream) {
            const auto sse = parseSse(r.body);
            QVERIFY2(sse.wellFormed && sse.done, r.body.constData());
            content = sse.text;
            finish = sse.finishReason;
            for (const QJsonObject& c : sse.chunks) {
                const QJsonObject delta = c.value("choices").toArray().first().toObject().value("delta").toObject();
                for (const QJsonValue& call : delta.value("tool_calls").toArray()) calls.append(call);
            }
            if (offered) QVERIFY2(!r.body.contains("tool_call>"), r.body.constData());  // never streamed as text
        } else {
            const QJsonObject choice = r.json().value("choices").toArray().first().toObject();
            content = choice.value("message").toObject().value("content").toString();
            calls = choice.value("message").toObject().value("tool_calls").toArray();
            finish = choice.value("finish_reason").toString();
        }
        if (!offered) {
            QCOMPARE(content, raw);
            QVERIFY(calls.isEmpty());
            QCOMPARE(finish, QStringLiteral("stop"));
            return;
        }
        QCOMPARE(content.trimmed(), QStringLiteral("Let me check."));
        QCOMPARE(calls.size(), 1);
        const QJsonObject fn = calls[0].toObject().value("function").toObject();
        QCOMPARE(fn.value("name").toString(), QStringLiteral("get_weather"));
        QCOMPARE(QJsonDocument::fromJson(fn.value("arguments").toString().toUtf8()).object().value("city").toString(),
                 QStringLiteral("Paris"));
        QVERIFY(!calls[0].toObject().value("id").toString().isEmpty());
        QCOMPARE(finish, QStringLiteral("tool_calls"));
    }

    void reasoningComesApartFromTheContent() {
        FakeScript script;
        script.reasoningPieces = {"The user ", "greets me."};
        Served s(script);
        QVERIFY(s.server.listen(testOptions()));
        s.load(QStringLiteral("/m/fake.gguf"));
        QTRY_VERIFY(!s.server.modelId().isEmpty());
        QNetworkAccessManager nam;
        const NamReply whole = namPost(nam, s.port(), "/v1/chat/completions", chatBody("hi"));
        const QJsonObject message = whole.json().value("choices").toArray().first().toObject().value("message").toObject();
        QCOMPARE(message.value("reasoning_content").toString(), QStringLiteral("The user greets me."));
        QCOMPARE(message.value("content").toString(), QStringLiteral("Hello, world!"));
        const NamReply streamed = namPost(nam, s.port(), "/v1/chat/completions", chatBody("hi", {{"stream", true}}));
        const auto sse = parseSse(streamed.body);
        QVERIFY(sse.wellFormed && sse.done);
        QString reasoning;
        for (const QJsonObject& c : sse.chunks)
            reasoning += c.value("choices").toArray().first().toObject().value("delta").toObject().value("reasoning_content").toString();
        QCOMPARE(reasoning, QStringLiteral("The user greets me."));
        QCOMPARE(sse.text, QStringLiteral("Hello, world!"));
    }

};

QTEST_MAIN(TestApiChatFeatures)
#include "tst_api_chat_features.moc"
