// ConversationListModel: the chat sidebar's list — live conversations, newest first, filtered
// by a search over titles and message text. GUI thread.
#pragma once

#include <QAbstractListModel>

#include "chat/chat_types.h"

namespace strata::app {

class ChatStore;

class ConversationListModel : public QAbstractListModel {
    Q_OBJECT
public:
    enum Roles { IdRole = Qt::UserRole + 1, UpdatedRole, ModelRole };

    explicit ConversationListModel(ChatStore& store, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;

    // Reads the list again from the store (after a change elsewhere), keeping rows that did not
    // change where possible: rows are inserted, removed or moved, never reset.
    void refresh();
    void setSearch(const QString& text);
    QString search() const { return m_search; }

    int rowOf(qint64 id) const;
    qint64 idAt(int row) const;

private:
    ChatStore& m_store;
    QString m_search;
    QList<Conversation> m_rows;
};

}  // namespace strata::app
