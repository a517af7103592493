// The OpenAI wire format alone: every request field a client sends lands in GenerateParams and
// ChatTurns; left-out fields keep the engine's defaults; a wrong field is a 400 that names it;
// responses, chunks and errors have OpenAI's shape and finish reasons.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <algorithm>

#include "server/openai_json.h"

using namespace strata;
using namespace strata::app;

class TestOpenAiJson : public QObject {
    Q_OBJECT
private slots:
    void chatRequestMapsEveryField() {
        const QByteArray body = R"({"model":"m","temperature":0,"top_p":0.5,"top_k":7,"min_p":0.1,"seed":42,
            "max_tokens":9,"stop":["x","yz"],"stream":true,"stream_options":{"include_usage":true},
            "presence_penalty":0.5,"frequency_penalty":-0.25,"logit_bias":{"7":-100,"12":2.5},
            "response_format":{"type":"json_object"},"tools":[],"messages":[{"role":"developer","content":"sys"},
            {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
            {"role":"assistant","content":null},{"role":"user","content":"c"}]})";
        CompletionRequest r;
        const auto error = parseChatRequest(body, r);
        QVERIFY2(!error, error ? qPrintable(error->message) : "");
        QCOMPARE(r.model, QStringLiteral("m"));
        QCOMPARE(r.chat.turns.size(), 4);
        QCOMPARE(r.chat.turns[0].role, Role::system);
        QCOMPARE(r.chat.turns[1].content, QStringLiteral("a\nb"));
        QCOMPARE(r.chat.turns[2].role, Role::assistant);
        QCOMPARE(r.chat.turns[2].content, QString());
        QCOMPARE(r.params.sampler.temperature, 0.0f);
        QCOMPARE(r.params.sampler.top_p, 0.5f);
        QCOMPARE(r.params.sampler.top_k, 7);
        QCOMPARE(r.params.sampler.min_p, 0.1f);
        QCOMPARE(r.params.sampler.seed, quint64(42));
        QCOMPARE(r.params.sampler.presence_penalty, 0.5f);
        QCOMPARE(r.params.sampler.frequency_penalty, -0.25f);
        auto bias = r.params.sampler.logit_bias;
        std::sort(bias.begin(), bias.end());
        QCOMPARE(bias, (std::vector<std::pair<int32_t, float>>{{7, -100.0f}, {12, 2.5f}}));
        QVERIFY(r.params.json_object);
        QVERIFY(r.hasSeed && r.hasMaxTokens && r.stream && r.includeUsage);
        QCOMPARE(r.params.max_tokens, 9);
        QCOMPARE(r.params.stop_strings, (std::vector<std::string>{"x", "yz"}));

        CompletionRequest d;  // left out: the engine's defaults, no seed, no limit chosen
        QVERIFY(!parseChatRequest(R"({"messages":[{"role":"user","content":"hi"}],"stop":"END"})", d));
        QCOMPARE(d.params.sampler.temperature, SamplerParams{}.temperature);
        QCOMPARE(d.params.sampler.top_k, SamplerParams{}.top_k);
        QVERIFY(!d.hasSeed && !d.hasMaxTokens && !d.stream);
        QVERIFY(d.params.sampler.logit_bias.empty() && !d.params.json_object);
        QCOMPARE(d.params.stop_strings, std::vector<std::string>{"END"});
    }

    void chatRequestCarriesToolsAndReasoning() {
        // Arguments as OpenAI sends them: JSON text inside the JSON (escaped quotes).
        const QByteArray args = QJsonDocument(QJsonObject{{"city", "Paris"}}).toJson(QJsonDocument::Compact);
        const QByteArray body = R"({"messages":[
            {"role":"user","content":"Weather in Paris?"},
            {"role":"assistant","content":null,"reasoning_content":"Use the tool.","tool_calls":[
                {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":)" +
                                QJsonDocument(QJsonArray{QString::fromUtf8(args)}).toJson(QJsonDocument::Compact).mid(1).chopped(1) +
                                R"(}},
                {"id":"call_2","type":"function","function":{"name":"get_time","arguments":{"tz":"CET"}}}]},
            {"role":"tool","tool_call_id":"call_1","name":"get_weather","content":"18 C"}],
            "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],
            "tool_choice":"auto","reasoning_effort":"low","chat_template_kwargs":{"enable_thinking":false}})";
        CompletionRequest r;
        const auto error = parseChatRequest(body, r);
        QVERIFY2(!error, error ? qPrintable(error->message) : "");
        QCOMPARE(r.chat.turns.size(), 3);
        const ChatTurn& a = r.chat.turns[1];
        QCOMPARE(a.reasoning, QStringLiteral("Use the tool."));
        QCOMPARE(a.toolCalls.size(), 2);
        QCOMPARE(a.toolCalls[0], (ChatToolCall{"call_1", "get_weather", R"({"city":"Paris"})"}));
        QCOMPARE(a.toolCalls[1], (ChatToolCall{"call_2", "get_time", R"({"tz":"CET"})"}));  // an object becomes text
        QCOMPARE(r.chat.turns[2].role, Role::tool);
        QCOMPARE(r.chat.turns[2].toolCallId, QStringLiteral("call_1"));
        QCOMPARE(r.chat.turns[2].name, QStringLiteral("get_weather"));
        const QJsonArray tools = QJsonDocument::fromJson(r.chat.toolsJson).array();
        QCOMPARE(tools.size(), 1);
        QCOMPARE(tools[0].toObject().value("function").toObject().value("name").toString(), QStringLiteral("get_weather"));
        const QJsonObject vars = QJsonDocument::fromJson(r.chat.extraVarsJson).object();
        QCOMPARE(vars.value("reasoning_effort").toString(), QStringLiteral("low"));
        QCOMPARE(vars.value("enable_thinking").toBool(true), false);

        CompletionRequest none;  // tool_choice "none": the tools are not offered at all
        QVERIFY(!parseChatRequest(R"({"messages":[{"role":"user","content":"hi"}],"tool_choice":"none",
            "tools":[{"type":"function","function":{"name":"f"}}]})", none));
        QVERIFY(none.chat.toolsJson.isEmpty());
    }

    void chatAnswersCarryReasoningAndToolCalls() {
        const ResponseMeta meta = newResponseMeta(true, QStringLiteral("m"));
        GenerateStats stats;
        stats.n_generated = 5;
        ParsedAnswer answer;
        answer.reasoning = QStringLiteral("thinking");
        answer.content = QStringLiteral("It is sunny.");
        QJsonObject o = QJsonDocument::fromJson(chatCompletionJson(meta, answer, stats)).object();
        QJsonObject choice = o.value("choices").toArray().first().toObject();
        QCOMPARE(choice.value("finish_reason").toString(), QStringLiteral("stop"));
        QCOMPARE(choice.value("message").toObject().value("reasoning_content").toString(), QStringLiteral("thinking"));
        QCOMPARE(choice.value("message").toObject().value("content").toString(), QStringLiteral("It is sunny."));
        QVERIFY(!choice.value("message").toObject().contains("tool_calls"));

        answer.content.clear();
        answer.reasoning.clear();
        answer.toolCalls = {{"call_0", "get_weather", R"({"city":"Paris"})"}};
        o = QJsonDocument::fromJson(chatCompletionJson(meta, answer, stats)).object();
        choice = o.value("choices").toArray().first().toObject();
        QCOMPARE(choice.value("finish_reason").toString(), QStringLiteral("tool_calls"));
        const QJsonObject message = choice.value("message").toObject();
        QVERIFY(message.value("content").isNull());
        QVERIFY(!message.contains("reasoning_content"));
        const QJsonObject call = message.value("tool_calls").toArray().first().toObject();
        QCOMPARE(call.value("id").toString(), QStringLiteral("call_0"));
        QCOMPARE(call.value("type").toString(), QStringLiteral("function"));
        QCOMPARE(call.value("function").toObject().value("name").toString(), QStringLiteral("get_weather"));
        QCOMPARE(call.value("function").toObject().value("arguments").toString(), QStringLiteral(R"({"city":"Paris"})"));

        const QJsonObject chunk = QJsonDocument::fromJson(toolCallsChunkJson(meta, answer.toolCalls)).object();
        const QJsonObject delta = chunk.value("choices").toArray().first().toObject().value("delta").toObject();
        QCOMPARE(delta.value("tool_calls").toArray().first().toObject().value("index").toInt(-1), 0);
        const QJsonObject thought = QJsonDocument::fromJson(reasoningChunkJson(meta, QStringLiteral("hm"))).object();
        QCOMPARE(thought.value("choices").toArray().first().toObject().value("delta").toObject().value("reasoning_content").toString(),
                 QStringLiteral("hm"));
    }

    void badRequestsNameTheField_data() {
        QTest::addColumn<bool>("chat");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("param");
        const QByteArray m = R"("messages":[{"role":"user","content":"hi"}])";
        QTest::newRow("not JSON") << true << QByteArray("{\"messages\":") << QString();
        QTest::newRow("not an object") << true << QByteArray("[1,2]") << QString();
        QTest::newRow("no messages") << true << QByteArray("{}") << "messages";
        QTest::newRow("empty messages") << true << QByteArray(R"({"messages":[]})") << "messages";
        QTest::newRow("message not an object") << true << QByteArray(R"({"messages":["hi"]})") << "messages[0]";
        QTest::newRow("unknown role") << true << QByteArray(R"({"messages":[{"role":"robot","content":"x"}]})") << "messages[0].role";
        QTest::newRow("tool without id") << true << QByteArray(R"({"messages":[{"role":"tool","content":"x"}]})") << "messages[0].tool_call_id";
        QTest::newRow("user with tool_calls") << true
            << QByteArray(R"({"messages":[{"role":"user","content":"x","tool_calls":[]}]})") << "messages[0].tool_calls";
        QTest::newRow("tool call without name") << true
            << QByteArray(R"({"messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"a","function":{}}]}]})")
            << "messages[0].tool_calls[0].function.name";
        QTest::newRow("tool call arguments a number") << true
            << QByteArray(R"({"messages":[{"role":"assistant","tool_calls":[{"id":"a","function":{"name":"f","arguments":5}}]}]})")
            << "messages[0].tool_calls[0].function.arguments";
        QTest::newRow("reasoning_content a number") << true
            << QByteArray(R"({"messages":[{"role":"assistant","content":"x","reasoning_content":1}]})")
            << "messages[0].reasoning_content";
        QTest::newRow("content a number") << true << QByteArray(R"({"messages":[{"role":"user","content":5}]})") << "messages[0].content";
        QTest::newRow("image part") << true
                                    << QByteArray(R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]})")
                                    << "messages[0].content";
        QTest::newRow("temperature a string") << true << "{" + m + R"(,"temperature":"hot"})" << "temperature";
        QTest::newRow("temperature negative") << true << "{" + m + R"(,"temperature":-1})" << "temperature";
        QTest::newRow("top_p above 1") << true << "{" + m + R"(,"top_p":1.5})" << "top_p";
        QTest::newRow("logit_bias key not an id") << true << "{" + m + R"(,"logit_bias":{"the":1}})" << "logit_bias";
        QTest::newRow("logit_bias value too big") << true << "{" + m + R"(,"logit_bias":{"5":101}})" << "logit_bias";
        QTest::newRow("logit_bias a list") << true << "{" + m + R"(,"logit_bias":[1]})" << "logit_bias";
        QTest::newRow("json_schema") << true << "{" + m + R"(,"response_format":{"type":"json_schema","json_schema":{}}})"
                                     << "response_format";
        QTest::newRow("response_format unknown") << true << "{" + m + R"(,"response_format":{"type":"yaml"}})" << "response_format";
        QTest::newRow("tools an object") << true << "{" + m + R"(,"tools":{}})" << "tools";
        QTest::newRow("tool without a name") << true << "{" + m + R"(,"tools":[{"type":"function","function":{}}]})"
                                             << "tools[0].function.name";
        QTest::newRow("tool not a function") << true << "{" + m + R"(,"tools":[{"type":"retrieval"}]})" << "tools[0].type";
        QTest::newRow("tool_choice required") << true
            << "{" + m + R"(,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required"})" << "tool_choice";
        QTest::newRow("reasoning_effort unknown") << true << "{" + m + R"(,"reasoning_effort":"max"})" << "reasoning_effort";
        QTest::newRow("chat_template_kwargs a list") << true << "{" + m + R"(,"chat_template_kwargs":[]})"
                                                     << "chat_template_kwargs";
        QTest::newRow("presence_penalty above 2") << true << "{" + m + R"(,"presence_penalty":2.5})" << "presence_penalty";
        QTest::newRow("frequency_penalty a string") << true << "{" + m + R"(,"frequency_penalty":"1"})" << "frequency_penalty";
        QTest::newRow("max_tokens 0") << true << "{" + m + R"(,"max_tokens":0})" << "max_tokens";
        QTest::newRow("max_tokens fractional") << true << "{" + m + R"(,"max_tokens":1.5})" << "max_tokens";
        QTest::newRow("max_tokens huge") << true << "{" + m + R"(,"max_tokens":1e30})" << "max_tokens";
        QTest::newRow("n = 2") << true << "{" + m + R"(,"n":2})" << "n";
        QTest::newRow("stop a number") << true << "{" + m + R"(,"stop":5})" << "stop";
        QTest::newRow("empty stop string") << true << "{" + m + R"(,"stop":[""]})" << "stop";
        QTest::newRow("stream a string") << true << "{" + m + R"(,"stream":"yes"})" << "stream";
        QTest::newRow("stream_options a number") << true << "{" + m + R"(,"stream_options":1})" << "stream_options";
        QTest::newRow("model a number") << true << "{" + m + R"(,"model":1})" << "model";
        QTest::newRow("logprobs") << true << "{" + m + R"(,"logprobs":true})" << "logprobs";
        QTest::newRow("no prompt") << false << QByteArray("{}") << "prompt";
        QTest::newRow("prompt of tokens") << false << QByteArray(R"({"prompt":[1,2]})") << "prompt";
        QTest::newRow("echo") << false << QByteArray(R"({"prompt":"a","echo":true})") << "echo";
    }
    void badRequestsNameTheField() {
        QFETCH(bool, chat);
        QFETCH(QByteArray, body);
        QFETCH(QString, param);
        CompletionRequest r;
        const auto e = chat ? parseChatRequest(body, r) : parseCompletionRequest(body, r);
        QVERIFY(e.has_value());
        QCOMPARE(e->status, 400);
        QCOMPARE(e->param, param);
        QVERIFY(!e->message.isEmpty());
        const QJsonObject err = QJsonDocument::fromJson(errorJson(*e)).object().value("error").toObject();
        QCOMPARE(err.value("type").toString(), QStringLiteral("invalid_request_error"));
        QCOMPARE(err.value("message").toString(), e->message);
    }

    void responsesHaveOpenAiShape() {
        GenerateStats stats;
        stats.n_prompt = 3;
        stats.n_reused = 7;  // a reused prefix still counts as prompt
        stats.n_generated = 5;
        stats.stop = StopReason::max_tokens;
        const ResponseMeta chat = newResponseMeta(true, QStringLiteral("m"));
        const QJsonObject whole = QJsonDocument::fromJson(completionJson(chat, QStringLiteral("hi"), stats)).object();
        QCOMPARE(whole.value("object").toString(), QStringLiteral("chat.completion"));
        QCOMPARE(whole.value("id").toString(), chat.id);
        QCOMPARE(whole.value("usage").toObject().value("prompt_tokens").toInt(), 10);
        QCOMPARE(whole.value("usage").toObject().value("total_tokens").toInt(), 15);
        const QJsonObject choice = whole.value("choices").toArray().first().toObject();
        QCOMPARE(choice.value("finish_reason").toString(), QStringLiteral("length"));
        QCOMPARE(choice.value("message").toObject().value("content").toString(), QStringLiteral("hi"));

        const QJsonObject first = QJsonDocument::fromJson(chunkJson(chat, {}, true, {})).object();
        const QJsonObject delta = first.value("choices").toArray().first().toObject().value("delta").toObject();
        QCOMPARE(delta.value("role").toString(), QStringLiteral("assistant"));
        QVERIFY(first.value("choices").toArray().first().toObject().value("finish_reason").isNull());
        const QJsonObject last = QJsonDocument::fromJson(chunkJson(chat, {}, false, QStringLiteral("stop"))).object();
        QVERIFY(last.value("choices").toArray().first().toObject().value("delta").toObject().isEmpty());

        const ResponseMeta text = newResponseMeta(false, QStringLiteral("m"));
        QVERIFY(text.id.startsWith(QLatin1String("cmpl-")));
        QVERIFY(text.id != newResponseMeta(false, QStringLiteral("m")).id);
        const QJsonObject chunk = QJsonDocument::fromJson(chunkJson(text, QStringLiteral("x"), true, {})).object();
        QCOMPARE(chunk.value("object").toString(), QStringLiteral("text_completion"));
        QCOMPARE(chunk.value("choices").toArray().first().toObject().value("text").toString(), QStringLiteral("x"));
        const QJsonObject usage = QJsonDocument::fromJson(usageChunkJson(text, stats)).object();
        QVERIFY(usage.value("choices").toArray().isEmpty());
        QCOMPARE(usage.value("usage").toObject().value("completion_tokens").toInt(), 5);
    }

    void finishReasons_data() {
        QTest::addColumn<int>("reason");
        QTest::addColumn<QString>("name");
        QTest::newRow("eos") << int(StopReason::eos) << "stop";
        QTest::newRow("stop string") << int(StopReason::stop_string) << "stop";
        QTest::newRow("max tokens") << int(StopReason::max_tokens) << "length";
        QTest::newRow("context full") << int(StopReason::context_full) << "length";
    }
    void finishReasons() {
        QFETCH(int, reason);
        QFETCH(QString, name);
        QCOMPARE(finishReason(StopReason(reason)), name);
    }

    void errorsHaveOpenAiShape_data() {
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("type");
        QTest::newRow("400") << 400 << "invalid_request_error";
        QTest::newRow("404") << 404 << "not_found_error";
        QTest::newRow("408") << 408 << "invalid_request_error";
        QTest::newRow("500") << 500 << "server_error";
        QTest::newRow("503") << 503 << "unavailable_error";
    }
    void errorsHaveOpenAiShape() {
        QFETCH(int, status);
        QFETCH(QString, type);
        const QJsonObject e = QJsonDocument::fromJson(errorJson(status, QStringLiteral("why"))).object().value("error").toObject();
        QCOMPARE(e.value("message").toString(), QStringLiteral("why"));
        QCOMPARE(e.value("type").toString(), type);
        QCOMPARE(e.value("code").toInt(), status);
        QVERIFY(e.value("param").isNull());
    }

    void modelList() {
        const QJsonObject none = QJsonDocument::fromJson(modelsJson({}, 0)).object();
        QCOMPARE(none.value("object").toString(), QStringLiteral("list"));
        QVERIFY(none.value("data").toArray().isEmpty());
        const QJsonArray one = QJsonDocument::fromJson(modelsJson(QStringLiteral("qwen"), 17)).object().value("data").toArray();
        QCOMPARE(one.size(), 1);
        QCOMPARE(one[0].toObject().value("id").toString(), QStringLiteral("qwen"));
        QCOMPARE(one[0].toObject().value("created").toInt(), 17);
    }
};

QTEST_GUILESS_MAIN(TestOpenAiJson)
#include "tst_openai_json.moc"
