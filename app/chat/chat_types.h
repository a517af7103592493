// Value types of the chat domain, shared by the store, the controller and the views.
#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QString>

#include "strata/sampling.h"

namespace strata::app {

enum class Role { system, user, assistant };
QString roleName(Role r);
bool parseRole(const QString& text, Role& out);

// complete: finished normally; streaming: being written (a file left so by a crash shows the
// answer as interrupted); stopped: the user pressed Stop or closed the window; error: failed.
enum class MessageState { complete, streaming, stopped, error };
QString messageStateName(MessageState s);
MessageState parseMessageState(const QString& text);

// Sampling settings a conversation keeps (a subset of strata::GenerateParams users change).
struct SamplingSettings {
    double temperature = 0.7;
    int topK = 40;
    double topP = 0.95;
    double minP = 0.05;
    double repeatPenalty = 1.1;
    int maxTokens = 1024;
    quint64 seed = 0;  // 0: a new seed per answer
    bool jsonMode = false;  // answers are one JSON object (GenerateParams::json_object)

    QJsonObject toJson() const;
    static SamplingSettings fromJson(const QJsonObject& o);
    strata::GenerateParams toGenerateParams(quint64 seedForThisAnswer) const;
    bool operator==(const SamplingSettings&) const = default;
};

struct Conversation {
    qint64 id = 0;
    QString title;
    QDateTime createdAt;
    QDateTime updatedAt;
    QString modelPath;     // the model it talks to ("" = whatever is loaded)
    QString systemPrompt;
    SamplingSettings sampling;
};

// AnswerStats::endReason values (stored in messages.end_reason).
inline constexpr QLatin1String kEndMaxTokens("max_tokens");
inline constexpr QLatin1String kEndContextFull("context_full");

// Figures shown under an answer.
struct AnswerStats {
    int nTokens = 0;
    double timeToFirstTokenMs = 0;
    double tokensPerSecond = 0;
    // Why a complete answer ended before the model finished it: "max_tokens" (the conversation's
    // token limit) or "context_full"; "" when the model ended it (or a stop string did).
    QString endReason;
    bool operator==(const AnswerStats&) const = default;
};

struct Message {
    qint64 id = 0;
    qint64 conversationId = 0;
    Role role = Role::user;
    QString content;
    QDateTime createdAt;
    MessageState state = MessageState::complete;
    AnswerStats stats;
};

// One turn as the worker receives it (role + text only).
struct ChatTurn {
    Role role = Role::user;
    QString content;
};
using ChatTurns = QList<ChatTurn>;

}  // namespace strata::app

Q_DECLARE_METATYPE(strata::app::SamplingSettings)
Q_DECLARE_METATYPE(strata::app::AnswerStats)
Q_DECLARE_METATYPE(strata::app::ChatTurn)
