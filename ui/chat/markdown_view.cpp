#include "chat/markdown_view.h"

#include <QAbstractTextDocumentLayout>
#include <QScrollBar>
#include <QTextBlock>
#include <QTextDocumentFragment>
#include <QTextFrame>
#include <QTextTable>
#include <QWheelEvent>

#include "common/theme.h"

namespace strata::ui {

MarkdownView::MarkdownView(QWidget* parent) : QTextBrowser(parent) {
    setFrameShape(QFrame::NoFrame);
    setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setOpenExternalLinks(true);
    setReadOnly(true);
    setTextInteractionFlags(Qt::TextBrowserInteraction | Qt::TextSelectableByKeyboard);
    setContextMenuPolicy(Qt::DefaultContextMenu);
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Minimum);
    viewport()->setAutoFillBackground(false);
    setStyleSheet(QStringLiteral("QTextBrowser { background: transparent; border: none; padding: 0; }"));
    document()->setDocumentMargin(0);
}

void MarkdownView::setMarkdownText(const QString& markdown) {
    if (markdown == m_markdown) return;
    m_markdown = markdown;
    document()->setMarkdown(markdown, QTextDocument::MarkdownDialectGitHub);
    styleDocument();
    updateHeight();
}

// Tables get borders and padding, inline code a tinted background: QTextDocument's Markdown
// import leaves both plain.
void MarkdownView::styleDocument() {
    const ThemeColors& c = currentColors();
    QTextDocument* doc = document();
    for (QTextFrame* frame : doc->rootFrame()->childFrames()) {
        if (auto* table = qobject_cast<QTextTable*>(frame)) {
            QTextTableFormat f = table->format();
            f.setBorder(1);
            f.setBorderStyle(QTextFrameFormat::BorderStyle_Solid);
            f.setBorderBrush(c.border);
            f.setBorderCollapse(true);
            f.setCellPadding(6);
            f.setCellSpacing(0);
            f.setTopMargin(6);
            f.setBottomMargin(6);
            table->setFormat(f);
            for (int col = 0; col < table->columns(); ++col) {
                QTextTableCell cell = table->cellAt(0, col);
                QTextCharFormat cf = cell.format();
                cf.setBackground(c.surfaceAlt);
                cell.setFormat(cf);
            }
        }
    }
    for (QTextBlock b = doc->begin(); b.isValid(); b = b.next()) {
        for (auto it = b.begin(); !it.atEnd(); ++it) {
            const QTextFragment frag = it.fragment();
            if (!frag.isValid() || !frag.charFormat().fontFixedPitch()) continue;
            QTextCursor cur(doc);
            cur.setPosition(frag.position());
            cur.setPosition(frag.position() + frag.length(), QTextCursor::KeepAnchor);
            QTextCharFormat f;
            f.setBackground(c.codeBackground);
            cur.mergeCharFormat(f);
        }
    }
}

int MarkdownView::heightForWidth(int width) const {
    QTextDocument* doc = document();
    const qreal saved = doc->textWidth();
    doc->setTextWidth(width);
    const int h = qCeil(doc->size().height());
    doc->setTextWidth(saved);
    return h + 2;
}

QSize MarkdownView::sizeHint() const {
    const int w = width() > 0 ? width() : 400;
    return {w, heightForWidth(w)};
}

QSize MarkdownView::minimumSizeHint() const { return {80, heightForWidth(qMax(width(), 80))}; }

void MarkdownView::updateHeight() {
    document()->setTextWidth(viewport()->width());
    const int h = qCeil(document()->size().height()) + 2;
    if (h != height()) setFixedHeight(h);
    updateGeometry();
}

void MarkdownView::resizeEvent(QResizeEvent* e) {
    QTextBrowser::resizeEvent(e);
    updateHeight();
}

void MarkdownView::changeEvent(QEvent* e) {
    QTextBrowser::changeEvent(e);
    if (e->type() == QEvent::PaletteChange || e->type() == QEvent::FontChange) {
        const QString md = m_markdown;
        m_markdown.clear();
        setMarkdownText(md);
    }
}

// Scrolling over a message scrolls the conversation, not this (scrollbar-less) view.
void MarkdownView::wheelEvent(QWheelEvent* e) { e->ignore(); }

}  // namespace strata::ui
