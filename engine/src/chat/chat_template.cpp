// ChatTemplate (strata/chat_template.h): compiles with the Jinja parser, renders with a fresh
// Interpreter per call, converts input JSON to values (every string untrusted) and turns the
// interpreter's exceptions into Status + ChatTemplateError at this boundary.
#include "strata/chat_template.h"

#include <chrono>
#include <new>

#include "chat/jinja_error.h"
#include "chat/jinja_interpreter.h"
#include "chat/jinja_parser.h"

namespace strata {

namespace {

using jinja::Value;

// Input JSON nested deeper than this is refused (conversion and printing recurse).
constexpr int k_max_input_depth = 128;

struct InputError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

Value from_json(const nlohmann::ordered_json& j, int depth) {
    if (depth > k_max_input_depth)
        throw InputError("input JSON nested more than " + std::to_string(k_max_input_depth) + " levels deep");
    switch (j.type()) {
        case nlohmann::ordered_json::value_t::null: return Value::none();
        case nlohmann::ordered_json::value_t::boolean: return Value::boolean(j.get<bool>());
        case nlohmann::ordered_json::value_t::number_integer: return Value::integer(j.get<int64_t>());
        case nlohmann::ordered_json::value_t::number_unsigned: {
            const auto u = j.get<uint64_t>();
            if (u > static_cast<uint64_t>(INT64_MAX)) return Value::floating(static_cast<double>(u));
            return Value::integer(static_cast<int64_t>(u));
        }
        case nlohmann::ordered_json::value_t::number_float: return Value::floating(j.get<double>());
        case nlohmann::ordered_json::value_t::string:
            return Value::string(jinja::TrackedText::untrusted(j.get<std::string>()));
        case nlohmann::ordered_json::value_t::array: {
            std::vector<Value> items;
            items.reserve(j.size());
            for (const auto& item : j) items.push_back(from_json(item, depth + 1));
            return Value::list(std::move(items));
        }
        case nlohmann::ordered_json::value_t::object: {
            jinja::DictData d;
            for (const auto& [key, item] : j.items())
                d.set(Value::string(jinja::TrackedText::untrusted(key)), from_json(item, depth + 1));
            return Value::dict(std::move(d));
        }
        default: throw InputError("input JSON holds a value of unsupported type (binary)");
    }
}

ChatTemplateError::Kind kind_of(jinja::ErrorKind k) {
    switch (k) {
        case jinja::ErrorKind::syntax: return ChatTemplateError::Kind::syntax;
        case jinja::ErrorKind::render: return ChatTemplateError::Kind::render;
        case jinja::ErrorKind::raised: return ChatTemplateError::Kind::raised;
        case jinja::ErrorKind::limit: return ChatTemplateError::Kind::limit;
    }
    return ChatTemplateError::Kind::render;
}

Status fail(ChatTemplateError e, ChatTemplateError* out) {
    std::string message = e.kind == ChatTemplateError::Kind::raised ? "chat template raised an error: "
                          : e.kind == ChatTemplateError::Kind::syntax ? "chat template does not parse: "
                          : e.kind == ChatTemplateError::Kind::input  ? "chat template input: "
                                                                      : "chat template failed: ";
    message += e.to_string();
    if (out) *out = std::move(e);
    return Status(ErrorCode::invalid_argument, std::move(message));
}

ChatTemplateError from_exception(const jinja::Error& e) {
    ChatTemplateError err;
    err.kind = kind_of(e.kind());
    err.line = e.pos().line;
    err.column = e.pos().column;
    err.message = e.what();
    return err;
}

std::tm current_local_time() {
    const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    localtime_r(&t, &tm);
    return tm;
}

// Fills in the weekday and day of the year (strftime's %a, %j) from the date fields.
std::tm normalized(std::tm tm) {
    tm.tm_isdst = 0;
    const std::time_t t = timegm(&tm);
    std::tm out{};
    gmtime_r(&t, &out);
    return out;
}

}  // namespace

struct ChatTemplate::Compiled {
    std::string source;
    jinja::Program program;
};

nlohmann::ordered_json ChatTemplateMessage::to_json() const {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    m["role"] = role;
    m["content"] = content ? nlohmann::ordered_json(*content) : nlohmann::ordered_json(nullptr);
    if (reasoning_content) {
        // Both names templates read it by: most (Qwen 3, GLM, ...) use reasoning_content,
        // gpt-oss's harmony template uses `thinking` (its analysis message before tool calls).
        m["reasoning_content"] = *reasoning_content;
        m["thinking"] = *reasoning_content;
    }
    if (tool_calls) m["tool_calls"] = *tool_calls;
    if (tool_call_id) m["tool_call_id"] = *tool_call_id;
    if (name) m["name"] = *name;
    return m;
}

std::vector<RenderedPrompt::Segment> RenderedPrompt::segments() const {
    std::vector<Segment> out;
    const std::string_view all(text);
    size_t pos = 0;
    for (const auto& r : untrusted) {
        if (r.begin > pos) out.push_back({all.substr(pos, r.begin - pos), true});
        if (r.end > r.begin) out.push_back({all.substr(r.begin, r.end - r.begin), false});
        pos = r.end;
    }
    if (pos < text.size()) out.push_back({all.substr(pos), true});
    return out;
}

std::string ChatTemplateError::to_string() const {
    if (line <= 0) return message;
    return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + message;
}

ChatTemplate::ChatTemplate(std::shared_ptr<const Compiled> compiled) : compiled_(std::move(compiled)) {}

const std::string& ChatTemplate::source() const { return compiled_->source; }

Result<ChatTemplate> ChatTemplate::compile(std::string source, ChatTemplateError* error) {
    try {
        auto compiled = std::make_shared<Compiled>();
        compiled->program = jinja::parse_template(source);
        compiled->source = std::move(source);
        return ChatTemplate(std::move(compiled));
    } catch (const jinja::Error& e) {
        return fail(from_exception(e), error);
    } catch (const std::bad_alloc&) {
        return fail({ChatTemplateError::Kind::limit, 0, 0, "out of memory while parsing the template"}, error);
    } catch (const std::exception& e) {
        return fail({ChatTemplateError::Kind::syntax, 0, 0, e.what()}, error);
    }
}

Result<RenderedPrompt> ChatTemplate::render(const ChatTemplateInput& input, ChatTemplateError* error) const {
    try {
        if (!input.messages.is_array())
            return fail({ChatTemplateError::Kind::input, 0, 0, "messages must be a JSON array"}, error);
        if (!input.extra_vars.is_null() && !input.extra_vars.is_object())
            return fail({ChatTemplateError::Kind::input, 0, 0, "extra variables must be a JSON object"}, error);

        std::unordered_map<std::string, Value> vars;
        if (input.extra_vars.is_object()) {
            for (const auto& [key, value] : input.extra_vars.items()) {
                if (key == "messages" || key == "tools" || key == "documents" || key == "add_generation_prompt" ||
                    key == "bos_token" || key == "eos_token")
                    return fail({ChatTemplateError::Kind::input, 0, 0,
                                 "extra variable '" + key + "' clashes with a variable the renderer sets"},
                                error);
                vars[key] = from_json(value, 0);
            }
        }
        // What transformers' apply_chat_template passes: tools and documents are None unless given.
        vars["messages"] = from_json(input.messages, 0);
        vars["tools"] = input.tools ? from_json(*input.tools, 0) : Value::none();
        vars["documents"] = Value::none();
        vars["add_generation_prompt"] = Value::boolean(input.add_generation_prompt);
        vars["bos_token"] = Value::trusted_string(input.bos_token);
        vars["eos_token"] = Value::trusted_string(input.eos_token);

        jinja::RenderLimits limits;
        limits.max_output_bytes = input.limits.max_output_bytes;
        limits.max_list_items = input.limits.max_list_items;
        limits.max_steps = input.limits.max_steps;
        limits.max_call_depth = input.limits.max_call_depth;
        const std::tm now = input.now ? normalized(*input.now) : current_local_time();

        jinja::TrackedText text;
        {
            jinja::Interpreter interpreter(compiled_->program, limits, now);
            text = interpreter.render(vars);
        }
        RenderedPrompt prompt;
        prompt.text = text.str();
        for (const auto& r : text.untrusted_ranges()) prompt.untrusted.push_back({r.begin, r.end});
        return prompt;
    } catch (const jinja::Error& e) {
        return fail(from_exception(e), error);
    } catch (const InputError& e) {
        return fail({ChatTemplateError::Kind::input, 0, 0, e.what()}, error);
    } catch (const std::bad_alloc&) {
        return fail({ChatTemplateError::Kind::limit, 0, 0, "out of memory while rendering the template"}, error);
    } catch (const std::exception& e) {
        return fail({ChatTemplateError::Kind::render, 0, 0, e.what()}, error);
    }
}

}  // namespace strata
