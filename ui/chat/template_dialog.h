// TemplateDialog: edits a conversation's custom Jinja chat template. The dialog does not save:
// Save hands the text to `apply` (the chat view passes one that asks the ChatController), and
// stays open showing the error when it is refused (a template that does not parse). "Use the
// model's template" applies an empty text. Modal, GUI thread.
#pragma once

#include <QDialog>
#include <functional>
#include <optional>

class QLabel;
class QPlainTextEdit;

namespace strata::ui {

class TemplateDialog : public QDialog {
    Q_OBJECT
public:
    // Returns an error to show, or nothing when the text was accepted.
    using ApplyFn = std::function<std::optional<QString>(const QString& text)>;

    // `current`: the conversation's custom template ("" = none: the editor starts from
    // `modelTemplate`, the loaded model's own, so there is something to change).
    TemplateDialog(const QString& current, const QString& modelTemplate, ApplyFn apply, QWidget* parent = nullptr);

    QString text() const;
    QString errorText() const;
    // Save / Use the model's template, as the buttons do (tests).
    bool save();
    bool useModelTemplate();

private:
    bool applyText(const QString& text);

    ApplyFn m_apply;
    QString m_modelTemplate;
    QPlainTextEdit* m_editor;
    QLabel* m_error;
};

}  // namespace strata::ui
