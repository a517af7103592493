#include "chat/transcript_view.h"

#include <QHBoxLayout>
#include <QCoreApplication>
#include <QLabel>
#include <QPlainTextEdit>
#include <QScrollBar>
#include <QTimer>
#include <QVBoxLayout>

#include "chat/message_widget.h"
#include "common/icons.h"

namespace strata::ui {

TranscriptView::TranscriptView(QWidget* parent) : QScrollArea(parent) {
    setWidgetResizable(true);
    setFrameShape(QFrame::NoFrame);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    auto* canvas = new QWidget(this);
    canvas->setObjectName(QStringLiteral("transcriptCanvas"));
    auto* h = new QHBoxLayout(canvas);
    h->setContentsMargins(24, 16, 24, 16);
    h->addStretch(1);
    m_column = new QWidget(canvas);
    m_column->setMaximumWidth(kColumnWidth);
    m_column->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    h->addWidget(m_column, 100);
    h->addStretch(1);
    m_layout = new QVBoxLayout(m_column);
    m_layout->setContentsMargins(0, 0, 0, 0);
    m_layout->setSpacing(14);

    m_empty = new QWidget(m_column);
    auto* el = new QVBoxLayout(m_empty);
    el->setContentsMargins(0, 120, 0, 0);
    el->setSpacing(8);
    auto* logo = new QLabel(m_empty);
    logo->setPixmap(logoPixmap(56, devicePixelRatioF()));
    logo->setAlignment(Qt::AlignHCenter);
    m_emptyTitle = new QLabel(m_empty);
    m_emptyTitle->setProperty("heading", true);
    m_emptyTitle->setAlignment(Qt::AlignHCenter);
    m_emptyHint = new QLabel(m_empty);
    m_emptyHint->setProperty("muted", true);
    m_emptyHint->setAlignment(Qt::AlignHCenter);
    m_emptyHint->setWordWrap(true);
    el->addWidget(logo);
    el->addWidget(m_emptyTitle);
    el->addWidget(m_emptyHint);
    m_layout->addWidget(m_empty);
    m_layout->addStretch(1);
    setEmptyText(tr("Start a conversation"), tr("Type a message below. Enter sends, Shift+Enter starts a new line."));
    setWidget(canvas);

    connect(verticalScrollBar(), &QScrollBar::valueChanged, this, [this] { m_follow = atEnd(); });
    connect(verticalScrollBar(), &QScrollBar::rangeChanged, this, [this] {
        if (m_follow) verticalScrollBar()->setValue(verticalScrollBar()->maximum());
    });
}

void TranscriptView::setEmptyText(const QString& title, const QString& hint) {
    m_emptyTitle->setText(title);
    m_emptyHint->setText(hint);
}

bool TranscriptView::atEnd() const { return verticalScrollBar()->value() >= verticalScrollBar()->maximum() - 24; }

void TranscriptView::setMessages(const QList<app::Message>& messages) {
    for (MessageWidget* w : messageWidgets()) discard(w);
    for (const app::Message& m : messages) addWidget(m);
    m_empty->setVisible(messages.isEmpty());
    updateActions();
    m_follow = true;
    scrollToEnd();
}

// Later, not now: the widget's own button (Regenerate, Send after an edit) may be what led here.
void TranscriptView::discard(MessageWidget* w) {
    w->hide();
    m_layout->removeWidget(w);
    w->deleteLater();
}

MessageWidget* TranscriptView::addWidget(const app::Message& message) {
    auto* w = new MessageWidget(message, m_column);
    w->setAssistantName(m_assistantName);
    m_layout->insertWidget(m_layout->count() - 1, w);  // before the stretch
    connect(w, &MessageWidget::copyRequested, this, &TranscriptView::copyRequested);
    connect(w, &MessageWidget::regenerateRequested, this, &TranscriptView::regenerateRequested);
    connect(w, &MessageWidget::editSubmitted, this, &TranscriptView::editSubmitted);
    connect(w, &MessageWidget::continueRequested, this, &TranscriptView::continueRequested);
    connect(w, &MessageWidget::alternativeRequested, this, &TranscriptView::alternativeRequested);
    connect(w, &MessageWidget::editOpened, this, [this, w] { revealEditor(w); });
    return w;
}

void TranscriptView::appendMessage(const app::Message& message) {
    m_empty->setVisible(false);
    addWidget(message);
    updateActions();
    m_follow = true;
    scrollToEnd();
}

void TranscriptView::removeFrom(qint64 messageId) {
    bool removing = false;
    for (MessageWidget* w : messageWidgets()) {
        removing = removing || w->messageId() == messageId;
        if (removing) discard(w);
    }
    m_empty->setVisible(messageWidgets().isEmpty());
    updateActions();
}

void TranscriptView::updateMessage(const app::Message& message) {
    if (MessageWidget* w = messageWidget(message.id)) w->setMessage(message);
    updateActions();
}

void TranscriptView::replaceMessage(qint64 oldId, const app::Message& message) {
    MessageWidget* old = messageWidget(oldId);
    if (!old) return;
    const bool follow = m_follow;
    auto* w = new MessageWidget(message, m_column);
    w->setAssistantName(m_assistantName);
    m_layout->insertWidget(m_layout->indexOf(old), w);
    connect(w, &MessageWidget::copyRequested, this, &TranscriptView::copyRequested);
    connect(w, &MessageWidget::regenerateRequested, this, &TranscriptView::regenerateRequested);
    connect(w, &MessageWidget::continueRequested, this, &TranscriptView::continueRequested);
    connect(w, &MessageWidget::alternativeRequested, this, &TranscriptView::alternativeRequested);
    discard(old);  // later: its own arrow button led here
    updateActions();
    m_follow = follow;
}

// The box opens in place, often below the fold: once the layout has taken its new size, scroll
// so that all of it (its Send button included) shows, and type into it.
void TranscriptView::revealEditor(MessageWidget* w) {
    m_follow = false;
    QTimer::singleShot(0, w, [this, w] {
        relayoutNow(w);
        ensureWidgetVisible(w->editBox(), 0, 24);
        if (auto* editor = w->editBox()->findChild<QPlainTextEdit*>()) editor->setFocus();
    });
}

void TranscriptView::setStreamingReasoning(qint64 messageId, const QString& reasoning, bool thinking, double thinkingMs) {
    if (MessageWidget* w = messageWidget(messageId)) {
        w->setStreamingReasoning(reasoning, thinking, thinkingMs);
        relayoutNow(w);
    }
}

void TranscriptView::setStreamingText(qint64 messageId, const QString& text, int nTokens, double tokensPerSecond) {
    if (MessageWidget* w = messageWidget(messageId)) {
        w->setStreamingText(text, nTokens, tokensPerSecond);
        relayoutNow(w);
    }
}

// A message that grew is laid out again at once, from the canvas down. Left to Qt's posted
// layout requests, the message's own layout ran first, inside its old (shorter) height: its
// text keeps its fixed height while the figures line is placed higher, over the last line, and
// that frame was painted before the canvas grew — while streaming, nearly every frame.
void TranscriptView::relayoutNow(MessageWidget* w) {
    w->updateGeometry();          // the column forgets the message's cached size,
    m_column->updateGeometry();   // and the canvas the column's
    QWidget* canvas = widget();
    const int width = viewport()->width();
    const QSize size(width, qMax(viewport()->height(), canvas->heightForWidth(width)));
    if (canvas->size() != size) canvas->resize(size);  // the scroll area follows (its range)
    for (QLayout* l : {canvas->layout(), static_cast<QLayout*>(m_layout), w->layout()})
        if (l) l->activate();
}

void TranscriptView::setGenerating(bool generating) {
    m_generating = generating;
    updateActions();
}

void TranscriptView::setAssistantName(const QString& name) {
    m_assistantName = name;
    for (MessageWidget* w : messageWidgets()) w->setAssistantName(name);
}

// Regenerate and Continue are offered on the last answer only, and nothing is editable while
// generating.
void TranscriptView::updateActions() {
    const QList<MessageWidget*> all = messageWidgets();
    for (int i = 0; i < all.size(); ++i) {
        const bool last = i == all.size() - 1;
        all[i]->setCanRegenerate(last && all[i]->role() == app::Role::assistant && !m_generating);
        const app::Message& m = all[i]->message();
        all[i]->setCanContinue(last && m.role == app::Role::assistant && !m_generating &&
                               m.state == app::MessageState::stopped && !m.content.isEmpty());
        all[i]->setActionsEnabled(!m_generating);
    }
}

MessageWidget* TranscriptView::messageWidget(qint64 messageId) const {
    for (MessageWidget* w : messageWidgets())
        if (w->messageId() == messageId) return w;
    return nullptr;
}

QList<MessageWidget*> TranscriptView::messageWidgets() const {
    QList<MessageWidget*> out;
    for (int i = 0; i < m_layout->count(); ++i)
        if (auto* w = qobject_cast<MessageWidget*>(m_layout->itemAt(i)->widget())) out.append(w);
    return out;
}

void TranscriptView::scrollToEnd() {
    QTimer::singleShot(0, this, [this] { verticalScrollBar()->setValue(verticalScrollBar()->maximum()); });
}

}  // namespace strata::ui
