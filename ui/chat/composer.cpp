#include "chat/composer.h"

#include <QAbstractTextDocumentLayout>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QPushButton>
#include <QTextBlock>
#include <QVBoxLayout>

#include "common/icons.h"
#include "common/theme.h"

namespace strata::ui {

PromptEdit::PromptEdit(QWidget* parent) : QPlainTextEdit(parent) {
    setPlaceholderText(tr("Message the model…"));
    setTabChangesFocus(true);
    setFrameShape(QFrame::NoFrame);
    setVerticalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    setStyleSheet(QStringLiteral("QPlainTextEdit { border: none; background: transparent; padding: 0; }"));
    connect(this, &QPlainTextEdit::blockCountChanged, this, &QWidget::updateGeometry);
    connect(document()->documentLayout(), &QAbstractTextDocumentLayout::documentSizeChanged, this,
            &QWidget::updateGeometry);
}

int PromptEdit::heightForLines(int lines) const {
    const QFontMetrics fm(font());
    return lines * fm.lineSpacing() + 2 * int(document()->documentMargin()) + 4;
}

QSize PromptEdit::sizeHint() const {
    // Visual lines (wrapped), between 1 and 8.
    int lines = 0;
    for (QTextBlock b = document()->begin(); b.isValid(); b = b.next())
        lines += qMax(1, b.layout() ? b.layout()->lineCount() : 1);
    return {400, heightForLines(qBound(1, lines, 8))};
}

QSize PromptEdit::minimumSizeHint() const { return {120, heightForLines(1)}; }

void PromptEdit::keyPressEvent(QKeyEvent* e) {
    const bool enter = e->key() == Qt::Key_Return || e->key() == Qt::Key_Enter;
    if (enter && !(e->modifiers() & Qt::ShiftModifier)) {
        emit submitted();
        return;
    }
    if (enter) {  // Shift+Enter: a new line, not a paragraph separator
        insertPlainText(QStringLiteral("\n"));
        return;
    }
    QPlainTextEdit::keyPressEvent(e);
}

Composer::Composer(QWidget* parent) : QFrame(parent) {
    setObjectName(QStringLiteral("composer"));
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(14, 10, 10, 8);
    outer->setSpacing(4);
    auto* row = new QHBoxLayout();
    row->setSpacing(8);
    m_edit = new PromptEdit(this);
    m_send = new QPushButton(this);
    m_send->setFixedSize(36, 36);
    m_send->setIconSize({18, 18});
    m_send->setCursor(Qt::PointingHandCursor);
    row->addWidget(m_edit, 1);
    row->addWidget(m_send, 0, Qt::AlignBottom);
    outer->addLayout(row);
    // Why nothing can be sent (no model), and the way out.
    m_blocked = new QWidget(this);
    m_blocked->setObjectName(QStringLiteral("composerBlocked"));
    auto* bl = new QHBoxLayout(m_blocked);
    bl->setContentsMargins(0, 0, 0, 0);
    bl->setSpacing(8);
    m_blockedText = new QLabel(m_blocked);
    m_blockedText->setWordWrap(true);
    m_blockedText->setMinimumWidth(1);
    m_blockedAction = new QPushButton(tr("Open the Library"), m_blocked);
    m_blockedAction->setAccessibleName(tr("Open the Library to load a model"));
    bl->addWidget(m_blockedText, 1);
    bl->addWidget(m_blockedAction, 0);
    m_blocked->setVisible(false);
    outer->addWidget(m_blocked);
    connect(m_blockedAction, &QPushButton::clicked, this, &Composer::libraryRequested);
    m_hint = new QLabel(this);
    m_hint->setProperty("muted", true);
    m_hint->setStyleSheet(QStringLiteral("font-size: 11px;"));
    outer->addWidget(m_hint);
    setHint(tr("Enter to send · Shift+Enter for a new line"));

    connect(m_edit, &PromptEdit::submitted, this, &Composer::submit);
    connect(m_send, &QPushButton::clicked, this, [this] {
        if (m_generating) emit stopRequested();
        else submit();
    });
    connect(m_edit, &QPlainTextEdit::textChanged, this, [this] {
        if (!m_generating) m_send->setEnabled(canSubmit());
    });
    setGenerating(false);
}

void Composer::setHint(const QString& hint) { m_hint->setText(hint); }

bool Composer::canSubmit() const { return m_blockedReason.isEmpty() && !m_edit->toPlainText().trimmed().isEmpty(); }

void Composer::setBlocked(const QString& reason) {
    m_blockedReason = reason;
    m_blockedText->setText(reason);
    m_blocked->setVisible(!reason.isEmpty());
    m_hint->setVisible(reason.isEmpty());  // "Enter to send" would contradict it
    m_send->setEnabled(m_generating || canSubmit());
}

void Composer::submit() {
    if (m_generating) return;
    if (!m_blockedReason.isEmpty()) {  // the text stays; the notice says why
        m_blockedAction->setFocus();
        return;
    }
    const QString text = m_edit->toPlainText();
    if (text.trimmed().isEmpty()) return;
    m_edit->clear();
    emit sendRequested(text);
}

void Composer::restoreDraft(const QString& text) {
    const QString typed = m_edit->toPlainText();
    m_edit->setPlainText(typed.trimmed().isEmpty() ? text : text + QStringLiteral("\n\n") + typed);
    m_edit->moveCursor(QTextCursor::End);
    m_edit->setFocus();
}

void Composer::setGenerating(bool generating) {
    m_generating = generating;
    m_send->setToolTip(generating ? tr("Stop (Esc)") : tr("Send (Enter)"));
    m_send->setEnabled(generating || canSubmit());
    restyle();
}

void Composer::restyle() {
    const ThemeColors& c = currentColors();
    setStyleSheet(QStringLiteral("#composer { background: %1; border: 1px solid %2; border-radius: 14px; }")
                      .arg(c.surface.name(), c.border.name()));
    const QColor bg = m_generating ? c.text : c.accent;
    m_send->setIcon(icon(m_generating ? QStringLiteral("stop") : QStringLiteral("send"),
                         m_generating ? c.surface : QColor(Qt::white)));
    m_send->setStyleSheet(QStringLiteral("QPushButton { background: %1; border: none; border-radius: 18px; padding: 0;"
                                         " min-width: 36px; max-width: 36px; min-height: 36px; max-height: 36px; }"
                                         "QPushButton:disabled { background: %2; }")
                              .arg(bg.name(), c.border.name()));
}

void Composer::changeEvent(QEvent* e) {
    QFrame::changeEvent(e);
    if (e->type() == QEvent::PaletteChange && !m_restyling) {
        m_restyling = true;
        restyle();
        m_restyling = false;
    }
}

}  // namespace strata::ui
