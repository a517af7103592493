#include "server/openai_json.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <cmath>
#include <limits>

#include "strata/json_schema.h"

namespace strata::app {

namespace {

constexpr int kMaxStopStrings = 16;
constexpr int kMaxLogitBias = 300;  // as OpenAI

ApiError bad(const QString& param, const QString& message) { return ApiError{400, message, param}; }

QString typeName(const QJsonValue& v) {
    switch (v.type()) {
        case QJsonValue::Null: return QStringLiteral("null");
        case QJsonValue::Bool: return QStringLiteral("a boolean");
        case QJsonValue::Double: return QStringLiteral("a number");
        case QJsonValue::String: return QStringLiteral("a string");
        case QJsonValue::Array: return QStringLiteral("an array");
        case QJsonValue::Object: return QStringLiteral("an object");
        case QJsonValue::Undefined: break;
    }
    return QStringLiteral("missing");
}

// Each reader leaves `out` alone when the field is absent or null (clients send null for
// "default"), and says what is wrong otherwise.
std::optional<ApiError> readNumber(const QJsonObject& o, const QString& key, double lo, double hi, double& out,
                                   bool* given = nullptr) {
    const QJsonValue v = o.value(key);
    if (v.isUndefined() || v.isNull()) return std::nullopt;
    if (!v.isDouble()) return bad(key, QStringLiteral("'%1' must be a number, not %2").arg(key, typeName(v)));
    const double d = v.toDouble();
    if (!std::isfinite(d) || d < lo || d > hi)
        return bad(key, QStringLiteral("'%1' must be between %2 and %3").arg(key).arg(lo).arg(hi));
    out = d;
    if (given) *given = true;
    return std::nullopt;
}

std::optional<ApiError> readInteger(const QJsonObject& o, const QString& key, double lo, double hi, double& out,
                                    bool* given = nullptr) {
    double d = out;
    bool g = false;
    if (auto e = readNumber(o, key, lo, hi, d, &g)) return e;
    if (!g) return std::nullopt;
    if (d != std::floor(d)) return bad(key, QStringLiteral("'%1' must be a whole number").arg(key));
    out = d;
    if (given) *given = true;
    return std::nullopt;
}

std::optional<ApiError> readBool(const QJsonObject& o, const QString& key, bool& out) {
    const QJsonValue v = o.value(key);
    if (v.isUndefined() || v.isNull()) return std::nullopt;
    if (!v.isBool()) return bad(key, QStringLiteral("'%1' must be true or false, not %2").arg(key, typeName(v)));
    out = v.toBool();
    return std::nullopt;
}

// The fields /v1/chat/completions and /v1/completions share.
std::optional<ApiError> readCommon(const QJsonObject& o, CompletionRequest& out) {
    const QJsonValue model = o.value(QStringLiteral("model"));
    if (model.isString()) out.model = model.toString();
    else if (!model.isUndefined() && !model.isNull())
        return bad(QStringLiteral("model"), QStringLiteral("'model' must be a string, not %1").arg(typeName(model)));

    strata::SamplerParams& s = out.params.sampler;
    double temperature = s.temperature, topP = s.top_p, minP = s.min_p, topK = s.top_k,
           repeatPenalty = s.repeat_penalty, frequencyPenalty = s.frequency_penalty,
           presencePenalty = s.presence_penalty, seed = 0, n = 1;
    // OpenAI renamed max_tokens to max_completion_tokens; clients send either.
    double maxTokens = out.params.max_tokens;
    constexpr double kIntMax = std::numeric_limits<int>::max();
    if (auto e = readNumber(o, QStringLiteral("temperature"), 0, 100, temperature)) return e;
    if (auto e = readNumber(o, QStringLiteral("top_p"), 0, 1, topP)) return e;
    if (auto e = readNumber(o, QStringLiteral("min_p"), 0, 1, minP)) return e;
    if (auto e = readInteger(o, QStringLiteral("top_k"), 0, kIntMax, topK)) return e;
    if (auto e = readNumber(o, QStringLiteral("repeat_penalty"), 0.01, 100, repeatPenalty)) return e;
    if (auto e = readNumber(o, QStringLiteral("frequency_penalty"), -2, 2, frequencyPenalty)) return e;
    if (auto e = readNumber(o, QStringLiteral("presence_penalty"), -2, 2, presencePenalty)) return e;
    if (auto e = readInteger(o, QStringLiteral("seed"), -9007199254740992.0, 9007199254740992.0, seed, &out.hasSeed))
        return e;
    if (auto e = readInteger(o, QStringLiteral("max_tokens"), 1, kIntMax, maxTokens, &out.hasMaxTokens)) return e;
    if (auto e = readInteger(o, QStringLiteral("max_completion_tokens"), 1, kIntMax, maxTokens, &out.hasMaxTokens))
        return e;
    if (auto e = readInteger(o, QStringLiteral("n"), 1, kIntMax, n)) return e;
    if (n != 1) return bad(QStringLiteral("n"), QStringLiteral("only n = 1 is supported (one answer per request)"));
    s.temperature = float(temperature);
    s.top_p = float(topP);
    s.min_p = float(minP);
    s.top_k = int(topK);
    s.repeat_penalty = float(repeatPenalty);
    s.frequency_penalty = float(frequencyPenalty);
    s.presence_penalty = float(presencePenalty);
    s.seed = quint64(qint64(seed));
    out.params.max_tokens = int(maxTokens);

    const QJsonValue stop = o.value(QStringLiteral("stop"));
    QJsonArray stops;
    if (stop.isString()) stops.append(stop);
    else if (stop.isArray()) stops = stop.toArray();
    else if (!stop.isUndefined() && !stop.isNull())
        return bad(QStringLiteral("stop"), QStringLiteral("'stop' must be a string or an array of strings"));
    if (stops.size() > kMaxStopStrings)
        return bad(QStringLiteral("stop"), QStringLiteral("at most %1 stop strings").arg(kMaxStopStrings));
    for (const QJsonValue& v : stops) {
        if (!v.isString() || v.toString().isEmpty())
            return bad(QStringLiteral("stop"), QStringLiteral("each stop string must be a non-empty string"));
        out.params.stop_strings.push_back(v.toString().toStdString());
    }

    // logit_bias: {"token id": bias}, bias in [-100, 100] (ids beyond the vocabulary do nothing).
    const QJsonValue bias = o.value(QStringLiteral("logit_bias"));
    if (bias.isObject()) {
        const QJsonObject b = bias.toObject();
        if (b.size() > kMaxLogitBias)
            return bad(QStringLiteral("logit_bias"), QStringLiteral("at most %1 logit_bias entries").arg(kMaxLogitBias));
        for (auto it = b.begin(); it != b.end(); ++it) {
            bool ok = false;
            const int id = it.key().toInt(&ok);
            if (!ok || id < 0)
                return bad(QStringLiteral("logit_bias"),
                           QStringLiteral("logit_bias keys must be token ids (whole numbers ≥ 0), not '%1'").arg(it.key()));
            if (!it.value().isDouble() || it.value().toDouble() < -100 || it.value().toDouble() > 100)
                return bad(QStringLiteral("logit_bias"),
                           QStringLiteral("logit_bias values must be numbers from -100 to 100 (token %1)").arg(it.key()));
            s.logit_bias.emplace_back(id, float(it.value().toDouble()));
        }
    } else if (!bias.isUndefined() && !bias.isNull()) {
        return bad(QStringLiteral("logit_bias"), QStringLiteral("'logit_bias' must be an object, not %1").arg(typeName(bias)));
    }

    // response_format: "text" (the default), "json_object" (JSON mode) or "json_schema" (output
    // held to the schema by constrained decoding; a schema Strata cannot hold the output to is
    // refused, never ignored).
    const QJsonValue format = o.value(QStringLiteral("response_format"));
    if (!format.isUndefined() && !format.isNull()) {
        const QString type = format.toObject().value(QStringLiteral("type")).toString();
        if (type == QLatin1String("json_object")) {
            out.params.json_object = true;
        } else if (type == QLatin1String("json_schema")) {
            const QJsonValue schema = format.toObject().value(QStringLiteral("json_schema")).toObject().value(QStringLiteral("schema"));
            if (!schema.isObject())
                return bad(QStringLiteral("response_format"),
                           QStringLiteral("response_format json_schema needs {\"json_schema\": {\"name\": ..., "
                                          "\"schema\": {...}}}"));
            const QByteArray text = QJsonDocument(schema.toObject()).toJson(QJsonDocument::Compact);
            auto compiled = strata::compile_json_schema(nlohmann::ordered_json::parse(text.toStdString()));
            if (!compiled.ok())
                return bad(QStringLiteral("response_format"), QString::fromStdString(compiled.status().message()));
            out.params.json_schema = std::move(compiled).value();
        } else if (type != QLatin1String("text")) {
            return bad(QStringLiteral("response_format"),
                       QStringLiteral("response_format must be {\"type\": \"text\"}, {\"type\": \"json_object\"} or "
                                      "{\"type\": \"json_schema\", ...}"));
        }
    }
    if (auto e = readBool(o, QStringLiteral("stream"), out.stream)) return e;
    const QJsonValue so = o.value(QStringLiteral("stream_options"));
    if (so.isObject()) {
        if (auto e = readBool(so.toObject(), QStringLiteral("include_usage"), out.includeUsage)) {
            e->param = QStringLiteral("stream_options.include_usage");
            return e;
        }
    } else if (!so.isUndefined() && !so.isNull()) {
        return bad(QStringLiteral("stream_options"), QStringLiteral("'stream_options' must be an object"));
    }
    return std::nullopt;
}

std::optional<ApiError> parseObject(const QByteArray& body, QJsonObject& out) {
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(body, &err);
    if (err.error != QJsonParseError::NoError)
        return bad({}, QStringLiteral("the body is not valid JSON: %1 at byte %2").arg(err.errorString()).arg(err.offset));
    if (!doc.isObject()) return bad({}, QStringLiteral("the body must be a JSON object"));
    out = doc.object();
    return std::nullopt;
}

// A message's content: a string, or an array of {"type":"text","text":...} parts (joined by
// newlines). Assistant turns that only called tools have null content.
std::optional<ApiError> readContent(const QJsonValue& v, const QString& param, QString& out) {
    if (v.isString()) {
        out = v.toString();
        return std::nullopt;
    }
    if (v.isNull() || v.isUndefined()) return std::nullopt;  // a call-only assistant message may leave it out
    if (!v.isArray()) return bad(param, QStringLiteral("'%1' must be a string or an array of text parts").arg(param));
    QStringList parts;
    for (const QJsonValue& p : v.toArray()) {
        const QJsonObject part = p.toObject();
        if (part.value(QStringLiteral("type")).toString() != QLatin1String("text") ||
            !part.value(QStringLiteral("text")).isString())
            return bad(param, QStringLiteral("only text content parts are supported (no images or audio)"));
        parts.append(part.value(QStringLiteral("text")).toString());
    }
    out = parts.join(QLatin1Char('\n'));
    return std::nullopt;
}

QString errorType(int status) {
    switch (status) {
        case 401: return QStringLiteral("authentication_error");
        case 403: return QStringLiteral("permission_error");
        case 404: return QStringLiteral("not_found_error");
        case 501: return QStringLiteral("not_supported_error");
        case 503: return QStringLiteral("unavailable_error");
        default: return status >= 500 ? QStringLiteral("server_error") : QStringLiteral("invalid_request_error");
    }
}

QByteArray compact(const QJsonObject& o) { return QJsonDocument(o).toJson(QJsonDocument::Compact); }

QJsonObject usage(const strata::GenerateStats& s) {
    const int prompt = s.n_prompt + s.n_reused;  // a reused prefix is still part of the prompt
    return QJsonObject{{QStringLiteral("prompt_tokens"), prompt},
                       {QStringLiteral("completion_tokens"), s.n_generated},
                       {QStringLiteral("total_tokens"), prompt + s.n_generated}};
}

QJsonObject head(const ResponseMeta& m, bool chunk) {
    const QString object = m.chat ? (chunk ? QStringLiteral("chat.completion.chunk") : QStringLiteral("chat.completion"))
                                  : QStringLiteral("text_completion");
    return QJsonObject{{QStringLiteral("id"), m.id},
                       {QStringLiteral("object"), object},
                       {QStringLiteral("created"), m.created},
                       {QStringLiteral("model"), m.model}};
}

// An assistant's tool_calls ([{id, type: "function", function: {name, arguments}}], arguments a
// JSON object as text, or an object), a tool result's tool_call_id and name, and the reasoning
// an earlier answer came with (reasoning_content, as this server returns it).
std::optional<ApiError> readMessageExtras(const QJsonObject& m, const QString& at, ChatTurn& turn) {
    const QJsonValue reasoning = m.value(QStringLiteral("reasoning_content"));
    if (reasoning.isString()) turn.reasoning = reasoning.toString();
    else if (!reasoning.isUndefined() && !reasoning.isNull())
        return bad(at + QStringLiteral(".reasoning_content"), QStringLiteral("'%1.reasoning_content' must be a string").arg(at));
    const QJsonValue calls = m.value(QStringLiteral("tool_calls"));
    if (!calls.isUndefined() && !calls.isNull()) {
        const QString param = at + QStringLiteral(".tool_calls");
        if (!calls.isArray()) return bad(param, QStringLiteral("'%1' must be an array").arg(param));
        if (turn.role != Role::assistant)
            return bad(param, QStringLiteral("only assistant messages carry tool_calls"));
        const QJsonArray list = calls.toArray();
        for (qsizetype i = 0; i < list.size(); ++i) {
            const QString p = QStringLiteral("%1[%2]").arg(param).arg(i);
            const QJsonObject call = list[i].toObject();
            const QJsonObject fn = call.value(QStringLiteral("function")).toObject();
            if (!fn.value(QStringLiteral("name")).isString() || fn.value(QStringLiteral("name")).toString().isEmpty())
                return bad(p + QStringLiteral(".function.name"), QStringLiteral("each tool call needs function.name"));
            ChatToolCall c;
            c.id = call.value(QStringLiteral("id")).toString();
            c.name = fn.value(QStringLiteral("name")).toString();
            const QJsonValue args = fn.value(QStringLiteral("arguments"));
            if (args.isString()) c.arguments = args.toString();
            else if (args.isObject()) c.arguments = QString::fromUtf8(QJsonDocument(args.toObject()).toJson(QJsonDocument::Compact));
            else if (args.isUndefined() || args.isNull()) c.arguments = QStringLiteral("{}");
            else return bad(p + QStringLiteral(".function.arguments"), QStringLiteral("arguments must be a JSON string or object"));
            turn.toolCalls.append(c);
        }
    }
    if (turn.role == Role::tool) {
        const QJsonValue id = m.value(QStringLiteral("tool_call_id"));
        if (!id.isString() || id.toString().isEmpty())
            return bad(at + QStringLiteral(".tool_call_id"), QStringLiteral("a tool message needs its tool_call_id"));
        turn.toolCallId = id.toString();
        turn.name = m.value(QStringLiteral("name")).toString();
    }
    return std::nullopt;
}

// tools: [{"type": "function", "function": {"name", "description", "parameters"}}], passed to the
// chat template as given. tool_choice "auto" (the default) and "none" (the tools are not offered)
// are honoured; forcing a call ("required", a named function) cannot be, so it is refused.
std::optional<ApiError> readTools(const QJsonObject& o, ChatRequest& out) {
    const QJsonValue tools = o.value(QStringLiteral("tools"));
    if (tools.isUndefined() || tools.isNull()) return std::nullopt;
    if (!tools.isArray()) return bad(QStringLiteral("tools"), QStringLiteral("'tools' must be an array"));
    const QJsonArray list = tools.toArray();
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QString at = QStringLiteral("tools[%1]").arg(i);
        const QJsonObject t = list[i].toObject();
        if (t.value(QStringLiteral("type")).toString() != QLatin1String("function"))
            return bad(at + QStringLiteral(".type"), QStringLiteral("only tools of type \"function\" are supported"));
        const QJsonValue name = t.value(QStringLiteral("function")).toObject().value(QStringLiteral("name"));
        if (!name.isString() || name.toString().isEmpty())
            return bad(at + QStringLiteral(".function.name"), QStringLiteral("each tool needs function.name"));
    }
    const QJsonValue choice = o.value(QStringLiteral("tool_choice"));
    if (choice.isString() && choice.toString() == QLatin1String("none")) return std::nullopt;
    if (!choice.isUndefined() && !choice.isNull() && !(choice.isString() && choice.toString() == QLatin1String("auto")))
        return bad(QStringLiteral("tool_choice"),
                   QStringLiteral("tool_choice can be \"auto\" or \"none\": this server cannot force a tool call"));
    if (!list.isEmpty()) out.toolsJson = QJsonDocument(list).toJson(QJsonDocument::Compact);
    return std::nullopt;
}

// More chat-template variables: chat_template_kwargs (as llama-server takes them, e.g.
// {"enable_thinking": false}) and OpenAI's reasoning_effort (gpt-oss's template reads it).
std::optional<ApiError> readTemplateVariables(const QJsonObject& o, ChatRequest& out) {
    QJsonObject vars;
    const QJsonValue kwargs = o.value(QStringLiteral("chat_template_kwargs"));
    if (kwargs.isObject()) vars = kwargs.toObject();
    else if (!kwargs.isUndefined() && !kwargs.isNull())
        return bad(QStringLiteral("chat_template_kwargs"), QStringLiteral("'chat_template_kwargs' must be an object"));
    const QJsonValue effort = o.value(QStringLiteral("reasoning_effort"));
    if (effort.isString()) {
        const QString e = effort.toString();
        if (e != QLatin1String("low") && e != QLatin1String("medium") && e != QLatin1String("high"))
            return bad(QStringLiteral("reasoning_effort"), QStringLiteral("reasoning_effort must be low, medium or high"));
        vars.insert(QStringLiteral("reasoning_effort"), e);
    } else if (!effort.isUndefined() && !effort.isNull()) {
        return bad(QStringLiteral("reasoning_effort"), QStringLiteral("'reasoning_effort' must be a string"));
    }
    if (!vars.isEmpty()) out.extraVarsJson = QJsonDocument(vars).toJson(QJsonDocument::Compact);
    return std::nullopt;
}

}  // namespace

std::optional<ApiError> parseChatRequest(const QByteArray& body, CompletionRequest& out) {
    QJsonObject o;
    if (auto e = parseObject(body, o)) return e;
    const QJsonValue messages = o.value(QStringLiteral("messages"));
    if (!messages.isArray() || messages.toArray().isEmpty())
        return bad(QStringLiteral("messages"), QStringLiteral("'messages' must be a non-empty array"));
    const QJsonArray list = messages.toArray();
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QString at = QStringLiteral("messages[%1]").arg(i);
        if (!list[i].isObject()) return bad(at, QStringLiteral("'%1' must be an object").arg(at));
        const QJsonObject m = list[i].toObject();
        const QString roleText = m.value(QStringLiteral("role")).toString();
        ChatTurn turn;
        // "developer" is OpenAI's newer name for the system role.
        if (roleText == QLatin1String("developer")) turn.role = Role::system;
        else if (!parseRole(roleText, turn.role))
            return bad(at + QStringLiteral(".role"),
                       QStringLiteral("'%1.role' must be system, developer, user, assistant or tool").arg(at));
        if (auto e = readContent(m.value(QStringLiteral("content")), at + QStringLiteral(".content"), turn.content))
            return e;
        if (auto e = readMessageExtras(m, at, turn)) return e;
        out.chat.turns.append(turn);
    }
    if (auto e = readTools(o, out.chat)) return e;
    if (auto e = readTemplateVariables(o, out.chat)) return e;
    const QJsonValue logprobs = o.value(QStringLiteral("logprobs"));
    if (logprobs.isBool() && logprobs.toBool())
        return bad(QStringLiteral("logprobs"), QStringLiteral("logprobs are not supported"));
    return readCommon(o, out);
}

std::optional<ApiError> parseCompletionRequest(const QByteArray& body, CompletionRequest& out) {
    QJsonObject o;
    if (auto e = parseObject(body, o)) return e;
    const QJsonValue prompt = o.value(QStringLiteral("prompt"));
    if (prompt.isString()) out.prompt = prompt.toString();
    else if (prompt.isArray() && prompt.toArray().size() == 1 && prompt.toArray().first().isString())
        out.prompt = prompt.toArray().first().toString();
    else
        return bad(QStringLiteral("prompt"), QStringLiteral("'prompt' must be a string (or an array of one string)"));
    bool echo = false;
    if (auto e = readBool(o, QStringLiteral("echo"), echo)) return e;
    if (echo) return bad(QStringLiteral("echo"), QStringLiteral("echo is not supported"));
    const QJsonValue logprobs = o.value(QStringLiteral("logprobs"));
    if (!logprobs.isUndefined() && !logprobs.isNull() && logprobs.toInt(0) != 0)
        return bad(QStringLiteral("logprobs"), QStringLiteral("logprobs are not supported"));
    return readCommon(o, out);
}

QByteArray errorJson(const ApiError& e) {
    const QJsonValue param = e.param.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(e.param);
    return compact(QJsonObject{{QStringLiteral("error"), QJsonObject{{QStringLiteral("message"), e.message},
                                                                     {QStringLiteral("type"), errorType(e.status)},
                                                                     {QStringLiteral("param"), param},
                                                                     {QStringLiteral("code"), e.status}}}});
}

QByteArray errorJson(int status, const QString& message) { return errorJson(ApiError{status, message, {}}); }

QString finishReason(strata::StopReason reason) {
    switch (reason) {
        case strata::StopReason::max_tokens:
        case strata::StopReason::context_full: return QStringLiteral("length");
        default: return QStringLiteral("stop");
    }
}

ResponseMeta newResponseMeta(bool chat, const QString& model) {
    ResponseMeta m;
    m.chat = chat;
    QRandomGenerator* rng = QRandomGenerator::global();
    const QString hex = QString::number(rng->generate64(), 16).rightJustified(16, QLatin1Char('0')) +
                        QString::number(rng->generate(), 16).rightJustified(8, QLatin1Char('0'));
    m.id = (chat ? QStringLiteral("chatcmpl-") : QStringLiteral("cmpl-")) + hex;
    m.created = QDateTime::currentSecsSinceEpoch();
    m.model = model;
    return m;
}

QByteArray modelsJson(const QString& modelId, qint64 created) {
    QJsonArray data;
    if (!modelId.isEmpty())
        data.append(QJsonObject{{QStringLiteral("id"), modelId},
                                {QStringLiteral("object"), QStringLiteral("model")},
                                {QStringLiteral("created"), created},
                                {QStringLiteral("owned_by"), QStringLiteral("strata")}});
    return compact(QJsonObject{{QStringLiteral("object"), QStringLiteral("list")}, {QStringLiteral("data"), data}});
}

QByteArray completionJson(const ResponseMeta& meta, const QString& text, const strata::GenerateStats& stats) {
    QJsonObject choice{{QStringLiteral("index"), 0},
                       {QStringLiteral("finish_reason"), finishReason(stats.stop)},
                       {QStringLiteral("logprobs"), QJsonValue(QJsonValue::Null)}};
    if (meta.chat)
        choice.insert(QStringLiteral("message"),
                      QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")}, {QStringLiteral("content"), text}});
    else
        choice.insert(QStringLiteral("text"), text);
    QJsonObject o = head(meta, false);
    o.insert(QStringLiteral("choices"), QJsonArray{choice});
    o.insert(QStringLiteral("usage"), usage(stats));
    return compact(o);
}

static QJsonArray toolCallsJson(const QList<ChatToolCall>& calls, bool withIndex) {
    QJsonArray out;
    for (qsizetype i = 0; i < calls.size(); ++i) {
        QJsonObject c{{QStringLiteral("id"), calls[i].id},
                      {QStringLiteral("type"), QStringLiteral("function")},
                      {QStringLiteral("function"), QJsonObject{{QStringLiteral("name"), calls[i].name},
                                                               {QStringLiteral("arguments"), calls[i].arguments}}}};
        if (withIndex) c.insert(QStringLiteral("index"), int(i));
        out.append(c);
    }
    return out;
}

QByteArray chatCompletionJson(const ResponseMeta& meta, const ParsedAnswer& answer, const strata::GenerateStats& stats) {
    const bool calls = !answer.toolCalls.isEmpty();
    QJsonObject message{{QStringLiteral("role"), QStringLiteral("assistant")},
                        {QStringLiteral("content"),
                         calls && answer.content.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(answer.content)}};
    if (!answer.reasoning.isEmpty()) message.insert(QStringLiteral("reasoning_content"), answer.reasoning);
    if (calls) message.insert(QStringLiteral("tool_calls"), toolCallsJson(answer.toolCalls, false));
    QJsonObject choice{{QStringLiteral("index"), 0},
                       {QStringLiteral("finish_reason"), calls ? QStringLiteral("tool_calls") : finishReason(stats.stop)},
                       {QStringLiteral("logprobs"), QJsonValue(QJsonValue::Null)},
                       {QStringLiteral("message"), message}};
    QJsonObject o = head(meta, false);
    o.insert(QStringLiteral("choices"), QJsonArray{choice});
    o.insert(QStringLiteral("usage"), usage(stats));
    return compact(o);
}

namespace {

QByteArray deltaChunk(const ResponseMeta& meta, const QJsonObject& delta) {
    QJsonObject choice{{QStringLiteral("index"), 0},
                       {QStringLiteral("finish_reason"), QJsonValue(QJsonValue::Null)},
                       {QStringLiteral("logprobs"), QJsonValue(QJsonValue::Null)},
                       {QStringLiteral("delta"), delta}};
    QJsonObject o = head(meta, true);
    o.insert(QStringLiteral("choices"), QJsonArray{choice});
    return compact(o);
}

}  // namespace

QByteArray reasoningChunkJson(const ResponseMeta& meta, const QString& reasoning) {
    return deltaChunk(meta, QJsonObject{{QStringLiteral("reasoning_content"), reasoning}});
}

QByteArray toolCallsChunkJson(const ResponseMeta& meta, const QList<ChatToolCall>& calls) {
    return deltaChunk(meta, QJsonObject{{QStringLiteral("tool_calls"), toolCallsJson(calls, true)}});
}

QByteArray chunkJson(const ResponseMeta& meta, const QString& text, bool first, const QString& finishReason) {
    QJsonObject choice{{QStringLiteral("index"), 0},
                       {QStringLiteral("finish_reason"),
                        finishReason.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(finishReason)},
                       {QStringLiteral("logprobs"), QJsonValue(QJsonValue::Null)}};
    if (meta.chat) {
        QJsonObject delta;
        if (first) delta.insert(QStringLiteral("role"), QStringLiteral("assistant"));
        if (first || !text.isEmpty()) delta.insert(QStringLiteral("content"), text);
        choice.insert(QStringLiteral("delta"), delta);
    } else {
        choice.insert(QStringLiteral("text"), text);
    }
    QJsonObject o = head(meta, true);
    o.insert(QStringLiteral("choices"), QJsonArray{choice});
    return compact(o);
}

QByteArray usageChunkJson(const ResponseMeta& meta, const strata::GenerateStats& stats) {
    QJsonObject o = head(meta, true);
    o.insert(QStringLiteral("choices"), QJsonArray{});
    o.insert(QStringLiteral("usage"), usage(stats));
    return compact(o);
}

}  // namespace strata::app
