// Llama 3.1 / 3.2 / 3.3 tool calls, as Meta's reference chat format decodes them: the whole
// message (or what follows <|python_tag|>; up to an optional <|eom_id|>/<|eot_id|>) is
//   {"name": ..., "parameters": {...}}  or  {"type": "function", "name": ..., "parameters": ...}
// (several such objects separated by ';' or whitespace are accepted), or
//   <function=NAME>{...}</function>, or, after <|python_tag|>, a built-in tool call
//   `brave_search.call(query="...")` or code for the code interpreter.
// A message that merely starts with '{' but has no "name" is an ordinary JSON answer.
#include <cctype>

#include "chat/output_text.h"
#include "chat/output_tool_internal.h"

namespace strata::chat_output {

namespace {

constexpr std::string_view kPythonTag = "<|python_tag|>";
constexpr std::string_view kFunctionOpen = "<function=";
constexpr std::string_view kFunctionClose = "</function>";

std::string_view strip_end_tokens(std::string_view s) {
    for (;;) {
        s = rtrim(s);
        bool stripped = false;
        for (std::string_view t : {std::string_view("<|eom_id|>"), std::string_view("<|eot_id|>")}) {
            if (s.size() >= t.size() && s.substr(s.size() - t.size()) == t) {
                s.remove_suffix(t.size());
                stripped = true;
            }
        }
        if (!stripped) return s;
    }
}

bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// `NAME.call(key="value", key2=3)` (the built-in tools' form), as a call with those arguments;
// nullopt when the text is not exactly that.
std::optional<CallFields> builtin_call(std::string_view s) {
    size_t i = 0;
    while (i < s.size() && is_ident_char(s[i])) ++i;
    if (i == 0 || s.substr(i, 6) != ".call(" || s.back() != ')') return std::nullopt;
    CallFields f;
    f.name = std::string(s.substr(0, i));
    Json args = Json::object();
    std::string_view rest = s.substr(i + 6, s.size() - i - 7);
    while (!(rest = trim(rest)).empty()) {
        size_t k = 0;
        while (k < rest.size() && is_ident_char(rest[k])) ++k;
        if (k == 0 || k >= rest.size() || rest[k] != '=') return std::nullopt;
        const std::string key(rest.substr(0, k));
        rest = ltrim(rest.substr(k + 1));
        size_t end = 0;
        if (!rest.empty() && rest[0] == '"') {  // a string, JSON escapes
            end = 1;
            while (end < rest.size() && rest[end] != '"') end += rest[end] == '\\' ? 2 : 1;
            if (end >= rest.size()) return std::nullopt;
            ++end;
        } else {
            while (end < rest.size() && rest[end] != ',') ++end;
        }
        auto value = parse_json(trim(rest.substr(0, end)), nullptr);
        if (!value) return std::nullopt;
        args[key] = std::move(*value);
        rest = ltrim(rest.substr(end));
        if (!rest.empty()) {
            if (rest[0] != ',') return std::nullopt;
            rest.remove_prefix(1);
        }
    }
    f.arguments = dump_compact(args);
    return f;
}

}  // namespace

ParsedToolCalls parse_llama3_calls(std::string_view text) {
    ParsedToolCalls out;
    CallCollector calls(out);
    out.content = std::string(text);

    // <|python_tag|> is a special token, so it is structure wherever it is (outside code); text
    // before it is content. Without it the whole message must be the call.
    const size_t tag = find_outside_code(text, kPythonTag, CodeRegions(text));
    const bool python = tag != std::string_view::npos;
    const std::string_view before = python ? trim(text.substr(0, tag)) : std::string_view();
    size_t base = python ? skip_space(text, tag + kPythonTag.size()) : skip_space(text, 0);
    std::string_view body = text.substr(base);  // `base`: offset of `body` in `text`
    body = strip_end_tokens(body);
    if (body.empty()) return out;

    std::vector<CallFields> found;
    auto fail = [&](ToolCallProblem::Kind kind, size_t at, const std::string& why) {
        calls.problem(kind, base + at, body.substr(at), why);
        out.calls.clear();
        return out;
    };

    if (body[0] == '{') {
        size_t i = 0;
        while (i < body.size()) {
            const size_t end = json_value_end(body, i);
            if (end == std::string_view::npos) {
                if (found.empty() && !python && body.find("\"name\"") == std::string_view::npos) return out;
                return fail(ToolCallProblem::Kind::unterminated, i, "the JSON object does not end");
            }
            std::string why;
            auto value = parse_json(body.substr(i, end - i), &why);
            if (!value) {
                if (found.empty() && !python && body.find("\"name\"") == std::string_view::npos) return out;
                return fail(ToolCallProblem::Kind::malformed_json, i, why);
            }
            auto f = call_from_json(*value, {"parameters", "arguments"}, &why);
            if (!f) {
                // Plain JSON as the answer (no "name"): content, not a failed call.
                if (found.empty() && !python && !(value->is_object() && value->contains("name"))) return out;
                return fail(ToolCallProblem::Kind::bad_shape, i, why);
            }
            found.push_back(std::move(*f));
            i = end;
            while (i < body.size() && (is_space(body[i]) || body[i] == ';')) ++i;
            if (i < body.size() && body[i] != '{') {
                return fail(ToolCallProblem::Kind::bad_shape, i, "text after the tool call JSON");
            }
        }
    } else if (body.substr(0, kFunctionOpen.size()) == kFunctionOpen) {
        size_t i = 0;
        while (i < body.size()) {
            if (body.substr(i, kFunctionOpen.size()) != kFunctionOpen)
                return fail(ToolCallProblem::Kind::bad_shape, i, "text after </function>");
            const size_t name_end = body.find('>', i);
            if (name_end == std::string_view::npos)
                return fail(ToolCallProblem::Kind::unterminated, i, "no '>' after <function=");
            CallFields f;
            f.name = std::string(trim(body.substr(i + kFunctionOpen.size(), name_end - i - kFunctionOpen.size())));
            const size_t args = skip_space(body, name_end + 1);
            const size_t end = json_value_end(body, args);
            if (f.name.empty() || end == std::string_view::npos)
                return fail(ToolCallProblem::Kind::malformed_json, i, "no JSON object after <function=NAME>");
            std::string why;
            auto value = parse_json(body.substr(args, end - args), &why);
            if (!value) return fail(ToolCallProblem::Kind::malformed_json, i, why);
            auto text_args = arguments_text(&*value, &why);
            if (!text_args) return fail(ToolCallProblem::Kind::bad_shape, i, why);
            f.arguments = std::move(*text_args);
            found.push_back(std::move(f));
            i = skip_space(body, end);
            if (body.substr(i, kFunctionClose.size()) == kFunctionClose) i = skip_space(body, i + kFunctionClose.size());
        }
    } else if (python) {
        if (auto f = builtin_call(body)) {
            found.push_back(std::move(*f));
        } else {
            // Meta's format: other <|python_tag|> text is code for the code interpreter.
            CallFields code;
            code.name = "code_interpreter";
            code.arguments = dump_compact(Json{{"code", std::string(body)}});
            found.push_back(std::move(code));
        }
    } else {
        return out;
    }
    for (CallFields& f : found) calls.add(std::move(f));
    out.content = std::string(before);
    return out;
}

}  // namespace strata::chat_output
