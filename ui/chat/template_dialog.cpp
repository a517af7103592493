#include "chat/template_dialog.h"

#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace strata::ui {

TemplateDialog::TemplateDialog(const QString& current, const QString& modelTemplate, ApplyFn apply, QWidget* parent)
    : QDialog(parent), m_apply(std::move(apply)), m_modelTemplate(modelTemplate) {
    setWindowTitle(tr("Chat template"));
    resize(720, 520);
    auto* layout = new QVBoxLayout(this);
    auto* intro = new QLabel(tr("A Jinja chat template for this conversation, as Hugging Face templates are written: it "
                                "gets messages, tools, add_generation_prompt, bos_token and eos_token. The model's "
                                "own template is used when there is none."),
                             this);
    intro->setWordWrap(true);
    layout->addWidget(intro);
    m_editor = new QPlainTextEdit(this);
    m_editor->setObjectName(QStringLiteral("templateEditor"));
    m_editor->setAccessibleName(tr("Chat template"));
    m_editor->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_editor->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_editor->setTabChangesFocus(true);
    m_editor->setPlainText(current.isEmpty() ? modelTemplate : current);
    layout->addWidget(m_editor, 1);
    m_error = new QLabel(this);
    m_error->setObjectName(QStringLiteral("templateError"));
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("color: #b91c1c;"));
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->setVisible(false);
    layout->addWidget(m_error);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this);
    QPushButton* reset = buttons->addButton(tr("Use the model's template"), QDialogButtonBox::ResetRole);
    reset->setEnabled(!current.isEmpty());
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &TemplateDialog::save);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(reset, &QPushButton::clicked, this, &TemplateDialog::useModelTemplate);
}

QString TemplateDialog::text() const { return m_editor->toPlainText(); }
QString TemplateDialog::errorText() const { return m_error->isVisible() ? m_error->text() : QString(); }

bool TemplateDialog::applyText(const QString& text) {
    const std::optional<QString> error = m_apply ? m_apply(text) : std::nullopt;
    if (error) {
        m_error->setText(*error);
        m_error->setVisible(true);
        return false;
    }
    accept();
    return true;
}

// The model's own template saved unchanged is no custom template: the conversation keeps
// following the model's (and a later model's) own.
bool TemplateDialog::save() { return applyText(text() == m_modelTemplate ? QString() : text()); }
bool TemplateDialog::useModelTemplate() { return applyText(QString()); }

}  // namespace strata::ui
