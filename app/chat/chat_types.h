// Value types of the chat domain, shared by the store, the controller and the views.
#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>

#include "strata/chat_output.h"
#include "strata/sampling.h"

namespace strata::app {

// tool: a tool's result (API requests only; the chat does not store them).
enum class Role { system, user, assistant, tool };
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
    QString chatTemplate;  // a custom Jinja chat template ("" = the model's own)
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
    double thinkingMs = 0;  // how long the model reasoned before answering (0: it did not)
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
    QString reasoning;  // assistant: its thinking, kept apart from the answer
    // assistant, state stopped: the process ended while it streamed (a crash, a kill), not Stop.
    bool interrupted = false;
    // Answers to one question are alternatives (Regenerate adds one); one of them is shown and
    // sent to the model as history. altGroup: the id of the group's first answer (its own id
    // for that one); altIndex / altCount: its place among them (0-based) and how many there are.
    qint64 altGroup = 0;
    int altIndex = 0;
    int altCount = 1;
};

// A tool call an assistant made (strata::ToolCall's fields).
struct ChatToolCall {
    QString id;
    QString name;
    QString arguments;  // a JSON object as text
    bool operator==(const ChatToolCall&) const = default;
};

// One turn as the worker receives it.
struct ChatTurn {
    Role role = Role::user;
    QString content;
    QString reasoning;               // assistant: its thinking, for templates that take it
    QList<ChatToolCall> toolCalls;   // assistant: calls it made
    QString toolCallId;              // tool: the call this result answers
    QString name;                    // tool: the tool's name
};
using ChatTurns = QList<ChatTurn>;

// What to answer: the conversation and how to prompt it.
struct ChatRequest {
    ChatTurns turns;
    QByteArray toolsJson;       // the tools offered, a JSON array ("" = none)
    QByteArray extraVarsJson;   // more template variables, a JSON object ("" = none)
    QString customTemplate;     // "" = the model's own template
    // Continue: the answer so far; the model goes on from its end (ChatPromptRequest::assistant_prefix).
    QString continueFrom;
};

// Which template rendered a request's prompt (EngineWorker::promptReady).
struct PromptInfo {
    QString templateName;    // "the model's template", "a custom template", "built-in ChatML"
    QString warning;         // why a built-in format stands in ("" when the template was used)
    strata::OutputFormats formats;  // how the output is read (reasoning, tool calls)
};

// A finished answer parsed (EngineWorker::answerParsed): reasoning and answer apart, tool calls.
struct ParsedAnswer {
    QString reasoning;
    QString content;
    QList<ChatToolCall> toolCalls;
    QStringList problems;   // tool calls that did not parse (their text stays in `content`)
    int droppedTurns = 0;   // oldest turns left out to fit the context
};

}  // namespace strata::app

Q_DECLARE_METATYPE(strata::app::SamplingSettings)
Q_DECLARE_METATYPE(strata::app::AnswerStats)
Q_DECLARE_METATYPE(strata::app::ChatTurn)
Q_DECLARE_METATYPE(strata::app::ChatRequest)
Q_DECLARE_METATYPE(strata::app::PromptInfo)
Q_DECLARE_METATYPE(strata::app::ParsedAnswer)
