// The shared memory formulas (plan/memory_estimate.h), recomputed here by hand: KV rows per
// cache type, KV cache size, and every region of the scratch layout the runtime carves.
#include <QtTest>

#include "plan/memory_estimate.h"

using namespace strata;

Q_DECLARE_METATYPE(strata::DeviceType)

namespace {

uint64_t up256(uint64_t x) { return (x + 255) / 256 * 256; }

ModelFootprint shape(int64_t n_embd, int64_t n_head, int64_t n_head_kv, int64_t n_ff, int64_t n_vocab) {
    ModelFootprint m;
    m.n_layer = 4;
    m.n_embd = n_embd;
    m.n_head = n_head;
    m.n_head_kv = n_head_kv;
    m.n_embd_kv = n_head_kv * (n_embd / n_head);
    m.n_ff = n_ff;
    m.n_vocab = n_vocab;
    m.layer_bytes.assign(4, 1000);
    return m;
}

}  // namespace

class TestMemoryEstimate : public QObject {
    Q_OBJECT
private slots:
    void kvRows_data() {
        QTest::addColumn<int>("n");
        QTest::addColumn<int>("f32");
        QTest::addColumn<int>("f16");
        QTest::addColumn<int>("q8");
        QTest::newRow("32") << 32 << 128 << 64 << 34;
        QTest::newRow("1024") << 1024 << 4096 << 2048 << 1088;
        QTest::newRow("4096") << 4096 << 16384 << 8192 << 4352;
        QTest::newRow("100 (partial block)") << 100 << 400 << 200 << 136;
        QTest::newRow("0") << 0 << 0 << 0 << 0;
    }
    void kvRows() {
        QFETCH(int, n);
        QFETCH(int, f32);
        QFETCH(int, f16);
        QFETCH(int, q8);
        QCOMPARE(kv_row_bytes(n, KvCacheType::f32), uint64_t(f32));
        QCOMPARE(kv_row_bytes(n, KvCacheType::f16), uint64_t(f16));
        QCOMPARE(kv_row_bytes(n, KvCacheType::q8_0), uint64_t(q8));
    }

    void kvCache() {
        const ModelFootprint m = shape(8192, 64, 8, 28672, 32000);  // n_embd_kv 1024
        QCOMPARE(m.n_embd_kv, int64_t(1024));
        // Llama-2-70B-like: 80 layers × 4096 tokens × f16 = 1.25 GiB.
        QCOMPARE(kv_cache_bytes(m, 0, 80, 4096, 512, 1, KvCacheType::f16), uint64_t(1280) << 20);
        QCOMPARE(kv_cache_bytes(m, 0, 0, 4096, 512, 1, KvCacheType::f16), uint64_t(0));
        for (KvCacheType t : {KvCacheType::f32, KvCacheType::f16, KvCacheType::q8_0}) {
            const uint64_t one = kv_cache_bytes(m, 0, 1, 1, 512, 1, t);
            QCOMPARE(one, 2 * kv_row_bytes(1024, t));
            QCOMPARE(kv_cache_bytes(m, 3, 7, 300, 512, 3, t), 7 * 300 * 3 * one);  // linear in each
        }
    }

    // Gemma 3-like: five sliding layers (window 1024) to one global. At 131072 positions the
    // sliding layers keep window + batch − 1 rows each, not the whole context.
    void kvCacheSlidingWindow() {
        ModelFootprint m = shape(2560, 8, 4, 10240, 262144);
        m.n_layer = 34;
        m.swa = SlidingWindow{1024, 6};
        const uint64_t row = kv_row_bytes(m.n_embd_kv, KvCacheType::f16);
        QCOMPARE(kv_layer_rows(m, 0, 131072, 512), int64_t(1024 + 511));
        QCOMPARE(kv_layer_rows(m, 5, 131072, 512), int64_t(131072));   // every sixth layer is global
        QCOMPARE(kv_layer_rows(m, 4, 1000, 512), int64_t(1000));        // never more than the context
        const int global = 5;                                            // layers 5, 11, 17, 23, 29
        QCOMPARE(m.swa.count(0, 34), 34 - global);
        QCOMPARE(kv_cache_bytes(m, 0, 34, 131072, 512, 1, KvCacheType::f16),
                 2 * row * (uint64_t(global) * 131072 + uint64_t(34 - global) * 1535));
        // A stage's share counts its own layers: layers 3..8 hold one global (5).
        QCOMPARE(kv_cache_bytes(m, 3, 6, 131072, 512, 2, KvCacheType::f16),
                 2 * 2 * row * (uint64_t(131072) + 5 * 1535));
        // Far less than every layer at full context.
        QVERIFY(kv_cache_bytes(m, 0, 34, 131072, 512, 1, KvCacheType::f16) * 5 <
                kv_cache_bytes(ModelFootprint(shape(2560, 8, 4, 10240, 262144)), 0, 34, 131072, 512, 1, KvCacheType::f16));
    }

    void scratchLayout_data() {
        QTest::addColumn<DeviceType>("type");
        QTest::addColumn<bool>("first");
        QTest::addColumn<bool>("last");
        QTest::addColumn<qint64>("batch");
        QTest::addColumn<int>("threads");
        for (DeviceType t : {DeviceType::cpu, DeviceType::cuda})
            for (int roles = 0; roles < 4; ++roles)
                for (qint64 batch : {1, 512})
                    QTest::newRow(qPrintable(QString("%1 first %2 last %3 batch %4")
                                                 .arg(t == DeviceType::cpu ? "cpu" : "cuda")
                                                 .arg(roles & 1).arg(roles >> 1 & 1).arg(batch)))
                        << t << bool(roles & 1) << bool(roles & 2) << batch << (t == DeviceType::cpu ? 6 : 1);
    }
    void scratchLayout() {
        QFETCH(DeviceType, type);
        QFETCH(bool, first);
        QFETCH(bool, last);
        QFETCH(qint64, batch);
        QFETCH(int, threads);
        const ModelFootprint m = shape(4096, 32, 8, 14336, 128256);  // head_dim 128, kv 1024
        ScratchParams p;
        p.n_batch = batch;
        p.n_ctx = 8192;
        p.n_seq = 3;
        p.first_stage = first;
        p.last_stage = last;
        p.device_type = type;
        p.n_threads = threads;
        const ScratchLayout s = make_scratch_layout(m, p);
        const uint64_t nb = static_cast<uint64_t>(batch);
        const uint64_t f = 4;
        const bool cpu = type == DeviceType::cpu;
        const uint64_t extra = cpu ? 0 : up256(32ull << 20) + up256(4096ull * 14336 * 2) + up256(nb * 14336 * 2);
        // Regions in carving order with their byte sizes, worked out by hand.
        const uint64_t sizes[] = {
            3 * nb * 4096 * f,  // hidden: one slot per sequence
            nb * 4096 * f,      // cur
            nb * 4096 * f,      // q
            nb * 1024 * f,      // k
            nb * 1024 * f,      // v
            nb * 4096 * f,      // attn
            nb * 14336 * f,     // gate
            nb * 14336 * f,     // up
            first ? nb * 4 : 0,                // tokens
            last ? std::min<uint64_t>(3, nb) * 128256 * f : 0,  // logits: a row per sequence (n_seq 3)
            cpu ? uint64_t(threads) * (32 / 8) * 8192 * f  // attention: group of 4 heads per thread
                : 32 * std::min<uint64_t>(nb, 8) * 256 * (2 + 128) * f,  // split-K partials, 8 tokens
            nb * 14336 * 5 / 4 + 4096,         // act_quant
            extra,                             // device_extra
        };
        const uint64_t offsets[] = {s.hidden, s.cur, s.q, s.k, s.v, s.attn, s.gate, s.up,
                                    s.tokens, s.logits, s.attn_scores, s.act_quant, s.device_extra};
        uint64_t at = 0;
        for (size_t i = 0; i < std::size(sizes); ++i) {
            QCOMPARE(offsets[i], at);  // in order, 256-aligned, no overlap, no gap
            QCOMPARE(offsets[i] % 256, uint64_t(0));
            at = up256(at + sizes[i]);
        }
        QCOMPARE(s.total, at);
        QCOMPARE(s.device_extra_bytes, extra);
    }

    void scratchGrowsWithItsInputs() {
        const ModelFootprint m = shape(2048, 16, 16, 5632, 32000);
        ScratchParams p;
        p.device_type = DeviceType::cpu;
        const uint64_t base = make_scratch_layout(m, p).total;
        ScratchParams q = p;
        q.n_batch *= 2;
        QVERIFY(make_scratch_layout(m, q).total > base);
        q = p;
        q.n_ctx *= 2;
        QVERIFY(make_scratch_layout(m, q).total > base);  // CPU attention rows
        q = p;
        q.n_seq = 4;
        QVERIFY(make_scratch_layout(m, q).total > base);
        q = p;
        q.n_threads = 0;  // treated as one thread
        QCOMPARE(make_scratch_layout(m, q).total, base);
        q = p;
        q.device_type = DeviceType::cuda;
        const uint64_t cuda = make_scratch_layout(m, q).total;
        q.n_ctx *= 2;
        QCOMPARE(make_scratch_layout(m, q).total, cuda);  // CUDA partials do not depend on n_ctx
    }
};

QTEST_GUILESS_MAIN(TestMemoryEstimate)
#include "tst_memory_estimate.moc"
