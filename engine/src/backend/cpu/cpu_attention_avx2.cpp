// AVX2 attention over an f16, f32 or q8_0 KV cache.
//
// A group of query heads sharing one KV head (grouped-query attention; head_dim ≤ 256) is done
// together: each key row is loaded and converted once and scored against every head of the
// group, the group's eight heads' sums reduced by one transpose-add into a [key][head] vector, a
// softmax with an 8-wide exp per head lane, then each value row weighted into all heads'
// accumulators. Keys go in blocks of 64 with a running maximum (the accumulators are rescaled
// when it moves), so a block's V rows stay in L1 across the head_dim passes and no scores
// buffer the size of the context is needed. Before, each head of the group re-read and
// re-converted the whole K and V slice: an eight-head group read it eight times.
//
// One query head alone (multi-head attention, or head_dim > 256): scores against every cached
// key (8-wide FMAs over head_dim; eight positions' sums reduced together by one transpose-add),
// a softmax with the same exp, then the value rows weighted into head_dim accumulators held in
// registers, 64 dimensions at a time.
//
// Deep in a context the scalar parts dominated: at 1024 positions a TinyLlama token computed
// 720K scalar expf and as many horizontal sums.
//
// Attention sinks (gpt-oss) join a head's softmax as one more logit with a zero value row: the
// one-head path adds e^(sink − max) to its sum; the grouped path starts its running maximum at
// the sinks and its running sum at 1 (e^0), which the blocks then rescale as any earlier key.
//
// Every output is computed by the same sequence of operations whatever the thread count, token
// tiling or split, so results stay bitwise repeatable.
#include <algorithm>
#include <cmath>

#include "backend/cpu/cpu_attention.h"
#include "quant/avx2_util.h"
#include "quant/quant_blocks.h"

namespace strata {
namespace {

#define AVX2 STRATA_AVX2

// Values d .. d+7 of a cache row slice as floats (d a multiple of 8).
template <KvCacheType kType>
AVX2 inline __m256 load8(const uint8_t* row, int64_t d) {
    if constexpr (kType == KvCacheType::f16) {
        return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * d)));
    } else if constexpr (kType == KvCacheType::f32) {
        return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + d);
    } else {  // q8_0: blocks of an f16 scale and 32 int8 values, as the reference dequantizer
        const auto& b = reinterpret_cast<const quant::BlockQ8_0*>(row)[d / 32];
        const __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b.qs + d % 32)));
        return _mm256_mul_ps(_mm256_cvtepi32_ps(q), _mm256_set1_ps(quant::h2f(b.d)));
    }
}

// e^x for x ≤ 0 (scores minus their maximum), 8 at a time: x = n·ln2 + r with n an integer
// and |r| ≤ ln2/2 (ln2 in two parts so r stays exact for large |x|), e^r by its Taylor series to
// degree 7 (truncation error < 6e-9), 2^n put straight into the exponent bits. Below -87 the
// result is clamped at about e^-87 ≈ 1.6e-38 (0 for a softmax sum's purposes); NaN stays NaN.
AVX2 inline __m256 exp_nonpositive(__m256 x) {
    x = _mm256_max_ps(_mm256_set1_ps(-87.0f), x);  // NaN in x is returned as is (second operand)
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);  // ln2 high part: exact product
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);      // ln2 - high part
    __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}

// s[i] = e^(s[i] - shift) in place (every s[i] ≤ shift); returns their sum. The tail goes
// through the same 8-wide exp (padded), so every weight is computed one way.
AVX2 float exp_shifted_in_place(float* s, int64_t n, float shift) {
    const __m256 vshift = _mm256_set1_ps(shift);
    __m256 vsum = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        const __m256 e = exp_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(s + j), vshift));
        _mm256_storeu_ps(s + j, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    float sum = quant::avx2::hsum(vsum);
    if (j < n) {
        alignas(32) float tail[8];
        const int n_tail = static_cast<int>(n - j);
        for (int i = 0; i < 8; ++i) tail[i] = i < n_tail ? s[j + i] - shift : -INFINITY;
        _mm256_store_ps(tail, exp_nonpositive(_mm256_load_ps(tail)));
        for (int i = 0; i < n_tail; ++i) {
            s[j + i] = tail[i];
            sum += tail[i];
        }
    }
    return sum;
}

// The eight horizontal sums of v[0..7] as one vector (element i = Σ v[i]).
AVX2 inline __m256 hsum8(const __m256 (&v)[8]) {
    const __m256 t0 = _mm256_hadd_ps(v[0], v[1]), t1 = _mm256_hadd_ps(v[2], v[3]);
    const __m256 t2 = _mm256_hadd_ps(v[4], v[5]), t3 = _mm256_hadd_ps(v[6], v[7]);
    const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);  // [0..3 low | 0..3 high], [4..7 ...]
    return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

// q · K row (two accumulators break the FMA chain for head_dim 64+), not yet summed.
template <KvCacheType kType>
AVX2 inline __m256 dot_lanes(const float* q, const uint8_t* k, int64_t hd) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t d = 0;
    for (; d + 16 <= hd; d += 16) {
        s0 = _mm256_fmadd_ps(load8<kType>(k, d), _mm256_loadu_ps(q + d), s0);
        s1 = _mm256_fmadd_ps(load8<kType>(k, d + 8), _mm256_loadu_ps(q + d + 8), s1);
    }
    if (d < hd) s0 = _mm256_fmadd_ps(load8<kType>(k, d), _mm256_loadu_ps(q + d), s0);
    return _mm256_add_ps(s0, s1);
}

template <KvCacheType kType>
AVX2 void task(const AttentionTask& a) {
    const int64_t hd = a.head_dim;
    for (int64_t g = 0; g < a.group; ++g) {
        const float* qg = a.q + g * hd;
        float* sg = a.scores + g * a.scores_stride;
        // Scores, eight positions at a time, then the rest one by one.
        const __m256 scale = _mm256_set1_ps(a.scale);
        __m256 vmax = _mm256_set1_ps(-INFINITY);
        int64_t j = 0;
        for (; j + 8 <= a.n_pos; j += 8) {
            __m256 dots[8];
            for (int i = 0; i < 8; ++i)
                dots[i] = dot_lanes<kType>(qg, a.k_base + a.row(j + i), hd);
            const __m256 s8 = _mm256_mul_ps(hsum8(dots), scale);
            _mm256_storeu_ps(sg + j, s8);
            vmax = _mm256_max_ps(vmax, s8);
        }
        float max_score = quant::avx2::hmax(vmax);
        for (; j < a.n_pos; ++j) {
            const __m256 d = dot_lanes<kType>(qg, a.k_base + a.row(j), hd);
            sg[j] = quant::avx2::hsum(d) * a.scale;
            max_score = std::max(max_score, sg[j]);
        }
        if (a.sinks) max_score = std::max(max_score, a.sinks[g]);
        float sum = exp_shifted_in_place(sg, a.n_pos, max_score);
        if (a.sinks) sum += _mm256_cvtss_f32(exp_nonpositive(_mm256_set1_ps(a.sinks[g] - max_score)));
        const float inv_sum = 1.0f / sum;
        // Weighted values, 64 dimensions (8 registers) per pass over the positions.
        float* og = a.out + g * hd;
        for (int64_t d0 = 0; d0 < hd; d0 += 64) {
            const int n_vec = static_cast<int>(std::min<int64_t>(64, hd - d0) / 8);
            __m256 acc[8];
            for (int i = 0; i < 8; ++i) acc[i] = _mm256_setzero_ps();
            for (int64_t jv = 0; jv < a.n_pos; ++jv) {
                const uint8_t* v = a.v_base + a.row(jv);
                const __m256 p = _mm256_set1_ps(sg[jv]);
                if (n_vec == 8) {
#pragma GCC unroll 8
                    for (int i = 0; i < 8; ++i) acc[i] = _mm256_fmadd_ps(p, load8<kType>(v, d0 + 8 * i), acc[i]);
                } else {
                    for (int i = 0; i < n_vec; ++i) acc[i] = _mm256_fmadd_ps(p, load8<kType>(v, d0 + 8 * i), acc[i]);
                }
            }
            const __m256 norm = _mm256_set1_ps(inv_sum);
            for (int i = 0; i < n_vec; ++i) _mm256_storeu_ps(og + d0 + 8 * i, _mm256_mul_ps(acc[i], norm));
        }
    }
}

// Grouped path limits: accumulators for 8 heads × 256 dimensions (8 KiB), keys per block.
constexpr int64_t kGroupMaxHeadDim = 256;
constexpr int kGroupBlock = 64;

// The G (≤ 8) query heads at q (G × head_dim) against the task's KV head, into out.
template <KvCacheType kType, int G>
AVX2 void grouped_heads(const AttentionTask& a, const float* q, float* out) {
    const int64_t hd = a.head_dim;
    const int n_vec = static_cast<int>(hd / 8);
    alignas(32) float acc[G][kGroupMaxHeadDim];  // Σ weight · V per head, at the running max
    alignas(32) float w[kGroupBlock * 8];       // [key][head] scores, then weights; lanes ≥ G unused
    for (int g = 0; g < G; ++g) std::fill(acc[g], acc[g] + hd, 0.0f);
    const __m256 scale = _mm256_set1_ps(a.scale);
    __m256 run_max = _mm256_set1_ps(-INFINITY), run_sum = _mm256_setzero_ps();
    if (a.sinks) {  // each head's sink: a first "key" of weight e^0 at max = sink, value 0
        alignas(32) float m[8], s1[8];
        for (int g = 0; g < 8; ++g) {
            m[g] = g < G ? a.sinks[g] : -INFINITY;
            s1[g] = g < G ? 1.0f : 0.0f;
        }
        run_max = _mm256_load_ps(m);
        run_sum = _mm256_load_ps(s1);
    }
    for (int64_t j0 = 0; j0 < a.n_pos; j0 += kGroupBlock) {
        const int nb = static_cast<int>(std::min<int64_t>(kGroupBlock, a.n_pos - j0));
        // Scores: each key row converted once for the whole group.
        __m256 block_max = _mm256_set1_ps(-INFINITY);
        for (int j = 0; j < nb; ++j) {
            const uint8_t* k = a.k_base + a.row(j0 + j);
            __m256 dots[8];
            for (int g = 0; g < 8; ++g) dots[g] = _mm256_setzero_ps();
            for (int64_t d = 0; d < hd; d += 8) {
                const __m256 kv = load8<kType>(k, d);
                for (int g = 0; g < G; ++g) dots[g] = _mm256_fmadd_ps(kv, _mm256_loadu_ps(q + g * hd + d), dots[g]);
            }
            const __m256 s8 = _mm256_mul_ps(hsum8(dots), scale);
            _mm256_store_ps(w + 8 * j, s8);
            block_max = _mm256_max_ps(block_max, s8);
        }
        // Weights at the new running max; what was summed so far is rescaled to it (by e^-87,
        // about 0, on the first block, where the sums are still 0).
        const __m256 new_max = _mm256_max_ps(run_max, block_max);
        const __m256 corr = exp_nonpositive(_mm256_sub_ps(run_max, new_max));
        __m256 sum = _mm256_setzero_ps();
        for (int j = 0; j < nb; ++j) {
            const __m256 e = exp_nonpositive(_mm256_sub_ps(_mm256_load_ps(w + 8 * j), new_max));
            _mm256_store_ps(w + 8 * j, e);
            sum = _mm256_add_ps(sum, e);
        }
        run_sum = _mm256_fmadd_ps(run_sum, corr, sum);
        run_max = new_max;
        alignas(32) float c[8];
        _mm256_store_ps(c, corr);
        // Values: 8 dimensions of every head per pass over the block's rows.
        for (int v0 = 0; v0 < n_vec; ++v0) {
            __m256 av[G];
            for (int g = 0; g < G; ++g) av[g] = _mm256_mul_ps(_mm256_load_ps(acc[g] + 8 * v0), _mm256_set1_ps(c[g]));
            for (int j = 0; j < nb; ++j) {
                const __m256 v = load8<kType>(a.v_base + a.row(j0 + j), 8 * v0);
                for (int g = 0; g < G; ++g) av[g] = _mm256_fmadd_ps(_mm256_broadcast_ss(w + 8 * j + g), v, av[g]);
            }
            for (int g = 0; g < G; ++g) _mm256_store_ps(acc[g] + 8 * v0, av[g]);
        }
    }
    alignas(32) float total[8];
    _mm256_store_ps(total, run_sum);
    for (int g = 0; g < G; ++g) {
        const __m256 norm = _mm256_set1_ps(1.0f / total[g]);
        for (int v0 = 0; v0 < n_vec; ++v0)
            _mm256_storeu_ps(out + g * hd + 8 * v0, _mm256_mul_ps(_mm256_load_ps(acc[g] + 8 * v0), norm));
    }
}

template <KvCacheType kType>
AVX2 void grouped_task(const AttentionTask& a) {
    const int64_t hd = a.head_dim;
    for (int64_t g0 = 0; g0 < a.group; g0 += 8) {  // groups over 8 heads go 8 at a time
        const float* q = a.q + g0 * hd;
        float* out = a.out + g0 * hd;
        AttentionTask part = a;
        if (a.sinks) part.sinks = a.sinks + g0;
        switch (std::min<int64_t>(8, a.group - g0)) {
            case 1: grouped_heads<kType, 1>(part, q, out); break;
            case 2: grouped_heads<kType, 2>(part, q, out); break;
            case 3: grouped_heads<kType, 3>(part, q, out); break;
            case 4: grouped_heads<kType, 4>(part, q, out); break;
            case 5: grouped_heads<kType, 5>(part, q, out); break;
            case 6: grouped_heads<kType, 6>(part, q, out); break;
            case 7: grouped_heads<kType, 7>(part, q, out); break;
            default: grouped_heads<kType, 8>(part, q, out); break;
        }
    }
}

template <KvCacheType kType>
AVX2 void any_task(const AttentionTask& a) {
    if (a.group >= 2 && a.head_dim <= kGroupMaxHeadDim) return grouped_task<kType>(a);
    task<kType>(a);
}

}  // namespace

bool attention_task_vectorised(KvCacheType type, int64_t head_dim, CpuIsa isa) {
    if (isa < CpuIsa::avx2) return false;
    // A q8_0 head slice must be whole blocks (it is whenever the cache itself is q8_0-sized per head).
    return type == KvCacheType::q8_0 ? head_dim % 32 == 0 : head_dim % 8 == 0;
}

AVX2 void exp_nonpositive_avx2(const float* x, float* out, int64_t n) {
    std::copy(x, x + n, out);
    exp_shifted_in_place(out, n, 0.0f);
}

void attention_task_avx2(const AttentionTask& t) {
    switch (t.type) {
        case KvCacheType::f16: return any_task<KvCacheType::f16>(t);
        case KvCacheType::f32: return any_task<KvCacheType::f32>(t);
        case KvCacheType::q8_0: return any_task<KvCacheType::q8_0>(t);
    }
}

}  // namespace strata
