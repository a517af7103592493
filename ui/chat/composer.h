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

signals:
    void sendRequested(const QString& text);
    void stopRequested();

protected:
    void changeEvent(QEvent* e) override;

private:
    void submit();
    void restyle();

    PromptEdit* m_edit;
    QPushButton* m_send;
    QLabel* m_hint;
    bool m_generating = false;
    bool m_restyling = false;
};

}  // namespace strata::ui
