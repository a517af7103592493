// ModelCatalog: the model library — GGUF files the user added, with the facts shown in the
// library table, stored in the `models` table and exposed as a table model.
//
// GUI thread only (an item model; it also owns SQL on the GUI thread's connection). The Fit
// column is not stored: whoever knows the devices (the library view's fit updater) sets it.
#pragma once

#include <QAbstractTableModel>
#include <QDateTime>
#include <QList>
#include <QString>
#include <optional>

#include "strata/model_info.h"

namespace strata::app {

class Database;

struct CatalogEntry {
    qint64 id = 0;
    QString path;          // absolute, canonical
    QString name;
    quint64 fileSize = 0;
    QString architecture;
    quint64 nParams = 0;
    QString quantization;
    quint32 contextLength = 0;
    quint32 nLayer = 0;
    quint32 nExpert = 0;      // mixture of experts: experts per layer (0 = dense)
    quint32 nExpertUsed = 0;  // experts a token runs through
    QDateTime addedAt;

    static CatalogEntry fromModelInfo(const strata::ModelInfo& info);
};

enum class FitState { unknown, fits, doesNotFit, error };

struct FitStatus {
    FitState state = FitState::unknown;
    QString summary;  // "fits: cpu 1.2 GiB", "short by 3.1 GiB on cuda0"
    QString detail;   // tooltip: decisions / shortfalls / suggestions
};

class ModelCatalog : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { NameColumn, ArchitectureColumn, ParamsColumn, QuantColumn, SizeColumn, ContextColumn,
                  LayersColumn, FitColumn, AddedColumn, ColumnCount };
    enum Roles { PathRole = Qt::UserRole + 1, FitStateRole, SortRole };

    explicit ModelCatalog(Database& db, QObject* parent = nullptr);

    // Reads the table again (startup).
    bool reload();

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // Adds and stores an entry; returns its row. An entry with the same path is not added again
    // (its row is returned). -1 with lastError() set when the database refuses.
    int add(const CatalogEntry& entry);
    bool removeAt(int row);
    int rowOfPath(const QString& path) const;  // -1 when absent
    const CatalogEntry& entryAt(int row) const { return m_entries.at(row); }
    const QList<CatalogEntry>& entries() const { return m_entries; }

    void setFitStatus(const QString& path, const FitStatus& fit);
    FitStatus fitStatus(const QString& path) const;

    QString lastError() const { return m_error; }

signals:
    void entryAdded(const QString& path);

private:
    Database& m_db;
    QList<CatalogEntry> m_entries;  // newest first
    QHash<QString, FitStatus> m_fit;
    QString m_error;
};

}  // namespace strata::app
