// BenchStore: the bench runs in the SQLite data file (bench_runs, schema v7; record_id v8). Written only by
// the app's BenchService (never by widgets); read by it for the performance view.
// Use from the thread that opened the Database. Failures return false / an empty list with the
// reason in lastError().
#pragma once

#include <QList>
#include <QSet>
#include <QString>
#include <optional>

#include "perf/bench_run.h"

namespace strata::app {

class Database;

class BenchStore {
public:
    explicit BenchStore(Database& db);

    // Stores `run` (its id is ignored) and returns the new row's id.
    std::optional<qint64> add(const BenchRun& run);
    // Every run, oldest first.
    QList<BenchRun> runs() const;
    // The bench log record ids of the stored runs (BenchRun::recordId, the empty ones left out).
    QSet<QString> recordIds() const;
    QString lastError() const { return m_error; }

private:
    Database& m_db;
    mutable QString m_error;
};

}  // namespace strata::app
