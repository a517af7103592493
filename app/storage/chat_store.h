// ChatStore: conversations and messages in the SQLite data file.
//
// Every write is one transaction; a message committed here survives the process being killed
// (WAL). Use from the thread that opened the Database. Methods that can fail return false /
// std::nullopt / an empty list and leave the reason in lastError().
#pragma once

#include <QList>
#include <QString>
#include <QVariant>
#include <initializer_list>
#include <optional>

#include "chat/chat_types.h"

class QSqlQuery;

namespace strata::app {

class Database;

class ChatStore {
public:
    explicit ChatStore(Database& db);

    // ---- conversations
    std::optional<qint64> createConversation(const Conversation& c);
    bool renameConversation(qint64 id, const QString& title);
    bool setConversationSettings(qint64 id, const QString& modelPath, const QString& systemPrompt,
                                 const SamplingSettings& sampling);
    bool setConversationTemplate(qint64 id, const QString& chatTemplate);  // "" = the model's own
    // Soft delete: hidden at once, removed for good by purgeDeleted() (so Undo can restore it).
    bool deleteConversation(qint64 id);
    bool restoreConversation(qint64 id);
    bool purgeDeleted();
    std::optional<Conversation> conversation(qint64 id) const;
    // Live conversations, most recently updated first; with `search`, those whose title or any
    // message contains it (case-insensitive for ASCII).
    QList<Conversation> conversations(const QString& search = {}) const;

    // ---- messages
    std::optional<qint64> appendMessage(qint64 conversationId, Role role, const QString& content,
                                        MessageState state = MessageState::complete, qint64 altGroup = 0);
    // Saves an answer's text (and reasoning) while it streams, and its final state and figures
    // when it ends.
    bool updateMessage(qint64 messageId, const QString& content, MessageState state, const AnswerStats& stats = {},
                       const QString& reasoning = {});
    // Removes this message and every later one of its conversation (regenerate, edit-and-resend).
    bool deleteMessagesFrom(qint64 conversationId, qint64 messageId);
    std::optional<Message> message(qint64 id) const;
    // The conversation as shown: of each answer's alternatives, the one shown.
    QList<Message> messages(qint64 conversationId) const;

    // ---- alternatives (Regenerate keeps the earlier answer; see schema v6)
    // A new, empty streaming answer beside `answerId` (an answer of this conversation), which
    // becomes the one shown; the id of the new answer.
    std::optional<qint64> addAlternative(qint64 conversationId, qint64 answerId);
    // Shows this answer instead of its alternatives.
    bool showAlternative(qint64 conversationId, qint64 answerId);
    // The answer and its alternatives, oldest first (just the answer when it has none).
    QList<Message> alternatives(qint64 conversationId, qint64 answerId) const;

    // Answers a crash left in the 'streaming' state become 'stopped' and interrupted (called
    // once at startup); their text and figures are those of their last save.
    int markInterruptedAnswers();
    // An interrupted answer is being continued: it is no longer marked so.
    bool clearInterrupted(qint64 messageId);

    QString lastError() const;

private:
    bool touchConversation(qint64 id, qint64 nowMs);
    // Prepares `sql`, binds `values` in order and runs it; false with m_error set on failure.
    bool run(QSqlQuery& q, const char* sql, std::initializer_list<QVariant> values) const;

    Database& m_db;
    mutable QString m_error;
};

}  // namespace strata::app
