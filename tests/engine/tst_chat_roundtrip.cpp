// Chat round trips, one per family: a conversation rendered with the family's template through
// ChatTemplate (tests/data/chat_templates), the formats detect_output_formats picks from that
// template, and a model-like output in the family's own format (reasoning and answer; a tool
// call) fed to a ReasoningSplitter in every chunking (whole, byte by byte, cut at every byte,
// random sizes) and to parse_assistant_output, which must agree and give the expected
// structured result. The parsed message is then put back into the conversation and rendered
// again, so what the parser gives is something the template accepts as history.
//
// Also covered: generation that stops at an end-of-generation token which is not emitted as text
// (harmony without its final <|return|> / <|call|>), and Mistral's [TOOL_CALLS] as the very
// first bytes of the output.
#include <QtTest>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "strata/chat_output.h"
#include "strata/chat_template.h"
#include "template_test_data.h"

using namespace strata;
using json = nlohmann::ordered_json;

namespace {

std::string read_file(const QString& path) { return test::readWholeFile(path); }
std::tm fixed_now() { return test::templateTestNow(); }

// Whole, byte by byte, cut once at every byte, and random chunk sizes (fixed seeds).
std::vector<std::vector<std::string>> chunkings(const std::string& text) {
    std::vector<std::vector<std::string>> all;
    all.push_back({text});
    std::vector<std::string> bytes;
    for (char c : text) bytes.emplace_back(1, c);
    all.push_back(bytes);
    for (size_t i = 1; i < text.size(); ++i) all.push_back({text.substr(0, i), text.substr(i)});
    for (uint32_t seed = 1; seed <= 8; ++seed) {
        std::mt19937 rng(seed);
        std::uniform_int_distribution<size_t> size(1, 3 + 2 * seed);
        std::vector<std::string> chunks;
        for (size_t pos = 0; pos < text.size();) {
            const size_t n = std::min(size(rng), text.size() - pos);
            chunks.push_back(text.substr(pos, n));
            pos += n;
        }
        all.push_back(chunks);
    }
    return all;
}

struct Call {
    std::string name;
    std::string arguments;  // compact JSON
    std::string id;         // empty: not checked
};

// One model output and what it must become.
struct Output {
    std::string raw;
    std::string reasoning;
    std::string content;
    std::vector<Call> calls;
};

struct Family {
    const char* template_name;
    const char* conversation;
    OutputFormats formats;
    bool opens_reasoning;           // the generation prompt leaves a reasoning block open
    std::string prompt_suffix;      // how the rendered generation prompt ends
    std::vector<Output> outputs;
    // Text the re-rendered history must contain once the first output's message is added.
    std::string history_snippet;
};

std::vector<Family> families() {
    std::vector<Family> f;
    // Qwen 3 (the shipped template): <think> then Hermes <tool_call>.
    f.push_back({"qwen3", "tools_reasoning", {ReasoningFormat::think_tags, ToolCallFormat::hermes}, false,
                 "<|im_start|>assistant\n",
                 {{"<think>\nRome, two days: call get_weather.\n</think>\n\n<tool_call>\n"
                   "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\", \"days\": 2}}\n</tool_call>",
                   "Rome, two days: call get_weather.", "", {{"get_weather", R"({"city":"Rome","days":2})", ""}}},
                  {"<think>\nEasy.\n</think>\n\nSunny in Rome.", "Easy.", "Sunny in Rome.", {}}},
                 "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\", \"days\": 2}}\n</tool_call>"});
    // DeepSeek R1 distill: the prompt opens <think>, so the output starts inside reasoning.
    f.push_back({"r1_distill_style", "thinking", {ReasoningFormat::think_tags, ToolCallFormat::deepseek}, true,
                 "<｜Assistant｜><think>\n",
                 {{"60 / 2 = 30.\n</think>\n\n30", "60 / 2 = 30.", "30", {}},
                  {"<think>\nHalf of 60 is 30.\n</think>\n\nIt is 30.", "Half of 60 is 30.", "It is 30.", {}}},
                 "<｜Assistant｜>30<｜end▁of▁sentence｜>"});
    // The same with tools: the calls in DeepSeek's markup after the reasoning; generation stops
    // at the end-of-sentence token, so the output may end right after <｜tool▁calls▁end｜>.
    f.push_back({"r1_distill_style", "tools_reasoning", {ReasoningFormat::think_tags, ToolCallFormat::deepseek}, true,
                 "<｜User｜>And in Rome, for two days?<｜Assistant｜><think>\n",
                 {{"Rome, two days.\n</think>\n\n<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>"
                   "get_weather\n```json\n{\"city\": \"Rome\", \"days\": 2}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
                   "Rome, two days.", "", {{"get_weather", R"({"city":"Rome","days":2})", ""}}},
                  {"Rome.\n</think>\n\nOne moment.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n"
                   "```json\n{}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n"
                   "{\"city\": \"Rome\"}\n```<｜tool▁call▁end｜>",
                   "Rome.", "One moment.", {{"get_time", "{}", ""}, {"get_weather", R"({"city":"Rome"})", ""}}}},
                 "<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n"
                 "{\"city\": \"Rome\", \"days\": 2}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜>"});
    // Mistral v7 (Tekken): [TOOL_CALLS] as the very first bytes, the call id kept.
    f.push_back({"mistral_v7_style", "tools_reasoning", {ReasoningFormat::none, ToolCallFormat::mistral}, false,
                 "[INST]And in Rome, for two days?[/INST]",
                 {{"[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\", \"days\": 2}, \"id\": \"r0meW2day\"}]",
                   "", "", {{"get_weather", R"({"city":"Rome","days":2})", "r0meW2day"}}},
                  {"Let me check.[TOOL_CALLS][{\"name\": \"get_time\", \"arguments\": {}, \"id\": \"T1me00002\"}, "
                   "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}, \"id\": \"W3ather03\"}]",
                   "", "Let me check.",
                   {{"get_time", "{}", "T1me00002"}, {"get_weather", R"({"city":"Rome"})", "W3ather03"}}},
                  {"Sunny, 25 °C.", "", "Sunny, 25 °C.", {}}},
                 "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\", \"days\": 2}, \"id\": \"r0meW2day\"}]</s>"});
    // Mistral v3 (SentencePiece): a space after [TOOL_CALLS].
    f.push_back({"mistral_v3_style", "tools_reasoning", {ReasoningFormat::none, ToolCallFormat::mistral}, false,
                 "And in Rome, for two days?[/INST]",
                 {{"[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\", \"days\": 2}, \"id\": \"r0meW2day\"}]",
                   "", "", {{"get_weather", R"({"city":"Rome","days":2})", "r0meW2day"}}},
                  {"Rain in Rome.", "", "Rain in Rome.", {}}},
                 "[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\", \"days\": 2}, \"id\": \"r0meW2day\"}]</s>"});
    // gpt-oss harmony: generation stops at <|call|> / <|return|>, which are not emitted as text.
    f.push_back({"harmony_style", "tools_reasoning", {ReasoningFormat::harmony, ToolCallFormat::harmony}, false,
                 "<|start|>user<|message|>And in Rome, for two days?<|end|><|start|>assistant",
                 {{"<|channel|>analysis<|message|>Rome, two days: call get_weather.<|end|>"
                   "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>"
                   "{\"city\":\"Rome\",\"days\":2}",
                   "Rome, two days: call get_weather.", "", {{"get_weather", R"({"city":"Rome","days":2})", ""}}},
                  {"<|channel|>analysis<|message|>Rome, two days: call get_weather.<|end|>"
                   "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>"
                   "{\"city\":\"Rome\",\"days\":2}<|call|>",
                   "Rome, two days: call get_weather.", "", {{"get_weather", R"({"city":"Rome","days":2})", ""}}},
                  {"<|channel|>analysis<|message|>Known.<|end|><|start|>assistant<|channel|>final<|message|>Sunny, 25 °C.",
                   "Known.", "Sunny, 25 °C.", {}},
                  {"<|channel|>analysis<|message|>Known.<|end|><|start|>assistant<|channel|>final<|message|>Sunny, 25 °C.<|return|>",
                   "Known.", "Sunny, 25 °C.", {}},
                  {"<|channel|>analysis<|message|>Two lookups.<|end|><|start|>assistant<|channel|>commentary<|message|>"
                   "Checking both.<|end|><|start|>assistant<|channel|>commentary to=functions.get_time <|constrain|>json"
                   "<|message|>{}<|call|>",
                   "Two lookups.", "Checking both.", {{"get_time", "{}", ""}}}},
                 "<|start|>assistant<|channel|>analysis<|message|>Rome, two days: call get_weather.<|end|>"
                 "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>"
                 "{\"city\": \"Rome\", \"days\": 2}<|call|><|start|>assistant"});
    // Phi-3.5: no reasoning, no tools.
    f.push_back({"phi35_style", "basic", {ReasoningFormat::none, ToolCallFormat::none}, false, "<|assistant|>\n",
                 {{"Rome.", "", "Rome.", {}}, {"<think>not a marker here</think>", "", "<think>not a marker here</think>", {}}},
                 "<|assistant|>\nRome.<|end|>\n"});
    // Llama 3.1 with tools (our tool layout): the whole message is the JSON call.
    f.push_back({"llama31_tools_style", "tools_openai", {ReasoningFormat::none, ToolCallFormat::llama3_json}, false,
                 "<|start_header_id|>assistant<|end_header_id|>\n\n",
                 {{"{\"name\": \"search\", \"parameters\": {\"query\": \"Paris weather\"}}", "", "",
                   {{"search", R"({"query":"Paris weather"})", ""}}},
                  {"<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Lyon\"}}", "", "",
                   {{"get_weather", R"({"city":"Lyon"})", ""}}},
                  {"You're welcome!", "", "You're welcome!", {}}},
                 "{\"name\": \"search\", \"parameters\": {\"query\": \"Paris weather\"}}<|eot_id|>"});
    return f;
}

struct ShippedFormats {
    const char* name;
    OutputFormats formats;
};

// What detect_output_formats must pick for each template in tests/data/chat_templates.
std::vector<ShippedFormats> shipped_formats() {
    using R = ReasoningFormat;
    using T = ToolCallFormat;
    return {
        {"qwen3", {R::think_tags, T::hermes}},
        {"deepseek_v3", {R::none, T::deepseek}},
        {"llama3", {R::none, T::none}},
        {"llama3_1", {R::none, T::none}},  // the npm package's short template has no tools
        {"llama31_tools_style", {R::none, T::llama3_json}},
        {"gemma", {R::none, T::none}},
        {"gemma3", {R::none, T::none}},
        {"chatml", {R::none, T::none}},
        {"inst_style", {R::none, T::none}},
        {"strata_feature_mix", {R::think_tags, T::none}},
        {"phi35_style", {R::none, T::none}},
        {"mistral_v7_style", {R::none, T::mistral}},
        {"mistral_v3_style", {R::none, T::mistral}},
        {"r1_distill_style", {R::think_tags, T::deepseek}},
        {"harmony_style", {R::harmony, T::harmony}},
    };
}

// The assistant message a client would store for `parsed` (OpenAI shape, plus `thinking`, which
// gpt-oss's template reads, next to `reasoning_content`).
json assistant_message(const ParsedAssistantOutput& parsed) {
    json m = {{"role", "assistant"}, {"content", parsed.content}};
    if (!parsed.reasoning.empty()) {
        m["reasoning_content"] = parsed.reasoning;
        m["thinking"] = parsed.reasoning;
    }
    if (!parsed.calls.empty()) {
        json calls = json::array();
        for (const ToolCall& c : parsed.calls)
            calls.push_back({{"id", c.id}, {"type", "function"},
                             {"function", {{"name", c.name}, {"arguments", json::parse(c.arguments)}}}});
        m["tool_calls"] = std::move(calls);
    }
    return m;
}

}  // namespace

class TestChatRoundtrip : public QObject {
    Q_OBJECT

    QString data_;

    RenderedPrompt render(const std::string& name, const json& conversation, bool generation_prompt) {
        const json meta = json::parse(read_file(data_ + "/templates.json"));
        auto t = ChatTemplate::compile(read_file(data_ + "/" + QString::fromStdString(name) + ".jinja"));
        if (!t.ok()) qFatal("%s: %s", name.c_str(), t.status().message().c_str());
        ChatTemplateInput in;
        in.messages = conversation["messages"];
        if (conversation.contains("tools")) in.tools = conversation["tools"];
        if (conversation.contains("extra_vars")) in.extra_vars = conversation["extra_vars"];
        in.add_generation_prompt = generation_prompt;
        in.bos_token = meta[name].value("bos_token", "");
        in.eos_token = meta[name].value("eos_token", "");
        in.now = fixed_now();
        auto r = t->render(in);
        if (!r.ok()) qFatal("%s: %s", name.c_str(), r.status().message().c_str());
        return std::move(r).value();
    }

private slots:
    void initTestCase() {
        data_ = QFINDTESTDATA("../data/chat_templates");
        QVERIFY2(!data_.isEmpty(), "tests/data/chat_templates not found");
    }

    // Every template the repository ships: the formats its markers select.
    void detectsFormatsForEveryShippedTemplate_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("reasoning");
        QTest::addColumn<int>("tools");
        for (const auto& e : shipped_formats())
            QTest::newRow(e.name) << QString(e.name) << int(e.formats.reasoning) << int(e.formats.tool_calls);
    }

    void detectsFormatsForEveryShippedTemplate() {
        QFETCH(QString, name);
        QFETCH(int, reasoning);
        QFETCH(int, tools);
        const std::string source = read_file(data_ + "/" + name + ".jinja");
        QVERIFY(!source.empty());
        const OutputFormats f = detect_output_formats(source);
        QCOMPARE(QString(reasoning_format_name(f.reasoning)), QString(reasoning_format_name(ReasoningFormat(reasoning))));
        QCOMPARE(QString(tool_call_format_name(f.tool_calls)), QString(tool_call_format_name(ToolCallFormat(tools))));
    }

    void everyTemplateHasAnExpectation() {
        // A template added to the data folder must get an entry in shipped_formats().
        QStringList known;
        for (const auto& e : shipped_formats()) known << QString(e.name) + ".jinja";
        known.sort();
        QCOMPARE(QDir(data_).entryList({"*.jinja"}, QDir::Files, QDir::Name), known);
    }

    void roundTrip_data() {
        QTest::addColumn<int>("family");
        const auto all = families();
        for (size_t i = 0; i < all.size(); ++i)
            QTest::newRow((std::string(all[i].template_name) + "/" + all[i].conversation).c_str()) << int(i);
    }

    void roundTrip() {
        QFETCH(int, family);
        const Family fam = families()[size_t(family)];
        const json conversation = json::parse(read_file(data_ + "/conversations/" + fam.conversation + ".json"));
        const std::string source = read_file(data_ + "/" + fam.template_name + ".jinja");

        // 1. The prompt, and the formats the template selects.
        const RenderedPrompt prompt = render(fam.template_name, conversation, true);
        QVERIFY2(prompt.text.size() >= fam.prompt_suffix.size() &&
                     prompt.text.compare(prompt.text.size() - fam.prompt_suffix.size(), std::string::npos,
                                         fam.prompt_suffix) == 0,
                 prompt.text.c_str());
        const OutputFormats formats = detect_output_formats(source);
        QVERIFY(formats == fam.formats);
        const bool harmony = formats.reasoning == ReasoningFormat::harmony;
        const bool opens = prompt_opens_reasoning(prompt.text, formats.reasoning);
        QCOMPARE(opens, fam.opens_reasoning);

        for (const Output& out : fam.outputs) {
            const QByteArray what = QByteArray::fromStdString(out.raw);
            // 2. The whole output at once.
            auto parsed = parse_assistant_output(out.raw, formats, opens);
            QVERIFY2(parsed.ok(), parsed.status().message().c_str());
            QVERIFY2(parsed->problems.empty(), what.constData());
            QCOMPARE(QString::fromStdString(parsed->reasoning), QString::fromStdString(out.reasoning));
            QCOMPARE(QString::fromStdString(parsed->content), QString::fromStdString(out.content));
            QCOMPARE(parsed->calls.size(), out.calls.size());
            for (size_t i = 0; i < out.calls.size(); ++i) {
                QCOMPARE(QString::fromStdString(parsed->calls[i].name), QString::fromStdString(out.calls[i].name));
                QCOMPARE(QString::fromStdString(parsed->calls[i].arguments), QString::fromStdString(out.calls[i].arguments));
                if (!out.calls[i].id.empty())
                    QCOMPARE(QString::fromStdString(parsed->calls[i].id), QString::fromStdString(out.calls[i].id));
            }

            // 3. Streamed in every chunking: the same reasoning, content and calls.
            for (const auto& chunks : chunkings(out.raw)) {
                ReasoningSplitter splitter({formats.reasoning, opens});
                std::string reasoning, content, tool_bodies;
                std::vector<std::string> recipients;
                auto take = [&](const std::vector<OutputDelta>& deltas) {
                    for (const OutputDelta& d : deltas) {
                        if (d.channel == OutputChannel::reasoning) reasoning += d.text;
                        else if (d.channel == OutputChannel::content) content += d.text;
                        else {
                            tool_bodies += d.text;
                            if (recipients.empty() || recipients.back() != d.recipient) recipients.push_back(d.recipient);
                        }
                    }
                };
                for (const std::string& c : chunks) take(splitter.push(c));
                take(splitter.flush());
                QCOMPARE(QString::fromStdString(reasoning), QString::fromStdString(out.reasoning));
                if (harmony) {
                    QCOMPARE(QString::fromStdString(content), QString::fromStdString(out.content));
                    QCOMPARE(recipients.size(), out.calls.size());
                    for (size_t i = 0; i < recipients.size(); ++i)
                        QCOMPARE(QString::fromStdString(recipients[i]), QString::fromStdString("functions." + out.calls[i].name));
                } else {
                    QVERIFY(tool_bodies.empty());
                    auto calls = parse_tool_calls(content, formats.tool_calls);
                    QVERIFY(calls.ok());
                    QCOMPARE(QString::fromStdString(calls->content), QString::fromStdString(out.content));
                    QCOMPARE(calls->calls.size(), out.calls.size());
                    for (size_t i = 0; i < out.calls.size(); ++i)
                        QCOMPARE(QString::fromStdString(calls->calls[i].arguments), QString::fromStdString(out.calls[i].arguments));
                }
            }
        }

        // 4. The first output, stored as the assistant's message, renders back as history in the
        // family's own format.
        auto first = parse_assistant_output(fam.outputs.front().raw, formats, opens);
        QVERIFY(first.ok());
        json next = conversation;
        next["messages"].push_back(assistant_message(*first));
        const RenderedPrompt history = render(fam.template_name, next, true);
        QVERIFY2(history.text.find(fam.history_snippet) != std::string::npos, history.text.c_str());
    }
};

QTEST_GUILESS_MAIN(TestChatRoundtrip)
#include "tst_chat_roundtrip.moc"
