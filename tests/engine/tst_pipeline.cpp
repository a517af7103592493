// The layer-split pipeline on virtual CPU devices: identical output whatever the split, several
// sequences in flight at once, cancellation, device failure and recovery, plan refusals, and
// the planner's memory estimate against real allocations.
#include <QtTest>

#include <thread>

#include "strata/engine.h"
#include "test_models.h"

using namespace strata;

namespace {

RandomModelConfig small_model(TensorType type = TensorType::F16) {
    RandomModelConfig c;
    c.n_vocab = 400;
    c.n_embd = 64;
    c.n_layer = 6;
    c.n_head = 2;  // head size 32, so a q8_0 KV cache (32-value blocks) applies
    c.n_head_kv = 1;
    c.n_ff = 160;
    c.weight_type = type;
    c.seed = 77;
    return c;
}

// One stage per device: equal split ratios (largest remainder spreads the extra layers).
LoadOptions options_for(const std::string& devices, int n_seq = 1) {
    LoadOptions o;
    std::string err;
    if (!parse_device_specs(devices, o.devices, err)) qFatal("bad devices %s: %s", devices.c_str(), err.c_str());
    o.ratios.assign(o.devices.size(), 1.0);
    o.n_ctx = 128;
    o.n_batch = 32;
    o.n_seq = n_seq;
    o.n_threads = 1;
    return o;
}

struct Output {
    std::string text;
    std::vector<float> logits;
    Status status;
};

Output generate(Model& m, Sequence& seq, const std::vector<int32_t>& prompt, int n, const std::atomic<bool>* cancel = nullptr) {
    GenerateParams g;
    g.sampler.temperature = 0;
    g.sampler.repeat_penalty = 1.0f;
    g.max_tokens = n;
    g.stop_at_eos = false;
    Output out;
    auto r = seq.generate(prompt, g, [&](std::string_view t) { out.text += t; }, cancel,
                          [&](const float* l, int64_t k) { out.logits.insert(out.logits.end(), l, l + k); });
    out.status = r.ok() ? Status() : r.status();
    static_cast<void>(m);
    return out;
}

std::vector<int32_t> prompt_for(int i) { return {1, 10 + i, 20 + 3 * i, 30 + 5 * i, 40}; }

}  // namespace

class TestPipeline : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString model_;

private slots:
    void initTestCase() {
        QString err;
        model_ = test::writeRandomModel(dir_, "m", small_model(), &err);
        QVERIFY2(!model_.isEmpty(), qPrintable(err));
    }

    void splitsGiveIdenticalOutput_data() {
        QTest::addColumn<QString>("devices");
        QTest::newRow("1 stage") << "cpu:1GiB";
        QTest::newRow("2 stages") << "cpu:1GiB,cpu:1GiB";
        QTest::newRow("3 stages") << "cpu:1GiB,cpu:1GiB,cpu:1GiB";
        QTest::newRow("5 stages") << "cpu:1GiB,cpu:1GiB,cpu:1GiB,cpu:1GiB,cpu:1GiB";
    }
    void splitsGiveIdenticalOutput() {
        QFETCH(QString, devices);
        Engine engine;
        auto m = engine.load(model_.toStdString(), options_for(devices.toStdString()));
        QVERIFY2(m.ok(), m.status().message().c_str());
        QCOMPARE(static_cast<int>((*m)->plan().stages.size()), devices.count(',') + 1);
        auto seq = (*m)->create_sequence();
        const Output out = generate(**m, **seq, prompt_for(0), 24);
        QVERIFY(out.status.ok());
        static const Output reference = out;  // the first row (one stage) is the reference
        QCOMPARE(out.text, reference.text);
        QVERIFY(out.logits.size() == reference.logits.size());
        QVERIFY(std::memcmp(out.logits.data(), reference.logits.data(), out.logits.size() * 4) == 0);
    }

    // Three sequences generating at once on a 3-stage pipeline give the same text as each alone,
    // and every stage did work for all of them.
    void concurrentSequences() {
        Engine engine;
        auto m = engine.load(model_.toStdString(), options_for("cpu:1GiB,cpu:1GiB,cpu:1GiB", 3));
        QVERIFY2(m.ok(), m.status().message().c_str());
        std::vector<Output> alone(3), together(3);
        for (int i = 0; i < 3; ++i) {
            auto seq = (*m)->create_sequence();
            alone[i] = generate(**m, **seq, prompt_for(i), 20);
        }
        (*m)->reset_timings();
        std::vector<std::unique_ptr<Sequence>> seqs;
        for (int i = 0; i < 3; ++i) seqs.push_back(std::move((*m)->create_sequence()).value());
        QVERIFY(!(*m)->create_sequence().ok());  // all three slots taken
        std::vector<std::thread> threads;
        for (int i = 0; i < 3; ++i)
            threads.emplace_back([&, i] { together[i] = generate(**m, *seqs[i], prompt_for(i), 20); });
        for (auto& t : threads) t.join();
        for (int i = 0; i < 3; ++i) {
            QVERIFY(together[i].status.ok());
            QCOMPARE(together[i].text, alone[i].text);
        }
        const auto timings = (*m)->stage_timings();
        QCOMPARE(timings.size(), size_t(3));
        for (const auto& t : timings) {
            QVERIFY(t.busy_seconds > 0);
            QCOMPARE(t.tokens, uint64_t(3 * (5 + 19)));  // each: 5 prompt tokens + 19 decode steps
        }
        QVERIFY(timings[0].transfer_bytes > 0);
        QCOMPARE(timings[2].transfer_bytes, uint64_t(0));
    }

    void cancelOneLeavesOthersRunning() {
        Engine engine;
        auto m = engine.load(model_.toStdString(), options_for("cpu:1GiB,cpu:1GiB", 2));
        QVERIFY(m.ok());
        auto a = std::move((*m)->create_sequence()).value();
        auto b = std::move((*m)->create_sequence()).value();
        const Output b_alone = generate(**m, *b, prompt_for(1), 40);
        std::atomic<bool> cancel_a{true};  // cancelled from the start: stops before its first token
        Output out_a, out_b;
        std::thread ta([&] { out_a = generate(**m, *a, prompt_for(0), 40, &cancel_a); });
        std::thread tb([&] { out_b = generate(**m, *b, prompt_for(1), 40); });
        ta.join();
        tb.join();
        QVERIFY(out_a.status.ok());
        QVERIFY(out_a.logits.empty());
        QCOMPARE(out_b.text, b_alone.text);
    }

    // A device that fails mid-generation gives an error; recover() re-plans onto the remaining
    // devices, and the conversation continues (its prefix re-processed) with the same text.
    void deviceFailureAndRecovery() {
        Engine engine;
        Engine ref_engine;
        auto ref = ref_engine.load(model_.toStdString(), options_for("cpu:1GiB"));
        auto ref_seq = std::move((*ref)->create_sequence()).value();
        const Output first = generate(**ref, *ref_seq, prompt_for(2), 10);
        std::vector<int32_t> turn2 = ref_seq->tokens();
        turn2.push_back(50);
        const Output second = generate(**ref, *ref_seq, turn2, 10);

        auto m = engine.load(model_.toStdString(), options_for("cpu:1GiB,cpu:1GiB:fail-after=800"));
        QVERIFY2(m.ok(), m.status().message().c_str());
        auto seq = std::move((*m)->create_sequence()).value();
        Output out = generate(**m, *seq, prompt_for(2), 10);
        QVERIFY(out.status.ok());  // 800 operations outlast the first turn (~51 per batch on cpu1)
        QCOMPARE(out.text, first.text);
        Output failed = generate(**m, *seq, turn2, 200);
        QVERIFY(!failed.status.ok());
        QCOMPARE(failed.status.code(), ErrorCode::device_failure);
        QVERIFY(failed.status.message().find("cpu1") != std::string::npos);
        QVERIFY(seq->tokens().size() >= turn2.size() - 1);  // history not lost

        const Status rec = (*m)->recover();
        QVERIFY2(rec.ok(), rec.message().c_str());
        QCOMPARE((*m)->plan().stages.size(), size_t(1));
        QCOMPARE((*m)->plan().stages[0].device_id, std::string("cpu"));
        Output again = generate(**m, *seq, turn2, 10);
        QVERIFY2(again.status.ok(), again.status.message().c_str());
        QCOMPARE(again.text, second.text);
    }

    void impossiblePlanIsRefusedBeforeAllocating() {
        Engine engine;
        auto m = engine.load(model_.toStdString(), options_for("cpu:64KiB,cpu:64KiB"));
        QVERIFY(!m.ok());
        QCOMPARE(m.status().code(), ErrorCode::out_of_memory);
        QVERIFY2(m.status().message().find("does not fit") != std::string::npos, m.status().message().c_str());
        auto report = engine.plan(model_.toStdString(), options_for("cpu:64KiB,cpu:64KiB"));
        QVERIFY(report.ok());
        QVERIFY(!report->plan.fits);
        QVERIFY(!report->plan.shortfalls.empty());
    }

    // The planner's per-device bytes are what loading really allocates (within 5%).
    void estimateMatchesAllocation_data() {
        QTest::addColumn<QString>("devices");
        QTest::addColumn<int>("ctx");
        QTest::addColumn<int>("batch");
        QTest::addColumn<int>("nSeq");
        QTest::addColumn<int>("kv");
        QTest::addColumn<int>("weightType");
        QTest::addColumn<bool>("tied");
        QTest::addColumn<int>("window");  // > 0: a Gemma 3 model whose sliding layers keep a ring
        QTest::newRow("1 dev f16") << "cpu:1GiB" << 128 << 32 << 1 << int(KvCacheType::f16) << int(TensorType::F16) << false << 0;
        QTest::newRow("2 dev long ctx") << "cpu:1GiB,cpu:1GiB" << 2048 << 64 << 1 << int(KvCacheType::f32) << int(TensorType::F32) << false << 0;
        QTest::newRow("3 dev 4 seq q8 kv") << "cpu:1GiB,cpu:1GiB,cpu:1GiB" << 256 << 16 << 4 << int(KvCacheType::q8_0) << int(TensorType::F16) << false << 0;
        QTest::newRow("5 dev big batch") << "cpu:1GiB,cpu:1GiB,cpu:1GiB,cpu:1GiB,cpu:1GiB" << 512 << 256 << 2 << int(KvCacheType::f16) << int(TensorType::Q8_0) << false << 0;
        // A tied head on the embedding's device: the runtime holds the table twice.
        QTest::newRow("1 dev tied") << "cpu:1GiB" << 64 << 16 << 1 << int(KvCacheType::f16) << int(TensorType::F16) << true << 0;
        QTest::newRow("2 dev tied") << "cpu:1GiB,cpu:1GiB" << 64 << 16 << 1 << int(KvCacheType::f16) << int(TensorType::Q8_0) << true << 0;
        // Sliding-window layers: a ring of window + batch − 1 rows instead of the context.
        QTest::newRow("2 dev sliding window") << "cpu:1GiB,cpu:1GiB" << 2048 << 64 << 2 << int(KvCacheType::f16) << int(TensorType::F16) << true << 100;
    }
    void estimateMatchesAllocation() {
        QFETCH(QString, devices);
        QFETCH(int, ctx);
        QFETCH(int, batch);
        QFETCH(int, nSeq);
        QFETCH(int, kv);
        QFETCH(int, weightType);
        QFETCH(bool, tied);
        QFETCH(int, window);
        QTemporaryDir dir;
        RandomModelConfig config = small_model(static_cast<TensorType>(weightType));
        config.tied_output = tied;
        if (window > 0) {
            random_model_arch("gemma3", config);
            config.n_swa = window;
            config.swa_pattern = 3;  // layers 2 and 5 global, the other four slide
        }
        const QString path = test::writeRandomModel(dir, "e", config);
        LoadOptions o = options_for(devices.toStdString(), nSeq);
        o.n_ctx = ctx;
        o.n_batch = batch;
        o.kv_type = static_cast<KvCacheType>(kv);
        Engine engine;
        auto m = engine.load(path.toStdString(), o);
        QVERIFY2(m.ok(), m.status().message().c_str());
        const auto memory = (*m)->memory();
        for (const DeviceUse& use : (*m)->plan().devices) {
            const auto it = std::find_if(memory.begin(), memory.end(), [&](const DeviceMemory& d) { return d.device_id == use.device_id; });
            QVERIFY(it != memory.end());
            const double actual = double(it->weights + it->kv_cache + it->scratch);
            const double predicted = double(use.total());
            QVERIFY2(std::fabs(actual - predicted) <= 0.05 * actual,
                     qPrintable(QStringLiteral("%1: predicted %2, allocated %3").arg(QString::fromStdString(use.device_id))
                                    .arg(predicted).arg(actual)));
            QVERIFY(std::fabs(double(it->kv_cache) - double(use.kv_bytes)) <= 0.05 * double(std::max<uint64_t>(1, it->kv_cache)));
        }
        if (window > 0) {  // 2 global layers of 2048 rows, 4 sliding ones of 100 + 64 − 1
            uint64_t kv = 0;
            for (const DeviceMemory& d : memory) kv += d.kv_cache;
            const uint64_t row = 32 * 2;  // an f16 row of n_embd_kv = 32 values
            QCOMPARE(kv, 2 /* K and V */ * uint64_t(nSeq) * row * (2 * 2048 + 4 * 163));
        }
    }
};

QTEST_GUILESS_MAIN(TestPipeline)
#include "tst_pipeline.moc"
