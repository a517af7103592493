// The device monitor's telemetry off the GUI thread, and its history: the read function runs
// only on the monitor thread (the GUI thread only takes the posted sample), the rate is 1 Hz
// idle and 10 Hz while answers run (followed from the worker's signals), an hour of history
// stays within a bounded number of points with each bucket's min and max right, and Strata's own
// stage busy share and tokens/s go into the same history.
#include <QtTest>

#include <atomic>
#include <cmath>
#include <mutex>

#include "devices/device_monitor.h"
#include "devices/telemetry_history.h"
#include "engine/engine_worker.h"
#include "fake_backend.h"

using namespace strata;
using namespace strata::app;

namespace {

AppDevice gpuDevice(const char* id) {
    AppDevice d;
    d.spec.kind = "cuda";
    d.info.id = id;
    d.info.name = "NVIDIA Test GPU";
    d.info.type = DeviceType::cuda;
    d.info.total_memory = d.info.free_memory = 24ull << 30;
    return d;
}

// A read function that notes the thread and time of every call and answers with figures.
struct RecordingReader {
    std::mutex mutex;
    QList<QThread*> threads;
    QList<qint64> times;
    std::atomic<int> calls{0};

    TelemetryReadFn function() {
        return [this](const std::vector<DeviceInfo>& gpus) {
            TelemetrySample s;
            for (const DeviceInfo& d : gpus) {
                GpuTelemetry t;
                t.device_id = d.id;
                t.utilisation_percent = 40 + unsigned(calls.load() % 50);
                t.memory_used_bytes = 3ull << 30;
                t.memory_total_bytes = 24ull << 30;
                t.temperature_c = 55;
                t.power_watts = 210.5;
                s.readings.append(t);
            }
            std::lock_guard lock(mutex);
            threads.append(QThread::currentThread());
            times.append(QDateTime::currentMSecsSinceEpoch());
            ++calls;
            return s;
        };
    }
    int readsSince(qint64 ms) {
        std::lock_guard lock(mutex);
        return int(std::count_if(times.cbegin(), times.cend(), [ms](qint64 t) { return t >= ms; }));
    }
};

}  // namespace

class TestTelemetryMonitor : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { registerWorkerMetaTypes(); }

    // Every reading happens on the monitor thread; the GUI thread gets the figures.
    void readsOffTheGuiThread() {
        RecordingReader reader;
        DeviceMonitor monitor(nullptr);
        monitor.setTelemetryInterval(30);
        monitor.setTelemetryReadFunction(reader.function());
        QSignalSpy changed(&monitor, &DeviceMonitor::telemetryChanged);
        monitor.setDevices({gpuDevice("cuda0"), gpuDevice("cuda1")}, {});
        QVERIFY(monitor.isPollingTelemetry());
        QTRY_VERIFY_WITH_TIMEOUT(reader.calls.load() >= 4 && changed.count() >= 4, 3000);
        {
            std::lock_guard lock(reader.mutex);
            for (QThread* t : reader.threads) {
                QVERIFY(t != QThread::currentThread());
                QVERIFY(t != qApp->thread());
                QCOMPARE(t->objectName(), QStringLiteral("strata-monitor"));
            }
        }
        QVERIFY(monitor.telemetry("cuda1") && monitor.telemetry("cuda1")->ok());
        QCOMPARE(*monitor.telemetry("cuda1")->temperature_c, 55);
        // The samples went into the history, per device and metric.
        QVERIFY(monitor.history().points("cuda0", TelemetryMetric::load).size() >= 3);
        QCOMPARE(monitor.history().points("cuda1", TelemetryMetric::power).constLast().max, 210.5);
        QCOMPARE(monitor.history().points("cuda0", TelemetryMetric::memoryUsed).constLast().mean, 3.0);
    }

    // A reader that says NVML is missing stops the sampling; the status says why.
    void stopsWhenTheReaderSaysNever() {
        std::atomic<int> calls{0};
        DeviceMonitor monitor(nullptr);
        monitor.setTelemetryInterval(20);
        monitor.setTelemetryReadFunction([&calls](const std::vector<DeviceInfo>&) {
            ++calls;
            TelemetrySample s;
            s.status = QStringLiteral("telemetry unavailable: no driver");
            return s;
        });
        monitor.setDevices({gpuDevice("cuda0")}, {});
        QTRY_COMPARE_WITH_TIMEOUT(monitor.telemetryStatus(), QStringLiteral("telemetry unavailable: no driver"), 2000);
        QVERIFY(!monitor.isPollingTelemetry());
        QTest::qWait(150);
        QCOMPARE(calls.load(), 1);
    }

    // 1 Hz idle, 10 Hz from the first answer started until the last one finished.
    void rateFollowsGeneration() {
        auto record = std::make_shared<test::FakeRecord>();
        EngineWorker worker(std::make_unique<test::FakeBackend>(test::FakeScript{}, record));
        RecordingReader reader;
        DeviceMonitor monitor(&worker);
        QCOMPARE(monitor.telemetryInterval(), 1000);
        monitor.setTelemetryReadFunction(reader.function());
        monitor.setDevices({gpuDevice("cuda0")}, {});
        QTRY_VERIFY_WITH_TIMEOUT(reader.calls.load() >= 1, 2000);  // the first reading, at once

        QSignalSpy generating(&monitor, &DeviceMonitor::generatingChanged);
        emit worker.generationStarted(7);
        emit worker.generationStarted(8);
        QVERIFY(monitor.isGenerating());
        QCOMPARE(monitor.runningAnswers(), 2);
        QCOMPARE(monitor.telemetryInterval(), DeviceMonitor::kGeneratingIntervalMs);
        qint64 from = QDateTime::currentMSecsSinceEpoch();
        QTest::qWait(800);
        QVERIFY2(reader.readsSince(from) >= 5, qPrintable(QString::number(reader.readsSince(from))));

        strata::GenerateStats s;
        s.n_generated = 33;
        s.generate_seconds = 1.0;
        s.time_to_first_token = 0.25;
        emit worker.generationFinished(7, s);
        QVERIFY(monitor.isGenerating());  // 8 still runs
        emit worker.generationFinished(8, s);
        QVERIFY(!monitor.isGenerating());
        QCOMPARE(generating.count(), 2);
        QCOMPARE(monitor.telemetryInterval(), 1000);
        QCOMPARE(monitor.answers().size(), 2);
        QCOMPARE(monitor.answers().constLast().decodeTokensPerSecond, 32.0);
        QCOMPARE(monitor.answers().constLast().ttftSeconds, 0.25);
        QTest::qWait(100);  // the new interval reaches the monitor thread
        from = QDateTime::currentMSecsSinceEpoch();
        QTest::qWait(700);
        QVERIFY2(reader.readsSince(from) <= 1, qPrintable(QString::number(reader.readsSince(from))));
    }

    // An hour and ten minutes at 10 Hz: a bounded number of points reaching back an hour, with a
    // one-sample spike's max and a one-sample dip's min kept in the minute buckets.
    void historyIsBoundedAndKeepsExtremes() {
        MetricSeries series;
        const qint64 start = 1'700'000'000'000;
        const qint64 end = start + 70 * 60 * 1000;
        const qint64 spikeAt = start + 25 * 60 * 1000 + 300, dipAt = start + 40 * 60 * 1000 + 700;
        size_t most = 0;
        for (qint64 t = start; t < end; t += 100) {
            double v = 50.0 + 30.0 * std::sin(double(t - start) / 7000.0);
            if (t == spikeAt) v = 500.0;
            if (t == dipAt) v = -5.0;
            series.add(t, v);
            most = std::max(most, series.storedPoints());
        }
        QVERIFY2(most <= 1500, qPrintable(QString::number(most)));
        const QList<HistoryPoint> points = series.points();
        QVERIFY(points.size() <= 1500);
        QVERIFY2(points.constFirst().t <= end - 59 * 60 * 1000, "reaches back an hour");
        QVERIFY(points.constFirst().t >= end - 61 * 60 * 1000 - 60 * 1000);
        double hi = -1e9, lo = 1e9;
        for (qsizetype i = 0; i < points.size(); ++i) {
            if (i) QVERIFY(points[i].t > points[i - 1].t);  // oldest first, no repeats
            hi = std::max(hi, points[i].max);
            lo = std::min(lo, points[i].min);
            QVERIFY(points[i].min <= points[i].mean && points[i].mean <= points[i].max);
        }
        QCOMPARE(hi, 500.0);
        QCOMPARE(lo, -5.0);
        // The spike sits in the minute bucket that holds its time, and only there.
        for (const HistoryPoint& p : points) {
            const bool holds = p.t <= spikeAt && spikeAt < p.t + MetricSeries::kCoarseBucketMs;
            QCOMPARE(p.max == 500.0, holds);
        }
        // The last two minutes are the samples themselves.
        QCOMPARE(points.constLast().t, end - 100);
        QCOMPARE(points.constLast().min, points.constLast().max);
        // sinceMs leaves the older points out.
        const QList<HistoryPoint> recent = series.points(end - 5 * 60 * 1000);
        QVERIFY(!recent.isEmpty() && recent.size() < points.size());
        QVERIFY(recent.constFirst().t + MetricSeries::kFineBucketMs > end - 5 * 60 * 1000);
    }

    // Past two minutes, 5-second buckets: each keeps the min, max and mean of its samples.
    void bucketMeans() {
        MetricSeries series;
        const qint64 start = 1'700'000'040'000;  // a minute boundary
        for (int i = 0; i < 60; ++i) series.add(start + i * 1000, i % 5 == 2 ? 30.0 : 10.0 + i % 5);
        for (int i = 0; i < 200; ++i) series.add(start + 60'000 + i * 1000, 1.0);  // pushes it out of raw
        const QList<HistoryPoint> points = series.points();
        QCOMPARE(points.constFirst().t, start);
        QCOMPARE(points[1].t, start + MetricSeries::kFineBucketMs);
        QCOMPARE(points.constFirst().min, 10.0);
        QCOMPARE(points.constFirst().max, 30.0);
        QCOMPARE(points.constFirst().mean, (10.0 + 11.0 + 30.0 + 13.0 + 14.0) / 5);
    }

    // The worker's stats: stage busy share per device, transfer time and tokens/s.
    void statsGoIntoTheHistory() {
        DeviceMonitor monitor(nullptr);
        const qint64 t0 = 1'700'000'000'000;
        auto stats = [](double busy0, double busy1, double sent, quint64 tokens) {
            EngineStats s;
            strata::StageTiming a, b;
            a.device_id = "cuda0";
            a.layer_begin = 0, a.layer_end = 10;
            a.busy_seconds = busy0;
            a.transfer_seconds = sent;
            a.tokens = tokens;
            b.device_id = "cuda1";
            b.layer_begin = 10, b.layer_end = 20;
            b.busy_seconds = busy1;
            b.tokens = tokens;
            s.timings = {a, b};
            return s;
        };
        monitor.recordStats(stats(1.0, 2.0, 0.01, 100), t0);
        monitor.recordStats(stats(1.5, 2.25, 0.03, 160), t0 + 2000);  // 2 s later
        QCOMPARE(monitor.history().points("cuda0", TelemetryMetric::stageBusy).constLast().mean, 25.0);
        QCOMPARE(monitor.history().points("cuda1", TelemetryMetric::stageBusy).constLast().mean, 12.5);
        QCOMPARE(monitor.history().points("", TelemetryMetric::tokensPerSecond).constLast().mean, 30.0);
        QVERIFY(qAbs(monitor.history().points("cuda0", TelemetryMetric::transferMs).constLast().mean - 10.0) < 1e-9);
        QCOMPARE(*monitor.utilisation("cuda0"), 0.25);
        QCOMPARE(monitor.history().devices(), (QStringList{"cuda0", "cuda1"}));
    }
};

QTEST_MAIN(TestTelemetryMonitor)
#include "tst_telemetry_monitor.moc"
