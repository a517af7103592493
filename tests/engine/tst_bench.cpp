// run_bench (strata/bench.h), the measuring part of `strata-cli bench` and the app's bench
// runner, on a tiny random model: one result per test in the order asked for, each timed
// (tokens/s = tokens / median seconds), the listener hears each as it is measured, the
// sequence is left holding the last test's tokens, and bad options, a short context and a
// cancel are structured errors.
#include <QtTest>

#include <atomic>

#include "strata/bench.h"
#include "test_models.h"

using namespace strata;

class TestBench : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString path_;

    Result<std::unique_ptr<Model>> load(Engine& engine, int64_t n_ctx) {
        return engine.load(path_.toStdString(), test::cpuLoadOptions(KvCacheType::f32, n_ctx, 64));
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        RandomModelConfig c;
        QString error;
        path_ = test::writeRandomModel(dir_, QStringLiteral("bench"), c, &error);
        QVERIFY2(!path_.isEmpty(), qPrintable(error));
    }

    void measuresEachTest() {
        Engine engine;
        auto m = load(engine, 64);
        QVERIFY2(m.ok(), m.status().message().c_str());
        auto seq = (*m)->create_sequence();
        QVERIFY(seq.ok());
        BenchOptions o;
        o.prompt_sizes = {8, 16};
        o.decode_sizes = {5};
        o.repeats = 2;
        QStringList heard;
        auto r = run_bench(**m, **seq, o, nullptr, [&](const BenchTest& t) { heard << QString::fromStdString(t.name); });
        QVERIFY2(r.ok(), r.status().message().c_str());
        QCOMPARE(heard, (QStringList{"pp8", "pp16", "tg5"}));
        QCOMPARE(r->tests.size(), size_t(3));
        QVERIFY(r->tests[0].prefill && r->tests[1].prefill && !r->tests[2].prefill);
        for (const BenchTest& t : r->tests) {
            QVERIFY(t.seconds > 0);
            QCOMPARE(t.tokens_per_second, t.tokens / t.seconds);
        }
        QCOMPARE(r->prefill_tokens_per_second(), r->tests[1].tokens_per_second);
        QCOMPARE(r->decode_tokens_per_second(), r->tests[2].tokens_per_second);
        QCOMPARE(r->decode_bytes, decode_bytes_per_token(**m));
        QVERIFY(r->decode_bytes > 0 && r->flops_per_token > 0);
        QCOMPARE((*seq)->tokens().size(), size_t(1 + 5));  // BOS, then the last decode run
        // The stage timings cover the decode runs: 3 runs × 6 evaluations (BOS + 5).
        const auto timings = (*m)->stage_timings();
        QVERIFY(!timings.empty());
        QCOMPARE(timings.front().tokens, uint64_t(3 * 6));
    }

    void depthNamesTheTests() {
        Engine engine;
        auto m = load(engine, 64);
        QVERIFY(m.ok());
        auto seq = (*m)->create_sequence();
        BenchOptions o;
        o.prompt_sizes = {4};
        o.decode_sizes = {2};
        o.repeats = 1;
        o.depth = 20;
        QCOMPARE(bench_context_needed(o), int64_t(25));
        auto r = run_bench(**m, **seq, o);
        QVERIFY2(r.ok(), r.status().message().c_str());
        QCOMPARE(r->tests[0].name, std::string("pp4@d20"));
        QCOMPARE(r->tests[1].name, std::string("tg2@d20"));
        QCOMPARE((*seq)->tokens().size(), size_t(20 + 2));  // the depth (BOS first), then the last decode run
    }

    void refusesBadOptions() {
        Engine engine;
        auto m = load(engine, 32);
        QVERIFY(m.ok());
        auto seq = (*m)->create_sequence();
        BenchOptions o;
        o.repeats = 0;
        QCOMPARE(run_bench(**m, **seq, o).status().code(), ErrorCode::invalid_argument);
        o = {};
        o.prompt_sizes = {0};
        QCOMPARE(run_bench(**m, **seq, o).status().code(), ErrorCode::invalid_argument);
        o = {};
        o.prompt_sizes.clear();
        o.decode_sizes.clear();
        QCOMPARE(run_bench(**m, **seq, o).status().code(), ErrorCode::invalid_argument);
        o = {};  // pp512 needs 513 positions; the context has 32
        auto r = run_bench(**m, **seq, o);
        QCOMPARE(r.status().code(), ErrorCode::invalid_argument);
        QVERIFY2(r.status().message().find("too short") != std::string::npos, r.status().message().c_str());
        std::atomic<bool> cancel{true};
        o.prompt_sizes = {4};
        o.decode_sizes = {2};
        QCOMPARE(run_bench(**m, **seq, o, &cancel).status().code(), ErrorCode::cancelled);
    }
};

QTEST_MAIN(TestBench)
#include "tst_bench.moc"
