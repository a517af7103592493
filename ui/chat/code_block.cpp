#include "chat/code_block.h"

#include <QApplication>
#include <QClipboard>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QScrollBar>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include "common/icons.h"
#include "common/theme.h"

namespace strata::ui {

CodeBlock::CodeBlock(QWidget* parent) : QFrame(parent) {
    setObjectName(QStringLiteral("codeBlock"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);

    auto* header = new QFrame(this);
    header->setObjectName(QStringLiteral("codeHeader"));
    auto* hl = new QHBoxLayout(header);
    hl->setContentsMargins(12, 3, 4, 3);
    m_language = new QLabel(header);
    m_language->setProperty("muted", true);
    m_copy = new QToolButton(header);
    m_copy->setText(tr("Copy"));
    m_copy->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_copy->setToolTip(tr("Copy the code"));
    m_copy->setCursor(Qt::PointingHandCursor);
    hl->addWidget(m_language);
    hl->addStretch();
    hl->addWidget(m_copy);
    layout->addWidget(header);

    m_text = new QPlainTextEdit(this);
    m_text->setReadOnly(true);
    m_text->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_text->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_text->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    m_text->setFrameShape(QFrame::NoFrame);
    m_text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    layout->addWidget(m_text);

    connect(m_copy, &QToolButton::clicked, this, [this] {
        QApplication::clipboard()->setText(m_code);
        m_copy->setText(tr("Copied"));
        QTimer::singleShot(1500, this, [this] { m_copy->setText(tr("Copy")); });
        emit copied();
    });
    connect(m_text->horizontalScrollBar(), &QScrollBar::rangeChanged, this, &CodeBlock::updateHeight);
    restyle();
}

void CodeBlock::setCode(const QString& code, const QString& language) {
    m_language->setText(language.isEmpty() ? tr("code") : language);
    if (code == m_code) return;
    m_code = code;
    m_text->setPlainText(code);
    updateHeight();
}

void CodeBlock::updateHeight() {
    const int lines = qMax(1, m_text->document()->blockCount());
    const QFontMetrics fm(m_text->font());
    int h = lines * fm.lineSpacing() + 2 * int(m_text->document()->documentMargin()) + 6;
    if (m_text->horizontalScrollBar()->maximum() > 0) h += m_text->horizontalScrollBar()->sizeHint().height();
    m_text->setFixedHeight(h);
}

void CodeBlock::restyle() {
    const ThemeColors& c = currentColors();
    setStyleSheet(QStringLiteral("#codeBlock { background: %1; border: 1px solid %2; border-radius: 8px; }"
                                 "#codeHeader { background: transparent; border-bottom: 1px solid %2; }"
                                 "QPlainTextEdit { background: %1; border: none; padding: 4px 8px; }")
                      .arg(c.codeBackground.name(), c.border.name()));
    m_copy->setIcon(icon(QStringLiteral("copy"), c.mutedText));
}

void CodeBlock::changeEvent(QEvent* e) {
    QFrame::changeEvent(e);
    if (e->type() == QEvent::PaletteChange && !m_restyling) {
        m_restyling = true;  // setStyleSheet() may send another PaletteChange
        restyle();
        m_restyling = false;
    }
}

}  // namespace strata::ui
