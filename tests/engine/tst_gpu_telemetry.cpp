// GpuTelemetryReader against a fake libnvidia-ml (fake_nvml.cpp) with seeded figures: values
// arrive converted (milliwatts to watts, bytes as bytes), GPUs are matched by PCI bus id even
// when CUDA numbers them differently, by index without one, and every failure — no library, a
// library that is not NVML, nvmlInit failing, one call failing, a GPU falling off the bus —
// becomes "telemetry unavailable: <why>" without a crash; nvmlInit and nvmlShutdown pair up.
#include <memory>

#include <QtTest>

#include "fake_nvml.h"
#include "strata/gpu_telemetry.h"

#ifndef STRATA_FAKE_NVML
#error "STRATA_FAKE_NVML (the fake library's path) is set by tests/CMakeLists.txt"
#endif

using strata::DeviceInfo;
using strata::DeviceType;
using strata::GpuTelemetry;
using strata::GpuTelemetryReader;

namespace {

DeviceInfo gpu(const char* id, const char* bus_id = "") {
    DeviceInfo d;
    d.id = id;
    d.name = "Fake GPU";
    d.type = DeviceType::cuda;
    d.pci_bus_id = bus_id;
    return d;
}

DeviceInfo cpu() {
    DeviceInfo d;
    d.id = "cpu";
    d.type = DeviceType::cpu;
    return d;
}

// The fake's bus ids (device 0: 18, 1: 3b, ...), as CUDA spells them.
const char* kBus0 = "0000:18:00.0";
const char* kBus1 = "0000:3b:00.0";

}  // namespace

class TestGpuTelemetry : public QObject {
    Q_OBJECT

    std::unique_ptr<FakeNvmlControls> fake_;
    FakeNvmlReset reset_ = nullptr;
    FakeNvmlGetValues values_ = nullptr;
    FakeNvmlFail fail_ = nullptr;
    FakeNvmlRemove remove_ = nullptr;
    FakeNvmlCalls calls_ = nullptr;

    FakeNvmlValues expected(int device) {
        FakeNvmlValues v{};
        values_(device, &v);
        return v;
    }

    void compareFigures(const GpuTelemetry& t, const FakeNvmlValues& v) {
        QVERIFY2(t.ok(), t.error.c_str());
        QVERIFY(t.missing.empty());
        QCOMPARE(t.utilisation_percent.value_or(1000), v.utilisation);
        QCOMPARE(t.memory_used_bytes.value_or(0), quint64(v.memory_used));
        QCOMPARE(t.memory_total_bytes.value_or(0), quint64(v.memory_total));
        QCOMPARE(t.temperature_c.value_or(-1), int(v.temperature));
        QVERIFY(t.power_watts.has_value());
        QCOMPARE(*t.power_watts, v.power_mw / 1000.0);
        QVERIFY(*t.power_watts != double(v.power_mw / 1000));  // the milliwatts were kept
    }

private slots:
    void initTestCase() {
        fake_ = std::make_unique<FakeNvmlControls>(STRATA_FAKE_NVML);
        QVERIFY2(fake_->error.empty(), fake_->error.c_str());
        reset_ = fake_->reset;
        values_ = fake_->values;
        fail_ = fake_->fail;
        remove_ = fake_->remove;
        calls_ = fake_->calls;
    }
    void cleanupTestCase() { fake_.reset(); }
    void init() { reset_(7, 2); }

    // CUDA's cuda0 is NVML's device 1 and the other way round: the bus id decides, not the
    // index. The bus ids are spelled as CUDA does ("0000:3b"), NVML's own differ ("00000000:3B").
    void readsFiguresByPciBusId_data() {
        QTest::addColumn<unsigned>("seed");
        for (unsigned seed : {1u, 2u, 3u, 42u}) QTest::addRow("seed %u", seed) << seed;
    }
    void readsFiguresByPciBusId() {
        QFETCH(unsigned, seed);
        reset_(seed, 2);
        GpuTelemetryReader reader(STRATA_FAKE_NVML);
        QVERIFY2(reader.open().ok(), reader.open().message().c_str());
        QCOMPARE(reader.device_count(), 2u);
        const auto t = reader.read({gpu("cuda0", kBus1), cpu(), gpu("cuda1", kBus0)});
        QCOMPARE(t.size(), size_t(2));  // the CPU has no NVML figures
        QCOMPARE(t[0].device_id, std::string("cuda0"));
        QCOMPARE(t[1].device_id, std::string("cuda1"));
        compareFigures(t[0], expected(1));
        compareFigures(t[1], expected(0));
        QCOMPARE(t[0].matched_by, std::string("PCI bus id ") + kBus1);
        // The two fake GPUs differ, so a swap would have been seen.
        QVERIFY(expected(0).memory_used != expected(1).memory_used);
    }

    // Throttling and uncorrected ECC errors come through when the driver reports them; a board
    // without ECC (Not Supported) is no news; a GPU that neither slows down nor errs has no warning.
    void readsHealth() {
        GpuTelemetryReader reader(STRATA_FAKE_NVML);
        auto t = reader.read({gpu("cuda0", kBus0), gpu("cuda1", kBus1)});
        QCOMPARE(t[0].throttle_reasons.value_or(99), 0ull);
        QCOMPARE(t[0].ecc_uncorrected.value_or(99), 0ull);
        QCOMPARE(strata::gpu_health_warning(t[0]), std::string());
        fake_->health(0, strata::kThrottleHwThermal | strata::kThrottleSwPowerCap | strata::kThrottleGpuIdle, 0);
        fake_->health(1, strata::kThrottleGpuIdle | strata::kThrottleApplicationsClocks, 3);
        t = reader.read({gpu("cuda0", kBus0), gpu("cuda1", kBus1)});
        QCOMPARE(*t[0].throttle_reasons, strata::kThrottleHwThermal | strata::kThrottleSwPowerCap | strata::kThrottleGpuIdle);
        QCOMPARE(strata::gpu_health_warning(t[0]), std::string("throttled: thermal (hardware), power cap"));
        QCOMPARE(strata::gpu_health_warning(t[1]), std::string("3 uncorrected ECC errors"));  // idle is no throttling
        fail_("nvmlDeviceGetTotalEccErrors", -1, 3);  // NVML_ERROR_NOT_SUPPORTED: no ECC memory
        fail_("nvmlDeviceGetCurrentClocksThrottleReasons", 1, 4);  // no permission: said
        t = reader.read({gpu("cuda0", kBus0), gpu("cuda1", kBus1)});
        QVERIFY(!t[0].ecc_uncorrected && t[0].missing.empty());
        QVERIFY(!t[1].throttle_reasons);
        QCOMPARE(t[1].missing.size(), size_t(1));
        QVERIFY2(t[1].missing[0].rfind("throttle reasons: ", 0) == 0, t[1].missing[0].c_str());
        QVERIFY(t[1].ok() && t[1].power_watts);
    }

    // Without a bus id, cudaN is NVML's device N.
    void fallsBackToIndexWithoutBusId() {
        GpuTelemetryReader reader(STRATA_FAKE_NVML);
        const auto t = reader.read({gpu("cuda1"), gpu("cuda0")});
        QCOMPARE(t.size(), size_t(2));
        compareFigures(t[0], expected(1));
        compareFigures(t[1], expected(0));
        QCOMPARE(t[0].matched_by, std::string("NVML index 1 (no PCI bus id)"));
        const auto beyond = reader.read({gpu("cuda2")});
        QCOMPARE(beyond.size(), size_t(1));
        QVERIFY(!beyond[0].ok());
        QVERIFY2(beyond[0].error.find("telemetry unavailable: cuda2: no NVML device 2 (NVML sees 2)") == 0,
                 beyond[0].error.c_str());
    }

    // A bus id NVML does not know: that device has no figures, the others still do.
    void unknownBusId() {
        GpuTelemetryReader reader(STRATA_FAKE_NVML);
        const auto t = reader.read({gpu("cuda0", "0000:99:00.0"), gpu("cuda1", kBus1)});
        QCOMPARE(t.size(), size_t(2));
        QVERIFY(!t[0].ok());
        QVERIFY(!t[0].utilisation_percent && !t[0].memory_used_bytes && !t[0].power_watts);
        QCOMPARE(t[0].error, std::string("telemetry unavailable: cuda0: no NVML device at PCI bus id 0000:99:00.0: "
                                         "Not Found (NVML_ERROR_NOT_FOUND)"));
        compareFigures(t[1], expected(1));
    }

    void missingLibrary() {
        GpuTelemetryReader reader("/nonexistent/libnvidia-ml.so.1");
        const strata::Status s = reader.open();
        QVERIFY(!s.ok());
        QVERIFY2(s.message().find("telemetry unavailable: cannot load /nonexistent/libnvidia-ml.so.1") == 0,
                 s.message().c_str());
        QCOMPARE(reader.device_count(), 0u);
        const auto t = reader.read({gpu("cuda0", kBus0), cpu()});
        QCOMPARE(t.size(), size_t(1));
        QCOMPARE(t[0].error, s.message());
        QVERIFY(!t[0].utilisation_percent && !t[0].temperature_c);
    }

    // A library that loads but is not NVML (the C math library).
    void libraryWithoutNvml() {
        GpuTelemetryReader reader("libm.so.6");
        const strata::Status s = reader.open();
        QVERIFY(!s.ok());
        QVERIFY2(s.message().find("libm.so.6 lacks nvmlInit_v2, nvmlShutdown") != std::string::npos, s.message().c_str());
    }

    void initFailure_data() {
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("words");
        QTest::newRow("driver not loaded") << 9 << "Driver Not Loaded (NVML_ERROR_DRIVER_NOT_LOADED)";
        QTest::newRow("no permission") << 4 << "Insufficient Permissions (NVML_ERROR_NO_PERMISSION)";
        QTest::newRow("unlisted code") << 77 << "Unknown Error (NVML error 77)";
    }
    void initFailure() {
        QFETCH(int, code);
        QFETCH(QString, words);
        fail_("nvmlInit_v2", -1, code);
        {
            GpuTelemetryReader reader(STRATA_FAKE_NVML);
            const auto t = reader.read({gpu("cuda0", kBus0)});
            QCOMPARE(t.size(), size_t(1));
            QCOMPARE(QString::fromStdString(t[0].error), "telemetry unavailable: nvmlInit failed: " + words);
            // Tried once: NVML coming back later does not change this reader's answer.
            fail_("nvmlInit_v2", -1, 0);
            QVERIFY(!reader.open().ok());
        }
        int inits = -1, shutdowns = -1;
        calls_(&inits, &shutdowns);
        QCOMPARE(inits, 0);
        QCOMPARE(shutdowns, 0);  // no nvmlShutdown without a successful nvmlInit
    }

    void countFailure() {
        fail_("nvmlDeviceGetCount_v2", -1, 999);
        {
            GpuTelemetryReader reader(STRATA_FAKE_NVML);
            const strata::Status s = reader.open();
            QCOMPARE(s.message(), std::string("telemetry unavailable: nvmlDeviceGetCount failed: Unknown Error "
                                              "(NVML_ERROR_UNKNOWN)"));
        }
        int inits = 0, shutdowns = 0;
        calls_(&inits, &shutdowns);
        QCOMPARE(inits, 1);
        QCOMPARE(shutdowns, 1);  // initialised, so shut down
    }

    // One figure failing on one GPU leaves that figure unset (with the reason) and the rest.
    void perCallFailure_data() {
        QTest::addColumn<QString>("function");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("missing");
        QTest::newRow("power not supported") << "nvmlDeviceGetPowerUsage" << 3 << "power: Not Supported (NVML_ERROR_NOT_SUPPORTED)";
        QTest::newRow("temperature denied") << "nvmlDeviceGetTemperature" << 4
                                            << "temperature: Insufficient Permissions (NVML_ERROR_NO_PERMISSION)";
        QTest::newRow("utilisation unknown") << "nvmlDeviceGetUtilizationRates" << 999 << "utilisation: Unknown Error (NVML_ERROR_UNKNOWN)";
        QTest::newRow("memory not supported") << "nvmlDeviceGetMemoryInfo" << 3 << "memory: Not Supported (NVML_ERROR_NOT_SUPPORTED)";
    }
    void perCallFailure() {
        QFETCH(QString, function);
        QFETCH(int, code);
        QFETCH(QString, missing);
        fail_(function.toUtf8().constData(), 0, code);
        GpuTelemetryReader reader(STRATA_FAKE_NVML);
        const auto t = reader.read({gpu("cuda0", kBus0), gpu("cuda1", kBus1)});
        QCOMPARE(t.size(), size_t(2));
        QVERIFY2(t[0].ok(), t[0].error.c_str());
        QCOMPARE(t[0].missing.size(), size_t(1));
        QCOMPARE(QString::fromStdString(t[0].missing[0]), missing);
        const FakeNvmlValues v = expected(0);
        QCOMPARE(t[0].power_watts.has_value(), function != "nvmlDeviceGetPowerUsage");
        QCOMPARE(t[0].temperature_c.has_value(), function != "nvmlDeviceGetTemperature");
        QCOMPARE(t[0].utilisation_percent.has_value(), function != "nvmlDeviceGetUtilizationRates");
        QCOMPARE(t[0].memory_used_bytes.has_value(), function != "nvmlDeviceGetMemoryInfo");
        QCOMPARE(t[0].memory_total_bytes.has_value(), function != "nvmlDeviceGetMemoryInfo");
        if (t[0].temperature_c) QCOMPARE(*t[0].temperature_c, int(v.temperature));
        compareFigures(t[1], expected(1));  // the other GPU is untouched
    }

    // Nothing readable at all: the device is unavailable, with the first reason.
    void everyCallFailing() {
        for (const char* f : {"nvmlDeviceGetUtilizationRates", "nvmlDeviceGetMemoryInfo", "nvmlDeviceGetTemperature",
                              "nvmlDeviceGetPowerUsage"})
            fail_(f, 1, 3);
        GpuTelemetryReader reader(STRATA_FAKE_NVML);
        const auto t = reader.read({gpu("cuda1", kBus1)});
        QCOMPARE(t[0].error, std::string("telemetry unavailable: cuda1: Not Supported (NVML_ERROR_NOT_SUPPORTED)"));
        QVERIFY(!t[0].utilisation_percent && !t[0].memory_total_bytes && !t[0].temperature_c && !t[0].power_watts);
    }

    // A GPU falls off the bus between two reads: it says so, the other keeps reporting, and the
    // next read looks it up afresh (and finds it gone).
    void deviceVanishes() {
        GpuTelemetryReader reader(STRATA_FAKE_NVML);
        const std::vector<DeviceInfo> devices = {gpu("cuda0", kBus0), gpu("cuda1", kBus1)};
        auto t = reader.read(devices);
        QVERIFY(t[0].ok() && t[1].ok());
        remove_(1);
        t = reader.read(devices);
        compareFigures(t[0], expected(0));
        QCOMPARE(t[1].error, std::string("telemetry unavailable: cuda1: GPU is lost (NVML_ERROR_GPU_IS_LOST)"));
        QVERIFY(!t[1].utilisation_percent && !t[1].power_watts);
        t = reader.read(devices);
        QCOMPARE(t[1].error, std::string("telemetry unavailable: cuda1: no NVML device at PCI bus id 0000:3b:00.0: "
                                         "Not Found (NVML_ERROR_NOT_FOUND)"));
        compareFigures(t[0], expected(0));
    }

    // Each reader initialises NVML once and shuts it down once; two may live side by side.
    void initAndShutdownPairUp() {
        {
            GpuTelemetryReader a(STRATA_FAKE_NVML);
            GpuTelemetryReader b(STRATA_FAKE_NVML);
            GpuTelemetryReader unused(STRATA_FAKE_NVML);  // never opened: never initialises
            for (int i = 0; i < 3; ++i) QVERIFY(a.read({gpu("cuda0", kBus0)})[0].ok());
            QVERIFY(b.read({gpu("cuda1", kBus1)})[0].ok());
            QVERIFY(a.open().ok());  // again: no second nvmlInit
            int inits = 0, shutdowns = 0;
            calls_(&inits, &shutdowns);
            QCOMPARE(inits, 2);
            QCOMPARE(shutdowns, 0);
        }
        int inits = 0, shutdowns = 0;
        calls_(&inits, &shutdowns);
        QCOMPARE(inits, 2);
        QCOMPARE(shutdowns, 2);
    }
};

QTEST_GUILESS_MAIN(TestGpuTelemetry)
#include "tst_gpu_telemetry.moc"
