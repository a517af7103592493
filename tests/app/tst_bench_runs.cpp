// The app's bench runner and its stored runs: BenchService runs strata::run_bench on the loaded
// model (the real engine, a tiny random model) through the worker, stores the run with its
// machine, fingerprint, model, plan and version in SQLite (schema v7), refuses without a model,
// and exports CSV (RFC 4180 quoting, one column per test). The engine's bench log: the app's run
// is appended to it, and its records (strata-cli bench) are imported once each (by id); the log
// is read on the service's pool thread, never the GUI thread, and only its end once the store
// has caught up with it.
#include <QtTest>

#include <QMutex>
#include <QTemporaryDir>
#include <QThread>
#include <QTimeZone>
#include <atomic>
#include <memory>

#include "allocation/fit_service.h"
#include "devices/device_monitor.h"
#include "perf/bench_run.h"
#include "perf/bench_service.h"
#include "storage/bench_store.h"
#include "storage/database.h"
#include "storage/schema.h"
#include "strata/bench_log.h"
#include "test_models.h"
#include "worker_fixture.h"

using namespace strata;
using namespace strata::app;

namespace {

AppDevice cpuDevice() {
    AppDevice d;
    d.spec.kind = "cpu";
    d.info.id = "cpu";
    d.info.name = "Test CPU";
    d.info.total_memory = d.info.free_memory = 8ull << 30;
    return d;
}

BenchRun sampleRun(qint64 at, double prefill, double decode) {
    BenchRun r;
    r.createdAtMs = at;
    r.machine = QStringLiteral("cuda0 NVIDIA H100 80 GiB + cpu \"Xeon\", 2 sockets");
    r.machineId = QStringLiteral("0123456789ab");
    r.model = QStringLiteral("model.gguf");
    r.modelPath = QStringLiteral("/models/model.gguf");
    r.plan = QStringLiteral("cuda0 L0–31");
    r.version = QStringLiteral("0.9.0");
    r.prefillTokensPerSecond = prefill;
    r.decodeTokensPerSecond = decode;
    r.tests = {{QStringLiteral("pp512"), prefill}, {QStringLiteral("tg64"), decode}};
    return r;
}

// Starts a log read and waits for its answer: how many runs it added (-1: no answer).
int readLogAndWait(BenchService& service) {
    QSignalSpy read(&service, &BenchService::logRead);
    service.readLog();
    if (!read.wait(20000)) return -1;
    return read[0][0].toInt();
}

// A service's first read (its constructor starts one): how many runs it added (-1: no answer).
int firstRead(QSignalSpy& read) {
    if (read.isEmpty() && !read.wait(20000)) return -1;
    return read[0][0].toInt();
}

strata::BenchRecord cliRecord(const std::string& id) {
    strata::BenchRecord rec;
    rec.id = id;
    rec.time_utc = "2026-12-07T19:00:00Z";
    rec.version = "0.1.0";
    rec.source = "cli";
    rec.fingerprint = "0123456789abcdef";
    rec.devices = {{"cpu", "cpu", "Test CPU (2 threads)", 2, "avx2", 20, 0.08}};
    rec.model_path = "/models/tiny.gguf";
    rec.stages = {{"cpu", 0, 3}};
    rec.tests = {{"pp128", true, 128, 150.5}, {"tg32", false, 32, 30.25}};
    rec.predicted_decode_tps = 40;
    return rec;
}

}  // namespace

class TestBenchRuns : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        registerWorkerMetaTypes();
        // The bench log (strata::bench_log_path()) in a temporary data directory.
        qputenv("XDG_DATA_HOME", dir_.filePath(QStringLiteral("xdg")).toUtf8());
    }

    // A record the engine wrote (as strata-cli bench does) appears once in the history, however
    // often the log is imported; a record with another id is a run of its own.
    void importsEngineRecordsOnce() {
        QTemporaryDir dir;
        Database db;
        QVERIFY(db.open(dir.filePath(QStringLiteral("import.db"))));
        BenchStore store(db);
        strata::BenchRecord rec = cliRecord("20261207T190000Z-00000000000000aa");
        const QString log = dir.filePath(QStringLiteral("log.jsonl"));
        QVERIFY(strata::append_bench_record(rec, log.toStdString()).ok());

        test::WorkerFixture f(makeStrataBackend());
        DeviceMonitor monitor(nullptr);
        BenchLogSource source;
        source.path = log.toStdString();
        BenchService service(*f.worker, *f.model, monitor, store, source);
        QSignalSpy changed(&service, &BenchService::runsChanged);
        QSignalSpy read(&service, &BenchService::logRead);
        QCOMPARE(firstRead(read), 1);
        QCOMPARE(readLogAndWait(service), 0);
        QCOMPARE(changed.size(), 1);
        QList<BenchRun> runs = service.runs();
        QCOMPARE(runs.size(), 1);
        QCOMPARE(runs[0].recordId, QString::fromStdString(rec.id));
        QCOMPARE(runs[0].model, QStringLiteral("tiny.gguf"));
        QCOMPARE(runs[0].plan, QStringLiteral("cpu L0–2"));
        QCOMPARE(runs[0].machine, QStringLiteral("cpu Test CPU (2 threads)"));
        QCOMPARE(runs[0].version, QStringLiteral("0.1.0 (strata-cli)"));
        QCOMPARE(runs[0].createdAtMs, QDateTime(QDate(2026, 12, 7), QTime(19, 0), QTimeZone::utc()).toMSecsSinceEpoch());
        QCOMPARE(runs[0].prefillTokensPerSecond, 150.5);
        QCOMPARE(runs[0].decodeTokensPerSecond, 30.25);
        QCOMPARE(runs[0].tests.size(), 2);

        rec.id = "20261207T190100Z-00000000000000bb";
        QVERIFY(strata::append_bench_record(rec, log.toStdString()).ok());
        {
            QFile bad(log);
            QVERIFY(bad.open(QIODevice::Append));
            bad.write("{ not a record\n");  // skipped, not fatal
        }
        QCOMPARE(readLogAndWait(service), 1);
        QCOMPARE(readLogAndWait(service), 0);
        QCOMPARE(service.runs().size(), 2);
        // The database refuses a second row for one record, too.
        BenchRun dup = runs[0];
        QVERIFY(!store.add(dup));
        QCOMPARE(store.recordIds().size(), 2);
        // A missing log imports nothing.
        source.path = dir.filePath(QStringLiteral("none.jsonl")).toStdString();
        BenchService none(*f.worker, *f.model, monitor, store, source);
        QSignalSpy noneRead(&none, &BenchService::logRead);
        QCOMPARE(firstRead(noneRead), 0);
    }

    // The log is read, and the calibration loaded, on a thread that is not the GUI thread; the
    // calibration comes back by calibrationLoaded.
    void readsTheLogOffTheGuiThread() {
        QTemporaryDir dir;
        Database db;
        QVERIFY(db.open(dir.filePath(QStringLiteral("threads.db"))));
        BenchStore store(db);
        const QString log = dir.filePath(QStringLiteral("log.jsonl"));
        QVERIFY(strata::append_bench_record(cliRecord("t1"), log.toStdString()).ok());
        struct Seen {
            QMutex mutex;
            QList<QThread*> threads;
            void add() {
                QMutexLocker lock(&mutex);
                threads.append(QThread::currentThread());
            }
        };
        auto seen = std::make_shared<Seen>();
        BenchLogSource source;
        source.path = log.toStdString();
        source.read = [seen](const std::string& path, uint64_t maxBytes) {
            seen->add();
            return strata::read_bench_log(path, maxBytes);
        };
        source.calibration = [seen] {
            seen->add();
            strata::Calibration c;
            c.classes.push_back({"cpu|test", "test CPU", {}, {}});
            return c;
        };
        test::WorkerFixture f(makeStrataBackend());
        DeviceMonitor monitor(nullptr);
        BenchService service(*f.worker, *f.model, monitor, store, source);
        QSignalSpy calibrated(&service, &BenchService::calibrationLoaded);
        QSignalSpy read(&service, &BenchService::logRead);
        QCOMPARE(firstRead(read), 1);
        QCOMPARE(readLogAndWait(service), 0);
        QTRY_COMPARE(calibrated.size(), 2);
        QCOMPARE(calibrated[0][0].value<strata::Calibration>().classes.size(), size_t(1));
        QMutexLocker lock(&seen->mutex);
        QCOMPARE(seen->threads.size(), 4);  // two reads, two calibrations
        for (QThread* t : seen->threads) QVERIFY(t != QCoreApplication::instance()->thread());
    }

    // A long log: once the store has its records, a read looks only at the log's end (a small
    // part of the file), and still imports every new record, however many: the window grows
    // until it reaches a record the store has.
    void longLogIsReadBoundedAndImportsNewRecords() {
        QTemporaryDir dir;
        Database db;
        QVERIFY(db.open(dir.filePath(QStringLiteral("long.db"))));
        BenchStore store(db);
        const QString log = dir.filePath(QStringLiteral("log.jsonl"));
        const int n = 300;
        for (int i = 0; i < n; ++i)
            QVERIFY(strata::append_bench_record(cliRecord("old-" + std::to_string(i)), log.toStdString()).ok());
        const qint64 lineBytes = QFileInfo(log).size() / n;
        auto largest = std::make_shared<std::atomic<uint64_t>>(0);
        BenchLogSource source;
        source.path = log.toStdString();
        source.importWindow = uint64_t(4 * lineBytes);
        source.read = [largest](const std::string& path, uint64_t maxBytes) {
            strata::BenchLog l = strata::read_bench_log(path, maxBytes);
            largest->store(std::max(largest->load(), l.bytes_read));
            return l;
        };
        test::WorkerFixture f(makeStrataBackend());
        DeviceMonitor monitor(nullptr);
        BenchService service(*f.worker, *f.model, monitor, store, source);
        QSignalSpy read(&service, &BenchService::logRead);
        QCOMPARE(firstRead(read), n);  // a log the store never saw: read whole, once
        QCOMPARE(largest->load(), uint64_t(QFileInfo(log).size()));

        largest->store(0);
        QVERIFY(strata::append_bench_record(cliRecord("new-1"), log.toStdString()).ok());
        QVERIFY(strata::append_bench_record(cliRecord("new-2"), log.toStdString()).ok());
        QCOMPARE(readLogAndWait(service), 2);
        QVERIFY2(largest->load() <= uint64_t(4 * lineBytes), qPrintable(QString::number(largest->load())));

        largest->store(0);
        for (int i = 0; i < 40; ++i)  // ten windows' worth of new records
            QVERIFY(strata::append_bench_record(cliRecord("burst-" + std::to_string(i)), log.toStdString()).ok());
        QCOMPARE(readLogAndWait(service), 40);
        QVERIFY(largest->load() < uint64_t(QFileInfo(log).size()));
        QCOMPARE(service.runs().size(), n + 42);
        QCOMPARE(readLogAndWait(service), 0);
    }

    void storeKeepsRuns() {
        Database db;
        QVERIFY2(db.open(dir_.filePath(QStringLiteral("store.db"))), qPrintable(db.lastError()));
        QCOMPARE(db.schemaVersion(), schema::kCurrentVersion);
        BenchStore store(db);
        QVERIFY(store.runs().isEmpty());
        QVERIFY(store.add(sampleRun(2000, 900.5, 41.25)));
        QVERIFY(store.add(sampleRun(1000, 800.0, 40.0)));
        const QList<BenchRun> runs = store.runs();
        QCOMPARE(runs.size(), 2);
        QCOMPARE(runs[0].createdAtMs, 1000);  // oldest first
        QCOMPARE(runs[1].prefillTokensPerSecond, 900.5);
        QCOMPARE(runs[1].decodeTokensPerSecond, 41.25);
        QCOMPARE(runs[1].machine, sampleRun(0, 0, 0).machine);
        QCOMPARE(runs[1].plan, QStringLiteral("cuda0 L0–31"));
        QCOMPARE(runs[1].tests.size(), 2);
        QCOMPARE(runs[1].tests[1].name, QStringLiteral("tg64"));
        QCOMPARE(runs[1].tests[1].tokensPerSecond, 41.25);
    }

    // The fit previews' plan requests carry the bench log's factors for their devices' class.
    void fitPreviewsAreCalibrated() {
        FitService fits([](const std::string&) { return strata::Result<ModelFootprint>(ModelFootprint{}); },
                        [](const PlanRequest& r) { return make_plan(r); });
        fits.setDevices({cpuDevice()});
        fits.prime(QStringLiteral("/m.gguf"), ModelFootprint{});
        QCOMPARE(fits.planRequest(QStringLiteral("/m.gguf"), {}).devices.at(0).calibration.decode_runs, 0);
        strata::Calibration c;
        strata::SpeedCalibration f;
        f.decode = 0.5;
        f.decode_runs = 3;
        f.source = "this CPU";
        c.classes.push_back({strata::speed_class(cpuDevice().info), "this CPU", f, {}});
        QSignalSpy replan(&fits, &FitService::devicesChanged);
        fits.setCalibration(c);
        QCOMPARE(replan.size(), 1);
        const PlanRequest req = fits.planRequest(QStringLiteral("/m.gguf"), {});
        QCOMPARE(req.devices.at(0).calibration.decode, 0.5);
        QCOMPARE(req.devices.at(0).calibration.decode_runs, 3);
    }

    void csvQuotesAndColumns() {
        BenchRun a = sampleRun(0, 1000, 50);
        BenchRun b = sampleRun(60000, 10, 5);
        b.tests.append({QStringLiteral("pp128"), 12.5});
        const QString csv = benchRunsCsv({a, b});
        const QStringList lines = csv.split(QStringLiteral("\r\n"), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 3);
        QCOMPARE(lines[0], QStringLiteral("date,machine,machine_id,model,plan,version,prefill_tok_s,decode_tok_s,"
                                          "pp512_tok_s,tg64_tok_s,pp128_tok_s"));
        QCOMPARE(lines[1], QStringLiteral("1970-01-01T00:00:00Z,\"cuda0 NVIDIA H100 80 GiB + cpu \"\"Xeon\"\", 2 sockets\","
                                          "0123456789ab,model.gguf,cuda0 L0–31,0.9.0,1000.00,50.00,1000.00,50.00,"));
        QVERIFY(lines[2].startsWith(QStringLiteral("1970-01-01T00:01:00Z,")));
        QVERIFY(lines[2].endsWith(QStringLiteral(",10.00,5.00,10.00,5.00,12.50")));
    }

    void fingerprints() {
        AppDevice gpu;
        gpu.info.id = "cuda0";
        gpu.info.name = "NVIDIA H100";
        gpu.info.type = DeviceType::cuda;
        gpu.info.total_memory = 80ull << 30;
        gpu.info.free_memory = 70ull << 30;
        const QString id = BenchService::machineId({gpu, cpuDevice()});
        QCOMPARE(id.size(), 12);
        QCOMPARE(BenchService::machineName({gpu, cpuDevice()}), QStringLiteral("cuda0 NVIDIA H100 80 GiB + cpu Test CPU"));
        AppDevice busier = gpu;
        busier.info.free_memory = 1ull << 30;  // free memory is not the machine
        QCOMPARE(BenchService::machineId({busier, cpuDevice()}), id);
        AppDevice other = gpu;
        other.info.name = "NVIDIA H200";
        QVERIFY(BenchService::machineId({other, cpuDevice()}) != id);
        const BenchOptions o = BenchService::optionsFor(300);  // pp512 does not fit
        QCOMPARE(o.prompt_sizes, std::vector<int>{128});
        QCOMPARE(o.decode_sizes, std::vector<int>{64});
        QVERIFY(bench_context_needed(BenchService::optionsFor(40)) <= 40);
    }

    // The whole path on the real engine: a tiny random model loaded through the worker, a bench
    // run from the service, stored with what and where, exported as CSV.
    void runsOnTheLoadedModel() {
        RandomModelConfig c;
        QString error;
        const QString path = test::writeRandomModel(dir_, QStringLiteral("tiny"), c, &error);
        QVERIFY2(!path.isEmpty(), qPrintable(error));
        Database db;
        QVERIFY(db.open(dir_.filePath(QStringLiteral("service.db"))));
        BenchStore store(db);
        test::WorkerFixture f(makeStrataBackend());
        DeviceMonitor monitor(nullptr);
        monitor.setDevices({cpuDevice()}, {});
        BenchService service(*f.worker, *f.model, monitor, store);
        service.setVersion(QStringLiteral("9.9.9"));
        QVERIFY(!service.canRun());
        QVERIFY(!service.run());
        QVERIFY(service.lastError().contains(QLatin1String("Load a model")));

        QSignalSpy modelChanged(f.model.get(), &ModelState::modelChanged);
        f.model->load(path, test::cpuLoadOptions(KvCacheType::f32, 600, 64));
        QTRY_COMPARE_WITH_TIMEOUT(modelChanged.size(), 1, 10000);
        QVERIFY(f.model->isLoaded());
        QSignalSpy running(&service, &BenchService::runningChanged);
        QSignalSpy saved(&service, &BenchService::runsChanged);
        QSignalSpy failed(&service, &BenchService::failed);
        QVERIFY(service.run());
        QVERIFY(service.isRunning() && !service.canRun());
        QVERIFY(!service.run());  // one at a time
        QTRY_COMPARE_WITH_TIMEOUT(saved.size() + failed.size(), 1, 60000);
        QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed[0][0].toString()));
        QCOMPARE(running.size(), 2);
        QVERIFY(!service.isRunning());
        const QList<BenchRun> runs = service.runs();
        QCOMPARE(runs.size(), 1);
        const BenchRun& r = runs[0];
        QCOMPARE(r.model, QStringLiteral("tiny.gguf"));
        QCOMPARE(r.modelPath, path);
        QCOMPARE(r.plan, QStringLiteral("cpu L0–1"));
        QCOMPARE(r.version, QStringLiteral("9.9.9"));
        QCOMPARE(r.machine, QStringLiteral("cpu Test CPU"));
        QCOMPARE(r.machineId, BenchService::machineId({cpuDevice()}));
        QVERIFY(qAbs(r.createdAtMs - QDateTime::currentMSecsSinceEpoch()) < 60000);
        QCOMPARE(r.tests.size(), 3);  // pp128, pp512, tg64
        QCOMPARE(r.tests[0].name, QStringLiteral("pp128"));
        QCOMPARE(r.tests[2].name, QStringLiteral("tg64"));
        QVERIFY(r.prefillTokensPerSecond > 0 && r.decodeTokensPerSecond > 0);
        QCOMPARE(r.prefillTokensPerSecond, r.tests[1].tokensPerSecond);
        // The same run is in the engine's bench log, under the id the stored run carries; an
        // import does not add it twice.
        QVERIFY(!r.recordId.isEmpty());
        const strata::BenchLog log = strata::read_bench_log(strata::bench_log_path());
        QCOMPARE(log.records.size(), size_t(1));
        QCOMPARE(QString::fromStdString(log.records[0].id), r.recordId);
        QCOMPARE(log.records[0].source, std::string("app"));
        QCOMPARE(log.records[0].tests.size(), size_t(3));
        QVERIFY(log.records[0].predicted_decode_tps > 0);
        QCOMPARE(readLogAndWait(service), 0);
        QCOMPARE(service.runs().size(), 1);

        const QString csvPath = dir_.filePath(QStringLiteral("runs.csv"));
        QVERIFY2(service.exportCsv(csvPath), qPrintable(service.lastError()));
        QFile csv(csvPath);
        QVERIFY(csv.open(QIODevice::ReadOnly));
        QCOMPARE(QString::fromUtf8(csv.readAll()), benchRunsCsv(runs));
        QVERIFY(!service.exportCsv(QStringLiteral("/nonexistent/dir/runs.csv")));
        QVERIFY(!service.lastError().isEmpty());
    }
};

QTEST_MAIN(TestBenchRuns)
#include "tst_bench_runs.moc"
