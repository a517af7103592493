// Live GPU telemetry on the topology view's device cards (offscreen): a card shows load, memory
// of all processes, temperature and power when given figures — apart from Strata's own memory
// and stage-busy share — hides them when there are none and says why on hover; DeviceMonitor
// reads a fake libnvidia-ml once at once and then each second, and stops when NVML is missing.
#include <memory>

#include <QtTest>

#include <QLabel>

#include "common/theme.h"
#include "devices/device_monitor.h"
#include "fake_nvml.h"
#include "common/history_chart.h"
#include "topology/device_card.h"
#include "topology/topology_view.h"

#ifndef STRATA_FAKE_NVML
#error "STRATA_FAKE_NVML (the fake library's path) is set by tests/ui/CMakeLists.txt"
#endif

using namespace strata;
using namespace strata::app;
using namespace strata::ui;
using strata::app::TelemetryMetric;

namespace {

constexpr quint64 kGiB = 1ull << 30;

AppDevice gpuDevice(const char* id, const char* busId = "") {
    AppDevice d;
    d.spec.kind = "cuda";
    d.info.id = id;
    d.info.name = "NVIDIA Test GPU";
    d.info.type = DeviceType::cuda;
    d.info.total_memory = 24 * kGiB;
    d.info.free_memory = 23 * kGiB;
    d.info.pci_bus_id = busId;
    return d;
}

AppDevice cpuDevice() {
    AppDevice d;
    d.spec.kind = "cpu";
    d.info.id = "cpu";
    d.info.name = "Test CPU";
    d.info.total_memory = d.info.free_memory = 8 * kGiB;
    return d;
}

GpuTelemetry figures() {
    GpuTelemetry t;
    t.device_id = "cuda0";
    t.matched_by = "PCI bus id 0000:18:00.0";
    t.utilisation_percent = 87;
    t.memory_used_bytes = quint64(21.4 * double(kGiB));
    t.memory_total_bytes = 24 * kGiB;
    t.temperature_c = 62;
    t.power_watts = 312.4;
    return t;
}

DeviceCard* cardOf(TopologyView& view, const QString& id) {
    for (DeviceCard* c : view.cards())
        if (c->deviceId() == id) return c;
    return nullptr;
}

}  // namespace

class TestDeviceCard : public QObject {
    Q_OBJECT

    std::unique_ptr<FakeNvmlControls> fake_;
    FakeNvmlReset reset_ = nullptr;
    FakeNvmlGetValues values_ = nullptr;
    FakeNvmlRemove remove_ = nullptr;

private slots:
    void initTestCase() {
        Theme::apply(*qApp, ThemeKind::light);
        fake_ = std::make_unique<FakeNvmlControls>(STRATA_FAKE_NVML);
        QVERIFY2(fake_->error.empty(), fake_->error.c_str());
        reset_ = fake_->reset;
        values_ = fake_->values;
        remove_ = fake_->remove;
    }
    void cleanupTestCase() { fake_.reset(); }

    // Figures given: the Live section shows each, and Strata's own figures keep their labels.
    void showsLiveFigures() {
        DeviceCard card(gpuDevice("cuda0"), Qt::blue);
        QVERIFY(!card.hasLiveFigures());  // none until told
        card.setUse({}, nullptr, nullptr, {}, 0.43, true);
        const GpuTelemetry t = figures();
        card.setTelemetry(&t);
        QVERIFY(card.hasLiveFigures());
        QCOMPARE(card.liveText(), QStringLiteral("GPU load 87%\nMemory 21.4 / 24.0 GiB\nTemperature 62 °C · Power 312 W"));
        QCOMPARE(card.utilisationText(), QStringLiteral("Stage busy now 43%"));  // Strata's share, named apart
        QVERIFY2(card.memoryText().startsWith(QLatin1String("23.0 GiB free of 24.0 GiB at start")), qPrintable(card.memoryText()));
        QVERIFY(card.toolTip().isEmpty());
        card.resize(card.sizeHint());
        QVERIFY(!card.grab().isNull());
    }

    // Figures a GPU does not report are left out, the rest shown.
    void showsOnlyWhatIsKnown() {
        DeviceCard card(gpuDevice("cuda0"), Qt::blue);
        GpuTelemetry t = figures();
        t.utilisation_percent.reset();
        t.power_watts.reset();
        t.missing = {"utilisation: Not Supported (NVML_ERROR_NOT_SUPPORTED)", "power: Not Supported (NVML_ERROR_NOT_SUPPORTED)"};
        card.setTelemetry(&t);
        QCOMPARE(card.liveText(), QStringLiteral("Memory 21.4 / 24.0 GiB\nTemperature 62 °C"));
    }

    // No figures: nothing shown; with a reason, the card's tooltip gives it.
    void hidesWithoutFigures() {
        DeviceCard card(gpuDevice("cuda0"), Qt::blue);
        const GpuTelemetry good = figures();
        card.setTelemetry(&good);
        QVERIFY(card.hasLiveFigures());
        GpuTelemetry broken;
        broken.device_id = "cuda0";
        broken.error = "telemetry unavailable: cuda0: GPU is lost (NVML_ERROR_GPU_IS_LOST)";
        card.setTelemetry(&broken);
        QVERIFY(!card.hasLiveFigures());
        QCOMPARE(card.liveText(), QString());
        QCOMPARE(card.toolTip(), QStringLiteral("No live telemetry: cuda0: GPU is lost (NVML_ERROR_GPU_IS_LOST)"));
        card.setTelemetry(nullptr);
        QVERIFY(!card.hasLiveFigures());
        QVERIFY(card.toolTip().isEmpty());
    }

    // The whole path: DeviceMonitor reads the fake NVML at once, the view's GPU cards show the
    // fake's figures (matched by bus id, crossed over), the CPU card none; a GPU falling off the
    // bus loses its section and the other keeps its own.
    void monitorFeedsTheView() {
        reset_(11, 2);
        FakeNvmlValues v0{}, v1{};
        values_(0, &v0);
        values_(1, &v1);
        DeviceMonitor monitor(nullptr);
        monitor.setTelemetryReader(std::make_unique<GpuTelemetryReader>(STRATA_FAKE_NVML));
        TopologyView view(monitor);
        view.resize(1280, 800);
        monitor.setDevices({gpuDevice("cuda0", "0000:3b:00.0"), gpuDevice("cuda1", "0000:18:00.0"), cpuDevice()}, "2 CUDA devices");
        QVERIFY(monitor.isPollingTelemetry());
        QVERIFY(monitor.telemetryStatus().isEmpty());
        DeviceCard* c0 = cardOf(view, "cuda0");
        DeviceCard* c1 = cardOf(view, "cuda1");
        QVERIFY(c0 && c1 && cardOf(view, "cpu"));
        // Read on the monitor thread, at once: the figures arrive in the GUI's event loop.
        QTRY_VERIFY_WITH_TIMEOUT(c0->hasLiveFigures() && c1->hasLiveFigures(), 2000);
        QVERIFY(!cardOf(view, "cpu")->hasLiveFigures());
        QVERIFY2(c0->liveText().startsWith(QStringLiteral("GPU load %1%").arg(v1.utilisation)), qPrintable(c0->liveText()));
        QVERIFY2(c1->liveText().startsWith(QStringLiteral("GPU load %1%").arg(v0.utilisation)), qPrintable(c1->liveText()));
        QVERIFY(c0->liveText().contains(QStringLiteral("Temperature %1 °C").arg(v1.temperature)));
        QVERIFY(c1->liveText().contains(QStringLiteral("Temperature %1 °C").arg(v0.temperature)));

        remove_(0);  // NVML's device 0 is cuda1
        monitor.pollTelemetry();
        QTRY_VERIFY_WITH_TIMEOUT(!c1->hasLiveFigures(), 2000);
        QVERIFY(c0->hasLiveFigures());
        QVERIFY2(c1->toolTip().contains(QLatin1String("GPU is lost")), qPrintable(c1->toolTip()));
        QVERIFY(monitor.isPollingTelemetry());  // the other GPU still reports
    }

    // The timer reads again and again (once a second by default; faster here).
    void monitorPolls() {
        reset_(5, 1);
        DeviceMonitor monitor(nullptr);
        QCOMPARE(monitor.telemetryInterval(), 1000);
        monitor.setTelemetryInterval(40);
        monitor.setTelemetryReader(std::make_unique<GpuTelemetryReader>(STRATA_FAKE_NVML));
        QSignalSpy spy(&monitor, &DeviceMonitor::telemetryChanged);
        monitor.setDevices({gpuDevice("cuda0")}, {});
        QTRY_VERIFY_WITH_TIMEOUT(spy.count() >= 3, 2000);
        QVERIFY(monitor.telemetry("cuda0") && monitor.telemetry("cuda0")->ok());
    }

    // No NVML: one reading carries the reason, then the monitor stops asking.
    void monitorStopsWithoutNvml() {
        DeviceMonitor monitor(nullptr);
        monitor.setTelemetryReader(std::make_unique<GpuTelemetryReader>("/nonexistent/libnvidia-ml.so.1"));
        TopologyView view(monitor);
        monitor.setDevices({gpuDevice("cuda0"), cpuDevice()}, {});
        QTRY_VERIFY_WITH_TIMEOUT(!monitor.isPollingTelemetry(), 2000);
        QVERIFY2(monitor.telemetryStatus().startsWith(QLatin1String("telemetry unavailable: cannot load /nonexistent/")),
                 qPrintable(monitor.telemetryStatus()));
        DeviceCard* c0 = cardOf(view, "cuda0");
        QVERIFY(c0 && !c0->hasLiveFigures());
        QVERIFY(c0->toolTip().startsWith(QLatin1String("No live telemetry: cannot load /nonexistent/")));
    }

    // Five minutes of history: the card's four charts show it (older points left out), each
    // caption with the latest figure; no history, no charts.
    void chartsShowHistory() {
        DeviceCard card(gpuDevice("cuda0"), Qt::blue);
        const GpuTelemetry t = figures();
        card.setTelemetry(&t);
        app::TelemetryHistory h;
        const qint64 now = 1'700'000'000'000;
        card.setHistory(h, now);
        QVERIFY(!card.hasCharts());
        for (int i = 0; i <= 600; ++i) {  // ten minutes at 1 Hz
            const qint64 at = now - 600'000 + i * 1000;
            h.add("cuda0", TelemetryMetric::load, at, i % 100);
            h.add("cuda0", TelemetryMetric::memoryUsed, at, 12.5);
            h.add("cuda0", TelemetryMetric::power, at, 200 + i % 7);
            h.add("cuda0", TelemetryMetric::temperature, at, 60);
            h.add("cuda1", TelemetryMetric::load, at, 5);  // another card's
        }
        card.setHistory(h, now);
        QVERIFY(card.hasCharts());
        HistoryChart* load = card.chart(TelemetryMetric::load);
        QVERIFY(load && card.chart(TelemetryMetric::temperature));
        QVERIFY(!card.chart(TelemetryMetric::tokensPerSecond));
        // Five minutes: the last two at 1 Hz (121 samples), three more as 5 s buckets.
        QVERIFY2(load->pointCount() >= 150 && load->pointCount() <= 200, qPrintable(QString::number(load->pointCount())));
        QCOMPARE(load->yTop(), 100.0);
        QCOMPARE(card.chart(TelemetryMetric::memoryUsed)->yTop(), 24.0);  // the card's memory
        bool captioned = false;
        for (QLabel* l : card.findChildren<QLabel*>()) captioned |= l->text() == QStringLiteral("Power · 205 W");
        QVERIFY(captioned);
        card.resize(card.sizeHint());
        QVERIFY(!card.grab().isNull());
    }

    // Throttling and ECC errors from NVML put a warning on the card; a GPU that only idles has none.
    void warnsOnThrottling() {
        DeviceCard card(gpuDevice("cuda0"), Qt::blue);
        GpuTelemetry t = figures();
        t.throttle_reasons = kThrottleGpuIdle;
        t.ecc_uncorrected = 0;
        card.setTelemetry(&t);
        QCOMPARE(card.healthText(), QString());
        t.throttle_reasons = kThrottleSwThermal;
        t.ecc_uncorrected = 1;
        card.setTelemetry(&t);
        QCOMPARE(card.healthText(), QStringLiteral("⚠ throttled: thermal · 1 uncorrected ECC error"));
        // Through the monitor from the fake NVML.
        reset_(3, 1);
        fake_->health(0, kThrottleHwPowerBrake, 0);
        DeviceMonitor monitor(nullptr);
        monitor.setTelemetryReader(std::make_unique<GpuTelemetryReader>(STRATA_FAKE_NVML));
        TopologyView view(monitor);
        monitor.setDevices({gpuDevice("cuda0")}, {});
        QTRY_VERIFY_WITH_TIMEOUT(cardOf(view, "cuda0") && cardOf(view, "cuda0")->hasLiveFigures(), 2000);
        QCOMPARE(cardOf(view, "cuda0")->healthText(), QStringLiteral("⚠ throttled: power brake"));
    }

    // Only CPUs: nothing to poll, nothing loaded.
    void noGpuNoPolling() {
        DeviceMonitor monitor(nullptr);
        monitor.setTelemetryReader(std::make_unique<GpuTelemetryReader>("/nonexistent/libnvidia-ml.so.1"));
        monitor.setDevices({cpuDevice()}, {});
        QVERIFY(!monitor.isPollingTelemetry());
        QVERIFY(monitor.telemetryStatus().isEmpty());  // never tried
        QVERIFY(!monitor.telemetry("cpu"));
    }
};

QTEST_MAIN(TestDeviceCard)
#include "tst_device_card.moc"
