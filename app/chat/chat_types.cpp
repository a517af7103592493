#include "chat/chat_types.h"

namespace strata::app {

QString roleName(Role r) {
    switch (r) {
        case Role::system: return QStringLiteral("system");
        case Role::user: return QStringLiteral("user");
        case Role::assistant: return QStringLiteral("assistant");
        case Role::tool: return QStringLiteral("tool");
    }
    return QStringLiteral("user");
}

bool parseRole(const QString& text, Role& out) {
    if (text == QLatin1String("system")) out = Role::system;
    else if (text == QLatin1String("user")) out = Role::user;
    else if (text == QLatin1String("assistant")) out = Role::assistant;
    else if (text == QLatin1String("tool")) out = Role::tool;
    else return false;
    return true;
}

QString messageStateName(MessageState s) {
    switch (s) {
        case MessageState::complete: return QStringLiteral("complete");
        case MessageState::streaming: return QStringLiteral("streaming");
        case MessageState::stopped: return QStringLiteral("stopped");
        case MessageState::error: return QStringLiteral("error");
    }
    return QStringLiteral("complete");
}

MessageState parseMessageState(const QString& text) {
    if (text == QLatin1String("streaming")) return MessageState::streaming;
    if (text == QLatin1String("stopped")) return MessageState::stopped;
    if (text == QLatin1String("error")) return MessageState::error;
    return MessageState::complete;
}

QJsonObject SamplingSettings::toJson() const {
    return {
        {QStringLiteral("temperature"), temperature},
        {QStringLiteral("top_k"), topK},
        {QStringLiteral("top_p"), topP},
        {QStringLiteral("min_p"), minP},
        {QStringLiteral("repeat_penalty"), repeatPenalty},
        {QStringLiteral("max_tokens"), maxTokens},
        {QStringLiteral("seed"), QString::number(seed)},  // JSON numbers lose 64-bit precision
        {QStringLiteral("json_mode"), jsonMode},
    };
}

SamplingSettings SamplingSettings::fromJson(const QJsonObject& o) {
    SamplingSettings s;
    s.temperature = o.value(QStringLiteral("temperature")).toDouble(s.temperature);
    s.topK = o.value(QStringLiteral("top_k")).toInt(s.topK);
    s.topP = o.value(QStringLiteral("top_p")).toDouble(s.topP);
    s.minP = o.value(QStringLiteral("min_p")).toDouble(s.minP);
    s.repeatPenalty = o.value(QStringLiteral("repeat_penalty")).toDouble(s.repeatPenalty);
    s.maxTokens = o.value(QStringLiteral("max_tokens")).toInt(s.maxTokens);
    s.seed = o.value(QStringLiteral("seed")).toString().toULongLong();
    s.jsonMode = o.value(QStringLiteral("json_mode")).toBool(false);
    return s;
}

strata::GenerateParams SamplingSettings::toGenerateParams(quint64 seedForThisAnswer) const {
    strata::GenerateParams g;
    g.sampler.temperature = static_cast<float>(temperature);
    g.sampler.top_k = topK;
    g.sampler.top_p = static_cast<float>(topP);
    g.sampler.min_p = static_cast<float>(minP);
    g.sampler.repeat_penalty = static_cast<float>(repeatPenalty);
    g.sampler.seed = seed != 0 ? seed : seedForThisAnswer;
    g.max_tokens = maxTokens;
    g.json_object = jsonMode;
    return g;
}

}  // namespace strata::app
