#include "chat/conversation_list_model.h"

#include <QFileInfo>
#include <QLocale>

#include "storage/chat_store.h"

namespace strata::app {

namespace {

QString relativeTime(const QDateTime& t) {
    const QDateTime now = QDateTime::currentDateTime();
    const qint64 secs = t.secsTo(now);
    if (secs < 60) return QObject::tr("just now");
    if (secs < 3600) return QObject::tr("%n min ago", nullptr, int(secs / 60));
    if (t.date() == now.date()) return QLocale().toString(t.time(), QLocale::ShortFormat);
    if (t.date().daysTo(now.date()) == 1) return QObject::tr("yesterday");
    if (t.date().daysTo(now.date()) < 7) return QLocale().dayName(t.date().dayOfWeek(), QLocale::ShortFormat);
    return QLocale().toString(t.date(), QLocale::ShortFormat);
}

}  // namespace

ConversationListModel::ConversationListModel(ChatStore& store, QObject* parent)
    : QAbstractListModel(parent), m_store(store) {
    refresh();
}

int ConversationListModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_rows.size()); }

QVariant ConversationListModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
    const Conversation& c = m_rows.at(index.row());
    switch (role) {
        case Qt::DisplayRole:
        case Qt::EditRole: return c.title;
        case Qt::ToolTipRole: return c.modelPath.isEmpty() ? c.title : c.title + QLatin1Char('\n') + QFileInfo(c.modelPath).fileName();
        case IdRole: return c.id;
        case UpdatedRole: return relativeTime(c.updatedAt);
        case ModelRole: return c.modelPath;
        default: return {};
    }
}

bool ConversationListModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    if (role != Qt::EditRole || !checkIndex(index, CheckIndexOption::IndexIsValid)) return false;
    const QString title = value.toString().simplified();
    if (title.isEmpty() || title == m_rows[index.row()].title) return false;
    if (!m_store.renameConversation(m_rows[index.row()].id, title)) return false;
    m_rows[index.row()].title = title;
    emit dataChanged(index, index, {Qt::DisplayRole, Qt::EditRole, Qt::ToolTipRole});
    return true;
}

Qt::ItemFlags ConversationListModel::flags(const QModelIndex& index) const {
    if (!index.isValid()) return Qt::NoItemFlags;
    return Qt::ItemIsSelectable | Qt::ItemIsEnabled | Qt::ItemIsEditable | Qt::ItemNeverHasChildren;
}

void ConversationListModel::setSearch(const QString& text) {
    if (text == m_search) return;
    m_search = text;
    refresh();
}

void ConversationListModel::refresh() {
    const QList<Conversation> fresh = m_store.conversations(m_search);
    auto contains = [](const QList<Conversation>& list, qint64 id) {
        for (const Conversation& c : list)
            if (c.id == id) return true;
        return false;
    };
    // 1. remove rows that are gone
    for (int i = int(m_rows.size()) - 1; i >= 0; --i) {
        if (!contains(fresh, m_rows[i].id)) {
            beginRemoveRows({}, i, i);
            m_rows.removeAt(i);
            endRemoveRows();
        }
    }
    // 2. walk the new order: move or insert each row into place, update changed data
    for (int target = 0; target < fresh.size(); ++target) {
        const Conversation& want = fresh[target];
        const int at = rowOf(want.id);
        if (at < 0) {
            beginInsertRows({}, target, target);
            m_rows.insert(target, want);
            endInsertRows();
            continue;
        }
        if (at != target) {
            beginMoveRows({}, at, at, {}, target);
            m_rows.move(at, target);
            endMoveRows();
        }
        const Conversation& have = m_rows[target];
        if (have.title != want.title || have.updatedAt != want.updatedAt || have.modelPath != want.modelPath) {
            m_rows[target] = want;
            emit dataChanged(index(target), index(target));
        }
    }
}

int ConversationListModel::rowOf(qint64 id) const {
    for (int i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].id == id) return i;
    return -1;
}

qint64 ConversationListModel::idAt(int row) const { return row >= 0 && row < m_rows.size() ? m_rows[row].id : 0; }

}  // namespace strata::app
