#include "storage/chat_store.h"

#include <QJsonDocument>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include "storage/database.h"

namespace strata::app {

namespace {

constexpr const char* kInsertConversation =
    "INSERT INTO conversations (title, created_at, updated_at, model_path, system_prompt, sampling_json,"
    " chat_template) VALUES (?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kRenameConversation = "UPDATE conversations SET title = ? WHERE id = ?";
constexpr const char* kSetConversationSettings =
    "UPDATE conversations SET model_path = ?, system_prompt = ?, sampling_json = ? WHERE id = ?";
constexpr const char* kSetConversationTemplate = "UPDATE conversations SET chat_template = ? WHERE id = ?";
constexpr const char* kTouchConversation = "UPDATE conversations SET updated_at = ? WHERE id = ?";
constexpr const char* kSoftDeleteConversation = "UPDATE conversations SET deleted_at = ? WHERE id = ?";
constexpr const char* kRestoreConversation = "UPDATE conversations SET deleted_at = NULL WHERE id = ?";
constexpr const char* kPurgeDeleted = "DELETE FROM conversations WHERE deleted_at IS NOT NULL";
constexpr const char* kSelectConversation =
    "SELECT id, title, created_at, updated_at, model_path, system_prompt, sampling_json, chat_template FROM conversations"
    " WHERE id = ?";
constexpr const char* kSelectConversations =
    "SELECT id, title, created_at, updated_at, model_path, system_prompt, sampling_json, chat_template FROM conversations"
    " WHERE deleted_at IS NULL ORDER BY updated_at DESC, id DESC";
// instr() on lower() keeps the search text a bound value (no LIKE wildcards to escape).
constexpr const char* kSearchConversations =
    "SELECT id, title, created_at, updated_at, model_path, system_prompt, sampling_json, chat_template FROM conversations c"
    " WHERE deleted_at IS NULL AND (instr(lower(title), lower(?)) > 0 OR EXISTS ("
    "  SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND instr(lower(m.content), lower(?)) > 0))"
    " ORDER BY updated_at DESC, id DESC";

constexpr const char* kInsertMessage =
    "INSERT INTO messages (conversation_id, role, content, created_at, state, alt_group) VALUES (?, ?, ?, ?, ?, ?)";
constexpr const char* kUpdateMessage =
    "UPDATE messages SET content = ?, state = ?, n_tokens = ?, ttft_ms = ?, tokens_per_second = ?, end_reason = ?,"
    " reasoning = ?, thinking_ms = ? WHERE id = ?";
constexpr const char* kDeleteMessagesFrom = "DELETE FROM messages WHERE conversation_id = ? AND id >= ?";
// The columns readMessage() reads; the last two place an answer among its alternatives (a
// group is named by its first answer's id, or is the answer alone when alt_group is 0).
#define STRATA_MESSAGE_COLUMNS                                                                       \
    "SELECT id, conversation_id, role, content, created_at, state, n_tokens, ttft_ms, tokens_per_second, end_reason," \
    " reasoning, thinking_ms, interrupted, alt_group,"                                               \
    " (SELECT count(*) FROM messages a WHERE a.conversation_id = m.conversation_id"                   \
    "   AND (a.id = m.alt_group OR a.alt_group = m.alt_group) AND a.id < m.id AND m.alt_group <> 0),"  \
    " (SELECT count(*) FROM messages a WHERE a.conversation_id = m.conversation_id"                   \
    "   AND (a.id = m.alt_group OR a.alt_group = m.alt_group) AND m.alt_group <> 0)"                  \
    " FROM messages m"
constexpr const char* kSelectMessage = STRATA_MESSAGE_COLUMNS " WHERE id = ?";
constexpr const char* kSelectMessages = STRATA_MESSAGE_COLUMNS " WHERE conversation_id = ? AND shown = 1 ORDER BY id";
constexpr const char* kSelectAlternatives =
    STRATA_MESSAGE_COLUMNS " WHERE conversation_id = ? AND (id = ? OR alt_group = ?) ORDER BY id";
#undef STRATA_MESSAGE_COLUMNS
constexpr const char* kHideAlternatives =
    "UPDATE messages SET shown = 0 WHERE conversation_id = ? AND (id = ? OR alt_group = ?)";
constexpr const char* kShowMessage = "UPDATE messages SET shown = 1 WHERE id = ?";
constexpr const char* kGroupFirst = "UPDATE messages SET alt_group = id WHERE id = ? AND alt_group = 0";
constexpr const char* kMarkInterrupted =
    "UPDATE messages SET state = 'stopped', interrupted = 1 WHERE state = 'streaming'";
constexpr const char* kClearInterrupted = "UPDATE messages SET interrupted = 0 WHERE id = ?";

qint64 nowMs() { return QDateTime::currentMSecsSinceEpoch(); }

// A null QString binds as SQL NULL; text columns are NOT NULL, so bind "" instead.
QVariant text(const QString& s) { return s.isNull() ? QVariant(QStringLiteral("")) : QVariant(s); }

Conversation readConversation(const QSqlQuery& q) {
    Conversation c;
    c.id = q.value(0).toLongLong();
    c.title = q.value(1).toString();
    c.createdAt = QDateTime::fromMSecsSinceEpoch(q.value(2).toLongLong());
    c.updatedAt = QDateTime::fromMSecsSinceEpoch(q.value(3).toLongLong());
    c.modelPath = q.value(4).toString();
    c.systemPrompt = q.value(5).toString();
    c.sampling = SamplingSettings::fromJson(QJsonDocument::fromJson(q.value(6).toByteArray()).object());
    c.chatTemplate = q.value(7).toString();
    return c;
}

Message readMessage(const QSqlQuery& q) {
    Message m;
    m.id = q.value(0).toLongLong();
    m.conversationId = q.value(1).toLongLong();
    parseRole(q.value(2).toString(), m.role);
    m.content = q.value(3).toString();
    m.createdAt = QDateTime::fromMSecsSinceEpoch(q.value(4).toLongLong());
    m.state = parseMessageState(q.value(5).toString());
    m.stats.nTokens = q.value(6).toInt();
    m.stats.timeToFirstTokenMs = q.value(7).toDouble();
    m.stats.tokensPerSecond = q.value(8).toDouble();
    m.stats.endReason = q.value(9).toString();
    m.reasoning = q.value(10).toString();
    m.stats.thinkingMs = q.value(11).toDouble();
    m.interrupted = q.value(12).toInt() != 0;
    m.altGroup = q.value(13).toLongLong();
    m.altIndex = q.value(14).toInt();
    m.altCount = qMax(1, q.value(15).toInt());
    return m;
}

QString samplingJson(const SamplingSettings& s) {
    return QString::fromUtf8(QJsonDocument(s.toJson()).toJson(QJsonDocument::Compact));
}

}  // namespace

ChatStore::ChatStore(Database& db) : m_db(db) {}

QString ChatStore::lastError() const { return m_error; }

bool ChatStore::run(QSqlQuery& q, const char* sql, std::initializer_list<QVariant> values) const {
    if (!q.prepare(QString::fromLatin1(sql))) {
        m_error = QStringLiteral("%1: %2").arg(QString::fromLatin1(sql), q.lastError().text());
        return false;
    }
    for (const QVariant& v : values) q.addBindValue(v);
    if (!q.exec()) {
        m_error = QStringLiteral("%1: %2").arg(QString::fromLatin1(sql), q.lastError().text());
        return false;
    }
    return true;
}

std::optional<qint64> ChatStore::createConversation(const Conversation& c) {
    const qint64 now = nowMs();
    Transaction tx(m_db);
    if (!tx.active()) return std::nullopt;
    QSqlQuery q(m_db.connection());
    if (!run(q, kInsertConversation, {text(c.title), QVariant(now), QVariant(now), text(c.modelPath),
               text(c.systemPrompt), QVariant(samplingJson(c.sampling)), text(c.chatTemplate)})) return {};
    const qint64 id = q.lastInsertId().toLongLong();
    if (!tx.commit()) return std::nullopt;
    return id;
}

bool ChatStore::renameConversation(qint64 id, const QString& title) {
    QSqlQuery q(m_db.connection());
    if (!run(q, kRenameConversation, {text(title), QVariant(id)})) return {};
    return q.numRowsAffected() == 1;
}

bool ChatStore::setConversationSettings(qint64 id, const QString& modelPath, const QString& systemPrompt,
                                        const SamplingSettings& sampling) {
    QSqlQuery q(m_db.connection());
    if (!run(q, kSetConversationSettings, {text(modelPath), text(systemPrompt),
               QVariant(samplingJson(sampling)), QVariant(id)})) return {};
    return q.numRowsAffected() == 1;
}

bool ChatStore::setConversationTemplate(qint64 id, const QString& chatTemplate) {
    QSqlQuery q(m_db.connection());
    if (!run(q, kSetConversationTemplate, {text(chatTemplate), QVariant(id)})) return {};
    return q.numRowsAffected() == 1;
}

bool ChatStore::touchConversation(qint64 id, qint64 now) {
    QSqlQuery q(m_db.connection());
    if (!run(q, kTouchConversation, {QVariant(now), QVariant(id)})) return {};
    return true;
}

bool ChatStore::deleteConversation(qint64 id) {
    QSqlQuery q(m_db.connection());
    if (!run(q, kSoftDeleteConversation, {QVariant(nowMs()), QVariant(id)})) return {};
    return q.numRowsAffected() == 1;
}

bool ChatStore::restoreConversation(qint64 id) {
    QSqlQuery q(m_db.connection());
    if (!run(q, kRestoreConversation, {QVariant(id)})) return {};
    return q.numRowsAffected() == 1;
}

bool ChatStore::purgeDeleted() {
    Transaction tx(m_db);
    if (!tx.active()) return false;
    QSqlQuery q(m_db.connection());
    if (!run(q, kPurgeDeleted, {})) return {};
    return tx.commit();
}

std::optional<Conversation> ChatStore::conversation(qint64 id) const {
    QSqlQuery q(m_db.connection());
    if (!run(q, kSelectConversation, {QVariant(id)}) || !q.next()) return std::nullopt;
    return readConversation(q);
}

QList<Conversation> ChatStore::conversations(const QString& search) const {
    QSqlQuery q(m_db.connection());
    const QString trimmed = search.trimmed();
    QList<Conversation> out;
    const bool ok = trimmed.isEmpty() ? run(q, kSelectConversations, {})
                                      : run(q, kSearchConversations, {QVariant(trimmed), QVariant(trimmed)});
    if (!ok) return out;
    while (q.next()) out.append(readConversation(q));
    return out;
}

std::optional<qint64> ChatStore::appendMessage(qint64 conversationId, Role role, const QString& content,
                                               MessageState state, qint64 altGroup) {
    const qint64 now = nowMs();
    Transaction tx(m_db);
    if (!tx.active()) return std::nullopt;
    QSqlQuery q(m_db.connection());
    if (!run(q, kInsertMessage, {QVariant(conversationId), QVariant(roleName(role)), text(content),
               QVariant(now), QVariant(messageStateName(state)), QVariant(altGroup)})) return {};
    const qint64 id = q.lastInsertId().toLongLong();
    if (!touchConversation(conversationId, now)) return std::nullopt;
    if (!tx.commit()) {
        m_error = m_db.lastError();
        return std::nullopt;
    }
    return id;
}

bool ChatStore::updateMessage(qint64 messageId, const QString& content, MessageState state,
                              const AnswerStats& stats, const QString& reasoning) {
    Transaction tx(m_db);
    if (!tx.active()) return false;
    QSqlQuery q(m_db.connection());
    if (!run(q, kUpdateMessage, {text(content), QVariant(messageStateName(state)), QVariant(stats.nTokens),
               QVariant(stats.timeToFirstTokenMs), QVariant(stats.tokensPerSecond), text(stats.endReason),
               text(reasoning), QVariant(stats.thinkingMs), QVariant(messageId)})) return {};
    if (q.numRowsAffected() != 1) {
        m_error = QStringLiteral("message %1 does not exist").arg(messageId);
        return false;
    }
    return tx.commit();
}

bool ChatStore::deleteMessagesFrom(qint64 conversationId, qint64 messageId) {
    Transaction tx(m_db);
    if (!tx.active()) return false;
    {
        QSqlQuery q(m_db.connection());
    if (!run(q, kDeleteMessagesFrom, {QVariant(conversationId), QVariant(messageId)})) return {};
    }
    if (!touchConversation(conversationId, nowMs())) return false;
    return tx.commit();
}

std::optional<Message> ChatStore::message(qint64 id) const {
    QSqlQuery q(m_db.connection());
    if (!run(q, kSelectMessage, {QVariant(id)}) || !q.next()) return std::nullopt;
    return readMessage(q);
}

QList<Message> ChatStore::messages(qint64 conversationId) const {
    QSqlQuery q(m_db.connection());
    QList<Message> out;
    if (!run(q, kSelectMessages, {QVariant(conversationId)})) return out;
    while (q.next()) out.append(readMessage(q));
    return out;
}

std::optional<qint64> ChatStore::addAlternative(qint64 conversationId, qint64 answerId) {
    const auto answer = message(answerId);
    if (!answer || answer->conversationId != conversationId || answer->role != Role::assistant) {
        if (m_error.isEmpty() || answer) m_error = QStringLiteral("message %1 is not an answer of conversation %2")
                                                       .arg(answerId).arg(conversationId);
        return std::nullopt;
    }
    const qint64 group = answer->altGroup != 0 ? answer->altGroup : answerId;
    const qint64 now = nowMs();
    Transaction tx(m_db);
    if (!tx.active()) return std::nullopt;
    {
        QSqlQuery q(m_db.connection());
        if (!run(q, kGroupFirst, {QVariant(answerId)})) return std::nullopt;
    }
    {
        QSqlQuery q(m_db.connection());
        if (!run(q, kHideAlternatives, {QVariant(conversationId), QVariant(group), QVariant(group)})) return std::nullopt;
    }
    QSqlQuery q(m_db.connection());
    if (!run(q, kInsertMessage, {QVariant(conversationId), QVariant(roleName(Role::assistant)), text(QString()),
               QVariant(now), QVariant(messageStateName(MessageState::streaming)), QVariant(group)})) return std::nullopt;
    const qint64 id = q.lastInsertId().toLongLong();
    if (!touchConversation(conversationId, now)) return std::nullopt;
    if (!tx.commit()) {
        m_error = m_db.lastError();
        return std::nullopt;
    }
    return id;
}

bool ChatStore::showAlternative(qint64 conversationId, qint64 answerId) {
    const auto answer = message(answerId);
    if (!answer || answer->conversationId != conversationId || answer->altGroup == 0) {
        m_error = QStringLiteral("message %1 has no alternatives").arg(answerId);
        return false;
    }
    Transaction tx(m_db);
    if (!tx.active()) return false;
    {
        QSqlQuery q(m_db.connection());
        if (!run(q, kHideAlternatives, {QVariant(conversationId), QVariant(answer->altGroup), QVariant(answer->altGroup)}))
            return false;
    }
    QSqlQuery q(m_db.connection());
    if (!run(q, kShowMessage, {QVariant(answerId)})) return false;
    return tx.commit();
}

QList<Message> ChatStore::alternatives(qint64 conversationId, qint64 answerId) const {
    QList<Message> out;
    const auto answer = message(answerId);
    if (!answer) return out;
    if (answer->altGroup == 0) return {*answer};
    QSqlQuery q(m_db.connection());
    if (!run(q, kSelectAlternatives, {QVariant(conversationId), QVariant(answer->altGroup), QVariant(answer->altGroup)}))
        return out;
    while (q.next()) out.append(readMessage(q));
    return out;
}

bool ChatStore::clearInterrupted(qint64 messageId) {
    QSqlQuery q(m_db.connection());
    return run(q, kClearInterrupted, {QVariant(messageId)});
}

int ChatStore::markInterruptedAnswers() {
    QSqlQuery q(m_db.connection());
    if (!run(q, kMarkInterrupted, {})) return 0;
    return q.numRowsAffected();
}

}  // namespace strata::app
