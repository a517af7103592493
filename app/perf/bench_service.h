// BenchService: the app's bench runner and the one writer of bench runs. run() asks the
// worker for a benchmark of the loaded model (EngineWorker::requestBench: strata::run_bench on
// a leased sequence, on the worker's thread), completes the result with where and what it ran
// (machine, its fingerprint, the model, the plan, Strata's version) and stores it through
// BenchStore; the worker appends the same run to the engine's bench log, and readLog() brings
// that log's other records (strata-cli bench) into the store and loads the planner's calibration
// from it; the performance view reads runs() and calls run()/cancel()/exportCsv(), never the
// store.
//
// Threads: lives on the GUI thread (the Database's); the worker's signals arrive queued. The
// bench log is read on this service's own pool thread, never on the GUI thread: the log is
// append-only and grows with every bench; what was read comes back as a queued call.
#pragma once

#include <QObject>
#include <QThreadPool>
#include <cstdint>
#include <functional>
#include <string>

#include "allocation/allocation.h"
#include "perf/bench_run.h"
#include "strata/bench.h"
#include "strata/bench_log.h"
#include "strata/calibration.h"
#include "strata/plan.h"

namespace strata::app {

class BenchStore;
class DeviceMonitor;
class EngineWorker;
class ModelState;

// Where and how BenchService reads the bench log. Both functions run on the service's pool
// thread; tests replace them to see which thread reads, or how much.
struct BenchLogSource {
    std::string path;  // "" = strata::bench_log_path()
    // Reads the records in the last `maxBytes` of `path` (strata::read_bench_log).
    std::function<strata::BenchLog(const std::string& path, uint64_t maxBytes)> read;
    // The planner's calibration (strata::load_calibration: the engine's log, bounded there).
    std::function<strata::Calibration()> calibration;
    // The import reads this much of the log's end first, and four times more while everything it
    // read is new to the store (so a log the store has never seen is read whole, once).
    uint64_t importWindow = 1ull << 20;
};

// What one scan of the bench log found.
struct BenchLogScan {
    QList<BenchRun> runs;   // of records the store did not have, oldest first
    QStringList warnings;   // skipped lines
    uint64_t bytesRead = 0; // of the last (largest) window read
    bool whole = true;      // the last window was the whole file
};

class BenchService : public QObject {
    Q_OBJECT
public:
    BenchService(EngineWorker& worker, const ModelState& model, const DeviceMonitor& monitor, BenchStore& store,
                 BenchLogSource log = {}, QObject* parent = nullptr);
    ~BenchService() override;  // waits for a log read in flight

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
    // Reads the engine's bench log on the pool thread: every record whose id no stored run has
    // becomes a run (strata-cli bench results join the history this way), and the planner's
    // calibration is loaded from it. Back on the GUI thread: the new runs are stored
    // (runsChanged when any), then logRead(added), then calibrationLoaded. Only the log's end is
    // read: from the last importWindow bytes, growing until a run already stored is among them.
    // Bad log lines are skipped (the engine's warnings go to the log output). Called when the
    // service is made, before each run and after it; while a run is in flight, the runs read
    // are left to the read after it, so the run's own record is stored as the app's run.
    void readLog();
    // What readLog() reads, without storing it: the runs of the log's records whose ids are not
    // in `known`, from windows of the log's end growing from source.importWindow until one
    // holds a known record or is the whole file. Thread-safe (the source's functions permitting).
    static BenchLogScan scanLog(const BenchLogSource& source, const QSet<QString>& known);
    // A bench log record as a run (what readLog stores).
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
    // A readLog() finished: `added` runs were stored from the log.
    void logRead(int added);
    // The planner's calibration as the log gave it (empty when switched off, or no runs).
    void calibrationLoaded(const strata::Calibration& calibration);

private:
    void finished(quint64 requestId, const BenchRun& figures);
    void failedRun(quint64 requestId, const QString& message);
    void storeLogRuns(const BenchLogScan& scan, const strata::Calibration& calibration);

    EngineWorker& m_worker;
    const ModelState& m_model;
    const DeviceMonitor& m_monitor;
    BenchStore& m_store;
    quint64 m_request = 0;
    BenchRun m_pending;  // what/where of the run in flight
    QString m_version;
    QString m_error;
    BenchLogSource m_log;
    QThreadPool m_pool;  // one thread: log reads run in order
};

}  // namespace strata::app

Q_DECLARE_METATYPE(strata::Calibration)
