// One chat turn end to end (strata/chat_turn.h) and the pieces it adds to the prompt path:
// message fields (reasoning, tool calls, tool results) reach the template as the templates read
// them; generated control tokens give their text only when asked; a turn on a loaded model
// reports its template, streams reasoning apart from the answer, and drops the oldest turns to
// fit the context; and streamed content is held back where a tool call may start.
#include <QtTest>

#include "runtime/chat_prompter.h"
#include "strata/chat_turn.h"
#include "strata/engine.h"
#include "test_models.h"
#include "test_vocab.h"
#include "tokenizer/vocab.h"

using namespace strata;

namespace {

// Byte-fallback SentencePiece vocab with two control tokens (ids 3 and 4).
std::shared_ptr<const Vocab> small_vocab() {
    return test::byteFallbackVocab({"[TOOL_CALLS]", "<|channel|>"}, {"\xE2\x96\x81hi"});
}

// Shows every field the prompt path passes on, per message.
const char* kFieldsTemplate =
    "{% for m in messages %}[{{ m.role }}|{{ m.content }}|{{ m.reasoning_content }}|{{ m.thinking }}|"
    "{% if m.tool_calls %}{% for c in m.tool_calls %}{{ c.id }}:{{ c.type }}:{{ c.function.name }}:"
    "{{ c.function.arguments | tojson }};{% endfor %}{% endif %}|{{ m.tool_call_id }}|{{ m.name }}]{% endfor %}"
    "{% if tools %}tools={{ tools | length }}{% endif %}";

}  // namespace

class TestChatTurn : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private slots:
    void messageFieldsReachTheTemplate() {
        const ChatPrompter p(small_vocab(), "");
        ChatPromptRequest r;
        ChatMessage call{"assistant", ""};
        call.reasoning = "look it up";
        call.tool_calls = {{"c1", "get_weather", R"({"city":"Paris"})"}, {"c2", "echo", "not json"}};
        ChatMessage result{"tool", "18 C"};
        result.tool_call_id = "c1";
        result.name = "get_weather";
        r.messages = {{"user", "hi"}, call, result};
        r.tools = nlohmann::ordered_json::array({{{"type", "function"}, {"function", {{"name", "get_weather"}}}}});
        r.custom_template = kFieldsTemplate;
        auto out = p.prompt(r);
        QVERIFY2(out.ok(), out.status().message().c_str());
        // Arguments that parse reach the template as an object (tojson re-serialises it, with
        // jinja2's spacing); others as the string they were. A call-only message has null content.
        QCOMPARE(QString::fromStdString(out->text), QStringLiteral("[user|hi|||||]"
                                        "[assistant|None|look it up|look it up|"
                                        "c1:function:get_weather:{\"city\": \"Paris\"};c2:function:echo:\"not json\";||]"
                                        "[tool|18 C||||c1|get_weather]tools=1"));
    }

    void controlTokenTextOnlyWhenAsked() {
        const auto vocab = small_vocab();
        StreamingDetokenizer plain(vocab, true);
        StreamingDetokenizer marked(vocab, true, /*control_text=*/true);
        std::string a, b;
        for (int32_t id : {3, 5 + 256, 4}) {  // [TOOL_CALLS] ▁hi <|channel|>
            a += plain.push(id);
            b += marked.push(id);
        }
        QCOMPARE(a, std::string(" hi"));
        QCOMPARE(b, std::string("[TOOL_CALLS] hi<|channel|>"));
        QCOMPARE(vocab->decode({3, 261, 4}), std::string(" hi"));  // whole decodes stay plain
    }

    void toolCallSafePrefix_data() {
        QTest::addColumn<int>("format");
        QTest::addColumn<QString>("content");
        QTest::addColumn<int>("safe");
        const int hermes = int(ToolCallFormat::hermes), mistral = int(ToolCallFormat::mistral),
                  llama = int(ToolCallFormat::llama3_json);
        QTest::newRow("no format") << int(ToolCallFormat::none) << "a <tool_call>" << 13;
        QTest::newRow("harmony: own channel") << int(ToolCallFormat::harmony) << "a [TOOL_CALLS]" << 14;
        QTest::newRow("hermes plain") << hermes << "Let me see." << 11;
        QTest::newRow("hermes marker") << hermes << "Let me see.<tool_call>{" << 11;
        QTest::newRow("hermes partial marker") << hermes << "Let me see.<tool_" << 11;
        QTest::newRow("hermes lone <") << hermes << "a < b" << 5;
        QTest::newRow("hermes < at end") << hermes << "a <" << 2;
        QTest::newRow("mistral at start") << mistral << "[TOOL_CALLS][{" << 0;
        QTest::newRow("mistral partial") << mistral << "ok [TOOL" << 3;
        QTest::newRow("llama json message") << llama << "  {\"name\"" << 0;
        QTest::newRow("llama only whitespace") << llama << "\n" << 0;
        QTest::newRow("llama prose") << llama << "The answer" << 10;
        QTest::newRow("llama python tag") << llama << "Sure<|python_tag|>x" << 4;
        QTest::newRow("deepseek calls") << int(ToolCallFormat::deepseek)
                                        << QStringLiteral("Ok.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>") << 3;
        QTest::newRow("deepseek partial") << int(ToolCallFormat::deepseek) << QStringLiteral("Ok.<｜tool") << 3;
    }
    void toolCallSafePrefix() {
        QFETCH(int, format);
        QFETCH(QString, content);
        QFETCH(int, safe);
        const std::string text = content.toStdString();
        QCOMPARE(int(tool_call_safe_prefix(text, ToolCallFormat(format))), safe);
    }

    // A loaded model, prompted with a custom template whose generation prompt opens a think
    // block: everything it generates is reasoning, streamed as such, and the result says which
    // template was used.
    void turnOnALoadedModelStreamsReasoningApart() {
        RandomModelConfig c;
        const QString path = test::writeRandomModel(dir_, "turn", c);
        QVERIFY(!path.isEmpty());
        Engine engine;
        auto m = engine.load(path.toStdString(), test::cpuLoadOptions(KvCacheType::f32, 256, 32));
        QVERIFY2(m.ok(), m.status().message().c_str());
        auto seq = (*m)->create_sequence();
        QVERIFY(seq.ok());
        ChatPromptRequest r;
        r.messages = {{"user", "once upon a time"}};
        r.custom_template =
            "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}"
            "{% if add_generation_prompt %}assistant: <think>\n{% endif %}";
        GenerateParams params;
        params.sampler.temperature = 0;
        params.max_tokens = 12;
        params.stop_at_eos = false;
        int prompts = 0;
        OutputFormats seen;
        std::string reasoning, content;
        ChatTurnCallbacks cb;
        cb.on_prompt = [&](const ChatPrompt& p, const OutputFormats& f) {
            ++prompts;
            seen = f;
            QCOMPARE(p.source, ChatTemplateSource::custom);
        };
        cb.on_delta = [&](const OutputDelta& d) {
            (d.channel == OutputChannel::reasoning ? reasoning : content) += d.text;
        };
        auto turn = run_chat_turn(**m, **seq, r, params, cb);
        QVERIFY2(turn.ok(), turn.status().message().c_str());
        QCOMPARE(prompts, 1);
        QCOMPARE(seen.reasoning, ReasoningFormat::think_tags);
        QCOMPARE(turn->template_name, std::string("a custom template"));
        QVERIFY(turn->template_warning.empty());
        QCOMPARE(turn->stats.n_generated, 12);
        QVERIFY(content.empty());
        QVERIFY(!turn->output.reasoning.empty());
        QCOMPARE(reasoning, turn->output.reasoning);  // the stream and the parse agree
        QVERIFY(turn->output.content.empty());
    }

    void oldestTurnsAreDroppedToFit() {
        RandomModelConfig c;
        const QString path = test::writeRandomModel(dir_, "fit", c);
        QVERIFY(!path.isEmpty());
        Engine engine;
        auto m = engine.load(path.toStdString(), test::cpuLoadOptions(KvCacheType::f32, 96, 32));
        QVERIFY2(m.ok(), m.status().message().c_str());
        auto seq = (*m)->create_sequence();
        QVERIFY(seq.ok());
        ChatPromptRequest r;
        r.messages.push_back({"system", "brief"});
        for (int i = 0; i < 12; ++i) r.messages.push_back({i % 2 ? "assistant" : "user", "a long line of old talk " + std::to_string(i)});
        r.messages.push_back({"user", "last"});
        GenerateParams params;
        params.max_tokens = 4;
        params.stop_at_eos = false;
        auto turn = run_chat_turn(**m, **seq, r, params, {});
        QVERIFY2(turn.ok(), turn.status().message().c_str());
        QVERIFY(turn->dropped_turns > 0);
        QVERIFY(!turn->template_warning.empty());  // gen-model files have no template: built-in, said so

        ChatTurnOptions strict;
        strict.drop_oldest_turns = false;
        r.messages.back().content = std::string(2000, 'x');
        auto refused = run_chat_turn(**m, **seq, r, params, {}, nullptr, strict);
        QVERIFY(!refused.ok());
        QCOMPARE(refused.status().code(), ErrorCode::invalid_argument);
    }
};

QTEST_GUILESS_MAIN(TestChatTurn)
#include "tst_chat_turn.moc"
