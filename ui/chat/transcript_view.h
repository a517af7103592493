// TranscriptView: the messages of the open conversation, in a scrolling column of readable
// width; follows the end while an answer streams unless the user scrolled up.
#pragma once

#include <QScrollArea>

#include "chat/chat_types.h"

class QLabel;
class QVBoxLayout;

namespace strata::ui {

class MessageWidget;

class TranscriptView : public QScrollArea {
    Q_OBJECT
public:
    static constexpr int kColumnWidth = 860;

    explicit TranscriptView(QWidget* parent = nullptr);

    void setMessages(const QList<app::Message>& messages);
    void appendMessage(const app::Message& message);
    void removeFrom(qint64 messageId);
    void updateMessage(const app::Message& message);
    // Another alternative of an answer is shown in its place.
    void replaceMessage(qint64 oldId, const app::Message& message);
    void setStreamingText(qint64 messageId, const QString& text, int nTokens, double tokensPerSecond);
    void setStreamingReasoning(qint64 messageId, const QString& reasoning, bool thinking, double thinkingMs);
    void setGenerating(bool generating);
    void setAssistantName(const QString& name);
    void setEmptyText(const QString& title, const QString& hint);

    MessageWidget* messageWidget(qint64 messageId) const;
    QList<MessageWidget*> messageWidgets() const;
    void scrollToEnd();

signals:
    void copyRequested(qint64 messageId);
    void regenerateRequested();
    void continueRequested();
    void alternativeRequested(qint64 messageId, int step);
    void editSubmitted(qint64 messageId, const QString& text);

private:
    MessageWidget* addWidget(const app::Message& message);
    void discard(MessageWidget* w);
    void updateActions();
    void revealEditor(MessageWidget* w);
    void relayoutNow(MessageWidget* w);   // after w changed size: lay out the column now  // an edit box just opened: into view, focused
    bool atEnd() const;

    QWidget* m_column;
    QVBoxLayout* m_layout;
    QWidget* m_empty;
    QLabel* m_emptyTitle;
    QLabel* m_emptyHint;
    QString m_assistantName;
    bool m_generating = false;
    bool m_follow = true;
};

}  // namespace strata::ui
