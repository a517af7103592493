// Continuous batching: sequences generating at the same time run in shared steps (the scheduler
// batches their rows: checked through its step statistics), and every step's logits equal what
// the same sequence gets alone (teacher-forced on the tokens it generated), on one device and
// across a two-stage pipeline whose stages overlap; several architectures' per-sequence parts
// (RoPE, sliding windows, attention temperature) included. And the SequencePool: a returning
// conversation finds its KV cache, LRU eviction, FIFO waiting, busy past the bound.
#include <QtTest>

#include <barrier>
#include <cmath>
#include <thread>

#include "runtime/loaded_model.h"
#include "strata/sequence_pool.h"
#include "test_models.h"

using namespace strata;

namespace {

LoadOptions options(const char* devices, int n_seq) {
    LoadOptions o;
    std::string err;
    parse_device_specs(devices, o.devices, err);
    if (o.devices.size() > 1) o.ratios.assign(o.devices.size(), 1.0);
    o.n_ctx = 256;
    o.n_batch = 32;  // prompts longer than a step's room are split into chunks
    o.n_seq = n_seq;
    o.n_threads = 2;
    return o;
}

GenerateParams greedy(int n) {
    GenerateParams g;
    g.sampler.temperature = 0;
    g.sampler.repeat_penalty = 1.0f;
    g.max_tokens = n;
    g.stop_at_eos = false;
    return g;
}

// The largest |a − b| relative to the largest |b| of a row.
double max_rel_diff(const float* a, const float* b, int64_t n) {
    double diff = 0, scale = 1e-6;
    for (int64_t i = 0; i < n; ++i) {
        diff = std::max(diff, std::abs(static_cast<double>(a[i]) - b[i]));
        scale = std::max(scale, std::abs(static_cast<double>(b[i])));
    }
    return diff / scale;
}

struct Recorded {
    std::vector<int32_t> prompt;
    std::vector<int32_t> generated;
    std::vector<std::vector<float>> logits;  // one row per step
    Status status;
};

}  // namespace

class TestContinuousBatching : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

    // Generates from `n` prompts at once (one thread each, started together) and checks every
    // step's logits against the same sequence evaluated alone.
    void checkConcurrentMatchesAlone(const QString& path, const char* devices, int n, int n_tokens) {
        Engine engine;
        auto m = engine.load(path.toStdString(), options(devices, n));
        QVERIFY2(m.ok(), m.status().message().c_str());
        Model& model = **m;
        const auto n_vocab = model.n_vocab();
        std::vector<Recorded> runs(static_cast<size_t>(n));
        for (int i = 0; i < n; ++i)  // different lengths: some prompts take several chunks
            runs[static_cast<size_t>(i)].prompt = test::seededTokens(3 + 17 * i, static_cast<int>(n_vocab), 40u + i);
        {
            std::vector<std::unique_ptr<Sequence>> seqs;
            for (int i = 0; i < n; ++i) seqs.push_back(std::move(model.create_sequence()).value());
            std::barrier start(n);
            std::vector<std::thread> threads;
            for (int i = 0; i < n; ++i) {
                threads.emplace_back([&, i] {
                    Recorded& r = runs[static_cast<size_t>(i)];
                    start.arrive_and_wait();
                    auto st = seqs[static_cast<size_t>(i)]->generate(
                        r.prompt, greedy(n_tokens), {}, nullptr,
                        [&](const float* l, int64_t nv) { r.logits.emplace_back(l, l + nv); });
                    if (!st.ok()) r.status = st.status();
                    const auto& all = seqs[static_cast<size_t>(i)]->tokens();
                    r.generated.assign(all.begin() + static_cast<std::ptrdiff_t>(r.prompt.size()), all.end());
                });
            }
            for (auto& t : threads) t.join();
        }
        auto* loaded = dynamic_cast<LoadedModel*>(&model);
        QVERIFY(loaded);
        const auto stats = loaded->batch_stats();
        // The sequences really shared steps (up to all n in one), and fewer steps ran than the
        // sequences would need one after another.
        QVERIFY2(stats.max_sequences >= 2, qPrintable(QString("at most %1 sequence per step").arg(stats.max_sequences)));

        // Alone: the prompt, then the generated tokens one at a time (teacher forcing).
        auto seq = std::move(model.create_sequence()).value();
        for (int i = 0; i < n; ++i) {
            const Recorded& r = runs[static_cast<size_t>(i)];
            QVERIFY2(r.status.ok(), r.status.message().c_str());
            QCOMPARE(static_cast<int>(r.logits.size()), n_tokens);
            seq->truncate(0);
            std::vector<float> logits;
            QVERIFY(seq->eval(r.prompt, &logits).ok());
            for (int step = 0; step < n_tokens; ++step) {
                const double d = max_rel_diff(r.logits[static_cast<size_t>(step)].data(), logits.data(), n_vocab);
                // Batched rows take other matmul paths than single rows (quantized activations
                // tiled differently): the same math to float rounding.
                QVERIFY2(d < 2e-3, qPrintable(QString("sequence %1 step %2: logits differ by %3 (relative)")
                                                  .arg(i).arg(step).arg(d)));
                if (step + 1 < n_tokens) QVERIFY(seq->eval({r.generated[static_cast<size_t>(step)]}, &logits).ok());
            }
        }
    }

private slots:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void oneDeviceQ8() {
        RandomModelConfig c;
        c.n_vocab = 300;
        c.n_layer = 3;
        c.weight_type = TensorType::Q8_0;
        c.seed = 11;
        const QString path = test::writeRandomModel(dir_, "q8", c);
        QVERIFY(!path.isEmpty());
        checkConcurrentMatchesAlone(path, "cpu", 4, 12);
    }

    void twoStagesOverlap() {
        RandomModelConfig c;
        c.n_vocab = 300;
        c.n_layer = 4;
        c.seed = 12;
        const QString path = test::writeRandomModel(dir_, "f32", c);
        QVERIFY(!path.isEmpty());
        checkConcurrentMatchesAlone(path, "cpu:1GiB,cpu:1GiB", 4, 10);
    }

    // Per-sequence parts of a layer: Gemma 2's sliding window and soft caps, Mistral 3's YaRN
    // and attention temperature, Qwen3-MoE's experts over rows of several sequences.
    void architectures_data() {
        QTest::addColumn<QString>("arch");
        QTest::newRow("gemma2") << "gemma2";
        QTest::newRow("mistral3") << "mistral3";
        QTest::newRow("qwen3moe") << "qwen3moe";
    }
    void architectures() {
        QFETCH(QString, arch);
        RandomModelConfig c;
        QVERIFY(random_model_arch(arch.toStdString(), c));
        c.n_vocab = 300;
        c.n_layer = 2;
        c.seed = 13;
        if (c.n_swa > 0) c.n_swa = 8;  // the window is crossed within the test's positions
        if (c.attn_temp_scale != 0.0f) c.n_ctx_orig = 16;
        QString err;
        const QString path = test::writeRandomModel(dir_, arch, c, &err);
        QVERIFY2(!path.isEmpty(), qPrintable(err));
        checkConcurrentMatchesAlone(path, "cpu", 3, 8);
    }

    void poolReusesTheConversationsCache() {
        RandomModelConfig c;
        c.n_vocab = 300;
        c.seed = 14;
        const QString path = test::writeRandomModel(dir_, "pool", c);
        Engine engine;
        auto m = engine.load(path.toStdString(), options("cpu", 2));
        QVERIFY2(m.ok(), m.status().message().c_str());
        auto pool = std::move(SequencePool::create(**m)).value();
        QCOMPARE(pool->size(), 2);

        const std::vector<int32_t> a = test::seededTokens(40, 300, 1), b = test::seededTokens(30, 300, 2);
        std::vector<int32_t> a_turn, b_turn;
        for (auto [prompt, turn] : {std::pair{&a, &a_turn}, std::pair{&b, &b_turn}}) {
            auto lease = pool->acquire(*prompt);
            QVERIFY(lease.ok());
            auto st = (*lease)->generate(*prompt, greedy(5), {});
            QVERIFY(st.ok());
            QCOMPARE(st->n_reused, 0);
            *turn = (*lease)->tokens();
        }
        // Conversation A comes back with one more message: its own sequence, its cache reused.
        std::vector<int32_t> a_next = a_turn;
        a_next.insert(a_next.end(), {7, 8, 9});
        {
            auto lease = pool->acquire(a_next);
            QVERIFY(lease.ok());
            QCOMPARE((*lease)->tokens(), a_turn);
            auto st = (*lease)->generate(a_next, greedy(3), {});
            QVERIFY(st.ok());
            // All but the last generated token, which the last turn sampled without evaluating.
            QCOMPARE(st->n_reused, static_cast<int>(a_turn.size()) - 1);
            QCOMPARE(st->n_prompt, 4);
        }
        // A new conversation evicts the least recently used cache: B's, not A's.
        {
            auto lease = pool->acquire(test::seededTokens(20, 300, 3));
            QVERIFY(lease.ok());
            QCOMPARE((*lease)->tokens(), b_turn);
        }
    }

    // n_seq 0: the most sequences up to 4 whose KV caches fit, said in the plan's reasons.
    void automaticParallelFitsTheMemory() {
        RandomModelConfig c;
        c.n_vocab = 300;
        c.seed = 16;
        const QString path = test::writeRandomModel(dir_, "auto", c);
        Engine engine;
        auto needs = [&](int n_seq) {
            LoadOptions o = options("cpu:1GiB", n_seq);
            o.n_ctx = 2048;
            auto r = engine.plan(path.toStdString(), o);
            return r.ok() && !r->plan.devices.empty() ? r->plan.devices.front().total() : 0;
        };
        const uint64_t two = needs(2), four = needs(4);
        QVERIFY(two > 0 && four > two);
        const std::string cap = "cpu:" + std::to_string((two + four) / 2) + "B";
        LoadOptions o = options(cap.c_str(), 0);
        o.n_ctx = 2048;
        auto plan = engine.plan(path.toStdString(), o);
        QVERIFY2(plan.ok(), plan.status().message().c_str());
        QVERIFY(plan->plan.fits);
        QCOMPARE(plan->request.n_seq, 2);
        QVERIFY2(QString::fromStdString(plan->plan.decisions.front()).contains("2 parallel sequences"),
                 plan->plan.decisions.front().c_str());
        auto m = engine.load(path.toStdString(), o);
        QVERIFY2(m.ok(), m.status().message().c_str());
        auto pool = SequencePool::create(**m);
        QVERIFY(pool.ok());
        QCOMPARE((*pool)->size(), 2);
    }

    void poolWaitsInTurnAndRefusesWhenFull() {
        RandomModelConfig c;
        c.n_vocab = 300;
        c.seed = 15;
        const QString path = test::writeRandomModel(dir_, "busy", c);
        Engine engine;
        auto m = engine.load(path.toStdString(), options("cpu", 1));
        QVERIFY2(m.ok(), m.status().message().c_str());
        auto pool = std::move(SequencePool::create(**m, SequencePool::Options{0, 1})).value();
        auto acquired = pool->acquire({1});
        QVERIFY(acquired.ok());
        SequencePool::Lease held = std::move(acquired).value();
        QCOMPARE(pool->in_use(), 1);

        // A waiter with a timeout gives up with a message saying why.
        auto timed = pool->acquire({1}, nullptr, std::chrono::milliseconds(60));
        QCOMPARE(timed.status().code(), ErrorCode::cancelled);

        // One waiter is allowed; a second is refused at once (busy), and the first gets the
        // sequence when it is returned.
        std::atomic<bool> got{false};
        std::thread waiter([&] {
            auto lease = pool->acquire({1});
            got = lease.ok();
        });
        QTRY_COMPARE(pool->waiting(), size_t{1});
        auto refused = pool->acquire({1});
        QCOMPARE(refused.status().code(), ErrorCode::busy);
        QVERIFY(!got.load());
        held = SequencePool::Lease{};
        waiter.join();
        QVERIFY(got.load());

        // A cancelled waiter leaves the queue.
        auto again = pool->acquire({1});
        QVERIFY(again.ok());
        std::atomic<bool> cancel{false};
        Status cancelled_status;
        std::thread c2([&] { cancelled_status = pool->acquire({1}, &cancel).status(); });
        QTRY_COMPARE(pool->waiting(), size_t{1});
        cancel = true;
        c2.join();
        QCOMPARE(cancelled_status.code(), ErrorCode::cancelled);
        QCOMPARE(pool->waiting(), size_t{0});
    }
};

QTEST_GUILESS_MAIN(TestContinuousBatching)
#include "tst_continuous_batching.moc"
