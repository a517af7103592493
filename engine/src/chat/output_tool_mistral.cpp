// Mistral tool calls, both generations of mistral-common's tokenizer:
//   v3 to v7:  content[TOOL_CALLS][{"name": ..., "arguments": {...}, "id": "abcDEF123"}, ...]
//   v11 on:    content[TOOL_CALLS]NAME[ARGS]{...}[TOOL_CALLS]NAME2[ARGS]{...}
//              content[TOOL_CALLS]NAME[CALL_ID]ID[ARGS]{...}
// Decoders that drop control tokens leave `NAME{...}`, which is accepted too.
#include <algorithm>

#include "chat/output_text.h"
#include "chat/output_tool_internal.h"

namespace strata::chat_output {

namespace {

constexpr std::string_view kToolCalls = "[TOOL_CALLS]";
constexpr std::string_view kArgs = "[ARGS]";
constexpr std::string_view kCallId = "[CALL_ID]";

struct Segment {
    bool ok = false;
    size_t end = 0;  // where parsing stopped (one past the call)
    ToolCallProblem::Kind kind = ToolCallProblem::Kind::malformed_json;
    std::string why;
    std::vector<CallFields> calls;
};

// One segment after [TOOL_CALLS], starting at `at`.
Segment parse_segment(std::string_view text, size_t at) {
    Segment s;
    const size_t start = skip_space(text, at);
    if (start < text.size() && text[start] == '[') {  // v3-v7: a JSON list of calls
        s.end = json_value_end(text, start);
        if (s.end == std::string_view::npos) {
            s.kind = ToolCallProblem::Kind::unterminated;
            s.why = "the JSON list of calls does not end";
            return s;
        }
        auto value = parse_json(text.substr(start, s.end - start), &s.why);
        if (!value) return s;
        s.kind = ToolCallProblem::Kind::bad_shape;
        if (value->empty()) {
            s.why = "an empty list of calls";
            return s;
        }
        for (const Json& v : *value) {
            auto f = call_from_json(v, {"arguments", "parameters"}, &s.why);
            if (!f) return s;
            s.calls.push_back(std::move(*f));
        }
        s.ok = true;
        return s;
    }
    // v11+: NAME, maybe [CALL_ID]ID, then [ARGS] (or directly) the JSON arguments.
    const size_t brace = text.find('{', start);
    const size_t args_marker = text.find(kArgs, start);
    const size_t id_marker = text.find(kCallId, start);
    const size_t name_end = std::min({brace, args_marker, id_marker});
    s.kind = ToolCallProblem::Kind::bad_shape;
    if (name_end == std::string_view::npos) {
        s.kind = ToolCallProblem::Kind::unterminated;
        s.why = "no [ARGS] or JSON arguments after the tool name";
        return s;
    }
    CallFields f;
    f.name = std::string(trim(text.substr(start, name_end - start)));
    if (f.name.empty() || f.name.find_first_of(" \t\r\n[]{}") != std::string::npos) {
        s.why = "no tool name after [TOOL_CALLS]";
        return s;
    }
    size_t args = name_end;
    if (name_end == id_marker) {
        const size_t id_begin = id_marker + kCallId.size();
        const size_t id_end = text.find(kArgs, id_begin);
        if (id_end == std::string_view::npos) {
            s.kind = ToolCallProblem::Kind::unterminated;
            s.why = "no [ARGS] after [CALL_ID]";
            return s;
        }
        f.id = std::string(trim(text.substr(id_begin, id_end - id_begin)));
        args = id_end;
    }
    if (text.substr(args, kArgs.size()) == kArgs) args = skip_space(text, args + kArgs.size());
    s.end = json_value_end(text, args);
    if (s.end == std::string_view::npos) {
        s.kind = args < text.size() && (text[args] == '{' || text[args] == '[')
                     ? ToolCallProblem::Kind::unterminated
                     : ToolCallProblem::Kind::malformed_json;
        s.why = "the arguments JSON does not end";
        return s;
    }
    s.kind = ToolCallProblem::Kind::malformed_json;
    auto value = parse_json(text.substr(args, s.end - args), &s.why);
    if (!value) return s;
    s.kind = ToolCallProblem::Kind::bad_shape;
    auto args_text = arguments_text(&*value, &s.why);
    if (!args_text) return s;
    f.arguments = std::move(*args_text);
    s.calls.push_back(std::move(f));
    s.ok = true;
    return s;
}

}  // namespace

ParsedToolCalls parse_mistral_calls(std::string_view text) {
    ParsedToolCalls out;
    CallCollector calls(out);
    const CodeRegions code(text);
    std::string content;
    size_t pos = 0;
    bool removed = false;
    for (;;) {
        const size_t marker = find_outside_code(text, kToolCalls, code, pos);
        if (marker == std::string_view::npos) break;
        content.append(text.substr(pos, marker - pos));
        Segment s = parse_segment(text, marker + kToolCalls.size());
        if (s.ok) {
            for (CallFields& f : s.calls) calls.add(std::move(f));
            removed = true;
            pos = s.end;
            continue;
        }
        // The failed call's text, up to the next [TOOL_CALLS], stays in the content.
        size_t next = text.find(kToolCalls, marker + kToolCalls.size());
        if (next == std::string_view::npos) next = text.size();
        calls.problem(s.kind, marker, text.substr(marker, next - marker), s.why);
        content.append(text.substr(marker, next - marker));
        pos = next;
    }
    content.append(text.substr(pos));
    out.content = removed ? std::string(trim(content)) : std::move(content);
    return out;
}

}  // namespace strata::chat_output
