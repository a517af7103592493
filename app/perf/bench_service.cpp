#include "perf/bench_service.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QLocale>
#include <QSaveFile>

#include <algorithm>

#include "devices/device_monitor.h"
#include "engine/engine_worker.h"
#include "engine/model_state.h"
#include "storage/bench_store.h"

namespace strata::app {

BenchService::BenchService(EngineWorker& worker, const ModelState& model, const DeviceMonitor& monitor,
                           BenchStore& store, BenchLogSource log, QObject* parent)
    : QObject(parent), m_worker(worker), m_model(model), m_monitor(monitor), m_store(store),
      m_version(QCoreApplication::applicationVersion()), m_log(std::move(log)) {
    qRegisterMetaType<strata::Calibration>();
    if (m_log.path.empty()) m_log.path = strata::bench_log_path();
    if (!m_log.read) m_log.read = [](const std::string& path, uint64_t maxBytes) { return strata::read_bench_log(path, maxBytes); };
    if (!m_log.calibration) m_log.calibration = [] { return strata::load_calibration(); };
    if (m_log.importWindow == 0) m_log.importWindow = 1;
    m_pool.setMaxThreadCount(1);
    connect(&worker, &EngineWorker::benchFinished, this, &BenchService::finished);
    connect(&worker, &EngineWorker::benchFailed, this, &BenchService::failedRun);
    readLog();
}

BenchService::~BenchService() { m_pool.waitForDone(); }

BenchRun BenchService::runFromRecord(const strata::BenchRecord& rec) {
    BenchRun run;
    run.recordId = QString::fromStdString(rec.id);
    QDateTime at = QDateTime::fromString(QString::fromStdString(rec.time_utc), Qt::ISODate);
    run.createdAtMs = at.isValid() ? at.toMSecsSinceEpoch() : 0;
    QStringList machine;
    for (const strata::BenchRecordDevice& d : rec.devices)
        machine << QStringLiteral("%1 %2").arg(QString::fromStdString(d.id), QString::fromStdString(d.name)).trimmed();
    run.machine = machine.join(QStringLiteral(" + "));
    run.machineId = QString::fromStdString(rec.fingerprint).left(12);
    run.modelPath = QString::fromStdString(rec.model_path);
    run.model = QFileInfo(run.modelPath).fileName();
    if (run.model.isEmpty()) run.model = QString::fromStdString(rec.model_name);
    QStringList stages;
    for (const strata::BenchRecordStage& s : rec.stages)
        stages << QStringLiteral("%1 L%2–%3").arg(QString::fromStdString(s.device_id)).arg(s.layer_begin).arg(s.layer_end - 1);
    run.plan = stages.join(QStringLiteral(" → "));
    run.version = QString::fromStdString(rec.version);
    if (rec.source == "cli") run.version += QStringLiteral(" (strata-cli)");
    run.prefillTokensPerSecond = rec.measured_prefill_tps();
    run.decodeTokensPerSecond = rec.measured_decode_tps();
    for (const strata::BenchRecordTest& t : rec.tests) run.tests.append({QString::fromStdString(t.name), t.tokens_per_second});
    return run;
}

BenchLogScan BenchService::scanLog(const BenchLogSource& source, const QSet<QString>& known) {
    BenchLogScan scan;
    // The log is append-only and the store imports it in order: once a window of its end holds
    // a record the store has, the records before that window were imported already.
    for (uint64_t window = std::max<uint64_t>(source.importWindow, 1);; window *= 4) {
        const strata::BenchLog log = source.read(source.path, window);
        scan.bytesRead = log.bytes_read;
        scan.whole = log.whole;
        const bool reachesKnown = std::any_of(log.records.begin(), log.records.end(), [&](const strata::BenchRecord& r) {
            return known.contains(QString::fromStdString(r.id));
        });
        if (!log.whole && !reachesKnown && window < (uint64_t(1) << 62)) continue;
        scan.runs.clear();
        for (const strata::BenchRecord& rec : log.records)
            if (!known.contains(QString::fromStdString(rec.id))) scan.runs.append(runFromRecord(rec));
        for (const std::string& w : log.warnings) scan.warnings.append(QString::fromStdString(w));
        return scan;
    }
}

void BenchService::readLog() {
    const BenchLogSource source = m_log;
    const QSet<QString> known = m_store.recordIds();
    m_pool.start([this, source, known] {
        BenchLogScan scan;
        strata::Calibration calibration;
        try {
            scan = scanLog(source, known);
            calibration = source.calibration();
        } catch (const std::exception& e) {  // a pool thread must not let it escape
            scan.warnings.append(QStringLiteral("reading the bench log failed: %1").arg(QString::fromUtf8(e.what())));
        }
        // Queued to this service's (the GUI) thread; dropped if the service is gone by then.
        QMetaObject::invokeMethod(
            this, [this, scan, calibration] { storeLogRuns(scan, calibration); }, Qt::QueuedConnection);
    });
}

void BenchService::storeLogRuns(const BenchLogScan& scan, const strata::Calibration& calibration) {
    for (const QString& w : scan.warnings) qWarning("bench log: %s", qPrintable(w));
    int added = 0;
    // A run in flight has its own record in the log soon (or already): it is stored by
    // finished() as the app's run, and the read after it brings in the rest.
    if (!isRunning()) {
        QSet<QString> seen = m_store.recordIds();  // now, not when the read started
        for (const BenchRun& run : scan.runs) {
            if (seen.contains(run.recordId)) continue;
            if (!m_store.add(run)) {
                m_error = m_store.lastError();
                break;
            }
            seen.insert(run.recordId);
            ++added;
        }
    }
    if (added > 0) emit runsChanged();
    emit logRead(added);
    emit calibrationLoaded(calibration);
}

bool BenchService::canRun() const { return m_model.isLoaded() && !isRunning(); }

QList<BenchRun> BenchService::runs() const { return m_store.runs(); }

strata::BenchOptions BenchService::optionsFor(qint64 nCtx) {
    strata::BenchOptions o;
    const int room = int(std::clamp<qint64>(nCtx - 2, 1, 1 << 20));
    o.prompt_sizes.clear();
    for (int n : {128, 512})
        if (n <= room && std::find(o.prompt_sizes.begin(), o.prompt_sizes.end(), n) == o.prompt_sizes.end())
            o.prompt_sizes.push_back(n);
    if (o.prompt_sizes.empty()) o.prompt_sizes.push_back(room);
    o.decode_sizes = {std::min(64, room)};
    o.repeats = 3;
    return o;
}

QString BenchService::planSummary(const strata::Plan& plan) {
    QStringList stages;
    for (const strata::StagePlan& s : plan.stages)
        stages << QStringLiteral("%1 L%2–%3").arg(QString::fromStdString(s.device_id)).arg(s.layer_begin).arg(s.layer_end - 1);
    return stages.join(QStringLiteral(" → "));
}

QString BenchService::machineName(const AppDevices& devices) {
    QStringList parts;
    for (const AppDevice& d : devices) {
        QString p = QStringLiteral("%1 %2").arg(QString::fromStdString(d.info.id), QString::fromStdString(d.info.name));
        if (d.info.type == strata::DeviceType::cuda)
            p += QStringLiteral(" %1 GiB").arg(qRound(double(d.info.total_memory) / double(1ull << 30)));
        parts << p.trimmed();
    }
    return parts.join(QStringLiteral(" + "));
}

QString BenchService::machineId(const AppDevices& devices) {
    QByteArray key;
    for (const AppDevice& d : devices)  // what the machine is, not how much happens to be free
        key += QByteArray::fromStdString(d.info.id + '\x1f' + d.info.name + '\x1f' + std::to_string(d.info.total_memory)) + '\x1e';
    return QString::fromLatin1(QCryptographicHash::hash(key, QCryptographicHash::Sha256).toHex().left(12));
}

bool BenchService::run() {
    if (isRunning()) {
        m_error = tr("A benchmark is running already.");
        return false;
    }
    const auto& loaded = m_model.loaded();
    if (!loaded) {
        m_error = tr("Load a model first: the benchmark runs on the loaded model.");
        return false;
    }
    readLog();  // strata-cli runs since the last look
    m_pending = {};
    m_pending.machine = machineName(m_monitor.devices());
    m_pending.machineId = machineId(m_monitor.devices());
    m_pending.modelPath = loaded->path;
    m_pending.model = QFileInfo(loaded->path).fileName();
    m_pending.plan = planSummary(loaded->plan);
    m_pending.version = m_version;
    m_request = m_worker.newRequestId();
    m_worker.requestBench(m_request, optionsFor(loaded->nCtx));
    emit runningChanged(true);
    return true;
}

void BenchService::cancel() {
    if (m_request) m_worker.requestCancel(m_request);
}

void BenchService::finished(quint64 requestId, const BenchRun& figures) {
    if (requestId != m_request) return;
    m_request = 0;
    BenchRun run = m_pending;
    run.createdAtMs = QDateTime::currentMSecsSinceEpoch();
    run.prefillTokensPerSecond = figures.prefillTokensPerSecond;
    run.decodeTokensPerSecond = figures.decodeTokensPerSecond;
    run.tests = figures.tests;
    run.recordId = figures.recordId;
    emit runningChanged(false);
    if (!m_store.add(run)) {
        m_error = tr("The benchmark ran but could not be saved: %1").arg(m_store.lastError());
        emit failed(m_error);
        readLog();
        return;
    }
    emit runsChanged();
    readLog();  // the calibration with this run, and records left while it ran
}

void BenchService::failedRun(quint64 requestId, const QString& message) {
    if (requestId != m_request) return;
    m_request = 0;
    m_error = message;
    emit runningChanged(false);
    emit failed(message);
    readLog();  // records left while it ran
}

bool BenchService::add(const BenchRun& run) {
    if (!m_store.add(run)) {
        m_error = m_store.lastError();
        return false;
    }
    emit runsChanged();
    return true;
}

bool BenchService::exportCsv(const QString& path) {
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly)) {
        m_error = tr("Cannot write %1: %2").arg(path, f.errorString());
        return false;
    }
    f.write(benchRunsCsv(runs()).toUtf8());
    if (!f.commit()) {
        m_error = tr("Cannot write %1: %2").arg(path, f.errorString());
        return false;
    }
    return true;
}

}  // namespace strata::app
