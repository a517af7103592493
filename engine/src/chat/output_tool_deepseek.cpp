// DeepSeek tool calls (DeepSeek V3, R1 and the R1 distills, V3.1), as their chat templates write
// them into the history:
//   V3 / R1:  content<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME
//             ```json
//             {...}
//             ```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>...<｜tool▁call▁end｜><｜tool▁calls▁end｜>
//   V3.1:     content<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{...}<｜tool▁call▁end｜>...
// The markers are special tokens, which a model cannot produce as plain text, so they are always
// structure (also inside Markdown code). Generation stops at the end-of-sentence token that
// follows, and it may stop before the closing markers: a call whose JSON is complete counts.
#include "chat/output_text.h"
#include "chat/output_tool_internal.h"

namespace strata::chat_output {

namespace {

constexpr std::string_view kCallsBegin = "<｜tool▁calls▁begin｜>";
constexpr std::string_view kCallsEnd = "<｜tool▁calls▁end｜>";
constexpr std::string_view kCallBegin = "<｜tool▁call▁begin｜>";
constexpr std::string_view kCallEnd = "<｜tool▁call▁end｜>";
constexpr std::string_view kSep = "<｜tool▁sep｜>";
constexpr std::string_view kFence = "```";

struct OneCall {
    bool ok = false;
    ToolCallProblem::Kind kind = ToolCallProblem::Kind::bad_shape;
    std::string why;
    CallFields fields;
};

// One call's text, between <｜tool▁call▁begin｜> and <｜tool▁call▁end｜> (or the end of the section).
OneCall parse_call(std::string_view call) {
    OneCall c;
    const size_t sep = call.find(kSep);
    if (sep == std::string_view::npos) {
        c.kind = ToolCallProblem::Kind::unterminated;
        c.why = "no <｜tool▁sep｜> after <｜tool▁call▁begin｜>";
        return c;
    }
    const std::string_view head = trim(call.substr(0, sep));
    std::string_view rest = call.substr(sep + kSep.size());
    std::string_view name = head;
    if (head == "function") {  // V3 / R1: the type, then the name on the rest of the line
        const size_t eol = rest.find('\n');
        name = trim(rest.substr(0, eol));
        rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    }
    if (name.empty() || name.find_first_of(" \t\r\n{}[]") != std::string_view::npos) {
        c.why = "no tool name before the arguments";
        return c;
    }
    c.fields.name = std::string(name);
    size_t at = skip_space(rest, 0);
    if (rest.substr(at, kFence.size()) == kFence) {  // ```json fence: skip its line
        const size_t eol = rest.find('\n', at);
        at = eol == std::string_view::npos ? rest.size() : eol + 1;
        at = skip_space(rest, at);
    }
    const size_t end = json_value_end(rest, at);
    if (end == std::string_view::npos) {
        const bool opened = at < rest.size() && (rest[at] == '{' || rest[at] == '[');
        c.kind = opened ? ToolCallProblem::Kind::unterminated : ToolCallProblem::Kind::malformed_json;
        c.why = opened ? "the arguments JSON does not end" : "no JSON arguments after the tool name";
        return c;
    }
    auto value = parse_json(rest.substr(at, end - at), &c.why);
    if (!value) {
        c.kind = ToolCallProblem::Kind::malformed_json;
        return c;
    }
    auto args = arguments_text(&*value, &c.why);
    if (!args) return c;
    c.fields.arguments = std::move(*args);
    c.ok = true;
    return c;
}

}  // namespace

ParsedToolCalls parse_deepseek_calls(std::string_view text) {
    ParsedToolCalls out;
    CallCollector calls(out);
    std::string content;
    size_t pos = 0;
    bool removed = false;
    for (;;) {
        // A section starts at <｜tool▁calls▁begin｜>; a lone <｜tool▁call▁begin｜> (the outer token
        // left out) starts one too.
        const std::string_view starts[] = {kCallsBegin, kCallBegin};
        const auto [begin, which] = find_first_of_markers(text, starts, pos);
        if (begin == std::string_view::npos) break;
        content.append(text.substr(pos, begin - pos));
        const size_t body = which == 0 ? begin + kCallsBegin.size() : begin;
        const size_t section_end = text.find(kCallsEnd, body);
        const size_t limit = section_end == std::string_view::npos ? text.size() : section_end;
        const size_t after = section_end == std::string_view::npos ? text.size() : section_end + kCallsEnd.size();

        size_t cursor = body;
        bool any = false;
        size_t added = 0;
        std::string failed;  // the text of calls that did not parse
        for (;;) {
            const size_t call_begin = text.substr(0, limit).find(kCallBegin, cursor);
            if (call_begin == std::string_view::npos) break;
            const size_t call_body = call_begin + kCallBegin.size();
            const size_t call_end = text.substr(0, limit).find(kCallEnd, call_body);
            const size_t stop = call_end == std::string_view::npos ? limit : call_end;
            const size_t next = call_end == std::string_view::npos ? limit : call_end + kCallEnd.size();
            OneCall c = parse_call(text.substr(call_body, stop - call_body));
            any = true;
            if (c.ok) {
                calls.add(std::move(c.fields));
                ++added;
            } else {
                const std::string_view raw = text.substr(call_begin, next - call_begin);
                calls.problem(c.kind, call_begin, raw, c.why);
                failed.append(raw);
            }
            cursor = next;
        }
        if (!any) {
            calls.problem(ToolCallProblem::Kind::unterminated, begin, text.substr(begin, after - begin),
                          "no <｜tool▁call▁begin｜> in the tool-call section");
        }
        if (added == 0) {
            content.append(text.substr(begin, after - begin));  // nothing became a call: all stays
        } else {
            content.append(failed);  // the markers did act as structure; failed calls stay
            removed = true;
        }
        pos = after;
    }
    content.append(text.substr(pos));
    out.content = removed ? std::string(trim(content)) : std::move(content);
    return out;
}

}  // namespace strata::chat_output
