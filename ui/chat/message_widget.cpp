#include "chat/message_widget.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>

#include "chat/code_block.h"
#include "chat/markdown_blocks.h"
#include "chat/markdown_view.h"
#include "common/icons.h"
#include "common/theme.h"

namespace strata::ui {

namespace {

QToolButton* actionButton(const QString& iconName, const QString& text, QWidget* parent) {
    auto* b = new QToolButton(parent);
    b->setText(text);
    b->setToolTip(text);
    b->setProperty("iconName", iconName);
    b->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    b->setCursor(Qt::PointingHandCursor);
    b->setIconSize({15, 15});
    return b;
}

}  // namespace

MessageWidget::MessageWidget(const app::Message& message, QWidget* parent) : QFrame(parent), m_message(message) {
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Minimum);
    if (message.role == app::Role::user) buildUser();
    else buildAssistant();
    restyle();
}

void MessageWidget::buildUser() {
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 4, 0, 4);
    outer->setSpacing(2);
    auto* row = new QHBoxLayout();
    row->addStretch(1);
    m_bubble = new QFrame(this);
    m_bubble->setObjectName(QStringLiteral("userBubble"));
    m_bubble->setSizePolicy(QSizePolicy::Maximum, QSizePolicy::Minimum);
    auto* bl = new QVBoxLayout(m_bubble);
    bl->setContentsMargins(14, 9, 14, 9);
    m_userText = new QLabel(m_bubble);
    m_userText->setWordWrap(true);
    m_userText->setTextFormat(Qt::PlainText);
    m_userText->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_userText->setText(m_message.content);
    bl->addWidget(m_userText);
    m_editor = new QPlainTextEdit(m_bubble);
    m_editor->setAccessibleName(tr("Edit the message"));
    m_editor->setVisible(false);
    m_editor->setMinimumWidth(420);
    bl->addWidget(m_editor);
    m_editBar = new QWidget(m_bubble);
    auto* eb = new QHBoxLayout(m_editBar);
    eb->setContentsMargins(0, 4, 0, 0);
    eb->addStretch();
    auto* cancel = new QPushButton(tr("Cancel"), m_editBar);
    auto* resend = new QPushButton(tr("Send"), m_editBar);
    resend->setProperty("primary", true);
    eb->addWidget(cancel);
    eb->addWidget(resend);
    m_editBar->setVisible(false);
    bl->addWidget(m_editBar);
    row->addWidget(m_bubble, 0);
    outer->addLayout(row);

    auto* actions = new QHBoxLayout();
    actions->setSpacing(2);
    actions->addStretch(1);
    m_edit = actionButton(QStringLiteral("edit"), tr("Edit"), this);
    m_copy = actionButton(QStringLiteral("copy"), tr("Copy"), this);
    actions->addWidget(m_edit);
    actions->addWidget(m_copy);
    outer->addLayout(actions);

    connect(m_copy, &QToolButton::clicked, this, [this] { emit copyRequested(m_message.id); });
    connect(m_edit, &QToolButton::clicked, this, &MessageWidget::startEdit);
    connect(cancel, &QPushButton::clicked, this, &MessageWidget::endEdit);
    connect(resend, &QPushButton::clicked, this, [this] {
        const QString text = m_editor->toPlainText();
        endEdit();
        emit editSubmitted(m_message.id, text);
    });
}

void MessageWidget::buildAssistant() {
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 6, 0, 6);
    outer->setSpacing(6);
    m_header = new QLabel(this);
    m_header->setProperty("subheading", true);
    outer->addWidget(m_header);
    m_thinkToggle = new QToolButton(this);
    m_thinkToggle->setObjectName(QStringLiteral("reasoningToggle"));
    m_thinkToggle->setCheckable(true);
    m_thinkToggle->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_thinkToggle->setArrowType(Qt::RightArrow);
    m_thinkToggle->setCursor(Qt::PointingHandCursor);
    m_thinkToggle->setAccessibleName(tr("Show the model's reasoning"));
    m_thinkToggle->setVisible(false);
    outer->addWidget(m_thinkToggle);
    m_thinkText = new QLabel(this);
    m_thinkText->setObjectName(QStringLiteral("reasoningText"));
    m_thinkText->setTextFormat(Qt::PlainText);
    m_thinkText->setWordWrap(true);
    m_thinkText->setMinimumWidth(1);
    m_thinkText->setProperty("muted", true);
    m_thinkText->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_thinkText->setVisible(false);
    outer->addWidget(m_thinkText);
    connect(m_thinkToggle, &QToolButton::toggled, this, [this](bool open) {
        m_thinkToggle->setArrowType(open ? Qt::DownArrow : Qt::RightArrow);
        m_thinkToggle->setAccessibleName(open ? tr("Hide the model's reasoning") : tr("Show the model's reasoning"));
        m_thinkText->setVisible(open);
    });
    m_blocks = new QVBoxLayout();
    m_blocks->setSpacing(8);
    outer->addLayout(m_blocks);
    auto* footer = new QHBoxLayout();
    footer->setSpacing(2);
    m_stats = new QLabel(this);
    m_stats->setProperty("muted", true);
    m_stats->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // Wraps rather than widening the transcript: a long line here pushed the column past the
    // viewport, and the user's right-aligned bubbles out of sight.
    m_stats->setWordWrap(true);
    m_stats->setMinimumWidth(1);
    m_copy = actionButton(QStringLiteral("copy"), tr("Copy"), this);
    m_regenerate = actionButton(QStringLiteral("regenerate"), tr("Regenerate"), this);
    m_regenerate->setVisible(false);
    m_continue = actionButton(QStringLiteral("play"), tr("Continue"), this);
    m_continue->setToolTip(tr("Carry on writing this answer from where it ended"));
    m_continue->setVisible(false);
    m_prevAlt = new QToolButton(this);
    m_prevAlt->setText(QStringLiteral("‹"));
    m_prevAlt->setToolTip(tr("Previous answer"));
    m_prevAlt->setAccessibleName(tr("Previous answer"));
    m_altLabel = new QLabel(this);
    m_altLabel->setProperty("muted", true);
    m_nextAlt = new QToolButton(this);
    m_nextAlt->setText(QStringLiteral("›"));
    m_nextAlt->setToolTip(tr("Next answer"));
    m_nextAlt->setAccessibleName(tr("Next answer"));
    footer->addWidget(m_prevAlt);
    footer->addWidget(m_altLabel);
    footer->addWidget(m_nextAlt);
    footer->addWidget(m_copy);
    footer->addWidget(m_regenerate);
    footer->addWidget(m_continue);
    footer->addSpacing(8);
    footer->addWidget(m_stats, 1);
    outer->addLayout(footer);
    connect(m_copy, &QToolButton::clicked, this, [this] { emit copyRequested(m_message.id); });
    connect(m_regenerate, &QToolButton::clicked, this, &MessageWidget::regenerateRequested);
    connect(m_continue, &QToolButton::clicked, this, &MessageWidget::continueRequested);
    connect(m_prevAlt, &QToolButton::clicked, this, [this] { emit alternativeRequested(m_message.id, -1); });
    connect(m_nextAlt, &QToolButton::clicked, this, [this] { emit alternativeRequested(m_message.id, +1); });
    setAssistantName(QString());
    renderContent();
    updateReasoning(false);
    updateFooter(m_message.stats.nTokens, m_message.stats.tokensPerSecond);
}

void MessageWidget::setAssistantName(const QString& name) {
    m_assistantName = name;
    if (m_header) m_header->setText(name.isEmpty() ? tr("Assistant") : name);
}

void MessageWidget::setMessage(const app::Message& message) {
    m_message = message;
    if (m_userText) {
        m_userText->setText(message.content);
        fitBubble();
        return;
    }
    renderContent();
    updateReasoning(false);
    updateFooter(message.stats.nTokens, message.stats.tokensPerSecond);
}

void MessageWidget::setStreamingText(const QString& text, int nTokens, double tokensPerSecond) {
    m_message.content = text;
    m_message.state = app::MessageState::streaming;
    renderContent();
    updateFooter(nTokens, tokensPerSecond);
    growToContents();
}

// Laid out in a height its parent has not grown to yet, the figures line was placed over the
// answer's last line (the text keeps its fixed height), and while streaming nearly every frame
// was painted so. Grow first, then lay out, before the next paint; the transcript follows.
void MessageWidget::growToContents() {
    const int need = layout()->totalHeightForWidth(width());
    if (need > height()) resize(width(), need);
    layout()->activate();
}

void MessageWidget::setStreamingReasoning(const QString& reasoning, bool thinking, double thinkingMs) {
    m_message.reasoning = reasoning;
    m_message.stats.thinkingMs = thinkingMs;
    m_message.state = app::MessageState::streaming;
    updateReasoning(thinking);
    growToContents();
}

bool MessageWidget::reasoningExpanded() const { return m_thinkToggle && m_thinkToggle->isChecked(); }

QString MessageWidget::reasoningSummary() const {
    return m_thinkToggle && m_thinkToggle->isVisible() ? m_thinkToggle->text() : QString();
}

// The toggle says how long the model thought; the text is its reasoning, shown when opened.
void MessageWidget::updateReasoning(bool thinking) {
    if (!m_thinkToggle) return;
    const bool has = !m_message.reasoning.trimmed().isEmpty() || thinking;
    m_thinkToggle->setVisible(has);
    if (!has) {
        m_thinkText->setVisible(false);
        return;
    }
    const double secs = m_message.stats.thinkingMs / 1000.0;
    QString summary;
    if (thinking) summary = tr("Thinking…");
    else if (secs >= 1) summary = tr("Thought for %1 s").arg(qRound(secs));
    else if (secs > 0) summary = tr("Thought for less than a second");
    else summary = tr("Reasoning");
    m_thinkToggle->setText(summary);
    m_thinkText->setText(m_message.reasoning.trimmed());
    m_thinkText->setVisible(m_thinkToggle->isChecked());
}

// Re-renders the answer, reusing block widgets whose kind did not change (streaming appends to
// the last block, so only it changes).
void MessageWidget::renderContent() {
    if (!m_blocks) return;
    // An answer that is a JSON object (JSON mode) is shown as JSON, not read as Markdown (its
    // indentation would turn into code blocks, '*' and '_' into emphasis). Copy gives it as is.
    const QString trimmed = m_message.content.trimmed();
    QList<app::MarkdownBlock> blocks =
        trimmed.startsWith(QLatin1Char('{'))
            ? QList<app::MarkdownBlock>{{app::MarkdownBlock::code, trimmed, QStringLiteral("json"),
                                         m_message.state != app::MessageState::streaming}}
            : app::splitMarkdown(m_message.content);
    if (blocks.isEmpty() && m_message.state == app::MessageState::streaming && m_message.reasoning.isEmpty())
        blocks.append({app::MarkdownBlock::prose, QStringLiteral("…"), {}, true});
    for (int i = 0; i < blocks.size(); ++i) {
        const app::MarkdownBlock& b = blocks[i];
        QWidget* w = i < m_blocks->count() ? m_blocks->itemAt(i)->widget() : nullptr;
        const bool isCode = b.kind == app::MarkdownBlock::code;
        if (w && (qobject_cast<CodeBlock*>(w) != nullptr) != isCode) {
            while (m_blocks->count() > i) delete m_blocks->takeAt(i)->widget();
            w = nullptr;
        }
        if (!w) {
            w = isCode ? static_cast<QWidget*>(new CodeBlock(this)) : static_cast<QWidget*>(new MarkdownView(this));
            m_blocks->addWidget(w);
        }
        if (isCode) static_cast<CodeBlock*>(w)->setCode(b.text, b.language);
        else static_cast<MarkdownView*>(w)->setMarkdownText(b.text);
    }
    while (m_blocks->count() > blocks.size()) delete m_blocks->takeAt(int(blocks.size()))->widget();
}

void MessageWidget::updateFooter(int nTokens, double tokensPerSecond) {
    if (!m_stats) return;
    QStringList parts;
    const QLocale loc;
    if (nTokens > 0) parts.append(nTokens == 1 ? tr("1 token") : tr("%1 tokens").arg(loc.toString(nTokens)));
    if (m_message.stats.timeToFirstTokenMs > 0 && m_message.state != app::MessageState::streaming)
        parts.append(tr("%1 s to first token").arg(loc.toString(m_message.stats.timeToFirstTokenMs / 1000.0, 'f', 2)));
    if (tokensPerSecond > 0) parts.append(tr("%1 tok/s").arg(loc.toString(tokensPerSecond, 'f', 1)));
    switch (m_message.state) {
        case app::MessageState::streaming: parts.prepend(tr("Generating…")); break;
        // A Stop, or the app ended mid-answer (the figures are those of its last save).
        case app::MessageState::stopped: parts.append(m_message.interrupted ? tr("interrupted") : tr("stopped")); break;
        case app::MessageState::error: parts.append(tr("failed")); break;
        case app::MessageState::complete:
            // Cut short, not finished: say so, and what to change.
            if (m_message.stats.endReason == app::kEndMaxTokens) parts.append(tr("cut at the token limit"));
            else if (m_message.stats.endReason == app::kEndContextFull) parts.append(tr("cut: the context is full"));
            break;
    }
    m_stats->setToolTip(m_message.interrupted && m_message.state == app::MessageState::stopped
                            ? tr("The app ended while this answer was being written; Continue carries it on")
                        : m_message.stats.endReason == app::kEndMaxTokens
                            ? tr("The answer reached Max tokens (conversation settings) before the model ended it")
                        : m_message.stats.endReason == app::kEndContextFull
                            ? tr("The conversation filled the model's context; a longer context (Allocate) or a new chat "
                                 "gives room")
                            : QString());
    m_stats->setText(parts.join(QStringLiteral("  ·  ")));
    const bool done = m_message.state != app::MessageState::streaming;
    m_copy->setVisible(done);
    updateAlternatives();
}

void MessageWidget::updateAlternatives() {
    const bool show = m_message.altCount > 1;
    for (QWidget* w : std::initializer_list<QWidget*>{m_prevAlt, m_altLabel, m_nextAlt}) w->setVisible(show);
    if (!show) return;
    m_altLabel->setText(QStringLiteral("%1/%2").arg(m_message.altIndex + 1).arg(m_message.altCount));
    m_altLabel->setAccessibleName(tr("Answer %1 of %2").arg(m_message.altIndex + 1).arg(m_message.altCount));
    const bool idle = m_message.state != app::MessageState::streaming;
    m_prevAlt->setEnabled(idle && m_message.altIndex > 0);
    m_nextAlt->setEnabled(idle && m_message.altIndex + 1 < m_message.altCount);
}

void MessageWidget::setCanContinue(bool can) {
    if (m_continue) m_continue->setVisible(can);
}

void MessageWidget::setCanRegenerate(bool can) {
    if (m_regenerate) m_regenerate->setVisible(can);
}

void MessageWidget::setActionsEnabled(bool enabled) {
    for (QToolButton* b : {m_regenerate, m_edit, m_continue})
        if (b) b->setEnabled(enabled);
}

QList<QWidget*> MessageWidget::blockWidgets() const {
    QList<QWidget*> out;
    if (m_blocks)
        for (int i = 0; i < m_blocks->count(); ++i) out.append(m_blocks->itemAt(i)->widget());
    return out;
}

QString MessageWidget::statsText() const { return m_stats ? m_stats->text() : QString(); }

void MessageWidget::startEdit() {
    m_editor->setPlainText(m_message.content);
    m_userText->setVisible(false);
    m_editor->setVisible(true);
    m_editBar->setVisible(true);
    m_editor->setFocus();
    m_editor->moveCursor(QTextCursor::End);
    emit editOpened();  // the transcript scrolls the box into view
}

void MessageWidget::endEdit() {
    m_userText->setVisible(true);
    m_editor->setVisible(false);
    m_editBar->setVisible(false);
}

void MessageWidget::restyle() {
    const ThemeColors& c = currentColors();
    if (m_bubble)
        m_bubble->setStyleSheet(QStringLiteral("#userBubble { background: %1; border-radius: 14px; }").arg(c.userBubble.name()));
    for (QToolButton* b : {m_copy, m_regenerate, m_edit, m_continue}) {
        if (!b) continue;
        b->setIcon(icon(b->property("iconName").toString(), c.mutedText));
        b->setStyleSheet(QStringLiteral("QToolButton { color: %1; font-size: 12px; padding: 2px 6px; }").arg(c.mutedText.name()));
    }
}

// A word-wrapped label picks a narrow width of its own; give the bubble the text's natural
// width, up to three quarters of the column.
void MessageWidget::fitBubble() {
    if (!m_bubble || width() <= 0) return;
    const int avail = width() * 3 / 4;
    int natural = 0;
    const QFontMetrics fm(m_userText->font());
    for (const QString& line : m_message.content.split(QLatin1Char('\n'))) natural = qMax(natural, fm.horizontalAdvance(line));
    m_bubble->setMaximumWidth(avail);
    m_userText->setMinimumWidth(qMin(natural + 4, avail - 28));
}

void MessageWidget::resizeEvent(QResizeEvent* e) {
    QFrame::resizeEvent(e);
    fitBubble();
}

void MessageWidget::changeEvent(QEvent* e) {
    QFrame::changeEvent(e);
    if (e->type() == QEvent::PaletteChange && !m_restyling) {
        m_restyling = true;
        restyle();
        m_restyling = false;
    }
}

}  // namespace strata::ui
