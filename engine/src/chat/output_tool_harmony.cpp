// gpt-oss harmony tool calls: a message with a recipient in its header,
//   <|start|>assistant<|channel|>commentary to=functions.NAME <|constrain|>json<|message|>{...}<|call|>
// Function tools live in the "functions" namespace, which is removed from the name; built-in
// tools keep theirs ("browser.search"), and "python" takes code, not JSON: {"code": body}.
// Content is the user-visible messages (final, commentary preambles), as the splitter gives it.
#include "chat/output_harmony.h"
#include "chat/output_text.h"
#include "chat/output_tool_internal.h"

namespace strata::chat_output {

ParsedToolCalls parse_harmony_calls(std::string_view text, bool starts_in_analysis) {
    ParsedToolCalls out;
    CallCollector calls(out);
    HarmonyStream stream(starts_in_analysis);
    std::vector<HarmonyEvent> events;
    stream.push(text, events);
    stream.finish(events);

    bool fresh = true;
    auto visible = [&](std::string_view s) {
        if (s.empty()) return;
        if (fresh && !out.content.empty()) out.content += "\n\n";
        out.content.append(s);
        fresh = false;
    };
    HarmonyHeader header;
    std::string body;
    size_t body_offset = 0;
    for (const HarmonyEvent& e : events) {
        switch (e.kind) {
            case HarmonyEvent::Kind::begin:
                header = e.header;
                body.clear();
                body_offset = e.offset;
                fresh = true;
                break;
            case HarmonyEvent::Kind::text:
                if (!header.recipient.empty()) body += e.text;
                else if (header.channel != "analysis") visible(e.text);
                break;
            case HarmonyEvent::Kind::stray:
                fresh = true;
                visible(e.text);
                fresh = true;
                break;
            case HarmonyEvent::Kind::end: {
                if (header.recipient.empty()) break;
                CallFields f;
                const std::string& r = header.recipient;
                f.name = r.rfind("functions.", 0) == 0 ? r.substr(10) : r;
                std::string why;
                if (r == "python" && header.content_type != "json") {
                    f.arguments = dump_compact(Json{{"code", body}});
                    calls.add(std::move(f));
                } else if (auto value = parse_json(trim(body), &why)) {
                    if (auto args = arguments_text(&*value, &why)) {
                        f.arguments = std::move(*args);
                        calls.add(std::move(f));
                    } else {
                        calls.problem(ToolCallProblem::Kind::bad_shape, body_offset, body, why);
                        fresh = true;
                        visible(body);
                    }
                } else {
                    const bool cut = e.text.empty() && json_value_end(trim(body), 0) == std::string_view::npos;
                    calls.problem(cut ? ToolCallProblem::Kind::unterminated : ToolCallProblem::Kind::malformed_json,
                                  body_offset, body, why);
                    fresh = true;
                    visible(body);
                }
                header = {};
                fresh = true;
                break;
            }
        }
    }
    return out;
}

}  // namespace strata::chat_output
