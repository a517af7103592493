// Allocation settings: JSON and store round trips, normalisation against the device list, the
// engine's device ids for reordered specs, and — the point — that the planner request of the
// live preview and the LoadOptions of Apply describe the same allocation. With the engine, the
// request the engine builds from those LoadOptions equals the preview's.
#include <QTemporaryDir>
#include <QtTest>

#include "allocation/allocation.h"
#include "allocation/allocation_store.h"
#include "allocation/expert_hosting.h"
#include "storage/database.h"
#include "test_models.h"

using namespace strata;
using namespace strata::app;

namespace {

AppDevices threeDevices() {
    DeviceSpec cpuA;
    cpuA.kind = "cpu";
    cpuA.memory_cap = 4ull << 30;
    DeviceSpec cpuB = cpuA;
    cpuB.memory_cap = 2ull << 30;
    DeviceSpec gpu;
    gpu.kind = "cuda";
    gpu.index = 1;
    DeviceInfo a, b, g;
    a.id = "cpu";
    a.total_memory = a.free_memory = cpuA.memory_cap;
    a.is_virtual = true;
    b.id = "cpu1";
    b.total_memory = b.free_memory = cpuB.memory_cap;
    b.is_virtual = true;
    g.id = "cuda1";
    g.type = DeviceType::cuda;
    g.total_memory = 24ull << 30;
    g.free_memory = 20ull << 30;
    return {{gpu, g}, {cpuA, a}, {cpuB, b}};
}

ModelFootprint footprint() {
    ModelFootprint f;
    f.architecture = "llama";
    f.n_layer = 4;
    f.n_embd = 64;
    f.n_embd_kv = 32;
    f.n_head = 4;
    f.n_head_kv = 2;
    f.n_ff = 128;
    f.n_vocab = 512;
    f.n_ctx_train = 2048;
    f.layer_bytes.assign(4, 100000);
    f.embedding_bytes = f.output_bytes = 131072;
    return f;
}

}  // namespace

class TestAllocation : public QObject {
    Q_OBJECT
private slots:
    void jsonRoundTrip() {
        AllocationSettings s;
        s.devices = {{QStringLiteral("cuda1"), true, std::nullopt, 1.5}, {QStringLiteral("cpu"), false, 3ull << 30, 0.25}};
        s.mode = SplitMode::ratios;
        s.nCtx = 16384;
        s.kvType = KvCacheType::q8_0;
        s.nBatch = 256;
        s.nSeq = 2;
        s.experts = {ExpertMode::first_n, 12, QStringLiteral("cpu")};
        QCOMPARE(AllocationSettings::fromJson(s.toJson()), s);
        s.experts = {ExpertMode::cpu, 0, QString()};
        QCOMPARE(AllocationSettings::fromJson(s.toJson()), s);
        QCOMPARE(AllocationSettings::fromJson({}), AllocationSettings{});
    }

    // Settings saved before expert placement existed load as automatic, the rest kept.
    void jsonWithoutExpertsIsAutomatic() {
        AllocationSettings s;
        s.nCtx = 8192;
        s.experts = {ExpertMode::cpu, 3, QStringLiteral("cpu1")};
        QJsonObject old = s.toJson();
        old.remove(QStringLiteral("experts"));
        const AllocationSettings loaded = AllocationSettings::fromJson(old);
        QCOMPARE(loaded.nCtx, 8192);
        QCOMPARE(loaded.experts, ExpertAllocation{});
        QCOMPARE(int(loaded.experts.mode), int(ExpertMode::automatic));
    }

    void storeRoundTrip() {
        QTemporaryDir dir;
        Database db;
        QVERIFY(db.open(dir.filePath(QStringLiteral("a.sqlite3"))));
        AllocationStore store(db);
        QVERIFY(!store.load(QStringLiteral("/m/a.gguf")));
        AllocationSettings s;
        s.nCtx = 1000;
        QVERIFY(store.save(QStringLiteral("/m/a.gguf"), s));
        s.nCtx = 2000;  // upsert
        QVERIFY(store.save(QStringLiteral("/m/a.gguf"), s));
        QCOMPARE(store.load(QStringLiteral("/m/a.gguf"))->nCtx, 2000);
        QVERIFY(!store.load(QStringLiteral("/m/b.gguf")));
    }

    void normalizedKeepsKnownDropsGoneAddsNew() {
        AllocationSettings s;
        s.devices = {{QStringLiteral("cpu1"), false, std::nullopt, 2}, {QStringLiteral("gone"), true, std::nullopt, 1},
                     {QStringLiteral("cpu1"), true, std::nullopt, 9}};
        const AllocationSettings n = normalized(s, threeDevices());
        QCOMPARE(n.devices.size(), 3);
        QCOMPARE(n.devices[0].key, QStringLiteral("cpu1"));
        QVERIFY(!n.devices[0].enabled);
        QCOMPARE(n.devices[1].key, QStringLiteral("cuda1"));
        QCOMPARE(n.devices[2].key, QStringLiteral("cpu"));

        s.experts = {ExpertMode::first_n, -2, QStringLiteral("gone")};  // a host that is gone: the first CPU
        QCOMPARE(normalized(s, threeDevices()).experts, (ExpertAllocation{ExpertMode::first_n, 0, QString()}));
        s.experts.hostKey = QStringLiteral("cpu1");
        QCOMPARE(normalized(s, threeDevices()).experts.hostKey, QStringLiteral("cpu1"));
    }

    void engineIdsFollowTheOrder() {
        const AppDevices d = threeDevices();
        QCOMPARE(engineDeviceIds({d[2].spec, d[0].spec, d[1].spec}),
                 (QStringList{QStringLiteral("cpu"), QStringLiteral("cuda1"), QStringLiteral("cpu1")}));
    }

    void previewRequestMatchesLoadOptions_data() {
        QTest::addColumn<int>("mode");
        QTest::addColumn<bool>("reorder");
        QTest::addColumn<int>("expertMode");
        QTest::addColumn<QString>("expertHost");
        QTest::newRow("fewest") << int(SplitMode::fewest) << false << int(ExpertMode::automatic) << QString();
        QTest::newRow("even, reordered") << int(SplitMode::even) << true << int(ExpertMode::cpu) << QStringLiteral("cpu1");
        QTest::newRow("ratios, reordered") << int(SplitMode::ratios) << true << int(ExpertMode::first_n)
                                           << QStringLiteral("cpu");
    }

    void previewRequestMatchesLoadOptions() {
        QFETCH(int, mode);
        QFETCH(bool, reorder);
        QFETCH(int, expertMode);
        QFETCH(QString, expertHost);
        const AppDevices devices = threeDevices();
        AllocationSettings s = normalized({}, devices);
        s.mode = SplitMode(mode);
        s.kvType = KvCacheType::q8_0;
        s.nBatch = 128;
        s.nSeq = 3;
        s.devices[1].enabled = false;
        s.devices[2].reserve = 256ull << 20;
        s.devices[0].ratio = 3;
        if (reorder) s.devices.move(2, 0);  // the small virtual CPU first: it becomes "cpu"
        s.experts = {ExpertMode(expertMode), 3, expertHost};
        const PlanRequest req = buildPlanRequest(footprint(), devices, s);
        const LoadOptions o = buildLoadOptions(devices, s, footprint().n_ctx_train);
        QCOMPARE(req.devices.size(), o.devices.size());
        QCOMPARE(req.n_ctx, o.n_ctx);
        QCOMPARE(req.n_ctx, 2048);
        QCOMPARE(int(req.kv_type), int(o.kv_type));
        QCOMPARE(req.n_batch, o.n_batch);
        QCOMPARE(req.n_seq, 3);
        QCOMPARE(o.n_seq, 3);
        QCOMPARE(int(req.mode), int(o.mode));
        for (size_t i = 0; i < req.devices.size(); ++i) {
            const PlanDevice& d = req.devices[i];
            const bool disabled = std::find(o.disabled.begin(), o.disabled.end(), d.info.id) != o.disabled.end();
            QCOMPARE(d.enabled, !disabled);
            QCOMPARE(d.reserve_bytes, o.reserve.at(d.info.id));
            if (SplitMode(mode) == SplitMode::ratios) QCOMPARE(d.ratio, o.ratios[i]);
            else QVERIFY(o.ratios.empty());
            QCOMPARE(o.devices[i].memory_cap, d.info.total_memory == (24ull << 30) ? 0ull : d.info.total_memory);
        }
        if (reorder) {
            QCOMPARE(req.devices[0].info.id, std::string("cpu"));
            QCOMPARE(req.devices[0].info.total_memory, 2ull << 30);
        }
        QCOMPARE(req.devices[reorder ? 0 : 2].reserve_bytes, 256ull << 20);
        QCOMPARE(req.devices[reorder ? 1 : 0].reserve_bytes, LoadOptions{}.gpu_reserve);  // the GPU's default

        // The expert host: the request's index and the options' engine id are the same device,
        // whose engine id may differ from its key once reordered ("cpu1" first becomes "cpu").
        QCOMPARE(int(req.experts.mode), expertMode);
        QCOMPARE(int(o.expert_mode), expertMode);
        QCOMPARE(req.experts.n_host_layers, 3);
        QCOMPARE(o.n_cpu_moe, 3);
        if (expertHost.isEmpty()) {
            QCOMPARE(req.experts.host, -1);
            QCOMPARE(o.expert_device, std::string());
        } else {
            QVERIFY(req.experts.host >= 0);
            QCOMPARE(o.expert_device, req.devices[size_t(req.experts.host)].info.id);
            const AppDevices ordered = orderedDevices(normalized(s, devices), devices);
            QCOMPARE(QString::fromStdString(ordered[req.experts.host].info.id), expertHost);
        }
        if (reorder && expertHost == QLatin1String("cpu1")) QCOMPARE(o.expert_device, std::string("cpu"));
    }

    // With the engine: Engine::plan() on the LoadOptions builds the very request the preview
    // planned (same devices, ids, reserves, ratios, context), so the plans are the same.
    void engineBuildsThePreviewsRequest() {
        QTemporaryDir dir;
        RandomModelConfig cfg;
        cfg.n_layer = 6;
        QString error;
        const QString path = strata::test::writeRandomModel(dir, QStringLiteral("r"), cfg, &error);
        QVERIFY2(!path.isEmpty(), qPrintable(error));
        Engine engine;
        std::vector<DeviceSpec> specs;
        std::string err;
        QVERIFY(parse_device_specs("cpu:64MiB,cpu:32MiB:t1,cpu:16MiB", specs, err));
        auto infos = engine.describe_devices(specs);
        QVERIFY(infos.ok());
        const AppDevices devices = devicesFromSpecs(QList<DeviceSpec>(specs.begin(), specs.end()),
                                                    QList<DeviceInfo>(infos->begin(), infos->end()));
        auto fp = read_model_footprint(path.toStdString());
        QVERIFY2(fp.ok(), fp.ok() ? "" : fp.status().message().c_str());
        AllocationSettings s = normalized({}, devices);
        s.mode = SplitMode::ratios;
        s.devices.move(2, 0);
        s.devices[1].enabled = false;
        s.devices[0].ratio = 2;
        s.devices[2].reserve = 1ull << 20;
        s.nCtx = 512;
        const PlanRequest preview = buildPlanRequest(*fp, devices, s);
        auto report = engine.plan(path.toStdString(), buildLoadOptions(devices, s, fp->n_ctx_train));
        QVERIFY2(report.ok(), report.ok() ? "" : report.status().message().c_str());
        const PlanRequest& r = report->request;
        QCOMPARE(r.devices.size(), preview.devices.size());
        for (size_t i = 0; i < r.devices.size(); ++i) {
            QCOMPARE(r.devices[i].info.id, preview.devices[i].info.id);
            QCOMPARE(r.devices[i].info.total_memory, preview.devices[i].info.total_memory);
            QCOMPARE(r.devices[i].enabled, preview.devices[i].enabled);
            QCOMPARE(r.devices[i].reserve_bytes, preview.devices[i].reserve_bytes);
            QCOMPARE(r.devices[i].ratio, preview.devices[i].ratio);
            QCOMPARE(r.devices[i].n_threads, preview.devices[i].n_threads);
        }
        QCOMPARE(r.n_ctx, preview.n_ctx);
        QCOMPARE(int(r.mode), int(preview.mode));
        QCOMPARE(r.model.layer_bytes, preview.model.layer_bytes);
        const Plan a = make_plan(preview);
        QCOMPARE(a.fits, report->plan.fits);
        QCOMPARE(a.stages.size(), report->plan.stages.size());
        for (size_t i = 0; i < a.stages.size(); ++i) {
            QCOMPARE(a.stages[i].device_id, report->plan.stages[i].device_id);
            QCOMPARE(a.stages[i].layer_begin, report->plan.stages[i].layer_begin);
            QCOMPARE(a.stages[i].layer_end, report->plan.stages[i].layer_end);
        }
    }

    // What the views say about a plan's expert placement: the host's layers and bytes, and the
    // GPU whose layers keep their experts there; nothing for a dense plan.
    void expertPlacementLines() {
        QCOMPARE(layerRanges({0, 1, 2, 3, 8, 10, 11}), QStringLiteral("0–3, 8, 10–11"));
        QCOMPARE(layerRanges({}), QString());
        PlanRequest r;
        r.model = footprint();
        r.model.n_expert = 8;
        r.model.n_expert_used = 2;
        r.model.layer_expert_bytes.assign(4, 1ull << 30);
        for (const char* id : {"cuda0", "cpu"}) {
            PlanDevice d;
            d.info.id = id;
            r.devices.push_back(d);
        }
        Plan p;
        StagePlan gpu;
        gpu.device = 0, gpu.device_id = "cuda0", gpu.layer_begin = 0, gpu.layer_end = 4;
        p.stages = {gpu};
        QCOMPARE(expertHostDevice(p), -1);  // dense: no expert_device at all
        QCOMPARE(expertPlacementLine(r, p, 0), QString());
        p.expert_device = {1, 1, 1, 1};
        QCOMPARE(expertHostDevice(p), 1);
        QCOMPARE(expertLayersHostedOn(p, 1), (QList<int>{0, 1, 2, 3}));
        QCOMPARE(expertBytes(r.model, {0, 1}), 2ull << 30);
        QCOMPARE(expertPlacementLine(r, p, 0), QStringLiteral("experts on cpu"));
        QVERIFY2(expertPlacementLine(r, p, 1).startsWith(QStringLiteral("experts of layers 0–3 (4")),
                 qPrintable(expertPlacementLine(r, p, 1)));
        p.expert_device = {1, 0, 0, 0};  // only the first layer's experts on the host
        QCOMPARE(expertPlacementLine(r, p, 0), QStringLiteral("experts of layer 0 on cpu"));
        QVERIFY(expertPlacementLine(r, p, 1).startsWith(QStringLiteral("experts of layer 0 (1")));
        p.expert_device = {0, 0, 0, 0};  // all beside their layers
        QCOMPARE(expertHostDevice(p), -1);
        QCOMPARE(expertPlacementLine(r, p, 0), QString());
        QCOMPARE(expertPlacementLine(r, p, 1), QString());
    }

    // The same for a MoE model's expert placement: the engine's request names the host the
    // preview chose (by its engine id after reordering), and both place the same experts there.
    void engineBuildsThePreviewsExpertPlacement_data() {
        QTest::addColumn<int>("expertMode");
        QTest::addColumn<bool>("cudaMoe");  // STRATA_CUDA_MOE=1: the experimental CUDA MoE kernels
        QTest::newRow("all on the CPU") << int(ExpertMode::cpu) << false;
        QTest::newRow("first 2 layers") << int(ExpertMode::first_n) << false;
        QTest::newRow("first 2 layers, STRATA_CUDA_MOE=1") << int(ExpertMode::first_n) << true;
    }

    void engineBuildsThePreviewsExpertPlacement() {
        QFETCH(int, expertMode);
        QFETCH(bool, cudaMoe);
        // qputenv, not setenv: Qt's lock orders it with QtTest's watchdog reading its variables.
        if (cudaMoe) qputenv("STRATA_CUDA_MOE", "1");
        const auto restore = qScopeGuard([] { qunsetenv("STRATA_CUDA_MOE"); });
        QTemporaryDir dir;
        RandomModelConfig cfg;
        QVERIFY(random_model_arch("qwen3moe", cfg));
        cfg.n_layer = 4;
        QString error;
        const QString path = strata::test::writeRandomModel(dir, QStringLiteral("moe"), cfg, &error);
        QVERIFY2(!path.isEmpty(), qPrintable(error));
        Engine engine;
        std::vector<DeviceSpec> specs;
        std::string err;
        QVERIFY(parse_device_specs("cpu:64MiB,cpu:64MiB,cpu:64MiB", specs, err));
        auto infos = engine.describe_devices(specs);
        QVERIFY(infos.ok());
        const AppDevices devices = devicesFromSpecs(QList<DeviceSpec>(specs.begin(), specs.end()),
                                                    QList<DeviceInfo>(infos->begin(), infos->end()));
        auto fp = read_model_footprint(path.toStdString());
        QVERIFY(fp.ok());
        QVERIFY(fp->is_moe());
        AllocationSettings s = normalized({}, devices);
        s.devices.move(2, 0);  // "cpu2" first: the engine calls it "cpu"
        s.experts = {ExpertMode(expertMode), 2, QStringLiteral("cpu2")};
        s.nCtx = 256;
        const PlanRequest preview = buildPlanRequest(*fp, devices, s);
        QCOMPARE(preview.experts.host, 0);
        const LoadOptions o = buildLoadOptions(devices, s, fp->n_ctx_train);
        QCOMPARE(o.expert_device, std::string("cpu"));
        auto report = engine.plan(path.toStdString(), o);
        QVERIFY2(report.ok(), report.ok() ? "" : report.status().message().c_str());
        const PlanRequest& r = report->request;
        QCOMPARE(int(r.experts.mode), int(preview.experts.mode));
        QCOMPARE(r.experts.n_host_layers, preview.experts.n_host_layers);
        QCOMPARE(r.experts.host, preview.experts.host);
        QCOMPARE(preview.experts.gpu_experts, cudaMoe);
        QCOMPARE(preview.gpu_attention_sinks, cudaMoe);
        QCOMPARE(r.experts.gpu_experts, preview.experts.gpu_experts);
        QCOMPARE(r.gpu_attention_sinks, preview.gpu_attention_sinks);
        const Plan a = make_plan(preview);
        QVERIFY2(a.fits, a.shortfalls.empty() ? "" : a.shortfalls.front().c_str());
        QCOMPARE(a.expert_device, report->plan.expert_device);
        QCOMPARE(a.expert_device.size(), size_t(4));
        // The host holds the experts of the layers asked for, and runs no layers itself.
        const int hosted = int(std::count(a.expert_device.begin(), a.expert_device.end(), 0));
        QCOMPARE(hosted, ExpertMode(expertMode) == ExpertMode::cpu ? 4 : 2);
        for (const StagePlan& st : a.stages) QVERIFY(st.device != 0);
    }
};

QTEST_GUILESS_MAIN(TestAllocation)
#include "tst_allocation.moc"
