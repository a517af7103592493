#include "chat/conversation_sidebar.h"

#include <QAction>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QPainter>
#include <QPushButton>
#include <QStyledItemDelegate>
#include <QVBoxLayout>

#include "chat/conversation_list_model.h"
#include "common/icons.h"
#include "common/theme.h"
#include "chat/chat_controller.h"

namespace strata::ui {

namespace {

// Two lines per conversation: the title, and when it was last used.
class ConversationDelegate : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex&) const override {
        const QFontMetrics fm(option.font);
        return {200, fm.height() * 2 + 18};
    }

    void paint(QPainter* p, const QStyleOptionViewItem& option, const QModelIndex& index) const override {
        const ThemeColors& c = currentColors();
        p->save();
        p->setRenderHint(QPainter::Antialiasing);
        const QRect r = option.rect.adjusted(4, 2, -4, -2);
        if (option.state & QStyle::State_Selected) {
            p->setPen(Qt::NoPen);
            p->setBrush(c.window.lightnessF() < 0.5 ? QColor(0x2b, 0x35, 0x4d) : QColor(0xe0, 0xea, 0xfc));
            p->drawRoundedRect(r, 8, 8);
        } else if (option.state & QStyle::State_MouseOver) {
            p->setPen(Qt::NoPen);
            p->setBrush(c.surfaceAlt);
            p->drawRoundedRect(r, 8, 8);
        }
        const QFontMetrics fm(option.font);
        const QRect text = r.adjusted(10, 7, -10, -7);
        QFont title = option.font;
        title.setWeight(QFont::Medium);
        p->setFont(title);
        p->setPen(c.text);
        p->drawText(QRect(text.left(), text.top(), text.width(), fm.height()), Qt::AlignLeft | Qt::AlignVCenter,
                    QFontMetrics(title).elidedText(index.data().toString(), Qt::ElideRight, text.width()));
        QFont small = option.font;
        small.setPointSizeF(option.font.pointSizeF() * 0.88);
        p->setFont(small);
        p->setPen(c.mutedText);
        p->drawText(QRect(text.left(), text.top() + fm.height() + 2, text.width(), fm.height()),
                    Qt::AlignLeft | Qt::AlignVCenter, index.data(app::ConversationListModel::UpdatedRole).toString());
        p->restore();
    }
};

}  // namespace

ConversationSidebar::ConversationSidebar(app::ConversationListModel& model, app::ChatController& chat, QWidget* parent)
    : QFrame(parent), m_model(model), m_chat(chat) {
    setProperty("sidebar", true);
    setMinimumWidth(220);
    setMaximumWidth(340);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(12, 12, 12, 12);
    layout->setSpacing(10);

    auto* newChat = new QPushButton(icon(QStringLiteral("plus"), Qt::white), tr("New chat"), this);
    newChat->setProperty("primary", true);
    newChat->setCursor(Qt::PointingHandCursor);
    newChat->setToolTip(tr("New chat (Ctrl+N)"));  // File ▸ New chat holds the shortcut
    layout->addWidget(newChat);

    m_search = new QLineEdit(this);
    m_search->setPlaceholderText(tr("Search chats"));
    m_search->setClearButtonEnabled(true);
    m_search->addAction(icon(QStringLiteral("search"), currentColors().mutedText), QLineEdit::LeadingPosition);
    layout->addWidget(m_search);

    m_list = new QListView(this);
    m_list->setAccessibleName(tr("Chats"));
    m_list->setModel(&m_model);
    m_list->setItemDelegate(new ConversationDelegate(m_list));
    m_list->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
    m_list->setContextMenuPolicy(Qt::CustomContextMenu);
    m_list->setMouseTracking(true);
    m_list->setFrameShape(QFrame::NoFrame);
    m_list->setStyleSheet(QStringLiteral("QListView { background: transparent; border: none; }"));
    m_list->setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
    layout->addWidget(m_list, 1);

    m_undoBar = new QFrame(this);
    m_undoBar->setProperty("card", true);
    auto* ub = new QHBoxLayout(m_undoBar);
    ub->setContentsMargins(10, 6, 6, 6);
    m_undoLabel = new QLabel(m_undoBar);
    m_undoLabel->setWordWrap(true);
    auto* undo = new QPushButton(tr("Undo"), m_undoBar);
    ub->addWidget(m_undoLabel, 1);
    ub->addWidget(undo);
    m_undoBar->setVisible(false);
    layout->addWidget(m_undoBar);

    m_undoTimer.setSingleShot(true);
    m_undoTimer.setInterval(kUndoMs);
    connect(&m_undoTimer, &QTimer::timeout, this, &ConversationSidebar::finishDelete);
    connect(undo, &QPushButton::clicked, this, &ConversationSidebar::undoDelete);
    connect(newChat, &QPushButton::clicked, this, &ConversationSidebar::newChatRequested);
    connect(m_search, &QLineEdit::textChanged, &m_model, &app::ConversationListModel::setSearch);
    connect(m_list, &QListView::customContextMenuRequested, this, &ConversationSidebar::showContextMenu);
    connect(m_list->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& current) {
                if (current.isValid()) emit conversationActivated(m_model.idAt(current.row()));
            });
    auto* del = new QAction(this);
    del->setShortcut(QKeySequence::Delete);
    del->setShortcutContext(Qt::WidgetShortcut);
    m_list->addAction(del);
    connect(del, &QAction::triggered, this, [this] {
        if (const qint64 id = selectedConversation()) deleteConversation(id);
    });
}

void ConversationSidebar::selectConversation(qint64 id) {
    const int row = m_model.rowOf(id);
    const QSignalBlocker block(m_list->selectionModel());
    if (row < 0) m_list->selectionModel()->clear();
    else m_list->selectionModel()->setCurrentIndex(m_model.index(row), QItemSelectionModel::ClearAndSelect);
    m_list->viewport()->update();
}

qint64 ConversationSidebar::selectedConversation() const {
    const QModelIndex i = m_list->selectionModel()->currentIndex();
    return i.isValid() ? m_model.idAt(i.row()) : 0;
}

void ConversationSidebar::showContextMenu(const QPoint& pos) {
    const QModelIndex index = m_list->indexAt(pos);
    if (!index.isValid()) return;
    const qint64 id = m_model.idAt(index.row());
    QMenu menu(this);
    menu.addAction(icon(QStringLiteral("edit")), tr("Rename"), this, [this, index] { m_list->edit(index); });
    menu.addAction(tr("Export…"), this, [this, id] { emit exportRequested(id); });
    menu.addSeparator();
    menu.addAction(icon(QStringLiteral("trash")), tr("Delete"), this, [this, id] { deleteConversation(id); });
    menu.exec(m_list->viewport()->mapToGlobal(pos));
}

void ConversationSidebar::deleteConversation(qint64 id) {
    if (m_deletedId) finishDelete();  // one Undo at a time
    const int row = m_model.rowOf(id);
    if (row < 0) return;
    const QString title = m_model.data(m_model.index(row), Qt::DisplayRole).toString();
    if (!m_chat.deleteConversation(id)) return;
    m_deletedId = id;
    m_model.refresh();
    m_undoLabel->setText(tr("Deleted “%1”").arg(QFontMetrics(font()).elidedText(title, Qt::ElideRight, 150)));
    m_undoBar->setVisible(true);
    m_undoTimer.start();
    emit conversationDeleted(id);
}

void ConversationSidebar::undoDelete() {
    if (!m_deletedId) return;
    const qint64 id = m_deletedId;
    m_deletedId = 0;
    m_undoTimer.stop();
    m_undoBar->setVisible(false);
    m_chat.restoreConversation(id);
    m_model.refresh();
    emit conversationRestored(id);
}

bool ConversationSidebar::undoVisible() const { return m_undoBar->isVisible(); }

void ConversationSidebar::finishDelete() {
    m_undoTimer.stop();
    m_undoBar->setVisible(false);
    m_deletedId = 0;
    m_chat.purgeDeleted();
}

}  // namespace strata::ui
