// Hermes-style tool calls (Hermes 2 Pro, Qwen 2.5, Qwen 3): any number of
// `<tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>` blocks, content around them.
// The JSON decides where a call ends, so a "</tool_call>" inside an argument string is harmless;
// the closing tag may be missing when generation stopped right after the JSON.
#include "chat/output_text.h"
#include "chat/output_tool_internal.h"

namespace strata::chat_output {

namespace {

constexpr std::string_view kOpen = "<tool_call>";
constexpr std::string_view kClose = "</tool_call>";

}  // namespace

ParsedToolCalls parse_hermes_calls(std::string_view text) {
    ParsedToolCalls out;
    CallCollector calls(out);
    const CodeRegions code(text);
    std::string content;
    size_t pos = 0;  // text before `pos` is handled
    bool removed = false;
    for (;;) {
        const size_t open = find_outside_code(text, kOpen, code, pos);
        if (open == std::string_view::npos) break;
        content.append(text.substr(pos, open - pos));
        const size_t body = skip_space(text, open + kOpen.size());
        const size_t json_end = json_value_end(text, body);
        std::string why;
        if (json_end != std::string_view::npos) {
            size_t end = skip_space(text, json_end);
            if (text.substr(end, kClose.size()) == kClose) end += kClose.size();
            else end = json_end;
            const std::string_view json = text.substr(body, json_end - body);
            if (auto value = parse_json(json, &why)) {
                // One call, or (seen from some fine-tunes) an array of calls in one block.
                std::vector<CallFields> found;
                bool ok = true;
                if (value->is_array()) {
                    for (const Json& v : *value) {
                        auto f = call_from_json(v, {"arguments", "parameters"}, &why);
                        if (!f) { ok = false; break; }
                        found.push_back(std::move(*f));
                    }
                    if (found.empty()) { ok = false; why = "an empty list of calls"; }
                } else if (auto f = call_from_json(*value, {"arguments", "parameters"}, &why)) {
                    found.push_back(std::move(*f));
                } else {
                    ok = false;
                }
                if (ok) {
                    for (CallFields& f : found) calls.add(std::move(f));
                    removed = true;
                    pos = end;
                    continue;
                }
                calls.problem(ToolCallProblem::Kind::bad_shape, open, text.substr(open, end - open), why);
                content.append(text.substr(open, end - open));
                pos = end;
                continue;
            }
        }
        // The JSON is broken or incomplete: the closing tag, if any, delimits the failed call.
        const size_t close = text.find(kClose, open + kOpen.size());
        if (close == std::string_view::npos) {
            const bool complete = json_end != std::string_view::npos;
            calls.problem(complete ? ToolCallProblem::Kind::malformed_json : ToolCallProblem::Kind::unterminated,
                          open, text.substr(open), complete ? why : "no </tool_call> and no complete JSON");
            content.append(text.substr(open));
            pos = text.size();
            break;
        }
        const size_t end = close + kClose.size();
        if (why.empty()) {
            const bool json_start = body < text.size() && (text[body] == '{' || text[body] == '[');
            why = json_start ? "the JSON does not end before </tool_call>" : "no JSON object after <tool_call>";
        }
        calls.problem(ToolCallProblem::Kind::malformed_json, open, text.substr(open, end - open), why);
        content.append(text.substr(open, end - open));
        pos = end;
    }
    content.append(text.substr(pos));
    out.content = removed ? std::string(trim(content)) : std::move(content);
    return out;
}

}  // namespace strata::chat_output
