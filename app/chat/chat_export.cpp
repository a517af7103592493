#include "chat/chat_export.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>
#include <QSaveFile>

#include "storage/chat_store.h"

namespace strata::app {

namespace {

QString stateNote(MessageState s) {
    switch (s) {
        case MessageState::complete: return {};
        case MessageState::streaming: return QStringLiteral("interrupted");
        case MessageState::stopped: return QStringLiteral("stopped");
        case MessageState::error: return QStringLiteral("failed");
    }
    return {};
}

QString modelFile(const Conversation& c) {
    return c.modelPath.isEmpty() ? QString() : QFileInfo(c.modelPath).fileName();
}

// Text as a Markdown blockquote, line by line (blank lines kept inside the quote).
QString quoted(const QString& text) {
    QStringList lines = text.split(QLatin1Char('\n'));
    for (QString& l : lines) l = l.isEmpty() ? QStringLiteral(">") : QStringLiteral("> ") + l;
    return lines.join(QLatin1Char('\n'));
}

}  // namespace

ExportFormat exportFormatForPath(const QString& path) {
    return QFileInfo(path).suffix().compare(QLatin1String("json"), Qt::CaseInsensitive) == 0 ? ExportFormat::json
                                                                                             : ExportFormat::markdown;
}

QString exportFileName(const QString& title, ExportFormat format) {
    QString name;
    for (const QChar ch : title.simplified()) {
        // Refused on Windows or special on Unix: / \ : * ? " < > | and control characters.
        const bool bad = ch.unicode() < 0x20 || QStringLiteral("/\\:*?\"<>|").contains(ch);
        name += bad ? QLatin1Char('-') : ch;
    }
    while (name.startsWith(QLatin1Char('.')) || name.startsWith(QLatin1Char(' '))) name.remove(0, 1);
    name = name.left(80).trimmed();
    if (name.isEmpty()) name = QStringLiteral("Chat");
    return name + (format == ExportFormat::json ? QStringLiteral(".json") : QStringLiteral(".md"));
}

QString conversationToMarkdown(const Conversation& c, const QList<Message>& messages) {
    QString out = QStringLiteral("# ") + (c.title.isEmpty() ? QStringLiteral("Chat") : c.title) + QStringLiteral("\n\n");
    QStringList about;
    if (c.createdAt.isValid()) about << QStringLiteral("started %1").arg(c.createdAt.toString(QStringLiteral("yyyy-MM-dd HH:mm")));
    if (!modelFile(c).isEmpty()) about << QStringLiteral("model %1").arg(modelFile(c));
    const SamplingSettings& s = c.sampling;
    about << QStringLiteral("temperature %1, top-k %2, top-p %3, min-p %4, repeat penalty %5")
                 .arg(s.temperature)
                 .arg(s.topK)
                 .arg(s.topP)
                 .arg(s.minP)
                 .arg(s.repeatPenalty);
    out += QStringLiteral("*Exported from Strata · ") + about.join(QStringLiteral(" · ")) + QStringLiteral("*\n\n");
    if (!c.systemPrompt.trimmed().isEmpty())
        out += QStringLiteral("**System prompt**\n\n") + quoted(c.systemPrompt) + QStringLiteral("\n\n");
    for (const Message& m : messages) {
        out += m.role == Role::user        ? QStringLiteral("## You\n\n")
               : m.role == Role::assistant ? QStringLiteral("## Assistant\n\n")
                                           : QStringLiteral("## System\n\n");
        out += m.content;
        if (!out.endsWith(QLatin1Char('\n'))) out += QLatin1Char('\n');
        QStringList notes;
        if (!stateNote(m.state).isEmpty()) notes << stateNote(m.state);
        if (m.role == Role::assistant && m.stats.nTokens > 0) {
            notes << QStringLiteral("%1 tokens").arg(m.stats.nTokens);
            if (m.stats.tokensPerSecond > 0)
                notes << QStringLiteral("%1 tok/s").arg(QString::number(m.stats.tokensPerSecond, 'f', 1));
        }
        if (m.stats.endReason == kEndMaxTokens) notes << QStringLiteral("reached the token limit");
        else if (m.stats.endReason == kEndContextFull) notes << QStringLiteral("the context was full");
        if (!notes.isEmpty()) out += QStringLiteral("\n*") + notes.join(QStringLiteral(" · ")) + QStringLiteral("*\n");
        out += QLatin1Char('\n');
    }
    while (out.endsWith(QStringLiteral("\n\n"))) out.chop(1);
    return out;
}

QJsonObject conversationToJson(const Conversation& c, const QList<Message>& messages) {
    QJsonArray list;
    if (!c.systemPrompt.isEmpty())
        list.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("system")}, {QStringLiteral("content"), c.systemPrompt}});
    for (const Message& m : messages) {
        QJsonObject o{{QStringLiteral("role"), roleName(m.role)}, {QStringLiteral("content"), m.content}};
        if (m.createdAt.isValid()) o.insert(QStringLiteral("created"), m.createdAt.toString(Qt::ISODateWithMs));
        if (m.state != MessageState::complete) o.insert(QStringLiteral("state"), messageStateName(m.state));
        if (!m.stats.endReason.isEmpty()) o.insert(QStringLiteral("end_reason"), m.stats.endReason);
        if (m.role == Role::assistant && m.stats.nTokens > 0) {
            o.insert(QStringLiteral("tokens"), m.stats.nTokens);
            o.insert(QStringLiteral("tokens_per_second"), m.stats.tokensPerSecond);
            o.insert(QStringLiteral("time_to_first_token_ms"), m.stats.timeToFirstTokenMs);
        }
        list.append(o);
    }
    QJsonObject root{{QStringLiteral("title"), c.title},
                     {QStringLiteral("model"), c.modelPath},
                     {QStringLiteral("sampling"), c.sampling.toJson()},
                     {QStringLiteral("messages"), list},
                     {QStringLiteral("exported_by"), QStringLiteral("Strata")}};
    if (c.createdAt.isValid()) root.insert(QStringLiteral("created"), c.createdAt.toString(Qt::ISODateWithMs));
    if (c.updatedAt.isValid()) root.insert(QStringLiteral("updated"), c.updatedAt.toString(Qt::ISODateWithMs));
    return root;
}

QString exportConversation(const ChatStore& store, qint64 id, const QString& path) {
    const QString file = QFileInfo(path).fileName();
    const auto c = store.conversation(id);
    if (!c) return QStringLiteral("Could not export: the conversation no longer exists.");
    const QList<Message> messages = store.messages(id);
    const QByteArray bytes = exportFormatForPath(path) == ExportFormat::json
                                 ? QJsonDocument(conversationToJson(*c, messages)).toJson(QJsonDocument::Indented)
                                 : conversationToMarkdown(*c, messages).toUtf8();
    // QSaveFile writes a temporary file beside the target and renames it only when every byte
    // is on disk: a full disk or a cancelled write never leaves half a file in its place.
    QSaveFile out(path);
    if (!out.open(QIODevice::WriteOnly))
        return QStringLiteral("Could not export to %1: %2").arg(file.isEmpty() ? path : file, out.errorString());
    if (out.write(bytes) != bytes.size() || !out.commit())
        return QStringLiteral("Could not export to %1: %2").arg(file, out.errorString());
    return {};
}

}  // namespace strata::app
