// MessageWidget: one message of the transcript. A user message is a bubble on the right (with
// Edit and Copy); an answer is full-width Markdown with code blocks, a line of figures (tokens,
// time to first token, tokens/s) and Copy / Regenerate / Continue, with ‹ 1/2 › arrows between
// the answers Regenerate kept. A reasoning model's thinking sits above
// the answer, collapsed to one line ("Thought for 12 s"), and opens with a click.
#pragma once

#include <QFrame>

#include "chat/chat_types.h"

class QLabel;
class QPlainTextEdit;
class QToolButton;
class QVBoxLayout;

namespace strata::ui {

class MessageWidget : public QFrame {
    Q_OBJECT
public:
    explicit MessageWidget(const app::Message& message, QWidget* parent = nullptr);

    qint64 messageId() const { return m_message.id; }
    app::Role role() const { return m_message.role; }
    const app::Message& message() const { return m_message; }
    QString text() const { return m_message.content; }

    void setMessage(const app::Message& message);
    // While streaming: new text and live figures.
    void setStreamingText(const QString& text, int nTokens, double tokensPerSecond);
    // While streaming: the reasoning so far; `thinking` until the answer starts.
    void setStreamingReasoning(const QString& reasoning, bool thinking, double thinkingMs);
    bool reasoningExpanded() const;
    QString reasoningSummary() const;  // the toggle's text ("" when there is no reasoning)
    void setCanRegenerate(bool can);
    void setCanContinue(bool can);
    // Opens the edit box (a user message) and focuses it; editOpened follows.
    void startEdit();
    QWidget* editBox() const { return m_bubble; }
    void setAssistantName(const QString& name);
    void setActionsEnabled(bool enabled);

    // The rendered blocks (for tests): prose Markdown views and code blocks in order.
    QList<QWidget*> blockWidgets() const;
    QString statsText() const;

signals:
    void copyRequested(qint64 messageId);
    void regenerateRequested();
    void continueRequested();
    void alternativeRequested(qint64 messageId, int step);  // -1 previous, +1 next
    void editOpened();
    void editSubmitted(qint64 messageId, const QString& text);

protected:
    void changeEvent(QEvent* e) override;
    void resizeEvent(QResizeEvent* e) override;

private:
    void buildUser();
    void buildAssistant();
    void renderContent();
    void updateFooter(int nTokens, double tokensPerSecond);
    void updateReasoning(bool thinking);
    void endEdit();
    void updateAlternatives();
    void growToContents();  // while streaming: never laid out shorter than the contents
    void restyle();
    void fitBubble();

    app::Message m_message;
    QString m_assistantName;
    QVBoxLayout* m_blocks = nullptr;      // assistant: prose / code widgets
    QLabel* m_userText = nullptr;         // user: the bubble's text
    QFrame* m_bubble = nullptr;
    QPlainTextEdit* m_editor = nullptr;   // user: edit-and-resend
    QWidget* m_editBar = nullptr;
    QLabel* m_header = nullptr;
    QToolButton* m_thinkToggle = nullptr; // assistant: "Thought for 12 s", opens the reasoning
    QLabel* m_thinkText = nullptr;
    QLabel* m_stats = nullptr;
    QToolButton* m_copy = nullptr;
    QToolButton* m_regenerate = nullptr;
    QToolButton* m_continue = nullptr;
    QToolButton* m_prevAlt = nullptr;     // ‹ 1/2 ›: the answer's alternatives
    QLabel* m_altLabel = nullptr;
    QToolButton* m_nextAlt = nullptr;
    QToolButton* m_edit = nullptr;
    bool m_restyling = false;
};

}  // namespace strata::ui
