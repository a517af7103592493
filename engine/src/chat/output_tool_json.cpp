// JSON validation of tool calls and the call collector shared by every format's parser.
#include <exception>

#include "chat/output_tool_internal.h"

namespace strata::chat_output {

std::optional<Json> parse_json(std::string_view text, std::string* error) {
    try {
        return Json::parse(text.begin(), text.end());
    } catch (const std::exception& e) {
        if (error) *error = e.what();
        return std::nullopt;
    }
}

std::string dump_compact(const Json& value) {
    return value.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

std::optional<std::string> arguments_text(const Json* value, std::string* why) {
    if (value == nullptr || value->is_null()) return std::string("{}");
    if (value->is_object()) return dump_compact(*value);
    if (value->is_string()) {
        const std::string& s = value->get_ref<const std::string&>();
        std::string error;
        if (auto inner = parse_json(s, &error); inner && inner->is_object()) return dump_compact(*inner);
        if (why) *why = "arguments are a string that does not hold a JSON object";
        return std::nullopt;
    }
    if (why) *why = std::string("arguments are a JSON ") + value->type_name() + ", not an object";
    return std::nullopt;
}

std::optional<CallFields> call_from_json(const Json& value, std::initializer_list<const char*> arg_keys,
                                         std::string* why) {
    if (!value.is_object()) {
        if (why) *why = std::string("a call must be a JSON object, not a ") + value.type_name();
        return std::nullopt;
    }
    const auto name = value.find("name");
    if (name == value.end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
        if (why) *why = "no \"name\" string";
        return std::nullopt;
    }
    const Json* args = nullptr;
    for (const char* key : arg_keys) {
        if (auto it = value.find(key); it != value.end()) {
            args = &*it;
            break;
        }
    }
    CallFields fields;
    fields.name = name->get<std::string>();
    auto text = arguments_text(args, why);
    if (!text) return std::nullopt;
    fields.arguments = std::move(*text);
    if (auto id = value.find("id"); id != value.end() && id->is_string()) fields.id = id->get<std::string>();
    return fields;
}

void CallCollector::add(CallFields fields) {
    ++attempts_;
    ToolCall call;
    call.id = fields.id.empty() ? "call_" + std::to_string(out_.calls.size()) : std::move(fields.id);
    call.name = std::move(fields.name);
    call.arguments = std::move(fields.arguments);
    out_.calls.push_back(std::move(call));
}

void CallCollector::problem(ToolCallProblem::Kind kind, size_t offset, std::string_view text,
                            const std::string& why) {
    ++attempts_;
    ToolCallProblem p;
    p.kind = kind;
    p.offset = offset;
    p.text = std::string(text);
    const char* what = kind == ToolCallProblem::Kind::malformed_json ? "malformed JSON"
                       : kind == ToolCallProblem::Kind::bad_shape    ? "not a tool call"
                                                                     : "unterminated";
    p.message = "tool call " + std::to_string(attempts_) + " at byte " + std::to_string(offset) + ": " +
                what + (why.empty() ? "" : ": " + why);
    out_.problems.push_back(std::move(p));
}

}  // namespace strata::chat_output
