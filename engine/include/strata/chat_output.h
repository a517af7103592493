// Chat output: turns what a model generates into reasoning kept apart from the answer, and into
// structured tool calls, for the formats the chat templates of common models train them on.
//
//   ReasoningSplitter   streaming: generated text in (token pieces of any length, markers split
//                       anywhere), {reasoning, content, tool call} pieces out, as soon as decided.
//   parse_tool_calls    a complete assistant text in, {content, calls, problems} out.
//   parse_assistant_output   both at once, for a complete raw output.
//   detect_output_formats    picks the formats from a model's chat template text.
//   split_reasoning_for_history  separates reasoning from a stored assistant message, as the
//                       templates expect (they take `reasoning_content` separately).
//
// Formats (marker strings are those the models' own chat templates and reference code use):
//   think tags  `<think>` reasoning `</think>` answer (Qwen 3, QwQ, DeepSeek R1 and distills).
//               The R1 distills', QwQ's and Qwen3-Thinking's templates end the generation prompt
//               with `<think>\n`, so their output starts inside reasoning with no opening tag:
//               set ReasoningSplitterOptions::starts_in_reasoning (prompt_opens_reasoning tells).
//   mistral think  `[THINK]` reasoning `[/THINK]` answer (Magistral).
//   harmony     gpt-oss: messages `<|start|>{header}<|message|>{body}<|end|>`, the header naming
//               the role, `<|channel|>analysis|commentary|final`, maybe a recipient `to=NAME`
//               and a content type (`<|constrain|>json`); the last message ends with `<|return|>`
//               (answer done) or `<|call|>` (tool call). The prompt ends with
//               `<|start|>assistant`, so the output starts at the header's `<|channel|>`.
//               analysis = reasoning; final, and commentary without a recipient (a "preamble"
//               meant for the user), = content; a message with a recipient = a tool call.
//   hermes      `<tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>`, any number, with
//               content around them (Hermes 2 Pro, Qwen 2.5, Qwen 3).
//   llama3 json the whole message is `{"name": ..., "parameters": {...}}` (also with
//               `"type": "function"`), or what follows `<|python_tag|>` (text before that
//               special token is content); several objects may be
//               separated by `;` or whitespace. Also `<function=NAME>{...}</function>`, the
//               built-in form `<|python_tag|>brave_search.call(query="...")`, and other
//               `<|python_tag|>` text as a `code_interpreter` call with {"code": text}.
//   mistral     `[TOOL_CALLS][{"name": ..., "arguments": {...}, "id": ...}, ...]` (tokenizer v3
//               to v7) and `[TOOL_CALLS]NAME[ARGS]{...}` or `[TOOL_CALLS]NAME[CALL_ID]ID[ARGS]{...}`
//               (v11 and later), one `[TOOL_CALLS]` per call; content may precede the first.
//   deepseek    DeepSeek V3, R1 and the R1 distills: content, then `<｜tool▁calls▁begin｜>`, then per
//               call `<｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\n{...}\n```<｜tool▁call▁end｜>`
//               (V3.1: `<｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{...}<｜tool▁call▁end｜>`), then
//               `<｜tool▁calls▁end｜>`. Special tokens: always structure; the closing markers may be
//               missing when generation stopped after the JSON.
//
// Rules where text merely mentions a marker:
//   - A think-tag reasoning block is recognised only at the very start of the output (leading
//     whitespace allowed), and ends at the first closing tag. After it (or when the output does
//     not start with one), the rest is content verbatim: a reply that shows `<think>` in a code
//     block keeps it. Models emit one leading block per turn.
//   - Tool-call markers (hermes `<tool_call>`, mistral `[TOOL_CALLS]`, llama3 `<|python_tag|>`)
//     inside a Markdown fenced code block (``` or ~~~) or inside an inline code span on the same
//     line are text, not calls. A fence left open runs to the end of the text.
//   - Llama 3 JSON calls without <|python_tag|> are recognised only as the whole message, as
//     Meta's reference code does; a JSON answer without a "name" key is content, no problem.
//   - Harmony and DeepSeek markers are special tokens that the model cannot produce as plain
//     text, so they are always structure.
// Marker text never reaches content or reasoning when it acts as a marker. Nothing is dropped
// silently: a tool call that does not parse stays in the content and is reported as a problem.
//
// Harmony and the special-token markers (`[TOOL_CALLS]`, `<|python_tag|>`, ...) need the
// generated special tokens rendered as their text.
//
// Ownership and threads: everything here is plain values and pure functions, safe to call from
// any number of threads. A ReasoningSplitter is one stream's state: use each from one thread at a
// time; separate splitters are independent. Nothing here throws.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "strata/chat.h"
#include "strata/status.h"

namespace strata {

enum class ReasoningFormat {
    none,           // no reasoning: everything is content
    think_tags,     // <think> ... </think>
    mistral_think,  // [THINK] ... [/THINK]
    harmony,        // gpt-oss analysis channel
};

enum class ToolCallFormat {
    none,         // no tool calls: everything is content
    hermes,       // <tool_call>{json}</tool_call>
    llama3_json,  // the whole message is {"name":..., "parameters":...}
    mistral,      // [TOOL_CALLS]...
    harmony,      // <|channel|>commentary to=functions.NAME ... <|message|>{json}<|call|>
    deepseek,     // <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME ```json ...
};

const char* reasoning_format_name(ReasoningFormat format);
const char* tool_call_format_name(ToolCallFormat format);

struct OutputFormats {
    ReasoningFormat reasoning = ReasoningFormat::none;
    ToolCallFormat tool_calls = ToolCallFormat::none;
    bool operator==(const OutputFormats&) const = default;
};

// Picks the formats from a model's chat template source by the markers it writes: "<|channel|>"
// means harmony for both; "<tool_call>" hermes; "[TOOL_CALLS]" mistral; "<｜tool▁call▁begin｜>"
// deepseek; "<|python_tag|>" or "ipython" llama3 json; "<think>"/"</think>" think tags;
// "[THINK]" mistral think.
// An empty or unknown template gives none/none.
OutputFormats detect_output_formats(std::string_view chat_template);

// True when a rendered prompt leaves a reasoning block open for the model to continue: it ends
// with an opening marker (then only whitespace), e.g. the DeepSeek R1 distills' "<think>\n".
// Qwen 3 with enable_thinking=false ends with "<think>\n\n</think>\n\n": closed, false.
// Harmony: the prompt ends with an analysis header's <|message|>. Always false for none.
bool prompt_opens_reasoning(std::string_view rendered_prompt, ReasoningFormat format);

enum class OutputChannel {
    content,    // the answer, for the user
    reasoning,  // chain of thought
    tool_call,  // harmony only: the body of a message addressed to a tool (see `recipient`).
                // Not for display as text; parse the complete output for structured calls.
};

struct OutputDelta {
    OutputChannel channel = OutputChannel::content;
    std::string text;
    std::string recipient;  // tool_call deltas: the harmony recipient, e.g. "functions.get_weather"
    bool operator==(const OutputDelta&) const = default;
};

struct ReasoningSplitterOptions {
    ReasoningFormat format = ReasoningFormat::none;
    // The prompt already opened the reasoning block (think formats: "<think>\n" at its end;
    // harmony: the prompt ended inside an analysis message). An opening marker at the very start
    // of the output is then accepted and skipped.
    bool starts_in_reasoning = false;
};

// Splits a stream of generated text into reasoning and content as it arrives.
//
// push() returns the pieces that became certain with this text; bytes that might be the start of
// a marker are held back until the next push() or flush() decides. Consecutive pieces of one
// channel (and recipient) are merged within one call, except that each harmony tool-call message
// starts a new piece. The concatenation of each channel's text does not depend on how the text
// was cut into chunks.
//
// Tag formats: whitespace that only frames a block is not emitted (at the start and end of
// reasoning, and at the start of content that follows reasoning). Harmony: headers and text
// between messages are structure, never emitted; separate messages on one channel (two analysis
// messages, a preamble and the final answer) are joined by a blank line ("\n\n").
//
// flush() ends the stream: held bytes are released (an unterminated reasoning block means
// everything after its opening was reasoning). After flush() the splitter is back at its
// starting state, ready for a new stream.
class ReasoningSplitter {
public:
    explicit ReasoningSplitter(ReasoningSplitterOptions options = {});
    ~ReasoningSplitter();
    ReasoningSplitter(ReasoningSplitter&&) noexcept;
    ReasoningSplitter& operator=(ReasoningSplitter&&) noexcept;
    ReasoningSplitter(const ReasoningSplitter&) = delete;
    ReasoningSplitter& operator=(const ReasoningSplitter&) = delete;

    std::vector<OutputDelta> push(std::string_view text);
    std::vector<OutputDelta> flush();

    const ReasoningSplitterOptions& options() const { return options_; }
    // True while the stream is inside reasoning (for a "thinking..." indicator).
    bool in_reasoning() const;

    struct Impl;

private:
    ReasoningSplitterOptions options_;
    std::unique_ptr<Impl> impl_;
};

// ToolCall (one structured call) is in strata/chat.h.

// Why some text that looked like a tool call did not become one. The text stays in the content.
struct ToolCallProblem {
    enum class Kind {
        malformed_json,  // the call's JSON does not parse
        bad_shape,       // JSON, but not a call: no "name" string, arguments not an object, ...
        unterminated,    // an opening marker with no end and no complete call after it
    };
    Kind kind = Kind::malformed_json;
    size_t offset = 0;     // byte offset of the call's text in the parsed input
    std::string text;      // the call's text as it appeared
    std::string message;   // e.g. "tool call 1: malformed JSON: ... at byte 17"
};

struct ParsedToolCalls {
    std::string content;  // the text that is not a call, ends trimmed when calls were removed
    std::vector<ToolCall> calls;
    std::vector<ToolCallProblem> problems;
};

// Parses a complete assistant text (for think formats: the content after reasoning; for harmony:
// the raw output, whose user-visible messages become the content). ErrorCode::invalid_argument
// only for a format value out of range; malformed calls are problems, not errors.
Result<ParsedToolCalls> parse_tool_calls(std::string_view text, ToolCallFormat format);

struct ParsedAssistantOutput {
    std::string reasoning;
    std::string content;
    std::vector<ToolCall> calls;
    std::vector<ToolCallProblem> problems;
};

// Reasoning split, then tool calls parsed from the content: what a ReasoningSplitter fed the
// same text and parse_tool_calls on its content give. Harmony (either format harmony means both)
// takes its calls from the raw messages; the content then also holds the body of any call that
// failed to parse, which the splitter, seeing a tool message, did not show.
Result<ParsedAssistantOutput> parse_assistant_output(std::string_view raw, OutputFormats formats,
                                                     bool starts_in_reasoning = false);

// A stored assistant message split as the chat templates expect for history: the text after the
// reasoning block as content (leading newlines removed) and the block's text (newlines trimmed)
// as reasoning. Text without reasoning comes back as content unchanged. For harmony: final and
// preamble messages as content, analysis as reasoning.
struct HistoryMessageText {
    std::string content;
    std::string reasoning;
};
HistoryMessageText split_reasoning_for_history(std::string_view assistant_text, ReasoningFormat format);

}  // namespace strata
