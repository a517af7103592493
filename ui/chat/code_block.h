// CodeBlock: one fenced code block of an answer — monospace, no wrapping (scrolls sideways),
// a header with the language and a Copy button.
#pragma once

#include <QFrame>

class QLabel;
class QPlainTextEdit;
class QToolButton;

namespace strata::ui {

class CodeBlock : public QFrame {
    Q_OBJECT
public:
    explicit CodeBlock(QWidget* parent = nullptr);

    void setCode(const QString& code, const QString& language);
    QString code() const { return m_code; }
    QToolButton* copyButton() const { return m_copy; }

signals:
    void copied();

protected:
    void changeEvent(QEvent* e) override;

private:
    void updateHeight();
    void restyle();

    QString m_code;
    QLabel* m_language;
    QToolButton* m_copy;
    QPlainTextEdit* m_text;
    bool m_restyling = false;
};

}  // namespace strata::ui
