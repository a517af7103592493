// Chat output: reasoning split from the answer while streaming, and tool calls parsed from a
// complete output, for each supported format. The examples are the shapes the models' own chat
// templates and reference code show (Qwen 3, DeepSeek R1 distills, Magistral, gpt-oss harmony,
// Hermes/Qwen, Llama 3.x, Mistral v3 and v11). Every streaming case is fed whole, one byte at a
// time, cut at every single point, and in random chunk sizes (fixed seeds): all must agree.
#include <QtTest>

#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "strata/chat_output.h"

using namespace strata;

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

struct Split {
    std::string reasoning;
    std::string content;
    std::string tool;  // harmony tool-call bodies
    std::vector<std::string> recipients;
    bool operator==(const Split&) const = default;
    std::string describe() const {
        std::string r = "reasoning=[" + reasoning + "] content=[" + content + "] tool=[" + tool + "] to=";
        for (const auto& x : recipients) r += x + ",";
        return r;
    }
};

void take(Split& s, const std::vector<OutputDelta>& deltas) {
    for (const OutputDelta& d : deltas) {
        switch (d.channel) {
            case OutputChannel::reasoning: s.reasoning += d.text; break;
            case OutputChannel::content: s.content += d.text; break;
            case OutputChannel::tool_call:
                s.tool += d.text;
                if (s.recipients.empty() || s.recipients.back() != d.recipient) s.recipients.push_back(d.recipient);
                break;
        }
    }
}

Split run(const ReasoningSplitterOptions& o, const std::vector<std::string>& chunks) {
    ReasoningSplitter splitter(o);
    Split s;
    for (const std::string& c : chunks) take(s, splitter.push(c));
    take(s, splitter.flush());
    return s;
}

// Every way of cutting `text` the tests use: whole, bytes, each single cut, random sizes.
std::vector<std::vector<std::string>> chunkings(const std::string& text) {
    std::vector<std::vector<std::string>> all;
    all.push_back({text});
    std::vector<std::string> bytes;
    for (char c : text) bytes.emplace_back(1, c);
    all.push_back(bytes);
    for (size_t i = 1; i < text.size(); ++i) all.push_back({text.substr(0, i), text.substr(i)});
    for (uint32_t seed = 1; seed <= 12; ++seed) {
        std::mt19937 rng(seed);
        std::uniform_int_distribution<size_t> size(1, 2 + seed);
        std::vector<std::string> chunks;
        for (size_t pos = 0; pos < text.size();) {
            const size_t n = std::min(size(rng), text.size() - pos);
            chunks.push_back(text.substr(pos, n));
            pos += n;
        }
        // Empty pushes are legal and must change nothing.
        if (seed % 3 == 0) chunks.insert(chunks.begin() + static_cast<long>(chunks.size() / 2), std::string());
        all.push_back(chunks);
    }
    return all;
}

std::string describe_chunks(const std::vector<std::string>& chunks) {
    std::string r;
    for (const auto& c : chunks) r += "|" + c;
    return r + "|";
}

// Feeds `text` every way; each result must equal `want`.
bool check_streamed(const ReasoningSplitterOptions& o, const std::string& text, const Split& want) {
    for (const auto& chunks : chunkings(text)) {
        const Split got = run(o, chunks);
        if (!(got == want)) {
            qWarning("chunks %s\n got  %s\n want %s", describe_chunks(chunks).c_str(), got.describe().c_str(),
                     want.describe().c_str());
            return false;
        }
    }
    return true;
}

Split rc(std::string reasoning, std::string content) { return {std::move(reasoning), std::move(content), {}, {}}; }

ReasoningSplitterOptions think(bool starts_in_reasoning = false) {
    return {ReasoningFormat::think_tags, starts_in_reasoning};
}
ReasoningSplitterOptions harmony(bool starts_in_reasoning = false) {
    return {ReasoningFormat::harmony, starts_in_reasoning};
}

ToolCall call(std::string id, std::string name, std::string args) {
    return {std::move(id), std::move(name), std::move(args)};
}

std::string describe(const std::vector<ToolCall>& calls) {
    std::string r;
    for (const auto& c : calls) r += "{" + c.id + " " + c.name + " " + c.arguments + "}";
    return r;
}

ParsedToolCalls parse(std::string_view text, ToolCallFormat f) {
    auto r = parse_tool_calls(text, f);
    if (!r.ok()) qFatal("parse_tool_calls failed: %s", r.status().message().c_str());
    return std::move(r).value();
}

#define CHECK_CALLS(got, ...)                                                     \
    do {                                                                          \
        const std::vector<ToolCall> want_calls_{__VA_ARGS__};                     \
        QCOMPARE(qs(describe(got)), qs(describe(want_calls_)));                   \
    } while (0)

// The streaming pipeline (splitter in chunks, then the content parsed) gives what the
// one-shot parse_assistant_output gives, for every chunking.
bool check_pipeline(const std::string& raw, OutputFormats f, bool starts_in_reasoning = false) {
    auto whole = parse_assistant_output(raw, f, starts_in_reasoning);
    if (!whole.ok()) return false;
    const bool harmony_calls = f.tool_calls == ToolCallFormat::harmony;
    for (const auto& chunks : chunkings(raw)) {
        const Split s = run({f.reasoning, starts_in_reasoning}, chunks);
        if (s.reasoning != whole->reasoning) return false;
        if (harmony_calls) continue;  // harmony calls come from the raw text, checked elsewhere
        auto calls = parse_tool_calls(s.content, f.tool_calls);
        if (!calls.ok() || calls->content != whole->content || !(calls->calls == whole->calls) ||
            calls->problems.size() != whole->problems.size())
            return false;
    }
    return true;
}

}  // namespace

class TestChatOutput : public QObject {
    Q_OBJECT
private slots:
    // ---- reasoning: none ----------------------------------------------------------------

    void noneFormatPassesEverythingThrough() {
        const std::string text = "Hello <think>not special</think> world\n";
        QVERIFY(check_streamed({ReasoningFormat::none, false}, text, rc("", text)));
    }

    // ---- reasoning: think tags ----------------------------------------------------------

    void qwen3ThinkingAnswer() {
        const std::string raw =
            "<think>\nOkay, the user asks for the capital of France. That's Paris.\n</think>\n\n"
            "The capital of France is **Paris**.";
        QVERIFY(check_streamed(think(), raw,
                               rc("Okay, the user asks for the capital of France. That's Paris.",
                                  "The capital of France is **Paris**.")));
    }

    void qwen3EmptyThinkBlock() {
        // What Qwen 3 writes when told /no_think: an empty block, then the answer.
        QVERIFY(check_streamed(think(), "<think>\n\n</think>\n\nHi there!", rc("", "Hi there!")));
    }

    void outputWithoutThinkIsContentVerbatim() {
        // enable_thinking=false puts the empty block in the prompt; the output is plain.
        QVERIFY(check_streamed(think(), "  Sure: 1 < 2 and <b>bold</b>.\n", rc("", "  Sure: 1 < 2 and <b>bold</b>.\n")));
    }

    void r1DistillStartsInsideReasoning() {
        // The R1 distills' generation prompt ends with "<think>\n": no opening tag in the output.
        const std::string raw =
            "Okay, so I need to find 2 + 2. That's basic addition.\n\nThe sum is 4.\n</think>\n\n"
            "The answer is $\\boxed{4}$.";
        QVERIFY(check_streamed(think(true), raw,
                               rc("Okay, so I need to find 2 + 2. That's basic addition.\n\nThe sum is 4.",
                                  "The answer is $\\boxed{4}$.")));
    }

    void startsInReasoningSkipsARepeatedOpeningTag() {
        QVERIFY(check_streamed(think(true), "<think>\nHmm.\n</think>\nOK", rc("Hmm.", "OK")));
    }

    void unterminatedThinkIsAllReasoning() {
        QVERIFY(check_streamed(think(), "<think>\nStill working on it... step 1, step 2 ", rc("Still working on it... step 1, step 2", "")));
        // A closing tag cut off by the token limit is reasoning text, not lost.
        QVERIFY(check_streamed(think(), "<think>abc</thi", rc("abc</thi", "")));
        QVERIFY(check_streamed(think(true), "partial thought", rc("partial thought", "")));
    }

    void partialOpeningTagAtEndIsContent() {
        QVERIFY(check_streamed(think(), "<thi", rc("", "<thi")));
        QVERIFY(check_streamed(think(), "\n<think", rc("", "\n<think")));
        QVERIFY(check_streamed(think(), "<thinking>", rc("", "<thinking>")));
    }

    void markerMentionsAfterReasoningAreContent() {
        // The rule: only a block at the very start is reasoning; later tags are text.
        const std::string answer =
            "Qwen wraps its thoughts like this:\n```xml\n<think>\nreasoning\n</think>\n```\nDone.";
        QVERIFY(check_streamed(think(), "<think>\nExplain the tags.\n</think>\n\n" + answer,
                               rc("Explain the tags.", answer)));
        QVERIFY(check_streamed(think(), answer, rc("", answer)));
        QVERIFY(check_streamed(think(), "<think>a</think>b</think>c", rc("a", "b</think>c")));
    }

    void unicodeSurvivesEveryCut() {
        const std::string raw = "<think>\n考虑一下… 🤔 «ça»\n</think>\n\nLa réponse est 42 ✅ — 東京";
        QVERIFY(check_streamed(think(), raw, rc("考虑一下… 🤔 «ça»", "La réponse est 42 ✅ — 東京")));
    }

    void deltasArriveAsSoonAsDecided() {
        ReasoningSplitter s(think());
        QVERIFY(s.push("<th").empty());  // might be the opening tag
        QVERIFY(!s.in_reasoning());
        auto d = s.push("ink>\nStep one.\n</");
        QCOMPARE(d.size(), size_t(1));
        QCOMPARE(int(d[0].channel), int(OutputChannel::reasoning));
        QCOMPARE(qs(d[0].text), qs("Step one."));  // "\n</" held: framing or a closing tag
        QVERIFY(s.in_reasoning());
        d = s.push("think>\n\nAns");
        QCOMPARE(d.size(), size_t(1));
        QCOMPARE(int(d[0].channel), int(OutputChannel::content));
        QCOMPARE(qs(d[0].text), qs("Ans"));
        QVERIFY(!s.in_reasoning());
        d = s.push("wer");
        QCOMPARE(qs(d.at(0).text), qs("wer"));
        QVERIFY(s.flush().empty());
    }

    void flushResetsForTheNextStream() {
        ReasoningSplitter s(think());
        Split a;
        take(a, s.push("<think>x</think>y"));
        take(a, s.flush());
        QCOMPARE(qs(a.describe()), qs(rc("x", "y").describe()));
        Split b;
        take(b, s.push("<think>p</think>q"));
        take(b, s.flush());
        QCOMPARE(qs(b.describe()), qs(rc("p", "q").describe()));
    }

    void splitterMoves() {
        ReasoningSplitter a(think());
        Split s;
        take(s, a.push("<think>abc"));
        ReasoningSplitter b = std::move(a);
        take(s, b.push("</think>ok"));
        take(s, b.flush());
        QCOMPARE(qs(s.describe()), qs(rc("abc", "ok").describe()));
    }

    void magistralThinkTags() {
        const std::string raw = "[THINK]The user wants 17 * 3. 17*3 = 51.[/THINK]17 × 3 = **51**.";
        QVERIFY(check_streamed({ReasoningFormat::mistral_think, false}, raw,
                               rc("The user wants 17 * 3. 17*3 = 51.", "17 × 3 = **51**.")));
    }

    // ---- reasoning: harmony -------------------------------------------------------------

    void harmonyAnalysisThenFinal() {
        // The example in OpenAI's harmony format guide, ending with <|return|>.
        const std::string raw =
            "<|channel|>analysis<|message|>User asks: \"What is 2 + 2?\" Simple arithmetic. Provide answer.<|end|>"
            "<|start|>assistant<|channel|>final<|message|>2 + 2 = 4.<|return|>";
        QVERIFY(check_streamed(harmony(), raw,
                               rc("User asks: \"What is 2 + 2?\" Simple arithmetic. Provide answer.", "2 + 2 = 4.")));
        // Generation usually stops on <|return|> without rendering it.
        QVERIFY(check_streamed(harmony(), raw.substr(0, raw.size() - 10),
                               rc("User asks: \"What is 2 + 2?\" Simple arithmetic. Provide answer.", "2 + 2 = 4.")));
    }

    void harmonyToolCallMessage() {
        const std::string raw =
            "<|channel|>analysis<|message|>Need to use function get_weather.<|end|>"
            "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json"
            "<|message|>{\"location\":\"San Francisco\"}<|call|>";
        Split want = rc("Need to use function get_weather.", "");
        want.tool = "{\"location\":\"San Francisco\"}";
        want.recipients = {"functions.get_weather"};
        QVERIFY(check_streamed(harmony(), raw, want));
    }

    void harmonyPreambleIsContent() {
        // The preamble example of the harmony guide: commentary without a recipient is for the user.
        const std::string raw =
            "<|channel|>analysis<|message|>{long chain of thought}<|end|>"
            "<|start|>assistant<|channel|>commentary<|message|>**Action plan**:\n1. Generate an HTML file\n"
            "2. Generate a JavaScript for the Node.js server\n3. Start the server\n---\n"
            "Will start executing the plan step by step<|end|>"
            "<|start|>assistant<|channel|>commentary to=functions.generate_file<|constrain|>json"
            "<|message|>{\"template\": \"basic_html\", \"path\": \"index.html\"}<|call|>";
        Split want = rc("{long chain of thought}",
                        "**Action plan**:\n1. Generate an HTML file\n2. Generate a JavaScript for the Node.js "
                        "server\n3. Start the server\n---\nWill start executing the plan step by step");
        want.tool = "{\"template\": \"basic_html\", \"path\": \"index.html\"}";
        want.recipients = {"functions.generate_file"};
        QVERIFY(check_streamed(harmony(), raw, want));
    }

    void harmonyRecipientInRoleAndSeveralAnalysisMessages() {
        const std::string raw =
            "<|channel|>analysis<|message|>First thought.<|end|>"
            "<|start|>assistant<|channel|>analysis<|message|>Second thought.<|end|>"
            "<|start|>assistant to=functions.lookup<|channel|>commentary json<|message|>{\"q\": \"ünïcode\"}<|call|>";
        Split want = rc("First thought.\n\nSecond thought.", "");
        want.tool = "{\"q\": \"ünïcode\"}";
        want.recipients = {"functions.lookup"};
        QVERIFY(check_streamed(harmony(), raw, want));
    }

    void harmonyUnterminatedAndStartingInAnalysis() {
        QVERIFY(check_streamed(harmony(), "<|channel|>analysis<|message|>Thinking about <|", rc("Thinking about <|", "")));
        QVERIFY(check_streamed(harmony(true), "Already thinking.<|end|><|start|>assistant<|channel|>final<|message|>Yes.",
                               rc("Already thinking.", "Yes.")));
        // A header cut off before <|message|> is structure: nothing to show.
        QVERIFY(check_streamed(harmony(), "<|channel|>analysis<|message|>x<|end|><|start|>assistant<|channel|>fin",
                               rc("x", "")));
    }

    void harmonyPlainTextIsNotLost() {
        // A model that does not speak harmony: short text comes out at flush, long text as soon
        // as it cannot be a header.
        QVERIFY(check_streamed(harmony(), "Just an answer.", rc("", "Just an answer.")));
        const std::string lng(700, 'z');
        QVERIFY(check_streamed(harmony(), lng, rc("", lng)));
    }

    void harmonyInReasoningIndicator() {
        ReasoningSplitter s(harmony());
        s.push("<|channel|>analysis<|message|>hm");
        QVERIFY(s.in_reasoning());
        s.push("<|end|><|start|>assistant<|channel|>final<|message|>ok");
        QVERIFY(!s.in_reasoning());
    }

    // ---- tool calls: hermes / Qwen --------------------------------------------------------

    void qwen3ThinkingThenTwoToolCalls() {
        const std::string raw =
            "<think>\nThe user wants the weather in Paris and Tokyo. I'll call get_weather twice.\n</think>\n\n"
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Paris\", \"unit\": \"celsius\"}}\n"
            "</tool_call>\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Tokyo\", "
            "\"unit\": \"celsius\"}}\n</tool_call>";
        const OutputFormats f{ReasoningFormat::think_tags, ToolCallFormat::hermes};
        auto r = parse_assistant_output(raw, f);
        QVERIFY(r.ok());
        QCOMPARE(qs(r->reasoning), qs("The user wants the weather in Paris and Tokyo. I'll call get_weather twice."));
        QCOMPARE(qs(r->content), qs(""));
        CHECK_CALLS(r->calls, call("call_0", "get_weather", "{\"location\":\"Paris\",\"unit\":\"celsius\"}"),
                    call("call_1", "get_weather", "{\"location\":\"Tokyo\",\"unit\":\"celsius\"}"));
        QVERIFY(r->problems.empty());
        QVERIFY(check_pipeline(raw, f));
    }

    void hermes2ProArgumentsFirstWithContent() {
        const std::string raw =
            "Let me look that up.\n<tool_call>\n{\"arguments\": {\"symbol\": \"TSLA\"}, \"name\": "
            "\"get_stock_fundamentals\"}\n</tool_call>\n";
        auto r = parse(raw, ToolCallFormat::hermes);
        QCOMPARE(qs(r.content), qs("Let me look that up."));
        CHECK_CALLS(r.calls, call("call_0", "get_stock_fundamentals", "{\"symbol\":\"TSLA\"}"));
        QVERIFY(check_pipeline(raw, {ReasoningFormat::think_tags, ToolCallFormat::hermes}));
    }

    void hermesMalformedJsonStaysContent() {
        const std::string bad = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Paris\",}}\n</tool_call>";
        const std::string good = "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>";
        auto r = parse("Checking.\n" + bad + "\n" + good, ToolCallFormat::hermes);
        QCOMPARE(qs(r.content), qs("Checking.\n" + bad));
        CHECK_CALLS(r.calls, call("call_0", "get_time", "{}"));
        QCOMPARE(r.problems.size(), size_t(1));
        QCOMPARE(int(r.problems[0].kind), int(ToolCallProblem::Kind::malformed_json));
        QCOMPARE(r.problems[0].offset, size_t(10));
        QCOMPARE(qs(r.problems[0].text), qs(bad));
        QVERIFY(r.problems[0].message.find("tool call 1") != std::string::npos);
    }

    void hermesCutOffMidCallIsUnterminated() {
        const std::string raw = "<tool_call>\n{\"name\": \"search\", \"arguments\": {\"query\": \"best pi";
        auto r = parse(raw, ToolCallFormat::hermes);
        QCOMPARE(qs(r.content), qs(raw));
        QVERIFY(r.calls.empty());
        QCOMPARE(r.problems.size(), size_t(1));
        QCOMPARE(int(r.problems[0].kind), int(ToolCallProblem::Kind::unterminated));
    }

    void hermesWithoutClosingTagButCompleteJson() {
        auto r = parse("<tool_call>\n{\"name\": \"ping\", \"arguments\": {\"host\": \"a\"}}", ToolCallFormat::hermes);
        CHECK_CALLS(r.calls, call("call_0", "ping", "{\"host\":\"a\"}"));
        QCOMPARE(qs(r.content), qs(""));
    }

    void hermesShapes() {
        // Arguments encoded twice (a JSON string), missing arguments, "</tool_call>" inside a
        // string, unicode kept as UTF-8, key order kept.
        auto r = parse(
            "<tool_call>\n{\"name\": \"a\", \"arguments\": \"{\\\"z\\\": 1, \\\"b\\\": 2}\"}\n</tool_call>"
            "<tool_call>{\"name\": \"b\"}</tool_call>"
            "<tool_call>{\"name\": \"echo\", \"arguments\": {\"text\": \"</tool_call> is a tag\"}}</tool_call>"
            "<tool_call>{\"name\": \"city\", \"arguments\": {\"name\": \"Zürich\", \"note\": \"東京 🌸\"}}</tool_call>",
            ToolCallFormat::hermes);
        CHECK_CALLS(r.calls, call("call_0", "a", "{\"z\":1,\"b\":2}"), call("call_1", "b", "{}"),
                    call("call_2", "echo", "{\"text\":\"</tool_call> is a tag\"}"),
                    call("call_3", "city", "{\"name\":\"Zürich\",\"note\":\"東京 🌸\"}"));
        QVERIFY(r.problems.empty());

        auto bad = parse("<tool_call>{\"arguments\": {}}</tool_call>", ToolCallFormat::hermes);
        QVERIFY(bad.calls.empty());
        QCOMPARE(int(bad.problems.at(0).kind), int(ToolCallProblem::Kind::bad_shape));
        auto bad_args = parse("<tool_call>{\"name\": \"x\", \"arguments\": [1, 2]}</tool_call>", ToolCallFormat::hermes);
        QCOMPARE(int(bad_args.problems.at(0).kind), int(ToolCallProblem::Kind::bad_shape));
        QCOMPARE(qs(bad_args.content), qs("<tool_call>{\"name\": \"x\", \"arguments\": [1, 2]}</tool_call>"));
    }

    void hermesMarkersInCodeAreText() {
        const std::string raw =
            "The model answers with:\n```\n<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>\n```\n"
            "and the tag `<tool_call>` opens it.";
        auto r = parse(raw, ToolCallFormat::hermes);
        QCOMPARE(qs(r.content), qs(raw));
        QVERIFY(r.calls.empty());
        QVERIFY(r.problems.empty());
        // An unclosed fence runs to the end.
        auto open = parse("~~~~\n<tool_call>{\"name\": \"f\"}</tool_call>", ToolCallFormat::hermes);
        QVERIFY(open.calls.empty());
    }

    // ---- tool calls: Llama 3.x ------------------------------------------------------------

    void llama31PythonTagJson() {
        const std::string raw =
            "<|python_tag|>{\"name\": \"get_current_conditions\", \"parameters\": {\"location\": \"San Francisco, "
            "CA\", \"unit\": \"Fahrenheit\"}}<|eom_id|>";
        auto r = parse(raw, ToolCallFormat::llama3_json);
        QCOMPARE(qs(r.content), qs(""));
        CHECK_CALLS(r.calls, call("call_0", "get_current_conditions",
                                  "{\"location\":\"San Francisco, CA\",\"unit\":\"Fahrenheit\"}"));
        QVERIFY(check_pipeline(raw, {ReasoningFormat::none, ToolCallFormat::llama3_json}));
    }

    void llama32TypeFunctionAndSeveral() {
        auto r = parse("{\"type\": \"function\", \"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}",
                       ToolCallFormat::llama3_json);
        CHECK_CALLS(r.calls, call("call_0", "get_weather", "{\"city\":\"Paris\"}"));
        auto two = parse("{\"name\": \"a\", \"parameters\": {}}; {\"name\": \"b\", \"parameters\": {\"x\": 1}}",
                         ToolCallFormat::llama3_json);
        CHECK_CALLS(two.calls, call("call_0", "a", "{}"), call("call_1", "b", "{\"x\":1}"));
        auto fn = parse("<function=spotify_trending_songs>{\"n\": \"5\"}</function>", ToolCallFormat::llama3_json);
        CHECK_CALLS(fn.calls, call("call_0", "spotify_trending_songs", "{\"n\":\"5\"}"));
    }

    void llama3BuiltinsAndCode() {
        auto b = parse("<|python_tag|>brave_search.call(query=\"current weather in Menlo Park, California\")<|eom_id|>",
                       ToolCallFormat::llama3_json);
        CHECK_CALLS(b.calls, call("call_0", "brave_search", "{\"query\":\"current weather in Menlo Park, California\"}"));
        auto w = parse("<|python_tag|>wolfram_alpha.call(query=\"solve x^2 + 2x = 3\")", ToolCallFormat::llama3_json);
        CHECK_CALLS(w.calls, call("call_0", "wolfram_alpha", "{\"query\":\"solve x^2 + 2x = 3\"}"));
        auto c = parse("<|python_tag|>import math\nprint(math.sqrt(2))<|eom_id|>", ToolCallFormat::llama3_json);
        CHECK_CALLS(c.calls, call("call_0", "code_interpreter", "{\"code\":\"import math\\nprint(math.sqrt(2))\"}"));
        // Text before the special token is content.
        auto lead = parse("Let me check.\n<|python_tag|>{\"name\": \"f\", \"parameters\": {\"a\": 1}}", ToolCallFormat::llama3_json);
        CHECK_CALLS(lead.calls, call("call_0", "f", "{\"a\":1}"));
        QCOMPARE(qs(lead.content), qs("Let me check."));
        // ...unless it is only mentioned in code.
        const std::string mention = "Llama starts code with `<|python_tag|>` then the code.";
        auto m = parse(mention, ToolCallFormat::llama3_json);
        QCOMPARE(qs(m.content), qs(mention));
        QVERIFY(m.calls.empty());
    }

    void llama3PlainAnswersStayContent() {
        for (const char* plain : {"The weather is sunny.", "{\"city\": \"Paris\", \"temp\": 21}",
                                  "Here: {\"name\": \"f\", \"parameters\": {}}", "{not json"}) {
            const std::string text = plain;
            auto r = parse(text, ToolCallFormat::llama3_json);
            QCOMPARE(qs(r.content), qs(text));
            QVERIFY(r.calls.empty());
            QVERIFY(r.problems.empty());
        }
        const std::string bad = "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}";
        auto r = parse(bad, ToolCallFormat::llama3_json);
        QCOMPARE(qs(r.content), qs(bad));
        QVERIFY(r.calls.empty());
        QCOMPARE(int(r.problems.at(0).kind), int(ToolCallProblem::Kind::unterminated));
        auto m = parse("<|python_tag|>{\"name\": \"f\", \"parameters\": {'a': 1}}", ToolCallFormat::llama3_json);
        QCOMPARE(int(m.problems.at(0).kind), int(ToolCallProblem::Kind::malformed_json));
        QVERIFY(m.calls.empty());
    }

    // ---- tool calls: Mistral --------------------------------------------------------------

    void mistralV3ListWithIds() {
        const std::string raw =
            "[TOOL_CALLS] [{\"name\": \"get_current_weather\", \"arguments\": {\"location\": \"Paris, France\", "
            "\"format\": \"celsius\"}, \"id\": \"aB3dE5fG7\"}, {\"name\": \"get_time\", \"arguments\": {}}]";
        auto r = parse(raw, ToolCallFormat::mistral);
        QCOMPARE(qs(r.content), qs(""));
        CHECK_CALLS(r.calls,
                    call("aB3dE5fG7", "get_current_weather", "{\"location\":\"Paris, France\",\"format\":\"celsius\"}"),
                    call("call_1", "get_time", "{}"));
        QVERIFY(check_pipeline(raw, {ReasoningFormat::none, ToolCallFormat::mistral}));
    }

    void mistralV11OnePerCall() {
        const std::string raw =
            "I'll check both.[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}[TOOL_CALLS]get_time[ARGS]{\"tz\": "
            "\"Europe/Paris\"}";
        auto r = parse(raw, ToolCallFormat::mistral);
        QCOMPARE(qs(r.content), qs("I'll check both."));
        CHECK_CALLS(r.calls, call("call_0", "get_weather", "{\"city\":\"Paris\"}"),
                    call("call_1", "get_time", "{\"tz\":\"Europe/Paris\"}"));
        auto id = parse("[TOOL_CALLS]get_weather[CALL_ID]a1b2c3d4e[ARGS]{\"city\": \"Paris\"}", ToolCallFormat::mistral);
        CHECK_CALLS(id.calls, call("a1b2c3d4e", "get_weather", "{\"city\":\"Paris\"}"));
        auto bare = parse("[TOOL_CALLS]get_weather{\"city\": \"Rome\"}", ToolCallFormat::mistral);
        CHECK_CALLS(bare.calls, call("call_0", "get_weather", "{\"city\":\"Rome\"}"));
        QVERIFY(check_pipeline("[THINK]Two lookups.[/THINK]" + raw, {ReasoningFormat::mistral_think, ToolCallFormat::mistral}));
    }

    void mistralMalformedAndInCode() {
        const std::string bad = "[TOOL_CALLS][{\"name\": \"f\", \"arguments\": {\"a\": }}]";
        auto r = parse("Hi " + bad, ToolCallFormat::mistral);
        QCOMPARE(qs(r.content), qs("Hi " + bad));
        QVERIFY(r.calls.empty());
        QCOMPARE(int(r.problems.at(0).kind), int(ToolCallProblem::Kind::malformed_json));
        QCOMPARE(r.problems[0].offset, size_t(3));
        auto mixed = parse("[TOOL_CALLS]f[ARGS]{\"a\": tru}[TOOL_CALLS]g[ARGS]{}", ToolCallFormat::mistral);
        CHECK_CALLS(mixed.calls, call("call_0", "g", "{}"));
        QCOMPARE(qs(mixed.content), qs("[TOOL_CALLS]f[ARGS]{\"a\": tru}"));
        auto cut = parse("[TOOL_CALLS]f[ARGS]{\"a\": ", ToolCallFormat::mistral);
        QCOMPARE(int(cut.problems.at(0).kind), int(ToolCallProblem::Kind::unterminated));
        const std::string code = "Use `[TOOL_CALLS]` before the calls:\n```\n[TOOL_CALLS]f[ARGS]{}\n```";
        auto c = parse(code, ToolCallFormat::mistral);
        QCOMPARE(qs(c.content), qs(code));
        QVERIFY(c.calls.empty() && c.problems.empty());
    }

    // ---- tool calls: DeepSeek -------------------------------------------------------------

    void deepseekV3AndR1Calls() {
        // As DeepSeek V3's and the R1 distills' templates write a call: the type, the name, a
        // ```json fence, several calls separated by a newline.
        const std::string raw =
            "Checking.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n"
            "{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n"
            "```json\n{}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>";
        auto r = parse(raw, ToolCallFormat::deepseek);
        QCOMPARE(qs(r.content), qs("Checking."));
        QVERIFY(r.problems.empty());
        CHECK_CALLS(r.calls, call("call_0", "get_weather", "{\"city\":\"Paris\"}"), call("call_1", "get_time", "{}"));
        // R1 distill: the output starts inside <think>, the calls follow the answer.
        QVERIFY(check_pipeline("Need the weather.\n</think>\n\n" + raw, {ReasoningFormat::think_tags, ToolCallFormat::deepseek},
                               true));
        auto whole = parse_assistant_output("Need the weather.\n</think>\n\n" + raw,
                                            {ReasoningFormat::think_tags, ToolCallFormat::deepseek}, true);
        QVERIFY(whole.ok());
        QCOMPARE(qs(whole->reasoning), qs("Need the weather."));
        QCOMPARE(qs(whole->content), qs("Checking."));
        QCOMPARE(whole->calls.size(), size_t(2));
    }

    void deepseekV31AndCutShapes() {
        // V3.1: the name before <｜tool▁sep｜>, the JSON right after it.
        auto v31 = parse("<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>search<｜tool▁sep｜>{\"q\": \"x\"}<｜tool▁call▁end｜>"
                         "<｜tool▁calls▁end｜>",
                         ToolCallFormat::deepseek);
        QCOMPARE(qs(v31.content), qs(""));
        CHECK_CALLS(v31.calls, call("call_0", "search", "{\"q\":\"x\"}"));
        // Generation stopped after the JSON (closing markers missing), or the outer token left out.
        auto cut = parse("<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{\"a\": 1}",
                         ToolCallFormat::deepseek);
        CHECK_CALLS(cut.calls, call("call_0", "f", "{\"a\":1}"));
        QVERIFY(cut.problems.empty());
        auto lone = parse("<｜tool▁call▁begin｜>f<｜tool▁sep｜>{}<｜tool▁call▁end｜>", ToolCallFormat::deepseek);
        CHECK_CALLS(lone.calls, call("call_0", "f", "{}"));
        // Text after the section is content.
        auto after = parse("A<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>f<｜tool▁sep｜>{}<｜tool▁call▁end｜><｜tool▁calls▁end｜>B",
                           ToolCallFormat::deepseek);
        QCOMPARE(qs(after.content), qs("AB"));
        // No markers: content verbatim, no problem.
        auto plain = parse("  plain ```json\n{}\n``` answer ", ToolCallFormat::deepseek);
        QCOMPARE(qs(plain.content), qs("  plain ```json\n{}\n``` answer "));
        QVERIFY(plain.calls.empty() && plain.problems.empty());
    }

    void deepseekProblemsStayInContent() {
        const std::string bad = "<｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{\"a\": tru}\n```<｜tool▁call▁end｜>";
        const std::string good = "<｜tool▁call▁begin｜>function<｜tool▁sep｜>g\n```json\n{}\n```<｜tool▁call▁end｜>";
        auto r = parse("Hi<｜tool▁calls▁begin｜>" + bad + "\n" + good + "<｜tool▁calls▁end｜>", ToolCallFormat::deepseek);
        CHECK_CALLS(r.calls, call("call_0", "g", "{}"));
        QCOMPARE(r.problems.size(), size_t(1));
        QCOMPARE(int(r.problems[0].kind), int(ToolCallProblem::Kind::malformed_json));
        QCOMPARE(qs(r.content), qs("Hi" + bad));
        auto unterminated = parse("<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>f<｜tool▁sep｜>{\"a\": [1, ", ToolCallFormat::deepseek);
        QVERIFY(unterminated.calls.empty());
        QCOMPARE(int(unterminated.problems.at(0).kind), int(ToolCallProblem::Kind::unterminated));
        auto nosep = parse("<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function", ToolCallFormat::deepseek);
        QCOMPARE(int(nosep.problems.at(0).kind), int(ToolCallProblem::Kind::unterminated));
        QCOMPARE(qs(nosep.content), qs("<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function"));
        auto empty = parse("x<｜tool▁calls▁begin｜>", ToolCallFormat::deepseek);
        QCOMPARE(qs(empty.content), qs("x<｜tool▁calls▁begin｜>"));
        QCOMPARE(int(empty.problems.at(0).kind), int(ToolCallProblem::Kind::unterminated));
        auto noname = parse("<｜tool▁call▁begin｜>function<｜tool▁sep｜>\n{}<｜tool▁call▁end｜>", ToolCallFormat::deepseek);
        QCOMPARE(int(noname.problems.at(0).kind), int(ToolCallProblem::Kind::bad_shape));
    }

    // ---- tool calls: harmony --------------------------------------------------------------

    void harmonyToolCalls() {
        const std::string raw =
            "<|channel|>analysis<|message|>Need to use function get_weather.<|end|>"
            "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json"
            "<|message|>{\"location\":\"San Francisco\"}<|call|>";
        auto r = parse_assistant_output(raw, {ReasoningFormat::harmony, ToolCallFormat::harmony});
        QVERIFY(r.ok());
        QCOMPARE(qs(r->reasoning), qs("Need to use function get_weather."));
        QCOMPARE(qs(r->content), qs(""));
        CHECK_CALLS(r->calls, call("call_0", "get_weather", "{\"location\":\"San Francisco\"}"));
        QVERIFY(check_pipeline(raw, {ReasoningFormat::harmony, ToolCallFormat::harmony}));

        // Built-in tools keep their namespace; python takes code.
        auto b = parse("<|channel|>analysis to=browser.search<|message|>{\"query\": \"gpt-oss\", \"topn\": 3}<|call|>",
                       ToolCallFormat::harmony);
        CHECK_CALLS(b.calls, call("call_0", "browser.search", "{\"query\":\"gpt-oss\",\"topn\":3}"));
        auto p = parse("<|channel|>analysis to=python<|message|>print(1+1)<|call|>", ToolCallFormat::harmony);
        CHECK_CALLS(p.calls, call("call_0", "python", "{\"code\":\"print(1+1)\"}"));
    }

    void harmonyPreambleThenCallAndFinalContent() {
        auto r = parse("<|channel|>commentary<|message|>Checking two cities.<|end|>"
                       "<|start|>assistant<|channel|>commentary to=functions.w <|constrain|>json<|message|>{\"c\":1}<|end|>"
                       "<|start|>assistant<|channel|>commentary to=functions.w <|constrain|>json<|message|>{\"c\":2}<|call|>",
                       ToolCallFormat::harmony);
        QCOMPARE(qs(r.content), qs("Checking two cities."));
        CHECK_CALLS(r.calls, call("call_0", "w", "{\"c\":1}"), call("call_1", "w", "{\"c\":2}"));
    }

    void harmonyMalformedCall() {
        auto r = parse("<|channel|>commentary to=functions.f <|constrain|>json<|message|>{\"a\": 1,,}<|call|>",
                       ToolCallFormat::harmony);
        QVERIFY(r.calls.empty());
        QCOMPARE(int(r.problems.at(0).kind), int(ToolCallProblem::Kind::malformed_json));
        QCOMPARE(qs(r.problems[0].text), qs("{\"a\": 1,,}"));
        QCOMPARE(qs(r.content), qs("{\"a\": 1,,}"));
        auto cut = parse("<|channel|>commentary to=functions.f <|constrain|>json<|message|>{\"a\": ", ToolCallFormat::harmony);
        QCOMPARE(int(cut.problems.at(0).kind), int(ToolCallProblem::Kind::unterminated));
    }

    // ---- whole-output, detection, history -----------------------------------------------

    void noneToolFormatAndBadFormatValue() {
        auto r = parse("<tool_call>{}</tool_call>", ToolCallFormat::none);
        QCOMPARE(qs(r.content), qs("<tool_call>{}</tool_call>"));
        auto bad = parse_tool_calls("x", static_cast<ToolCallFormat>(99));
        QVERIFY(!bad.ok());
        QCOMPARE(int(bad.status().code()), int(ErrorCode::invalid_argument));
    }

    void detectFormatsFromTemplates() {
        // Fragments of the real templates' text.
        const std::string qwen3 =
            "{%- if tools %}...For each function call, return a json object with function name and arguments within "
            "<tool_call></tool_call> XML tags:\\n<tool_call>\\n{\"name\": <function-name>, \"arguments\": "
            "<args-json-object>}\\n</tool_call>...{%- if '</think>' in content %}...'<think>\\n' + reasoning_content";
        QVERIFY((detect_output_formats(qwen3) == OutputFormats{ReasoningFormat::think_tags, ToolCallFormat::hermes}));
        const std::string qwen25 = "<|im_start|>system ... <tool_call>\\n{\"name\": <function-name>...";
        QVERIFY((detect_output_formats(qwen25) == OutputFormats{ReasoningFormat::none, ToolCallFormat::hermes}));
        const std::string llama31 =
            "{%- if builtin_tools is defined or tools is not none %}{{- \"Environment: ipython\\n\" }}"
            "{{- '<|python_tag|>' + tool_call.name + '.call(' }}";
        QVERIFY((detect_output_formats(llama31) == OutputFormats{ReasoningFormat::none, ToolCallFormat::llama3_json}));
        const std::string llama32 = "{{- '<|start_header_id|>ipython<|end_header_id|>\\n\\n' }}";
        QVERIFY((detect_output_formats(llama32).tool_calls == ToolCallFormat::llama3_json));
        const std::string mistral = "{{- '[AVAILABLE_TOOLS]' }}...{{- '[TOOL_CALLS]' }}";
        QVERIFY((detect_output_formats(mistral) == OutputFormats{ReasoningFormat::none, ToolCallFormat::mistral}));
        const std::string magistral = "[SYSTEM_PROMPT]...[THINK]...[/THINK]...[TOOL_CALLS]";
        QVERIFY((detect_output_formats(magistral) == OutputFormats{ReasoningFormat::mistral_think, ToolCallFormat::mistral}));
        const std::string gptoss = "{{- \"<|start|>assistant<|channel|>analysis<|message|>\" }}...<think>";
        QVERIFY((detect_output_formats(gptoss) == OutputFormats{ReasoningFormat::harmony, ToolCallFormat::harmony}));
        const std::string r1 = "{% set content = content.split('</think>')[-1] %}{{'<｜Assistant｜><think>\\n'}}";
        QVERIFY((detect_output_formats(r1) == OutputFormats{ReasoningFormat::think_tags, ToolCallFormat::none}));
        const std::string deepseek = "{{'<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>'}}";
        QVERIFY((detect_output_formats(deepseek) == OutputFormats{ReasoningFormat::none, ToolCallFormat::deepseek}));
        QVERIFY((detect_output_formats(r1 + deepseek) == OutputFormats{ReasoningFormat::think_tags, ToolCallFormat::deepseek}));
        QCOMPARE(qs(tool_call_format_name(ToolCallFormat::deepseek)), qs("deepseek"));
        QVERIFY((detect_output_formats("") == OutputFormats{}));
        QCOMPARE(qs(reasoning_format_name(ReasoningFormat::harmony)), qs("harmony"));
        QCOMPARE(qs(tool_call_format_name(ToolCallFormat::llama3_json)), qs("llama3_json"));
    }

    void promptOpensReasoning() {
        QVERIFY(prompt_opens_reasoning("<｜User｜>2+2?<｜Assistant｜><think>\n", ReasoningFormat::think_tags));
        QVERIFY(prompt_opens_reasoning("<|im_start|>assistant\n<think>\n", ReasoningFormat::think_tags));
        QVERIFY(!prompt_opens_reasoning("<|im_start|>assistant\n<think>\n\n</think>\n\n", ReasoningFormat::think_tags));
        QVERIFY(!prompt_opens_reasoning("<|im_start|>assistant\n", ReasoningFormat::think_tags));
        QVERIFY(prompt_opens_reasoning("[INST]q[/INST][THINK]", ReasoningFormat::mistral_think));
        QVERIFY(!prompt_opens_reasoning("<think>\n", ReasoningFormat::none));
        QVERIFY(!prompt_opens_reasoning("<|start|>assistant", ReasoningFormat::harmony));
        QVERIFY(prompt_opens_reasoning("<|end|><|start|>assistant<|channel|>analysis<|message|>", ReasoningFormat::harmony));
        QVERIFY(!prompt_opens_reasoning("<|start|>assistant<|channel|>final<|message|>", ReasoningFormat::harmony));
        QVERIFY(!prompt_opens_reasoning("<|start|>assistant to=python<|channel|>analysis<|message|>", ReasoningFormat::harmony));
    }

    void historySplit() {
        auto h = split_reasoning_for_history("<think>\nStep 1.\nStep 2.\n</think>\n\nThe answer is 4.", ReasoningFormat::think_tags);
        QCOMPARE(qs(h.reasoning), qs("Step 1.\nStep 2."));
        QCOMPARE(qs(h.content), qs("The answer is 4."));
        auto none = split_reasoning_for_history("Plain answer.\n", ReasoningFormat::think_tags);
        QCOMPARE(qs(none.content), qs("Plain answer.\n"));
        QCOMPARE(qs(none.reasoning), qs(""));
        auto r1 = split_reasoning_for_history("Thinking without a tag.\n</think>\n\nDone.", ReasoningFormat::think_tags);
        QCOMPARE(qs(r1.reasoning), qs("Thinking without a tag."));
        QCOMPARE(qs(r1.content), qs("Done."));
        auto cut = split_reasoning_for_history("<think>\nnever finished", ReasoningFormat::think_tags);
        QCOMPARE(qs(cut.reasoning), qs("never finished"));
        QCOMPARE(qs(cut.content), qs(""));
        auto hm = split_reasoning_for_history(
            "<|channel|>analysis<|message|>Simple.<|end|><|start|>assistant<|channel|>final<|message|>4.<|return|>",
            ReasoningFormat::harmony);
        QCOMPARE(qs(hm.reasoning), qs("Simple."));
        QCOMPARE(qs(hm.content), qs("4."));
        auto mt = split_reasoning_for_history("[THINK]a[/THINK]b", ReasoningFormat::mistral_think);
        QCOMPARE(qs(mt.reasoning), qs("a"));
        QCOMPARE(qs(mt.content), qs("b"));
    }

    // ---- robustness -----------------------------------------------------------------------

    void randomTextIsChunkingInvariantAndNeverCrashes() {
        // Random mixes of marker fragments and text: every format must give the same result
        // however the text is cut, and the parsers must never fail or lose content silently.
        static const char* const pieces[] = {
            "<think>", "</think>", "<", "/", "think", ">", "a", " ", "\n", "é", "東", "<|channel|>",
            "<|message|>", "<|end|>", "<|start|>", "<|return|>", "<|call|>", "<|constrain|>json", "analysis",
            "final", "commentary", " to=functions.f", "{", "}", "\"", "[TOOL_CALLS]", "[ARGS]", "[CALL_ID]",
            "<tool_call>", "</tool_call>", "`", "```\n", "{\"name\": \"f\", \"arguments\": {}}", "[THINK]",
            "[/THINK]", "<|python_tag|>", ";", "[", "]", "\\", "<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>",
            "<｜tool▁call▁begin｜>", "<｜tool▁call▁end｜>", "<｜tool▁sep｜>", "function\n```json\n"};
        std::mt19937 rng(20240607);
        std::uniform_int_distribution<size_t> pick(0, std::size(pieces) - 1);
        std::uniform_int_distribution<int> len(0, 30);
        const ReasoningFormat formats[] = {ReasoningFormat::none, ReasoningFormat::think_tags,
                                           ReasoningFormat::mistral_think, ReasoningFormat::harmony};
        for (int iter = 0; iter < 150; ++iter) {
            std::string text;
            for (int i = len(rng); i > 0; --i) text += pieces[pick(rng)];
            for (ReasoningFormat f : formats) {
                for (bool starts : {false, true}) {
                    const ReasoningSplitterOptions o{f, starts};
                    const Split whole = run(o, {text});
                    QVERIFY2(check_streamed(o, text, whole), text.c_str());
                }
            }
            for (ToolCallFormat f : {ToolCallFormat::none, ToolCallFormat::hermes, ToolCallFormat::llama3_json,
                                     ToolCallFormat::mistral, ToolCallFormat::harmony, ToolCallFormat::deepseek}) {
                auto r = parse_tool_calls(text, f);
                QVERIFY(r.ok());
                for (const ToolCall& c : r->calls) {
                    QVERIFY(!c.name.empty());
                    QVERIFY(nlohmann::json::parse(c.arguments, nullptr, false).is_object());
                }
                if (f != ToolCallFormat::harmony && f != ToolCallFormat::llama3_json && r->calls.empty())
                    QCOMPARE(qs(r->content), qs(text));  // nothing removed, nothing lost
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestChatOutput)
#include "tst_chat_output.moc"
