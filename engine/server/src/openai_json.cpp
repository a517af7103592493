#include "strata/server/openai_json.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>

#include <nlohmann/json.hpp>

#include "strata/json_schema.h"

namespace strata::server {

namespace {

using json = nlohmann::ordered_json;

constexpr size_t kMaxStopStrings = 16;
constexpr size_t kMaxLogitBias = 300;  // as OpenAI

ApiError bad(std::string param, std::string message) { return ApiError{400, std::move(message), std::move(param)}; }

std::string num(double d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", d);
    return buf;
}

std::string type_name(const json& v) {
    switch (v.type()) {
        case json::value_t::null: return "null";
        case json::value_t::boolean: return "a boolean";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned:
        case json::value_t::number_float: return "a number";
        case json::value_t::string: return "a string";
        case json::value_t::array: return "an array";
        case json::value_t::object: return "an object";
        default: return "missing";
    }
}

// The member `key` of `o`, or null when absent (clients send null for "default").
const json& member(const json& o, const char* key) {
    static const json null_value;
    const auto it = o.find(key);
    return it == o.end() ? null_value : *it;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Each reader leaves `out` alone when the field is absent or null, and says what is wrong
// otherwise.
std::optional<ApiError> read_number(const json& o, const char* key, double lo, double hi, double& out,
                                    bool* given = nullptr) {
    const json& v = member(o, key);
    if (v.is_null()) return std::nullopt;
    if (!v.is_number()) return bad(key, std::string("'") + key + "' must be a number, not " + type_name(v));
    const double d = v.get<double>();
    if (!std::isfinite(d) || d < lo || d > hi)
        return bad(key, std::string("'") + key + "' must be between " + num(lo) + " and " + num(hi));
    out = d;
    if (given) *given = true;
    return std::nullopt;
}

std::optional<ApiError> read_integer(const json& o, const char* key, double lo, double hi, double& out,
                                     bool* given = nullptr) {
    double d = out;
    bool g = false;
    if (auto e = read_number(o, key, lo, hi, d, &g)) return e;
    if (!g) return std::nullopt;
    if (d != std::floor(d)) return bad(key, std::string("'") + key + "' must be a whole number");
    out = d;
    if (given) *given = true;
    return std::nullopt;
}

std::optional<ApiError> read_bool(const json& o, const char* key, bool& out) {
    const json& v = member(o, key);
    if (v.is_null()) return std::nullopt;
    if (!v.is_boolean()) return bad(key, std::string("'") + key + "' must be true or false, not " + type_name(v));
    out = v.get<bool>();
    return std::nullopt;
}

// The fields /v1/chat/completions and /v1/completions share.
std::optional<ApiError> read_common(const json& o, CompletionRequest& out) {
    const json& model = member(o, "model");
    if (model.is_string()) out.model = model.get<std::string>();
    else if (!model.is_null()) return bad("model", "'model' must be a string, not " + type_name(model));

    SamplerParams& s = out.params.sampler;
    double temperature = s.temperature, top_p = s.top_p, min_p = s.min_p, top_k = s.top_k,
           repeat_penalty = s.repeat_penalty, frequency_penalty = s.frequency_penalty,
           presence_penalty = s.presence_penalty, seed = 0, n = 1;
    // OpenAI renamed max_tokens to max_completion_tokens; clients send either.
    double max_tokens = out.params.max_tokens;
    constexpr double kIntMax = std::numeric_limits<int>::max();
    constexpr double kSafeInt = 9007199254740992.0;  // 2^53: every whole number up to it is exact
    if (auto e = read_number(o, "temperature", 0, 100, temperature)) return e;
    if (auto e = read_number(o, "top_p", 0, 1, top_p)) return e;
    if (auto e = read_number(o, "min_p", 0, 1, min_p)) return e;
    if (auto e = read_integer(o, "top_k", 0, kIntMax, top_k)) return e;
    if (auto e = read_number(o, "repeat_penalty", 0.01, 100, repeat_penalty)) return e;
    if (auto e = read_number(o, "frequency_penalty", -2, 2, frequency_penalty)) return e;
    if (auto e = read_number(o, "presence_penalty", -2, 2, presence_penalty)) return e;
    if (auto e = read_integer(o, "seed", -kSafeInt, kSafeInt, seed, &out.has_seed)) return e;
    if (auto e = read_integer(o, "max_tokens", 1, kIntMax, max_tokens, &out.has_max_tokens)) return e;
    if (auto e = read_integer(o, "max_completion_tokens", 1, kIntMax, max_tokens, &out.has_max_tokens)) return e;
    if (auto e = read_integer(o, "n", 1, kIntMax, n)) return e;
    if (n != 1) return bad("n", "only n = 1 is supported (one answer per request)");
    s.temperature = float(temperature);
    s.top_p = float(top_p);
    s.min_p = float(min_p);
    s.top_k = int(top_k);
    s.repeat_penalty = float(repeat_penalty);
    s.frequency_penalty = float(frequency_penalty);
    s.presence_penalty = float(presence_penalty);
    s.seed = uint64_t(int64_t(seed));
    out.params.max_tokens = int(max_tokens);

    const json& stop = member(o, "stop");
    json stops = json::array();
    if (stop.is_string()) stops.push_back(stop);
    else if (stop.is_array()) stops = stop;
    else if (!stop.is_null()) return bad("stop", "'stop' must be a string or an array of strings");
    if (stops.size() > kMaxStopStrings)
        return bad("stop", "at most " + std::to_string(kMaxStopStrings) + " stop strings");
    for (const json& v : stops) {
        if (!v.is_string() || v.get_ref<const std::string&>().empty())
            return bad("stop", "each stop string must be a non-empty string");
        out.params.stop_strings.push_back(v.get<std::string>());
    }

    // logit_bias: {"token id": bias}, bias in [-100, 100] (ids beyond the vocabulary do nothing).
    const json& bias = member(o, "logit_bias");
    if (bias.is_object()) {
        if (bias.size() > kMaxLogitBias)
            return bad("logit_bias", "at most " + std::to_string(kMaxLogitBias) + " logit_bias entries");
        for (auto it = bias.begin(); it != bias.end(); ++it) {
            const std::string& key = it.key();
            long long id = -1;
            bool ok = !key.empty() && key.size() < 10;
            for (char c : key) ok = ok && c >= '0' && c <= '9';
            if (ok) id = std::stoll(key);
            if (!ok) return bad("logit_bias", "logit_bias keys must be token ids (whole numbers >= 0), not '" + key + "'");
            if (!it.value().is_number() || it.value().get<double>() < -100 || it.value().get<double>() > 100)
                return bad("logit_bias", "logit_bias values must be numbers from -100 to 100 (token " + key + ")");
            s.logit_bias.emplace_back(int32_t(id), float(it.value().get<double>()));
        }
    } else if (!bias.is_null()) {
        return bad("logit_bias", "'logit_bias' must be an object, not " + type_name(bias));
    }

    // response_format: "text" (the default), "json_object" (JSON mode) or "json_schema" (output
    // held to the schema by constrained decoding; a schema Strata cannot hold the output to is
    // refused, never ignored).
    const json& format = member(o, "response_format");
    if (!format.is_null()) {
        const json& type = format.is_object() ? member(format, "type") : json();
        const std::string t = type.is_string() ? type.get<std::string>() : "";
        if (t == "json_object") {
            out.params.json_object = true;
        } else if (t == "json_schema") {
            const json& spec = member(format, "json_schema");
            const json& schema = spec.is_object() ? member(spec, "schema") : json();
            if (!schema.is_object())
                return bad("response_format", "response_format json_schema needs {\"json_schema\": {\"name\": ..., "
                                              "\"schema\": {...}}}");
            auto compiled = compile_json_schema(schema);
            if (!compiled.ok()) return bad("response_format", compiled.status().message());
            out.params.json_schema = std::move(compiled).value();
        } else if (t != "text") {
            return bad("response_format", "response_format must be {\"type\": \"text\"}, {\"type\": \"json_object\"} or "
                                          "{\"type\": \"json_schema\", ...}");
        }
    }
    if (auto e = read_bool(o, "stream", out.stream)) return e;
    const json& so = member(o, "stream_options");
    if (so.is_object()) {
        if (auto e = read_bool(so, "include_usage", out.include_usage)) {
            e->param = "stream_options.include_usage";
            return e;
        }
    } else if (!so.is_null()) {
        return bad("stream_options", "'stream_options' must be an object");
    }
    return std::nullopt;
}

std::optional<ApiError> parse_object(std::string_view body, json& out) {
    try {
        out = json::parse(body.begin(), body.end());
    } catch (const json::parse_error& e) {
        return bad("", "the body is not valid JSON: " + std::string(e.what()));
    } catch (const std::exception& e) {
        return bad("", std::string("the body is not valid JSON: ") + e.what());
    }
    if (!out.is_object()) return bad("", "the body must be a JSON object");
    return std::nullopt;
}

// A message's content: a string, or an array of {"type":"text","text":...} parts (joined by
// newlines). Assistant turns that only called tools have null content.
std::optional<ApiError> read_content(const json& v, const std::string& param, std::string& out) {
    if (v.is_string()) {
        out = v.get<std::string>();
        return std::nullopt;
    }
    if (v.is_null()) return std::nullopt;
    if (!v.is_array()) return bad(param, "'" + param + "' must be a string or an array of text parts");
    std::string joined;
    bool first = true;
    for (const json& p : v) {
        if (!p.is_object() || member(p, "type") != "text" || !member(p, "text").is_string())
            return bad(param, "only text content parts are supported (no images or audio)");
        if (!first) joined += '\n';
        joined += member(p, "text").get<std::string>();
        first = false;
    }
    out = std::move(joined);
    return std::nullopt;
}

// An assistant's tool_calls ([{id, type: "function", function: {name, arguments}}], arguments a
// JSON object as text, or an object), a tool result's tool_call_id and name, and the reasoning
// an earlier answer came with (reasoning_content, as this server returns it).
std::optional<ApiError> read_message_extras(const json& m, const std::string& at, ChatMessage& turn) {
    const json& reasoning = member(m, "reasoning_content");
    if (reasoning.is_string()) turn.reasoning = reasoning.get<std::string>();
    else if (!reasoning.is_null())
        return bad(at + ".reasoning_content", "'" + at + ".reasoning_content' must be a string");
    const json& calls = member(m, "tool_calls");
    if (!calls.is_null()) {
        const std::string param = at + ".tool_calls";
        if (!calls.is_array()) return bad(param, "'" + param + "' must be an array");
        if (turn.role != "assistant") return bad(param, "only assistant messages carry tool_calls");
        for (size_t i = 0; i < calls.size(); ++i) {
            const std::string p = param + "[" + std::to_string(i) + "]";
            const json& call = calls[i];
            const json& fn = call.is_object() ? member(call, "function") : json();
            const json& name = fn.is_object() ? member(fn, "name") : json();
            if (!name.is_string() || name.get_ref<const std::string&>().empty())
                return bad(p + ".function.name", "each tool call needs function.name");
            ToolCall c;
            const json& id = member(call, "id");
            if (id.is_string()) c.id = id.get<std::string>();
            c.name = name.get<std::string>();
            const json& args = member(fn, "arguments");
            if (args.is_string()) c.arguments = args.get<std::string>();
            else if (args.is_object()) c.arguments = dump(args);
            else if (args.is_null()) c.arguments = "{}";
            else return bad(p + ".function.arguments", "arguments must be a JSON string or object");
            turn.tool_calls.push_back(std::move(c));
        }
    }
    if (turn.role == "tool") {
        const json& id = member(m, "tool_call_id");
        if (!id.is_string() || id.get_ref<const std::string&>().empty())
            return bad(at + ".tool_call_id", "a tool message needs its tool_call_id");
        turn.tool_call_id = id.get<std::string>();
        const json& name = member(m, "name");
        if (name.is_string()) turn.name = name.get<std::string>();
    }
    return std::nullopt;
}

// tools: [{"type": "function", "function": {"name", "description", "parameters"}}], passed to the
// chat template as given. tool_choice "auto" (the default) and "none" (the tools are not offered)
// are honoured; forcing a call ("required", a named function) cannot be, so it is refused.
std::optional<ApiError> read_tools(const json& o, ChatPromptRequest& out) {
    const json& tools = member(o, "tools");
    if (tools.is_null()) return std::nullopt;
    if (!tools.is_array()) return bad("tools", "'tools' must be an array");
    for (size_t i = 0; i < tools.size(); ++i) {
        const std::string at = "tools[" + std::to_string(i) + "]";
        const json& t = tools[i];
        if (!t.is_object() || member(t, "type") != "function")
            return bad(at + ".type", "only tools of type \"function\" are supported");
        const json& fn = member(t, "function");
        const json& name = fn.is_object() ? member(fn, "name") : json();
        if (!name.is_string() || name.get_ref<const std::string&>().empty())
            return bad(at + ".function.name", "each tool needs function.name");
    }
    const json& choice = member(o, "tool_choice");
    if (choice == "none") return std::nullopt;
    if (!choice.is_null() && choice != "auto")
        return bad("tool_choice", "tool_choice can be \"auto\" or \"none\": this server cannot force a tool call");
    if (!tools.empty()) out.tools = tools;
    return std::nullopt;
}

// More chat-template variables: chat_template_kwargs (as llama-server takes them, e.g.
// {"enable_thinking": false}) and OpenAI's reasoning_effort (gpt-oss's template reads it).
std::optional<ApiError> read_template_variables(const json& o, ChatPromptRequest& out) {
    json vars = json::object();
    const json& kwargs = member(o, "chat_template_kwargs");
    if (kwargs.is_object()) vars = kwargs;
    else if (!kwargs.is_null()) return bad("chat_template_kwargs", "'chat_template_kwargs' must be an object");
    const json& effort = member(o, "reasoning_effort");
    if (effort.is_string()) {
        const std::string& e = effort.get_ref<const std::string&>();
        if (e != "low" && e != "medium" && e != "high")
            return bad("reasoning_effort", "reasoning_effort must be low, medium or high");
        vars["reasoning_effort"] = e;
    } else if (!effort.is_null()) {
        return bad("reasoning_effort", "'reasoning_effort' must be a string");
    }
    out.extra_vars = std::move(vars);
    return std::nullopt;
}

const char* error_type(int status) {
    switch (status) {
        case 401: return "authentication_error";
        case 403: return "permission_error";
        case 404: return "not_found_error";
        case 501: return "not_supported_error";
        case 503: return "unavailable_error";
        default: return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

json usage(const GenerateStats& s) {
    const int prompt = s.n_prompt + s.n_reused;  // a reused prefix is still part of the prompt
    return json{{"prompt_tokens", prompt}, {"completion_tokens", s.n_generated}, {"total_tokens", prompt + s.n_generated}};
}

json head(const ResponseMeta& m, bool chunk) {
    const char* object = m.chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion";
    return json{{"id", m.id}, {"object", object}, {"created", m.created}, {"model", m.model}};
}

json tool_calls_array(const std::vector<ToolCall>& calls, bool with_index) {
    json out = json::array();
    for (size_t i = 0; i < calls.size(); ++i) {
        json c;
        if (with_index) c["index"] = i;
        c["id"] = calls[i].id;
        c["type"] = "function";
        c["function"] = json{{"name", calls[i].name}, {"arguments", calls[i].arguments}};
        out.push_back(std::move(c));
    }
    return out;
}

json delta_chunk(const ResponseMeta& meta, json delta) {
    json o = head(meta, true);
    o["choices"] = json::array(
        {json{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr}, {"finish_reason", nullptr}}});
    return o;
}

}  // namespace

std::optional<ApiError> parse_chat_request(std::string_view body, CompletionRequest& out) {
    out.chat = true;
    json o;
    if (auto e = parse_object(body, o)) return e;
    const json& messages = member(o, "messages");
    if (!messages.is_array() || messages.empty()) return bad("messages", "'messages' must be a non-empty array");
    for (size_t i = 0; i < messages.size(); ++i) {
        const std::string at = "messages[" + std::to_string(i) + "]";
        const json& m = messages[i];
        if (!m.is_object()) return bad(at, "'" + at + "' must be an object");
        const json& role = member(m, "role");
        ChatMessage turn;
        const std::string r = role.is_string() ? role.get<std::string>() : "";
        // "developer" is OpenAI's newer name for the system role.
        if (r == "developer") turn.role = "system";
        else if (r == "system" || r == "user" || r == "assistant" || r == "tool") turn.role = r;
        else return bad(at + ".role", "'" + at + ".role' must be system, developer, user, assistant or tool");
        if (auto e = read_content(member(m, "content"), at + ".content", turn.content)) return e;
        if (auto e = read_message_extras(m, at, turn)) return e;
        out.prompt_request.messages.push_back(std::move(turn));
    }
    if (auto e = read_tools(o, out.prompt_request)) return e;
    if (auto e = read_template_variables(o, out.prompt_request)) return e;
    const json& logprobs = member(o, "logprobs");
    if (logprobs.is_boolean() && logprobs.get<bool>()) return bad("logprobs", "logprobs are not supported");
    return read_common(o, out);
}

std::optional<ApiError> parse_completion_request(std::string_view body, CompletionRequest& out) {
    out.chat = false;
    json o;
    if (auto e = parse_object(body, o)) return e;
    const json& prompt = member(o, "prompt");
    if (prompt.is_string()) out.prompt = prompt.get<std::string>();
    else if (prompt.is_array() && prompt.size() == 1 && prompt[0].is_string()) out.prompt = prompt[0].get<std::string>();
    else return bad("prompt", "'prompt' must be a string (or an array of one string)");
    bool echo = false;
    if (auto e = read_bool(o, "echo", echo)) return e;
    if (echo) return bad("echo", "echo is not supported");
    const json& logprobs = member(o, "logprobs");
    if (!logprobs.is_null() && !(logprobs.is_number() && logprobs.get<double>() == 0))
        return bad("logprobs", "logprobs are not supported");
    return read_common(o, out);
}

std::string error_json(const ApiError& e) {
    json error{{"message", e.message},
               {"type", error_type(e.status)},
               {"param", e.param.empty() ? json() : json(e.param)},
               {"code", e.status}};
    return dump(json{{"error", std::move(error)}});
}

std::string error_json(int status, const std::string& message) { return error_json(ApiError{status, message, {}}); }

const char* finish_reason(StopReason reason) {
    switch (reason) {
        case StopReason::max_tokens:
        case StopReason::context_full: return "length";
        default: return "stop";
    }
}

ResponseMeta new_response_meta(bool chat, const std::string& model) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    char hex[33];
    std::snprintf(hex, sizeof hex, "%016llx%08x", static_cast<unsigned long long>(rng()), unsigned(rng() & 0xffffffffu));
    ResponseMeta m;
    m.chat = chat;
    m.id = std::string(chat ? "chatcmpl-" : "cmpl-") + hex;
    m.created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    m.model = model;
    return m;
}

std::string models_json(const std::string& model_id, int64_t created) {
    json data = json::array();
    if (!model_id.empty())
        data.push_back(json{{"id", model_id}, {"object", "model"}, {"created", created}, {"owned_by", "strata"}});
    return dump(json{{"object", "list"}, {"data", std::move(data)}});
}

std::string completion_json(const ResponseMeta& meta, const std::string& text, const GenerateStats& stats) {
    json choice{{"index", 0}};
    if (meta.chat) choice["message"] = json{{"role", "assistant"}, {"content", text}};
    else choice["text"] = text;
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = finish_reason(stats.stop);
    json o = head(meta, false);
    o["choices"] = json::array({std::move(choice)});
    o["usage"] = usage(stats);
    return dump(o);
}

std::string chat_completion_json(const ResponseMeta& meta, const ChatAnswer& answer, const GenerateStats& stats) {
    const bool calls = !answer.tool_calls.empty();
    json message{{"role", "assistant"}, {"content", calls && answer.content.empty() ? json() : json(answer.content)}};
    if (!answer.reasoning.empty()) message["reasoning_content"] = answer.reasoning;
    if (calls) message["tool_calls"] = tool_calls_array(answer.tool_calls, false);
    json choice{{"index", 0},
                {"message", std::move(message)},
                {"logprobs", nullptr},
                {"finish_reason", calls ? "tool_calls" : finish_reason(stats.stop)}};
    json o = head(meta, false);
    o["choices"] = json::array({std::move(choice)});
    o["usage"] = usage(stats);
    return dump(o);
}

std::string chunk_json(const ResponseMeta& meta, const std::string& text, bool first, const std::string& finish) {
    json choice{{"index", 0}};
    if (meta.chat) {
        json delta = json::object();
        if (first) delta["role"] = "assistant";
        if (first || !text.empty()) delta["content"] = text;
        choice["delta"] = std::move(delta);
    } else {
        choice["text"] = text;
    }
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = finish.empty() ? json() : json(finish);
    json o = head(meta, true);
    o["choices"] = json::array({std::move(choice)});
    return dump(o);
}

std::string reasoning_chunk_json(const ResponseMeta& meta, const std::string& reasoning) {
    return dump(delta_chunk(meta, json{{"reasoning_content", reasoning}}));
}

std::string tool_calls_chunk_json(const ResponseMeta& meta, const std::vector<ToolCall>& calls) {
    return dump(delta_chunk(meta, json{{"tool_calls", tool_calls_array(calls, true)}}));
}

std::string usage_chunk_json(const ResponseMeta& meta, const GenerateStats& stats) {
    json o = head(meta, true);
    o["choices"] = json::array();
    o["usage"] = usage(stats);
    return dump(o);
}

}  // namespace strata::server
