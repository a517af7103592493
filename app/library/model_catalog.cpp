#include "library/model_catalog.h"

#include <QFileInfo>
#include <QLocale>
#include <QSqlError>
#include <QSqlQuery>

#include "storage/database.h"

namespace strata::app {

namespace {

constexpr const char* kSelectModels =
    "SELECT id, path, name, file_size, architecture, n_params, quantization, context_length, n_layer, added_at,"
    " n_expert, n_expert_used FROM models ORDER BY added_at DESC, id DESC";
constexpr const char* kInsertModel =
    "INSERT INTO models (path, name, file_size, architecture, n_params, quantization, context_length, n_layer,"
    " added_at, n_expert, n_expert_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kDeleteModel = "DELETE FROM models WHERE id = ?";

QString paramText(quint64 n) { return QString::fromStdString(strata::format_param_count(n)); }

// A null QString binds as SQL NULL; the text columns are NOT NULL.
QVariant text(const QString& s) { return s.isNull() ? QVariant(QStringLiteral("")) : QVariant(s); }

}  // namespace

CatalogEntry CatalogEntry::fromModelInfo(const strata::ModelInfo& info) {
    CatalogEntry e;
    const QFileInfo fi(QString::fromStdString(info.path));
    e.path = fi.canonicalFilePath().isEmpty() ? fi.absoluteFilePath() : fi.canonicalFilePath();
    e.name = QString::fromStdString(info.name);
    if (e.name.isEmpty()) e.name = fi.completeBaseName();
    e.fileSize = info.file_size;
    e.architecture = QString::fromStdString(info.architecture);
    e.nParams = info.n_params;
    e.quantization = QString::fromStdString(info.quantization);
    e.contextLength = info.context_length;
    e.nLayer = info.n_layer;
    e.nExpert = info.n_expert;
    e.nExpertUsed = info.n_expert_used;
    e.addedAt = QDateTime::currentDateTime();
    return e;
}

ModelCatalog::ModelCatalog(Database& db, QObject* parent) : QAbstractTableModel(parent), m_db(db) {}

bool ModelCatalog::reload() {
    QSqlQuery q(m_db.connection());
    QList<CatalogEntry> entries;
    if (!q.exec(QString::fromLatin1(kSelectModels))) {
        m_error = q.lastError().text();
        return false;
    }
    while (q.next()) {
        CatalogEntry e;
        e.id = q.value(0).toLongLong();
        e.path = q.value(1).toString();
        e.name = q.value(2).toString();
        e.fileSize = q.value(3).toULongLong();
        e.architecture = q.value(4).toString();
        e.nParams = q.value(5).toULongLong();
        e.quantization = q.value(6).toString();
        e.contextLength = q.value(7).toUInt();
        e.nLayer = q.value(8).toUInt();
        e.addedAt = QDateTime::fromMSecsSinceEpoch(q.value(9).toLongLong());
        e.nExpert = q.value(10).toUInt();
        e.nExpertUsed = q.value(11).toUInt();
        entries.append(e);
    }
    beginResetModel();
    m_entries = entries;
    endResetModel();
    return true;
}

int ModelCatalog::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_entries.size()); }

int ModelCatalog::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant ModelCatalog::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
    const CatalogEntry& e = m_entries.at(index.row());
    if (role == PathRole) return e.path;
    const FitStatus fit = m_fit.value(e.path);
    if (role == FitStateRole) return int(fit.state);
    if (role == Qt::ToolTipRole) {
        if (index.column() == FitColumn) return fit.detail.isEmpty() ? fit.summary : fit.detail;
        return e.path;
    }
    if (role == Qt::TextAlignmentRole) {
        switch (index.column()) {
            case ParamsColumn: case SizeColumn: case ContextColumn: case LayersColumn:
                return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
            default: return QVariant::fromValue(Qt::AlignLeft | Qt::AlignVCenter);
        }
    }
    if (role == SortRole) {
        switch (index.column()) {
            case ParamsColumn: return e.nParams;
            case SizeColumn: return e.fileSize;
            case ContextColumn: return e.contextLength;
            case LayersColumn: return e.nLayer;
            case AddedColumn: return e.addedAt;
            case FitColumn: return int(fit.state);
            default: break;
        }
        role = Qt::DisplayRole;
    }
    if (role != Qt::DisplayRole) return {};
    switch (index.column()) {
        case NameColumn: return e.name;
        case ArchitectureColumn: return e.architecture;
        case ParamsColumn: return paramText(e.nParams);
        case QuantColumn: return e.quantization;
        case SizeColumn: return QLocale().formattedDataSize(qint64(e.fileSize), 1, QLocale::DataSizeIecFormat);
        case ContextColumn: return e.contextLength ? QLocale().toString(e.contextLength) : QStringLiteral("—");
        case LayersColumn: return e.nLayer;
        case FitColumn:
            switch (fit.state) {
                case FitState::unknown: return fit.summary.isEmpty() ? QStringLiteral("…") : fit.summary;
                default: return fit.summary;
            }
        case AddedColumn: return QLocale().toString(e.addedAt.date(), QLocale::ShortFormat);
        default: return {};
    }
}

QVariant ModelCatalog::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
        case NameColumn: return tr("Name");
        case ArchitectureColumn: return tr("Architecture");
        case ParamsColumn: return tr("Params");
        case QuantColumn: return tr("Quant");
        case SizeColumn: return tr("Size");
        case ContextColumn: return tr("Context");
        case LayersColumn: return tr("Layers");
        case FitColumn: return tr("Fits");
        case AddedColumn: return tr("Added");
        default: return {};
    }
}

int ModelCatalog::add(const CatalogEntry& entry) {
    const int existing = rowOfPath(entry.path);
    if (existing >= 0) return existing;
    Transaction tx(m_db);
    if (!tx.active()) {
        m_error = m_db.lastError();
        return -1;
    }
    QSqlQuery q(m_db.connection());
    q.prepare(QString::fromLatin1(kInsertModel));
    for (const QVariant& v : {text(entry.path), text(entry.name), QVariant(entry.fileSize),
                              text(entry.architecture), QVariant(entry.nParams), text(entry.quantization),
                              QVariant(entry.contextLength), QVariant(entry.nLayer),
                              QVariant(entry.addedAt.toMSecsSinceEpoch()), QVariant(entry.nExpert),
                              QVariant(entry.nExpertUsed)})
        q.addBindValue(v);
    if (!q.exec()) {
        m_error = QStringLiteral("adding %1 to the library: %2").arg(entry.path, q.lastError().text());
        return -1;
    }
    CatalogEntry stored = entry;
    stored.id = q.lastInsertId().toLongLong();
    if (!tx.commit()) {
        m_error = m_db.lastError();
        return -1;
    }
    beginInsertRows({}, 0, 0);
    m_entries.prepend(stored);
    endInsertRows();
    emit entryAdded(stored.path);
    return 0;
}

bool ModelCatalog::removeAt(int row) {
    if (row < 0 || row >= m_entries.size()) return false;
    QSqlQuery q(m_db.connection());
    q.prepare(QString::fromLatin1(kDeleteModel));
    q.addBindValue(m_entries.at(row).id);
    if (!q.exec()) {
        m_error = q.lastError().text();
        return false;
    }
    beginRemoveRows({}, row, row);
    m_fit.remove(m_entries.at(row).path);
    m_entries.removeAt(row);
    endRemoveRows();
    return true;
}

int ModelCatalog::rowOfPath(const QString& path) const {
    for (int i = 0; i < m_entries.size(); ++i)
        if (m_entries.at(i).path == path) return i;
    return -1;
}

void ModelCatalog::setFitStatus(const QString& path, const FitStatus& fit) {
    m_fit.insert(path, fit);
    const int row = rowOfPath(path);
    if (row >= 0) emit dataChanged(index(row, FitColumn), index(row, FitColumn));
}

FitStatus ModelCatalog::fitStatus(const QString& path) const { return m_fit.value(path); }

}  // namespace strata::app
