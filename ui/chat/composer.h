// Composer: where the user types. Enter sends, Shift+Enter adds a line; grows to eight lines;
// the button is Send, or Stop while an answer streams.
#pragma once

#include <QFrame>
#include <QPlainTextEdit>

class QLabel;
class QPushButton;

namespace strata::ui {

class PromptEdit : public QPlainTextEdit {
    Q_OBJECT
public:
    explicit PromptEdit(QWidget* parent = nullptr);
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

signals:
    void submitted();

protected:
    void keyPressEvent(QKeyEvent* e) override;

private:
    int heightForLines(int lines) const;
};

class Composer : public QFrame {
    Q_OBJECT
public:
    explicit Composer(QWidget* parent = nullptr);

    PromptEdit* editor() const { return m_edit; }
    QPushButton* sendButton() const { return m_send; }
    void setGenerating(bool generating);
    bool isGenerating() const { return m_generating; }
    void setHint(const QString& hint);
    // Puts text that could not be sent back in front of what was typed since (if anything).
    void restoreDraft(const QString& text);
    // Non-empty: nothing can be sent, and this says why ("Load a model first…") above an
    // "Open the Library" button; typing still works and the text waits.
    void setBlocked(const QString& reason);
    QString blockedReason() const { return m_blockedReason; }
    QPushButton* blockedAction() const { return m_blockedAction; }

signals:
    void sendRequested(const QString& text);
    void stopRequested();
    void libraryRequested();  // the blocked notice's button

protected:
    void changeEvent(QEvent* e) override;

private:
    void submit();
    void restyle();
    bool canSubmit() const;

    PromptEdit* m_edit;
    QPushButton* m_send;
    QLabel* m_hint;
    QWidget* m_blocked;
    QLabel* m_blockedText;
    QPushButton* m_blockedAction;
    QString m_blockedReason;
    bool m_generating = false;
    bool m_restyling = false;
};

}  // namespace strata::ui
