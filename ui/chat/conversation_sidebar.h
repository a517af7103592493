// ConversationSidebar: New chat, search (titles and message text), the conversation list
// (newest first; rename by double-click or F2, delete with the Delete key or the context menu,
// export from the context menu), and an Undo bar after a delete.
#pragma once

#include <QFrame>
#include <QTimer>

class QLabel;
class QLineEdit;
class QListView;
class QPushButton;

namespace strata::app {
class ChatController;
class ConversationListModel;
}  // namespace strata::app

namespace strata::ui {

class ConversationSidebar : public QFrame {
    Q_OBJECT
public:
    static constexpr int kUndoMs = 10000;

    // Deleting, restoring and purging go through `chat` (the sidebar writes nothing itself).
    ConversationSidebar(app::ConversationListModel& model, app::ChatController& chat, QWidget* parent = nullptr);

    void selectConversation(qint64 id);
    qint64 selectedConversation() const;
    QListView* listView() const { return m_list; }
    QLineEdit* searchField() const { return m_search; }

    // Deletes (softly) and offers Undo; the deletion becomes final when the bar times out.
    void deleteConversation(qint64 id);
    void undoDelete();
    bool undoVisible() const;

signals:
    void newChatRequested();
    void conversationActivated(qint64 id);
    void conversationDeleted(qint64 id);
    void conversationRestored(qint64 id);
    void exportRequested(qint64 id);  // the context menu's Export…

private:
    void showContextMenu(const QPoint& pos);
    void finishDelete();

    app::ConversationListModel& m_model;
    app::ChatController& m_chat;
    QLineEdit* m_search;
    QListView* m_list;
    QFrame* m_undoBar;
    QLabel* m_undoLabel;
    QTimer m_undoTimer;
    qint64 m_deletedId = 0;
};

}  // namespace strata::ui
