// CpuOps::attention against a double-precision reference written here: causal grouped-query
// attention over a KV cache in f32, f16 and q8_0, for decode (one token) and prefill (several),
// head sizes the AVX2 path takes (multiples of 8) and ones it leaves to the portable code, group
// sizes 1 to 9 and 12, sliding windows over a ring of cache rows, on every dispatch level this
// machine can run (scalar, avx2, avx512); attention sinks (gpt-oss) on every path; and
// bitwise-identical outputs for 1 and 3 threads.
//
// Truth: the cache rows as stored (dequantized by the reference dequantizer), scores and softmax
// in double. Tolerance per output 3e-6 · (1 + max |v|) · (1 + |score range|): float dot products
// over at most 512 dimensions and a float softmax over at most 1000 positions. The AVX-512
// kernel does per lane the AVX2 kernel's operations in order: the two agree bitwise (tested).
#include <QtTest>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <tuple>
#include <vector>

#include "backend/cpu/cpu_attention.h"
#include "backend/cpu/cpu_device.h"
#include "quant/quant.h"
#include "isa_scope.h"
#include "util/cpu_features.h"
#include "util/fp16.h"

using namespace strata;
using strata::test::IsaScope;

namespace {

TensorType tensor_type_of(KvCacheType t) {
    return t == KvCacheType::f32 ? TensorType::F32 : t == KvCacheType::f16 ? TensorType::F16 : TensorType::Q8_0;
}

struct Case {
    int64_t n_ctx = 70, pos0 = 0, n_tok = 1, n_head = 8, n_head_kv = 2, head_dim = 64;
    KvCacheType type = KvCacheType::f16;
    float softcap = 0.0f;            // AttentionParams: Gemma 2's score cap
    int64_t window = 0;              // sliding window (0 = all positions)
    std::vector<float> sinks;        // (n_head) attention sinks, or empty
    std::vector<float> q;            // (n_tok, n_head, head_dim)
    std::vector<uint8_t> k, v;       // cache rows in `type`
    std::vector<float> kf, vf;       // the same rows dequantized (the truth's view)
    int64_t n_rows = 0;              // cache rows: a sliding window's ring when < n_ctx (0 = n_ctx)

    int64_t rows() const { return n_rows > 0 ? n_rows : n_ctx; }
    int64_t row_of(int64_t pos) const { return pos % rows(); }
};

// Random q and cache rows (never zeros). With ring_rows > 0 the cache is a ring of that many
// rows for a sliding window of `window` positions (as KvView::row_of maps them); rows no token
// attends to hold NaN, so reading one shows in the output.
Case make_case(int64_t head_dim, int64_t n_head, int64_t n_head_kv, int64_t n_tok, KvCacheType type, uint32_t seed,
               int64_t n_ctx = 70, int64_t ring_rows = 0, int64_t window = 0) {
    Case c;
    c.n_ctx = n_ctx;
    c.n_rows = ring_rows;
    c.window = window;
    c.head_dim = head_dim, c.n_head = n_head, c.n_head_kv = n_head_kv, c.n_tok = n_tok, c.type = type;
    c.pos0 = c.n_ctx - n_tok - 3;  // a few positions left unused: they must not be read
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    c.q.resize(static_cast<size_t>(n_tok * n_head * head_dim));
    for (auto& x : c.q) x = dist(rng);
    const int64_t n_embd_kv = n_head_kv * head_dim;
    const TensorType tt = tensor_type_of(type);
    const size_t row_bytes = tensor_row_bytes(tt, n_embd_kv);
    const int64_t n_rows = c.rows();
    c.k.assign(row_bytes * static_cast<size_t>(n_rows), 0);
    c.v.assign(row_bytes * static_cast<size_t>(n_rows), 0);
    c.kf.resize(static_cast<size_t>(n_rows * n_embd_kv));
    c.vf.resize(c.kf.size());
    // Rows some token attends to: without a ring every position up to the last token's.
    std::vector<bool> used(static_cast<size_t>(n_rows), false);
    const int64_t first = ring_rows > 0 ? std::max<int64_t>(0, c.pos0 + 1 - window) : 0;
    for (int64_t p = first; p < c.pos0 + n_tok; ++p) used[size_t(c.row_of(p))] = true;
    std::vector<float> row(static_cast<size_t>(n_embd_kv));
    for (int64_t p = 0; p < n_rows; ++p) {
        for (auto* dst : {&c.k, &c.v}) {
            for (auto& x : row) x = dist(rng) * 1.5f + 0.25f;
            if (!used[size_t(p)]) std::fill(row.begin(), row.end(), NAN);  // outside every token's window
            uint8_t* r = dst->data() + static_cast<size_t>(p) * row_bytes;
            if (type == KvCacheType::f32) std::memcpy(r, row.data(), row_bytes);
            else if (type == KvCacheType::f16)
                for (int64_t i = 0; i < n_embd_kv; ++i) reinterpret_cast<uint16_t*>(r)[i] = fp32_to_fp16(row[size_t(i)]);
            else if (used[size_t(p)]) quant::quantize_row_ref(tt, row.data(), r, n_embd_kv);
            else std::memset(r, 0xFF, row_bytes);  // q8_0 scale NaN
            auto& f = dst == &c.k ? c.kf : c.vf;
            quant::dequantize_row_ref(tt, r, f.data() + p * n_embd_kv, n_embd_kv);
        }
    }
    return c;
}

std::vector<float> run(const Case& c, int n_threads) {
    CpuDevice dev("cpu", 0, n_threads);
    KvView kv;
    kv.k = const_cast<uint8_t*>(c.k.data());
    kv.v = const_cast<uint8_t*>(c.v.data());
    kv.type = c.type;
    kv.n_ctx = c.n_ctx;
    kv.n_rows = c.n_rows;
    kv.n_embd_kv = c.n_head_kv * c.head_dim;
    std::vector<float> scratch(static_cast<size_t>(n_threads * (c.n_head / c.n_head_kv) * c.n_ctx));
    std::vector<float> out(c.q.size(), NAN);
    AttentionParams p{1.0f / std::sqrt(static_cast<float>(c.head_dim)), c.softcap, c.window};
    std::unique_ptr<DeviceWeight> sinks;
    if (!c.sinks.empty()) {
        HostTensor t;
        t.name = "attn_sinks";
        t.role = WeightRole::vector;
        t.n_cols = c.n_head;
        t.n_rows = 1;
        t.data = c.sinks.data();
        t.n_bytes = c.sinks.size() * sizeof(float);
        auto w = dev.upload_weight(t);
        if (!w.ok()) qFatal("%s", w.status().message().c_str());
        sinks = std::move(w).value();
        p.sinks = sinks.get();
    }
    const Status st = dev.ops().attention(c.q.data(), kv, c.pos0, c.n_tok, c.n_head, c.n_head_kv, c.head_dim, p,
                                          scratch.data(), out.data());
    if (!st.ok()) qWarning("attention failed: %s", st.message().c_str());
    return out;
}

// Checks `out` against attention in double over the rows as stored, the sliding window and the
// soft cap included (QFAIL on the first value out of tolerance).
void compare_with_reference(const Case& c, const std::vector<float>& out) {
    const int64_t group = c.n_head / c.n_head_kv, n_embd_kv = c.n_head_kv * c.head_dim;
    const double scale = 1.0 / std::sqrt(static_cast<double>(c.head_dim));
    for (int64_t t = 0; t < c.n_tok; ++t) {
        const int64_t n_pos = c.pos0 + t + 1;
        const int64_t first = c.window > 0 ? std::max<int64_t>(0, n_pos - c.window) : 0;
        for (int64_t h = 0; h < c.n_head; ++h) {
            const int64_t kvh = h / group;
            const float* qh = c.q.data() + (t * c.n_head + h) * c.head_dim;
            std::vector<double> s(static_cast<size_t>(n_pos), 0.0);
            double mx = -INFINITY, mn = INFINITY, vmax = 0;
            for (int64_t j = first; j < n_pos; ++j) {
                double d = 0;
                for (int64_t i = 0; i < c.head_dim; ++i)
                    d += double(qh[i]) * c.kf[size_t(c.row_of(j) * n_embd_kv + kvh * c.head_dim + i)];
                d *= scale;
                if (c.softcap > 0) d = c.softcap * std::tanh(d / c.softcap);
                s[size_t(j)] = d;
                mx = std::max(mx, d);
                mn = std::min(mn, d);
                for (int64_t i = 0; i < c.head_dim; ++i)
                    vmax = std::max(vmax, std::fabs(double(c.vf[size_t(c.row_of(j) * n_embd_kv + kvh * c.head_dim + i)])));
            }
            // A sink is one more logit in the denominator (with no value), unscaled and uncapped.
            const double sink = c.sinks.empty() ? -INFINITY : c.sinks[size_t(h)];
            const double top = std::max(mx, sink);
            double sum = c.sinks.empty() ? 0.0 : std::exp(sink - top);
            for (int64_t j = first; j < n_pos; ++j) sum += (s[size_t(j)] = std::exp(s[size_t(j)] - top));
            const double tol = 3e-6 * (1 + vmax) * (1 + (mx - mn));
            std::vector<double> truths(static_cast<size_t>(c.head_dim), 0.0);  // Σ weight · V, row by row
            for (int64_t j = first; j < n_pos; ++j) {
                const double wj = s[size_t(j)] / sum;
                const float* vj = c.vf.data() + c.row_of(j) * n_embd_kv + kvh * c.head_dim;
                for (int64_t i = 0; i < c.head_dim; ++i) truths[size_t(i)] += wj * vj[i];
            }
            for (int64_t i = 0; i < c.head_dim; ++i) {
                const double truth = truths[size_t(i)];
                const float got = out[size_t((t * c.n_head + h) * c.head_dim + i)];
                if (!(std::fabs(got - truth) <= tol))
                    QFAIL(qPrintable(QString("token %1 head %2 dim %3: got %4, truth %5 (tol %6)")
                                         .arg(t).arg(h).arg(i).arg(got, 0, 'g', 9).arg(truth, 0, 'g', 9).arg(tol)));
            }
        }
    }
}

// The dispatch levels with their own attention kernel that this machine runs: the portable
// code, AVX2 and AVX-512 (the VNNI / BF16 levels above avx512 run the AVX-512 kernel).
QStringList vector_levels() {
    QStringList levels;
    if (cpu_isa_runs(CpuIsa::avx2)) levels << "avx2";
    if (cpu_isa_runs(CpuIsa::avx512)) levels << "avx512";
    return levels;
}
QStringList all_levels() { return QStringList{"scalar"} + vector_levels(); }

}  // namespace

class TestCpuAttention : public QObject {
    Q_OBJECT
private slots:
    void matchesReference_data() {
        QTest::addColumn<int>("headDim");
        QTest::addColumn<int>("group");
        QTest::addColumn<int>("nTok");
        QTest::addColumn<int>("kvType");
        QTest::addColumn<QString>("isa");
        QTest::addColumn<int>("ctx");
        const QStringList isas = all_levels();
        for (const QString& isa : isas)
            for (int hd : {64, 128, 80, 40, 12})
                for (int group : {1, 4, 8})
                    for (int n_tok : {1, 5})
                        for (KvCacheType t : {KvCacheType::f16, KvCacheType::f32, KvCacheType::q8_0}) {
                            if (t == KvCacheType::q8_0 && hd % 32 != 0) continue;  // q8_0 rows are whole blocks
                            QTest::newRow(qPrintable(QString("hd%1/g%2/tok%3/%4/%5").arg(hd).arg(group).arg(n_tok)
                                                         .arg(kv_cache_type_name(t)).arg(isa)))
                                << hd << group << n_tok << int(t) << isa << 70;
                        }
        // Short contexts for the one-head path's 8-position blocks (group 1) and the grouped
        // path (group 4): fewer than 8 positions, then exactly one and two whole blocks with no
        // remainder (positions 1; 4..8; 13..17).
        for (const QString& isa : vector_levels())
        for (int group : {1, 4})
            for (auto [ctx, n_tok] : {std::pair{4, 1}, std::pair{11, 5}, std::pair{20, 5}})
                for (KvCacheType t : {KvCacheType::f16, KvCacheType::f32, KvCacheType::q8_0})
                    QTest::newRow(qPrintable(QString("hd64/g%1/tok%2/%3/%5/ctx%4").arg(group).arg(n_tok)
                                                 .arg(kv_cache_type_name(t)).arg(ctx).arg(isa)))
                        << 64 << group << n_tok << int(t) << isa << ctx;
        // The grouped path: every group size up to 8 and groups it splits (9 = 8 + 1, 12 = 8 + 4),
        // and contexts of several 64-key blocks, where the running maximum moves between blocks
        // (positions up to 197; exactly 128 = two whole blocks).
        for (const QString& isa : vector_levels()) {
            for (int group : {2, 3, 5, 6, 7, 9, 12})
                for (KvCacheType t : {KvCacheType::f16, KvCacheType::q8_0})
                    QTest::newRow(qPrintable(QString("hd64/g%1/tok5/%2/%3/ctx200").arg(group).arg(kv_cache_type_name(t)).arg(isa)))
                        << 64 << group << 5 << int(t) << isa << 200;
            for (auto [hd, n_tok, ctx] : {std::tuple{128, 5, 200}, std::tuple{256, 1, 131}, std::tuple{40, 5, 200}})
                for (KvCacheType t : {KvCacheType::f16, KvCacheType::f32})
                    QTest::newRow(qPrintable(QString("hd%1/g8/tok%2/%3/%5/ctx%4").arg(hd).arg(n_tok).arg(kv_cache_type_name(t)).arg(ctx).arg(isa)))
                        << hd << 8 << n_tok << int(t) << isa << ctx;
        }
    }
    void matchesReference() {
        QFETCH(int, headDim);
        QFETCH(int, group);
        QFETCH(int, nTok);
        QFETCH(int, kvType);
        QFETCH(QString, isa);
        QFETCH(int, ctx);
        IsaScope scope(isa);
        const int64_t n_head_kv = 2, n_head = n_head_kv * group;
        const Case c = make_case(headDim, n_head, n_head_kv, nTok, static_cast<KvCacheType>(kvType),
                                 uint32_t(headDim * 131 + group * 17 + nTok * 7 + kvType + ctx), ctx);
        compare_with_reference(c, run(c, 2));
    }

    // Gemma's attention: sliding windows shorter and longer than what precedes a token, and
    // soft-capped scores (which take the scalar path), on every dispatch path.
    void windowAndSoftcap_data() {
        QTest::addColumn<int>("window");
        QTest::addColumn<double>("softcap");
        QTest::addColumn<int>("kvType");
        QTest::addColumn<QString>("isa");
        const QStringList isas = all_levels();
        for (const QString& isa : isas)
            for (KvCacheType t : {KvCacheType::f16, KvCacheType::f32, KvCacheType::q8_0})
                for (auto [w, cap] : {std::pair{1, 0.0}, std::pair{7, 0.0}, std::pair{64, 0.0}, std::pair{500, 0.0},
                                      std::pair{0, 5.0}, std::pair{0, 50.0}, std::pair{9, 2.0}})
                    QTest::newRow(qPrintable(QString("w%1/cap%2/%3/%4").arg(w).arg(cap).arg(kv_cache_type_name(t)).arg(isa)))
                        << w << cap << int(t) << isa;
    }
    void windowAndSoftcap() {
        QFETCH(int, window);
        QFETCH(double, softcap);
        QFETCH(int, kvType);
        QFETCH(QString, isa);
        IsaScope scope(isa);
        Case c = make_case(64, 8, 2, 5, static_cast<KvCacheType>(kvType), uint32_t(window * 31 + kvType), 200);
        c.window = window;
        c.softcap = static_cast<float>(softcap);
        const std::vector<float> out = run(c, 2);
        compare_with_reference(c, out);
    }

    // gpt-oss's attention sinks: one learned logit per head in each softmax's denominator. Sinks
    // spread from well below to well above the scores (so some heads give most of their weight
    // to the sink), on the one-head path (group 1), the grouped path (4, 8) and a split group
    // (12 = 8 + 4), with windows and with a soft cap (the scalar path), on every dispatch path.
    void sinks_data() {
        QTest::addColumn<int>("group");
        QTest::addColumn<int>("nTok");
        QTest::addColumn<int>("window");
        QTest::addColumn<double>("softcap");
        QTest::addColumn<int>("kvType");
        QTest::addColumn<QString>("isa");
        const QStringList isas = all_levels();
        for (const QString& isa : isas)
            for (KvCacheType t : {KvCacheType::f16, KvCacheType::f32, KvCacheType::q8_0})
                for (int group : {1, 4, 8, 12})
                    for (auto [n_tok, w, cap] : {std::tuple{1, 0, 0.0}, std::tuple{5, 0, 0.0}, std::tuple{5, 9, 0.0},
                                                 std::tuple{1, 70, 0.0}, std::tuple{5, 0, 5.0}})
                        QTest::newRow(qPrintable(QString("g%1/tok%2/w%3/cap%4/%5/%6").arg(group).arg(n_tok).arg(w).arg(cap)
                                                     .arg(kv_cache_type_name(t)).arg(isa)))
                            << group << n_tok << w << cap << int(t) << isa;
    }
    void sinks() {
        QFETCH(int, group);
        QFETCH(int, nTok);
        QFETCH(int, window);
        QFETCH(double, softcap);
        QFETCH(int, kvType);
        QFETCH(QString, isa);
        IsaScope scope(isa);
        const int64_t n_head_kv = 2, n_head = n_head_kv * group;
        Case c = make_case(64, n_head, n_head_kv, nTok, static_cast<KvCacheType>(kvType),
                           uint32_t(group * 97 + nTok * 13 + window + kvType), 200);
        c.window = window;
        c.softcap = static_cast<float>(softcap);
        std::mt19937 rng(uint32_t(group + 3 * kvType));
        std::normal_distribution<float> dist(1.0f, 3.0f);
        c.sinks.resize(static_cast<size_t>(n_head));
        for (auto& x : c.sinks) x = dist(rng);
        const std::vector<float> out = run(c, 2);
        compare_with_reference(c, out);
        // The sinks change the output (a test that ignored them would pass above only by luck).
        Case plain = c;
        plain.sinks.clear();
        QVERIFY(run(plain, 2) != out);
    }

    // A sliding window over a ring of cache rows (KvView::n_rows < n_ctx), the window wrapping
    // past the last row back to row 0, at ragged lengths (1, 7, 33 and 1000 positions: short of
    // one 8- or 16-wide step, a remainder after several, many 64-key blocks), every head size
    // kind (multiples of 16, of 8 only, above the grouped path's 256), every cache type, one
    // and several tokens, with and without sinks, on every dispatch level (1000 positions with
    // heads up to 128 only, to keep the test fast). Rows outside the window hold NaN.
    void ringWindow_data() {
        QTest::addColumn<int>("headDim");
        QTest::addColumn<int>("group");
        QTest::addColumn<int>("nPos");
        QTest::addColumn<int>("kvType");
        QTest::addColumn<bool>("withSinks");
        QTest::addColumn<QString>("isa");
        for (const QString& isa : all_levels())
            for (int hd : {64, 128, 256, 40, 512})
                for (int group : {1, 8, 12}) {
                    if (group == 12 && hd != 64) continue;  // a split group (8 + 4): one size suffices
                    for (int n_pos : {1, 7, 33, 1000})
                        for (KvCacheType t : {KvCacheType::f16, KvCacheType::f32, KvCacheType::q8_0})
                            for (bool sinks : {false, true}) {
                                if (t == KvCacheType::q8_0 && hd % 32 != 0) continue;
                                if (hd > 128 && n_pos == 1000) continue;  // long contexts: the small heads suffice
                                QTest::newRow(qPrintable(QString("hd%1/g%2/pos%3/%4%5/%6").arg(hd).arg(group).arg(n_pos)
                                                             .arg(kv_cache_type_name(t)).arg(sinks ? "/sinks" : "").arg(isa)))
                                    << hd << group << n_pos << int(t) << sinks << isa;
                            }
                }
    }
    void ringWindow() {
        QFETCH(int, headDim);
        QFETCH(int, group);
        QFETCH(int, nPos);
        QFETCH(int, kvType);
        QFETCH(bool, withSinks);
        QFETCH(QString, isa);
        IsaScope scope(isa);
        const int64_t n_head_kv = 2, n_head = n_head_kv * group;
        const int64_t n_tok = nPos == 7 || nPos == 33 ? 3 : 1;  // a ring serves window + n_tok - 1 ≤ rows
        const int64_t rows = nPos + 3, n_ctx = 2 * rows + 10;     // positions past two laps of the ring
        const uint32_t seed = uint32_t(headDim * 7 + group * 131 + nPos * 3 + kvType + (withSinks ? 1000 : 0));
        Case c = make_case(headDim, n_head, n_head_kv, n_tok, static_cast<KvCacheType>(kvType), seed, n_ctx, rows, nPos);
        QVERIFY(c.row_of(c.pos0 + 1 - nPos) > c.row_of(c.pos0 + n_tok - 1) || nPos == 1);  // the window wraps
        if (withSinks) {
            std::mt19937 rng(seed);
            std::normal_distribution<float> dist(1.0f, 3.0f);
            c.sinks.resize(static_cast<size_t>(n_head));
            for (auto& x : c.sinks) x = dist(rng);
        }
        compare_with_reference(c, run(c, 2));
    }

    // The AVX-512 kernel does per lane the AVX2 kernel's float operations in the same order: the
    // outputs are bitwise equal (both paths, ragged lengths and head sizes, rings, sinks).
    void avx512BitwiseAvx2() {
        if (!cpu_isa_runs(CpuIsa::avx512)) QSKIP("this CPU has no AVX-512: the 512-bit attention is not used here");
        int n_cases = 0;
        for (int hd : {40, 64, 128, 256, 264, 512})
            for (int group : {1, 3, 8, 12})
                for (int n_pos : {1, 7, 16, 33, 130, 1000})
                    for (KvCacheType t : {KvCacheType::f16, KvCacheType::f32, KvCacheType::q8_0}) {
                        if (t == KvCacheType::q8_0 && hd % 32 != 0) continue;
                        if (hd > 128 && n_pos == 1000) continue;  // long contexts: the small heads suffice
                        const int64_t rows = n_pos + 3, n_tok = 2;
                        Case c = make_case(hd, 2 * group, 2, n_tok, t, uint32_t(hd + 7 * group + 13 * n_pos + int(t)),
                                           2 * rows + 10, rows, n_pos);
                        if (n_pos % 2) {
                            c.sinks.resize(size_t(2 * group));
                            for (size_t h = 0; h < c.sinks.size(); ++h) c.sinks[h] = float(h % 5) - 1.5f;
                        }
                        std::vector<float> a2, a512;
                        {
                            IsaScope scope("avx2");
                            a2 = run(c, 2);
                        }
                        {
                            IsaScope scope("avx512");
                            a512 = run(c, 2);
                        }
                        for (float x : a2) QVERIFY(std::isfinite(x));
                        if (std::memcmp(a2.data(), a512.data(), a2.size() * sizeof(float)) != 0)
                            QFAIL(qPrintable(QString("hd %1 group %2 n_pos %3 %4: AVX-512 differs from AVX2")
                                                 .arg(hd).arg(group).arg(n_pos).arg(kv_cache_type_name(t))));
                        ++n_cases;
                    }
        QVERIFY(n_cases > 300);
    }

    // The vector path's softmax exp against exp in double: ≤ 2 ulp-ish (2.5e-7 relative) from 0
    // down to -87, and tiny (≤ 2e-38, the clamp) below; NaN stays NaN.
    void vectorExpIsAccurate() {
        if (cpu_isa_supported() < CpuIsa::avx2) QSKIP("this CPU has no AVX2: the vector exp is not used here");
        std::mt19937 rng(11);
        std::uniform_real_distribution<float> wide(-87.0f, 0.0f), near0(-1.0f, 0.0f);
        std::vector<float> x;
        for (int i = 0; i < 4000; ++i) x.push_back(i % 2 ? wide(rng) : near0(rng));
        for (float e : {0.0f, -0.0f, -1e-30f, -0.34657359f, -0.34657362f, -86.9f, -87.0f, -87.5f, -100.0f, -1e30f})
            x.push_back(e);
        std::vector<float> out(x.size());
        exp_nonpositive_avx2(x.data(), out.data(), static_cast<int64_t>(x.size()));
        for (size_t i = 0; i < x.size(); ++i) {
            const double truth = std::exp(static_cast<double>(x[i]));
            const bool ok = x[i] >= -87.0f ? std::fabs(out[i] - truth) <= 2.5e-7 * truth
                                           : out[i] >= 0.0f && out[i] <= 2e-38f;
            if (!ok) QFAIL(qPrintable(QString("exp(%1) = %2, truth %3").arg(x[i], 0, 'g', 9).arg(out[i], 0, 'g', 9).arg(truth, 0, 'g', 9)));
        }
        const float nan_in[3] = {NAN, -1.0f, NAN};
        float nan_out[3];
        exp_nonpositive_avx2(nan_in, nan_out, 3);
        QVERIFY(std::isnan(nan_out[0]) && std::isnan(nan_out[2]));
        QVERIFY(std::fabs(nan_out[1] - std::exp(-1.0)) <= 2.5e-7 * std::exp(-1.0));
    }

    void bitwiseAcrossThreadCounts() {
        for (const QString& isa : all_levels())
        for (KvCacheType t : {KvCacheType::f16, KvCacheType::f32, KvCacheType::q8_0}) {
            IsaScope scope(isa);
            Case c = make_case(64, 16, 2, 6, t, 5u + int(t));
            const auto one = run(c, 1), three = run(c, 3);
            QVERIFY(std::memcmp(one.data(), three.data(), one.size() * sizeof(float)) == 0);
            c.sinks.assign(16, 0.5f);
            const auto s1 = run(c, 1), s3 = run(c, 3);
            QVERIFY(std::memcmp(s1.data(), s3.data(), s1.size() * sizeof(float)) == 0);
        }
    }
};

QTEST_GUILESS_MAIN(TestCpuAttention)
#include "tst_cpu_attention.moc"
