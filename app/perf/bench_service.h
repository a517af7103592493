// BenchService: the app's bench runner and the one writer of bench runs. run() asks the
// worker for a benchmark of the loaded model (EngineWorker::requestBench: strata::run_bench on
// a leased sequence, on the worker's thread), completes the result with where and what it ran
// (machine, its fingerprint, the model, the plan, Strata's version) and stores it through
// BenchStore; the worker appends the same run to the engine's bench log, and importLog() brings
// that log's other records (strata-cli bench) into the store; the performance view reads runs() and calls run()/cancel()/exportCsv(), never the
// store.
//
// Threads: GUI thread (the Database's). The worker's signals arrive queued.
#pragma once

#include <QObject>

#include "allocation/allocation.h"
#include "perf/bench_run.h"
#include "strata/bench.h"
#include "strata/bench_log.h"
#include "strata/plan.h"

namespace strata::app {

class BenchStore;
class DeviceMonitor;
class EngineWorker;
class ModelState;

class BenchService : public QObject {
    Q_OBJECT
public:
    BenchService(EngineWorker& worker, const ModelState& model, const DeviceMonitor& monitor, BenchStore& store,
                 QObject* parent = nullptr);

    bool isRunning() const { return m_request != 0; }
    bool canRun() const;  // a model is loaded and no bench runs
    QList<BenchRun> runs() const;
    QString lastError() const { return m_error; }
    // Strata's version recorded with each run (default: QCoreApplication::applicationVersion()).
    void setVersion(const QString& version) { m_version = version; }

    // Starts a bench of the loaded model; false (lastError() says why) when none is loaded or
    // one runs already.
    bool run();
    void cancel();
    // Stores a run measured elsewhere (sample data).
    bool add(const BenchRun& run);
    // Imports the engine's bench log (strata/bench_log.h; "" = strata::bench_log_path()): every
    // record whose id no stored run has becomes a run — strata-cli bench results join the
    // history this way. Returns how many were added (runsChanged when any); bad log lines are
    // skipped (the engine's warnings go to the log output). Called when the service is made and
    // before each run; the app's own runs are in the log already and stored under their id.
    int importLog(const QString& path = {});
    // A bench log record as a run (what importLog stores).
    static BenchRun runFromRecord(const strata::BenchRecord& record);
    // Writes every run as CSV (benchRunsCsv); false with lastError() on failure.
    bool exportCsv(const QString& path);

    // The tests run on a model with `nCtx` positions: pp128 and pp512, tg64, three repeats,
    // each size cut to what the context holds.
    static strata::BenchOptions optionsFor(qint64 nCtx);
    // "cuda0 L0–15 → cuda1 L16–31"
    static QString planSummary(const strata::Plan& plan);
    // "cuda0 NVIDIA H100 80 GiB + cpu AMD EPYC 9654", and 12 hex digits of a hash of the same.
    static QString machineName(const AppDevices& devices);
    static QString machineId(const AppDevices& devices);

signals:
    void runningChanged(bool running);
    void runsChanged();
    void failed(const QString& message);

private:
    void finished(quint64 requestId, const BenchRun& figures);
    void failedRun(quint64 requestId, const QString& message);

    EngineWorker& m_worker;
    const ModelState& m_model;
    const DeviceMonitor& m_monitor;
    BenchStore& m_store;
    quint64 m_request = 0;
    BenchRun m_pending;  // what/where of the run in flight
    QString m_version;
    QString m_error;
};

}  // namespace strata::app
