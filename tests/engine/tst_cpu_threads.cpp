// The CPU backend's work split for many threads (8-64; this machine may have 2 cores, so these
// check correctness and the split's rules, not speed):
// - the row split (cpu_row_split.h) for 1..64 threads: every row exactly once, parts starting on
//   16-row units (whole 8-row groups and pairs; 64 bytes of F32 output per token, so no two
//   tasks share a cache line of the output), sizes within one unit, contiguous home ranges;
// - the pool's homed task claiming runs every task exactly once for up to 64 threads;
// - cpu_matmul on 8, 16 and 64 pool threads equals the 1-thread result bitwise on random data,
//   and a one-token matmul is one parallel_for (one barrier);
// - the repack that runs on the pool (first touch by the thread that reads the part) writes the
//   same bytes whatever the thread count, and the same bytes as the serial repack.
#include <QtTest>

#include <atomic>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "backend/cpu/cpu_matmul.h"
#include "backend/cpu/cpu_row_split.h"
#include "quant/quant.h"
#include "util/thread_pool.h"

using namespace strata;

namespace {

struct Weights {
    std::vector<uint8_t> rows;  // GGUF rows
    std::vector<float> x;       // (n_tok, n_cols)
};

Weights random_weights(TensorType t, int64_t n_rows, int64_t n_cols, int64_t n_tok, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> w_dist(0.1f, 0.5f), x_dist(0.0f, 1.0f);
    std::vector<float> wf(static_cast<size_t>(n_rows * n_cols));
    for (float& v : wf) v = w_dist(rng);
    Weights out;
    const size_t rb = tensor_row_bytes(t, n_cols);
    out.rows.resize(rb * static_cast<size_t>(n_rows));
    for (int64_t r = 0; r < n_rows; ++r) quant::quantize_row_ref(t, wf.data() + r * n_cols, out.rows.data() + r * rb, n_cols);
    out.x.resize(static_cast<size_t>(n_tok * n_cols));
    for (float& v : out.x) v = x_dist(rng);
    return out;
}

const std::vector<TensorType> kRepackTypes = {
    TensorType::F32,  TensorType::F16,  TensorType::BF16, TensorType::Q4_0,   TensorType::Q4_1,   TensorType::Q5_0,
    TensorType::Q5_1, TensorType::Q8_0, TensorType::Q2_K, TensorType::Q3_K,   TensorType::Q4_K,   TensorType::Q5_K,
    TensorType::Q6_K, TensorType::IQ4_NL, TensorType::IQ4_XS, TensorType::MXFP4};

const std::vector<int64_t> kRowCounts = {1, 7, 8, 15, 16, 17, 31, 64, 100, 333, 1000, 1024, 4096, 11008, 32000, 151936};

}  // namespace

class TestCpuThreads : public QObject {
    Q_OBJECT
private slots:
    void rowSplitFollowsTheRules() {
        for (int n_threads = 1; n_threads <= 64; ++n_threads) {
            for (int64_t n_rows : kRowCounts) {
                const int64_t units = (n_rows + kSplitUnitRows - 1) / kSplitUnitRows;
                const int64_t n_parts = row_split_parts(n_rows, n_threads);
                QVERIFY(n_parts >= 1);
                QVERIFY(n_parts <= units);
                QVERIFY(n_parts <= int64_t(n_threads) * kSplitPartsPerThread);
                // Enough parts for every thread where there are rows for them.
                QCOMPARE(n_parts, std::min<int64_t>(units, int64_t(n_threads) * kSplitPartsPerThread));
                int64_t next = 0, min_units = units, max_units = 0;
                for (int64_t p = 0; p < n_parts; ++p) {
                    const RowRange r = row_split_part(n_rows, n_parts, p);
                    QCOMPARE(r.begin, next);  // contiguous, in order: every row exactly once
                    QVERIFY(r.end > r.begin);
                    QCOMPARE(r.begin % kSplitUnitRows, int64_t(0));
                    QCOMPARE(r.begin * int64_t(sizeof(float)) % 64, int64_t(0));  // output cache line
                    QCOMPARE(r.begin % 8, int64_t(0));                              // whole repacked groups
                    QVERIFY(r.end == n_rows || r.end % kSplitUnitRows == 0);
                    const int64_t u = (r.end + kSplitUnitRows - 1) / kSplitUnitRows - r.begin / kSplitUnitRows;
                    min_units = std::min(min_units, u);
                    max_units = std::max(max_units, u);
                    next = r.end;
                }
                QCOMPARE(next, n_rows);
                QVERIFY2(max_units - min_units <= 1, qPrintable(QString("%1 rows over %2 threads: parts of %3..%4 units")
                                                                    .arg(n_rows).arg(n_threads).arg(min_units).arg(max_units)));
                // Each thread's home parts are one contiguous range of rows; together in thread order.
                int64_t home_next = 0, min_home = n_parts, max_home = 0;
                for (int t = 0; t < n_threads; ++t) {
                    int64_t b = 0, e = 0;
                    ThreadPool::home_range(n_parts, n_threads, t, b, e);
                    QCOMPARE(b, home_next);
                    QVERIFY(e >= b);
                    min_home = std::min(min_home, e - b);
                    max_home = std::max(max_home, e - b);
                    home_next = e;
                }
                QCOMPARE(home_next, n_parts);
                QVERIFY(max_home - min_home <= 1);
            }
        }
    }

    // Homed claiming (own tasks first, then the others'): every task exactly once, thread ids in
    // range, for thread counts past this machine's cores and task counts below and above them.
    void homedPoolRunsEveryTaskOnce() {
        for (int n_threads : {1, 2, 3, 5, 8, 16, 33, 64}) {
            ThreadPool pool(n_threads);
            for (int64_t n_tasks : {1, 2, 7, 8, 63, 64, 65, 256, 257}) {
                std::vector<std::atomic<int>> hits(static_cast<size_t>(n_tasks));
                std::atomic<int> bad_thread{0};
                pool.parallel_for(n_tasks, [&](int64_t task, int thread) {
                    if (thread < 0 || thread >= n_threads) bad_thread.store(1);
                    hits[size_t(task)].fetch_add(1);
                });
                for (int64_t i = 0; i < n_tasks; ++i) QCOMPARE(hits[size_t(i)].load(), 1);
                QCOMPARE(bad_thread.load(), 0);
            }
        }
    }

    // Calls from two threads at once (a loading thread repacking while a stage thread runs ops)
    // are serialized: no task of one call runs while a task of the other does, and each call
    // runs all of its tasks.
    void poolSerializesTwoCallers() {
        ThreadPool pool(4);
        std::atomic<int> running[2] = {0, 0};
        std::atomic<int> ran[2] = {0, 0};
        std::atomic<int> overlap{0};
        auto caller = [&](int c) {
            for (int i = 0; i < 50; ++i) {
                pool.parallel_for(16, [&, c](int64_t, int) {
                    running[c].fetch_add(1);
                    if (running[1 - c].load() > 0) overlap.store(1);
                    volatile int spin = 0;
                    for (int k = 0; k < 2000; ++k) spin = spin + k;
                    ran[c].fetch_add(1);
                    running[c].fetch_sub(1);
                });
            }
        };
        std::thread a(caller, 0), b(caller, 1);
        a.join();
        b.join();
        QCOMPARE(ran[0].load(), 50 * 16);
        QCOMPARE(ran[1].load(), 50 * 16);
        QCOMPARE(overlap.load(), 0);
    }

    void matmulOnManyThreadsEqualsOneThread_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<bool>("repack");
        for (TensorType t : {TensorType::F32, TensorType::F16, TensorType::Q4_0, TensorType::Q8_0, TensorType::Q4_K,
                             TensorType::Q6_K, TensorType::IQ4_XS})
            QTest::newRow(tensor_type_name(t)) << int(t) << true;
        for (TensorType t : {TensorType::Q4_0, TensorType::Q8_K})
            QTest::newRow(qPrintable(QString("%1/rows").arg(tensor_type_name(t)))) << int(t) << false;
    }
    void matmulOnManyThreadsEqualsOneThread() {
        QFETCH(int, type);
        QFETCH(bool, repack);
        const auto t = static_cast<TensorType>(type);
        // 1000 rows: 63 units, so 64 threads get a part each but one; 13 tokens cover the token
        // tiles and a ragged last one; decode (1 token) runs too.
        const int64_t n_rows = 1000, n_cols = 512, n_tok = 13;
        const Weights wt = random_weights(t, n_rows, n_cols, n_tok, 901u + uint32_t(type));
        ThreadPool one(1);
        auto w = CpuWeight::prepare(t, wt.rows.data(), n_rows, n_cols, repack, &one);
        QVERIFY(w.ok());
        std::vector<std::vector<float>> expected;
        {
            MatmulScratch s;
            for (int64_t n : {int64_t(1), n_tok}) {
                std::vector<float> out(size_t(n * n_rows));
                cpu_matmul(one, *w, wt.x.data(), n, out.data(), s);
                expected.push_back(std::move(out));
            }
        }
        for (int n_threads : {8, 16, 64}) {
            ThreadPool pool(n_threads);
            MatmulScratch s;
            size_t i = 0;
            for (int64_t n : {int64_t(1), n_tok}) {
                std::vector<float> out(size_t(n * n_rows), -1.0f);
                cpu_matmul(pool, *w, wt.x.data(), n, out.data(), s);
                QVERIFY2(std::memcmp(out.data(), expected[i].data(), out.size() * sizeof(float)) == 0,
                         qPrintable(QString("%1 threads, %2 tokens").arg(n_threads).arg(n)));
                ++i;
            }
        }
    }

    // Barriers per matmul: a one-token matmul (decode) is exactly one parallel_for on the
    // workers, whatever the format and layout; with more tokens at most two (the activations'
    // quantization or packing, then the multiply).
    void oneBarrierPerDecodeMatmul() {
        ThreadPool pool(8);
        const int64_t n_rows = 200, n_cols = 512, n_tok = 13;
        for (TensorType t : kRepackTypes) {
            for (bool repack : {true, false}) {
                const Weights wt = random_weights(t, n_rows, n_cols, n_tok, 55u + uint32_t(t));
                auto w = CpuWeight::prepare(t, wt.rows.data(), n_rows, n_cols, repack);
                QVERIFY(w.ok());
                MatmulScratch s;
                std::vector<float> out(size_t(n_tok * n_rows));
                const uint64_t before = pool.jobs_run();
                cpu_matmul(pool, *w, wt.x.data(), 1, out.data(), s);
                QVERIFY2(pool.jobs_run() - before == 1,
                         qPrintable(QString("%1%2: %3 barriers for one token").arg(tensor_type_name(t))
                                        .arg(repack ? "" : "/rows").arg(pool.jobs_run() - before)));
                const uint64_t mid = pool.jobs_run();
                cpu_matmul(pool, *w, wt.x.data(), n_tok, out.data(), s);
                QVERIFY(pool.jobs_run() - mid <= 2);
            }
        }
    }

    // The repack on the pool writes bytes identical to the serial repack for any thread count
    // (ragged row counts included: the last part's padding rows).
    void repackIsTheSameOnAnyPool_data() {
        QTest::addColumn<int>("type");
        for (TensorType t : kRepackTypes) QTest::newRow(tensor_type_name(t)) << int(t);
    }
    void repackIsTheSameOnAnyPool() {
        QFETCH(int, type);
        const auto t = static_cast<TensorType>(type);
        const int64_t n_cols = 512;
        std::vector<ThreadPool*> pools;
        std::vector<std::unique_ptr<ThreadPool>> owned;
        for (int n : {1, 2, 3, 8, 16, 64}) {
            owned.push_back(std::make_unique<ThreadPool>(n));
            pools.push_back(owned.back().get());
        }
        for (int64_t n_rows : {int64_t(5), int64_t(333), int64_t(1000)}) {
            const Weights wt = random_weights(t, n_rows, n_cols, 1, 313u + uint32_t(type) + uint32_t(n_rows));
            auto serial = CpuWeight::prepare(t, wt.rows.data(), n_rows, n_cols, true, nullptr);
            QVERIFY(serial.ok());
            QVERIFY(serial->owned_bytes() > 0);
            QCOMPARE(serial->owned_bytes(), serial->bytes());
            for (ThreadPool* pool : pools) {
                auto w = CpuWeight::prepare(t, wt.rows.data(), n_rows, n_cols, true, pool);
                QVERIFY(w.ok());
                QCOMPARE(w->owned_bytes(), serial->owned_bytes());
                QVERIFY2(std::memcmp(w->data(), serial->data(), serial->owned_bytes()) == 0,
                         qPrintable(QString("%1 rows on %2 threads").arg(n_rows).arg(pool->n_threads())));
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestCpuThreads)
#include "tst_cpu_threads.moc"
