// The CUDA kernels' quantized-weight decoders (backend/cuda/quant_units.cuh), compiled for the
// CPU with stand-ins for the few CUDA built-ins they use, against the scalar reference
// dequantizers: every 32-weight unit of every format maps to the right elements with the right
// scales, every element exactly once; the embedding decoder reads native rows exactly; and the
// int8 dot product of the matvec kernel (dp4a emulated) equals the reference dot product of
// the same dequantized weights and activations.
#include <QtTest>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <random>

#include "util/fp16.h"

// ---- stand-ins for CUDA built-ins (host versions with the same results) ----
#define STRATA_CUDA_HOST_TEST 1
#define __device__
#define __forceinline__ inline
struct uint4 { uint32_t x, y, z, w; };
struct int4 { int x, y, z, w; };
struct float2 { float x, y; };
template <class T> T __ldg(const T* p) { return *p; }
inline uint32_t __vsub4(uint32_t a, uint32_t b) {  // per-byte a - b, wrapping
    uint32_t r = 0;
    for (int i = 0; i < 4; ++i) r |= ((((a >> (8 * i)) & 0xffu) - ((b >> (8 * i)) & 0xffu)) & 0xffu) << (8 * i);
    return r;
}
inline int __dp4a(int a, int b, int c) {  // Σ signed byte products + c
    for (int i = 0; i < 4; ++i) c += static_cast<int8_t>(a >> (8 * i)) * static_cast<int8_t>(b >> (8 * i));
    return c;
}
namespace strata::cuk {
inline float h2f(uint16_t h) { return strata::fp16_to_fp32(h); }
inline float bf2f(uint16_t b) { return strata::bf16_to_fp32(b); }
}  // namespace strata::cuk

#include "backend/cuda/quant_units.cuh"
#include "backend/cuda/moe_route_rules.cuh"
#include "backend/cuda/cuda_weight_layout.cpp"
#include "backend/moe_routing.h"
#include "quant/quant.h"

using namespace strata;

namespace {

struct Packed {
    cuda::WeightLayout layout;
    std::vector<uint8_t> file;   // GGUF rows
    std::vector<uint8_t> main;   // device layout
    std::vector<uint16_t> d;
    cuk::WeightView view;
};

Packed pack(TensorType t, int64_t rows, int64_t cols, WeightRole role, uint64_t seed) {
    Packed p;
    std::mt19937 rng(static_cast<uint32_t>(seed));
    std::normal_distribution<float> nd;
    const size_t rb = tensor_row_bytes(t, cols);
    p.file.resize(rb * static_cast<size_t>(rows));
    std::vector<float> v(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
        for (auto& x : v) x = nd(rng);
        quant::quantize_row_ref(t, v.data(), p.file.data() + r * rb, cols);
    }
    HostTensor h{"w", role, t, cols, rows, p.file.data(), p.file.size()};
    p.layout = *cuda::plan_weight_layout(h);
    p.main.resize(p.layout.main_bytes + 16);
    p.d.resize(static_cast<size_t>(rows * std::max<int64_t>(1, p.layout.d_per_row)));
    std::vector<float> tmp;
    std::vector<uint8_t> tmpb;
    cuda::pack_weight_rows(p.layout, h, 0, rows, p.main.data(), p.d.data(), tmp, tmpb);
    p.view.main = p.main.data();
    p.view.d = p.layout.split ? p.d.data() : nullptr;
    p.view.n_rows = rows;
    p.view.n_cols = cols;
    p.view.row_bytes = p.layout.row_bytes;
    p.view.d_per_row = p.layout.d_per_row;
    p.view.type = p.layout.dev_type;
    return p;
}

template <int T> cuk::Unit unit(const cuk::WeightView& w, int64_t r, int64_t u) { return cuk::load_unit<T>(w, r, u); }

cuk::Unit load(int type, const cuk::WeightView& w, int64_t r, int64_t u) {
    switch (type) {
        case cuk::kQ4_0: return unit<cuk::kQ4_0>(w, r, u);
        case cuk::kQ8_0: return unit<cuk::kQ8_0>(w, r, u);
        case cuk::kQ4_K: return unit<cuk::kQ4_K>(w, r, u);
        case cuk::kQ5_K: return unit<cuk::kQ5_K>(w, r, u);
        default: return unit<cuk::kQ6_K>(w, r, u);
    }
}

void offsets(int type, int64_t u, int64_t& e0, int64_t& e1) {
    switch (type) {
        case cuk::kQ4_0: return cuk::unit_offsets<cuk::kQ4_0>(u, e0, e1);
        case cuk::kQ8_0: return cuk::unit_offsets<cuk::kQ8_0>(u, e0, e1);
        case cuk::kQ4_K: return cuk::unit_offsets<cuk::kQ4_K>(u, e0, e1);
        case cuk::kQ5_K: return cuk::unit_offsets<cuk::kQ5_K>(u, e0, e1);
        default: return cuk::unit_offsets<cuk::kQ6_K>(u, e0, e1);
    }
}

// The grouped kernels' product of one unit and one activation row, from plain values as they
// keep them in shared memory (k_moe.cu gemm_tile_q).
float unit_dot_row(int type, const cuk::Unit& q, const cuk::ActQ8& act, int64_t row, int64_t n_cols, int64_t u) {
    int64_t e0, e1;
    offsets(type, u, e0, e1);
    const int8_t* a = act.qs + row * n_cols;
    int a0[4], a1[4];
    std::memcpy(a0, a + e0, 16);
    std::memcpy(a1, a + e1, 16);
    const int64_t nb = n_cols / 32;
    const float2 d0{act.ds[2 * (row * nb + e0 / 32)], act.ds[2 * (row * nb + e0 / 32) + 1]};
    const float2 d1{act.ds[2 * (row * nb + e1 / 32)], act.ds[2 * (row * nb + e1 / 32) + 1]};
    const bool start = (e0 & 31) == 0;
    switch (type) {
        case cuk::kQ4_K: return cuk::unit_dot_act<cuk::kQ4_K>(q.q0, q.q1, q.s0, q.s1, q.m0, q.m1, start, a0, a1, d0, d1);
        case cuk::kQ5_K: return cuk::unit_dot_act<cuk::kQ5_K>(q.q0, q.q1, q.s0, q.s1, q.m0, q.m1, start, a0, a1, d0, d1);
        default: return cuk::unit_dot_act<cuk::kQ4_0>(q.q0, q.q1, q.s0, q.s1, q.m0, q.m1, start, a0, a1, d0, d1);
    }
}

float byte_of(const uint32_t (&q)[4], int i) { return static_cast<float>(static_cast<int8_t>(q[i / 4] >> (8 * (i % 4)))); }

}  // namespace

class TestCudaUnits : public QObject {
    Q_OBJECT

private slots:
    // The CUDA routing kernel's decisions (moe_route_rules.cuh) in the kernel's flow choose the
    // experts backend/moe_routing.cpp's route_token chooses, with its weights, for softmax and
    // sigmoid gating, with and without a choice bias, normalised or not, on logits with ties,
    // infinities and NaNs; a warp's butterfly reduction over the lanes' partial choices (as the
    // kernel does it) finds the same expert as one pass over all; and the down kernel adds a
    // token's experts in the CPU's order (expert id, then choice).
    void moeRoutingRulesMatchTheCpu() {
        std::mt19937 rng(7);
        std::normal_distribution<float> nd(0.0f, 2.0f);
        for (int gating = 0; gating < 2; ++gating)
            for (int with_bias = 0; with_bias < 2; ++with_bias)
                for (int special = 0; special < 3; ++special)
                    for (int rep = 0; rep < 24; ++rep) {
                        const bool sigmoid = gating == 1;
                        MoeRouting r;
                        r.n_expert = 16 + (rep % 3) * 24;
                        r.n_used = 1 + rep % 8;
                        r.gating = sigmoid ? MoeGating::sigmoid : MoeGating::softmax;
                        r.normalize = rep % 2 == 0;
                        r.scale = sigmoid ? 2.5f : 1.0f;
                        const int n = static_cast<int>(r.n_expert), k = static_cast<int>(r.n_used);
                        std::vector<float> l(static_cast<size_t>(n)), bias(static_cast<size_t>(n));
                        for (float& v : l) v = nd(rng);
                        for (float& v : bias) v = 0.1f * nd(rng);
                        if (special == 1) l[3] = l[7] = l[11] = l[5];  // ties go to the lower index
                        if (special == 2) {
                            l[1] = NAN;
                            l[2] = INFINITY;
                            l[4] = -INFINITY;
                        }
                        const float* b = with_bias ? bias.data() : nullptr;
                        std::vector<int32_t> want_ids(static_cast<size_t>(k));
                        std::vector<float> want_w(static_cast<size_t>(k));
                        route_token(l.data(), r, b, want_ids.data(), want_w.data());

                        // The kernel's flow, one lane.
                        float mx = -INFINITY;
                        for (float v : l)
                            if (std::isfinite(v)) mx = std::max(mx, v);
                        std::vector<double> score(static_cast<size_t>(n)), key(static_cast<size_t>(n));
                        std::vector<unsigned char> taken(static_cast<size_t>(n), 0);
                        double sum = 0;
                        for (int e = 0; e < n; ++e) sum += score[e] = cuk::moe_score(l[e], mx, sigmoid);
                        const bool by_logit = !sigmoid && !b;
                        for (int e = 0; e < n; ++e) {
                            if (!sigmoid && sum > 0) score[e] /= sum;
                            key[e] = cuk::moe_key(l[e], score[e], b, e, by_logit);
                        }
                        std::vector<int32_t> ids(static_cast<size_t>(k));
                        std::vector<double> picked(static_cast<size_t>(k));
                        double chosen = 0;
                        for (int j = 0; j < k; ++j) {
                            int best = -1;
                            for (int e = 0; e < n; ++e)
                                if (cuk::moe_ranks_before(e, best, key.data(), taken.data())) best = e;
                            // The warp's way: each lane's best of its experts, then a butterfly.
                            int lane_best[32];
                            for (int lane = 0; lane < 32; ++lane) {
                                lane_best[lane] = -1;
                                for (int e = lane; e < n; e += 32)
                                    if (cuk::moe_ranks_before(e, lane_best[lane], key.data(), taken.data())) lane_best[lane] = e;
                            }
                            for (int o = 16; o > 0; o >>= 1) {
                                int next[32];
                                for (int lane = 0; lane < 32; ++lane) {
                                    const int other = lane_best[lane ^ o];
                                    next[lane] = cuk::moe_ranks_before(other, lane_best[lane], key.data(), taken.data())
                                                     ? other
                                                     : lane_best[lane];
                                }
                                std::memcpy(lane_best, next, sizeof next);
                            }
                            for (int lane = 0; lane < 32; ++lane) QCOMPARE(lane_best[lane], best);
                            picked[j] = cuk::moe_finite(key[best]) ? score[best] : 0.0;
                            chosen += picked[j];
                            taken[best] = 1;
                            ids[j] = best;
                        }
                        QCOMPARE(ids, want_ids);
                        const double div = r.normalize && chosen > 0.0 ? chosen : 1.0;
                        for (int j = 0; j < k; ++j) {
                            const float w = static_cast<float>(picked[j] / div * r.scale);
                            QVERIFY2(std::fabs(w - want_w[j]) <= 1e-6f * std::max(1.0f, std::fabs(want_w[j])),
                                     qPrintable(QStringLiteral("weight %1: %2 vs %3").arg(j).arg(w).arg(want_w[j])));
                        }
                    }

        // The sum order: (expert id, choice index), repeats included, over any choice range.
        for (int rep = 0; rep < 200; ++rep) {
            const int k = 1 + rep % 8, jb = rep % 3 == 0 ? 0 : rep % k;
            std::vector<int32_t> ids(static_cast<size_t>(k));
            for (int32_t& e : ids) e = static_cast<int32_t>(rng() % 6);
            std::vector<std::pair<int, int>> want;
            for (int j = jb; j < k; ++j) want.emplace_back(ids[static_cast<size_t>(j)], j);
            std::sort(want.begin(), want.end());
            std::vector<std::pair<int, int>> got;
            int pe = INT_MIN, pj = -1;
            for (int i = jb; i < k; ++i) {
                int be = 0, bj = 0;
                cuk::moe_next_choice(ids.data(), jb, k, pe, pj, be, bj);
                QVERIFY(bj >= 0);
                got.emplace_back(be, bj);
                pe = be;
                pj = bj;
            }
            QCOMPARE(got, want);
        }
    }

    void unitsCoverRowsExactly_data() {
        QTest::addColumn<int>("type");
        for (TensorType t : {TensorType::Q4_0, TensorType::Q8_0, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K})
            QTest::newRow(tensor_type_name(t)) << static_cast<int>(t);
    }
    void unitsCoverRowsExactly() {
        QFETCH(int, type);
        const auto t = static_cast<TensorType>(type);
        const int64_t rows = 3, cols = 768;
        const Packed p = pack(t, rows, cols, WeightRole::matrix, 11);
        std::vector<float> ref(static_cast<size_t>(cols));
        for (int64_t r = 0; r < rows; ++r) {
            quant::dequantize_row_ref(t, p.file.data() + r * tensor_row_bytes(t, cols), ref.data(), cols);
            std::vector<int> seen(static_cast<size_t>(cols), 0);
            for (int64_t u = 0; u < cols / 32; ++u) {
                const cuk::Unit q = load(p.view.type, p.view, r, u);
                QVERIFY(q.e0 % 16 == 0 && q.e1 % 16 == 0 && q.e1 + 16 <= cols);
                int64_t e0 = -1, e1 = -1;  // what the grouped kernels compute without the weights
                offsets(p.view.type, u, e0, e1);
                QCOMPARE(e0, q.e0);
                QCOMPARE(e1, q.e1);
                for (int i = 0; i < 16; ++i) {
                    const float w0 = q.s0 * byte_of(q.q0, i) - q.m0, w1 = q.s1 * byte_of(q.q1, i) - q.m1;
                    ++seen[static_cast<size_t>(q.e0 + i)];
                    ++seen[static_cast<size_t>(q.e1 + i)];
                    if (std::fabs(w0 - ref[static_cast<size_t>(q.e0 + i)]) > 1e-6f * (1 + std::fabs(w0)) ||
                        std::fabs(w1 - ref[static_cast<size_t>(q.e1 + i)]) > 1e-6f * (1 + std::fabs(w1)))
                        QFAIL(qPrintable(QString("row %1 unit %2 element %3: %4 / %5 vs %6 / %7")
                                             .arg(r).arg(u).arg(i).arg(w0).arg(w1)
                                             .arg(ref[static_cast<size_t>(q.e0 + i)]).arg(ref[static_cast<size_t>(q.e1 + i)])));
                }
            }
            for (int64_t i = 0; i < cols; ++i) QCOMPARE(seen[static_cast<size_t>(i)], 1);
        }
    }

    // Prefill's grouping of a launch's (token, choice) pairs by expert (moe_route_rules.cuh, run
    // by k_moe.cu's sort kernel): the order is a stable sort by expert with bad ids last, pos its
    // inverse, and the tiles cover each expert's pairs exactly once in runs of at most
    // kMoeTilePairs, within the launch's moe_max_tiles, the rest empty.
    void moePairsGroupByExpert_data() {
        QTest::addColumn<int>("nExpert");
        QTest::addColumn<int>("nPairs");
        QTest::newRow("8 experts, 14 pairs") << 8 << 14;
        QTest::newRow("16 experts, 200 pairs") << 16 << 200;
        QTest::newRow("128 experts, 4096 pairs") << 128 << 4096;
        QTest::newRow("3 experts, 100 pairs (runs over a tile)") << 3 << 100;
    }
    void moePairsGroupByExpert() {
        QFETCH(int, nExpert);
        QFETCH(int, nPairs);
        std::mt19937 rng(static_cast<uint32_t>(nExpert * 1000 + nPairs));
        std::vector<int32_t> ids(static_cast<size_t>(nPairs));
        for (int32_t& id : ids) {
            id = static_cast<int32_t>(rng() % static_cast<uint32_t>(nExpert));
            if (rng() % 50 == 0) id = (rng() % 2) ? -1 : nExpert + 3;  // never from moe_route
        }
        std::vector<int32_t> count(static_cast<size_t>(nExpert + 1), 0);
        for (int32_t id : ids) ++count[static_cast<size_t>(cuk::moe_bucket(id, nExpert))];
        const int64_t max_tiles = cuk::moe_max_tiles(nPairs, nExpert);
        std::vector<int32_t> offset(static_cast<size_t>(nExpert + 2), -1);
        std::vector<cuk::MoeTile> tiles(static_cast<size_t>(max_tiles), cuk::MoeTile{-7, -7, -7});
        cuk::moe_build_tiles(count.data(), nExpert, offset.data(), tiles.data(), max_tiles);
        std::vector<int32_t> order(static_cast<size_t>(nPairs), -1), pos(static_cast<size_t>(nPairs), -1);
        for (int32_t b = nExpert; b >= 0; --b)  // any order of buckets: they are independent
            cuk::moe_place_bucket(ids.data(), nPairs, nExpert, b, offset.data(), order.data(), pos.data());
        QCOMPARE(offset[static_cast<size_t>(nExpert + 1)], nPairs);
        std::vector<int32_t> want(static_cast<size_t>(nPairs));
        for (int32_t i = 0; i < nPairs; ++i) want[static_cast<size_t>(i)] = i;
        std::stable_sort(want.begin(), want.end(), [&](int32_t a, int32_t b) {
            return cuk::moe_bucket(ids[static_cast<size_t>(a)], nExpert) < cuk::moe_bucket(ids[static_cast<size_t>(b)], nExpert);
        });
        QCOMPARE(order, want);
        for (int32_t s = 0; s < nPairs; ++s) QCOMPARE(pos[static_cast<size_t>(order[static_cast<size_t>(s)])], s);
        std::vector<int> covered(static_cast<size_t>(nPairs), 0);
        bool ended = false;
        for (const cuk::MoeTile& t : tiles) {
            if (t.count == 0) {
                ended = true;
                continue;
            }
            QVERIFY2(!ended, "a tile after an empty one");
            QVERIFY(t.count > 0 && t.count <= cuk::kMoeTilePairs);
            QVERIFY(t.expert >= 0 && t.expert < nExpert);
            for (int32_t s = t.begin; s < t.begin + t.count; ++s) {
                ++covered[static_cast<size_t>(s)];
                QCOMPARE(ids[static_cast<size_t>(order[static_cast<size_t>(s)])], t.expert);
            }
        }
        for (int32_t s = 0; s < nPairs; ++s)
            QCOMPARE(covered[static_cast<size_t>(s)], cuk::moe_bucket(ids[static_cast<size_t>(order[static_cast<size_t>(s)])], nExpert) < nExpert ? 1 : 0);
    }

    void embeddingRowsDecode_data() {
        QTest::addColumn<int>("type");
        for (TensorType t : {TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q4_0, TensorType::Q8_0,
                             TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K})
            QTest::newRow(tensor_type_name(t)) << static_cast<int>(t);
    }
    void embeddingRowsDecode() {
        QFETCH(int, type);
        const auto t = static_cast<TensorType>(type);
        const int64_t rows = 4, cols = 512;
        const Packed p = pack(t, rows, cols, WeightRole::embedding, 5);
        QVERIFY(!p.layout.split);
        std::vector<float> ref(static_cast<size_t>(cols));
        for (int64_t r = 0; r < rows; ++r) {
            quant::dequantize_row_ref(t, p.file.data() + r * tensor_row_bytes(t, cols), ref.data(), cols);
            for (int64_t i = 0; i < cols; ++i) {
                const float v = cuk::dequant_native(p.view.type, p.view.main + r * p.view.row_bytes, i);
                QVERIFY2(std::fabs(v - ref[static_cast<size_t>(i)]) <= 1e-6f * (1 + std::fabs(v)),
                         qPrintable(QString("row %1 element %2: %3 vs %4").arg(r).arg(i).arg(v).arg(ref[static_cast<size_t>(i)])));
            }
        }
    }

    void int8DotMatchesReference_data() { unitsCoverRowsExactly_data(); }
    void int8DotMatchesReference() {
        QFETCH(int, type);
        const auto t = static_cast<TensorType>(type);
        constexpr int NT = 3;
        const int64_t rows = 2, cols = 512;
        const Packed p = pack(t, rows, cols, WeightRole::matrix, 23);
        // Activations as the kernels quantize them: blocks of 32, d = amax / 127 rounded to fp16.
        std::mt19937 rng(3);
        std::normal_distribution<float> nd;
        std::vector<int8_t> qs(static_cast<size_t>(NT * cols));
        std::vector<float> ds(static_cast<size_t>(NT * cols / 32 * 2)), xq(qs.size());
        for (int64_t b = 0; b < NT * cols / 32; ++b) {
            float x[32], amax = 0;
            for (float& v : x) amax = std::max(amax, std::fabs(v = nd(rng)));
            const float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f, dh = fp16_to_fp32(fp32_to_fp16(d));
            int sum = 0;
            for (int i = 0; i < 32; ++i) {
                const int q = static_cast<int>(std::nearbyint(x[i] * id));
                qs[static_cast<size_t>(b * 32 + i)] = static_cast<int8_t>(q);
                xq[static_cast<size_t>(b * 32 + i)] = dh * static_cast<float>(q);
                sum += q;
            }
            ds[static_cast<size_t>(2 * b)] = dh;
            ds[static_cast<size_t>(2 * b + 1)] = dh * static_cast<float>(sum);
        }
        cuk::ActQ8 act{qs.data(), ds.data()};
        std::vector<float> w(static_cast<size_t>(cols));
        for (int64_t r = 0; r < rows; ++r) {
            float acc[NT] = {}, grouped[NT] = {};
            for (int64_t u = 0; u < cols / 32; ++u) {
                const cuk::Unit q = load(p.view.type, p.view, r, u);
                switch (p.view.type) {
                    case cuk::kQ4_K: cuk::accumulate_unit<cuk::kQ4_K, NT>(q, act, cols, acc); break;
                    case cuk::kQ5_K: cuk::accumulate_unit<cuk::kQ5_K, NT>(q, act, cols, acc); break;
                    default: cuk::accumulate_unit<cuk::kQ4_0, NT>(q, act, cols, acc); break;  // no min term
                }
                for (int tk = 0; tk < NT; ++tk) grouped[tk] += unit_dot_row(p.view.type, q, act, tk, cols, u);
            }
            // The grouped GEMM's products add up to the matvec's, bit for bit, in the same order.
            for (int tk = 0; tk < NT; ++tk) QCOMPARE(grouped[tk], acc[tk]);
            quant::dequantize_row_ref(t, p.file.data() + r * tensor_row_bytes(t, cols), w.data(), cols);
            for (int tk = 0; tk < NT; ++tk) {
                double ref = 0, mag = 0;
                for (int64_t i = 0; i < cols; ++i) {
                    ref += static_cast<double>(w[static_cast<size_t>(i)]) * xq[static_cast<size_t>(tk * cols + i)];
                    mag += std::fabs(static_cast<double>(w[static_cast<size_t>(i)]) * xq[static_cast<size_t>(tk * cols + i)]);
                }
                QVERIFY2(std::fabs(acc[tk] - ref) <= 1e-5 * mag,
                         qPrintable(QString("row %1 token %2: %3 vs %4").arg(r).arg(tk).arg(acc[tk]).arg(ref)));
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestCudaUnits)
#include "tst_cuda_units.moc"
