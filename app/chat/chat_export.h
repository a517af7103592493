// Exporting a conversation to a file the user keeps: Markdown to read or share, JSON (messages
// in the OpenAI chat format plus Strata's figures) for scripts. Pure functions of the store's
// contents, plus one writer that replaces the target atomically (QSaveFile): a full disk or a
// bad path leaves any existing file as it was and says why. GUI-thread or any thread; no state.
#pragma once

#include <QJsonObject>
#include <QList>
#include <QString>

#include "chat/chat_types.h"

namespace strata::app {

class ChatStore;

enum class ExportFormat { markdown, json };

// .json → JSON, anything else → Markdown.
ExportFormat exportFormatForPath(const QString& path);

// A file name for the conversation's title ("Running a 70B model on two GPUs.md"): characters
// that file systems refuse are replaced, the length is capped, and "Chat" stands in for nothing.
QString exportFileName(const QString& title, ExportFormat format);

QString conversationToMarkdown(const Conversation& c, const QList<Message>& messages);
QJsonObject conversationToJson(const Conversation& c, const QList<Message>& messages);

// Writes conversation `id` from `store` to `path` in the format its suffix names. Returns an
// empty string on success, else a message for the user naming the file and the reason.
QString exportConversation(const ChatStore& store, qint64 id, const QString& path);

}  // namespace strata::app
