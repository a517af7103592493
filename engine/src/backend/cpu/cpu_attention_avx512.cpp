// AVX-512 attention over an f16, f32 or q8_0 KV cache: the AVX2 path's algorithm
// (cpu_attention_avx2.cpp) on 16-lane vectors, run at the avx512 level and above. Each lane does
// the float operations of its AVX2 twin in the same order, so the outputs are bitwise those of
// the AVX2 path (tst_cpu_attention checks it) and do not depend on which level ran.
//
// A group of query heads sharing one KV head (group ≥ 2, head_dim ≤ 256) is done together:
// keys go two at a time, a vector holding 8 dimensions of each (the AVX2 lanes of both keys),
// each K row converted once and multiplied into every head's accumulator; the 2 × 8 sums reduced
// by one transpose-add into a [key][head] vector of 16 lanes, so the softmax's exp runs on two
// keys' eight heads at once. Keys go in blocks of 64 with a running maximum (accumulators
// rescaled when it moves); each V row of a block is converted once per 16 dimensions for the
// whole group. Each K and V row is read once per group.
//
// One query head alone (multi-head attention, or head_dim > 256): scores against every key
// (16-wide FMAs over head_dim: lanes 0-7 and 8-15 are the AVX2 path's two accumulators), a
// 16-wide softmax, then the value rows weighted into up to 128 dimensions per pass.
//
// head_dim need only be a multiple of 8: the last 8 dimensions of an odd-eights head go through
// masked loads and stores, which do not touch memory past them. Attention sinks join each head's
// softmax as one more logit with a zero value row, as at AVX2.
//
// Compiled with a function target attribute: a portable build carries it, only a CPU whose
// level is avx512 or above (util/cpu_features.h) runs it.
#include "backend/cpu/cpu_attention.h"

#if defined(__x86_64__) || defined(__i386__)
// GCC 12 reports -Wmaybe-uninitialized inside its own AVX-512 intrinsics (their "undefined"
// pass-through operands; GCC bug 105593): not about this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "quant/avx2_util.h"
#include "quant/quant_blocks.h"

namespace strata {
namespace {

#define T512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")))

constexpr __mmask16 kLow8 = 0x00FF;

// Values d .. d+15 of a cache row slice as floats (d a multiple of 16).
template <KvCacheType kType>
T512 inline __m512 load16(const uint8_t* row, int64_t d) {
    if constexpr (kType == KvCacheType::f16) {
        return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * d)));
    } else if constexpr (kType == KvCacheType::f32) {
        return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + d);
    } else {  // q8_0: blocks of an f16 scale and 32 int8 values, as the reference dequantizer
        const auto& b = reinterpret_cast<const quant::BlockQ8_0*>(row)[d / 32];
        const __m512i q = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs + d % 32)));
        return _mm512_mul_ps(_mm512_cvtepi32_ps(q), _mm512_set1_ps(quant::h2f(b.d)));
    }
}

// Values d .. d+7 in the low 8 lanes, zeros above, reading only those 8 (f16/f32 caches; a
// q8_0 head is whole 32-value blocks and never has such a tail).
template <KvCacheType kType>
T512 inline __m512 load8_low(const uint8_t* row, int64_t d) {
    if constexpr (kType == KvCacheType::f16) {
        return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(kLow8, row + 2 * d));
    } else {
        return _mm512_maskz_loadu_ps(kLow8, reinterpret_cast<const float*>(row) + d);
    }
}

// Values d .. d+7 of two cache row slices, row0's in lanes 0-7 and row1's in 8-15 (d a multiple
// of 8): each half is what the AVX2 path's 8-value load gives.
template <KvCacheType kType>
T512 inline __m512 load8x2(const uint8_t* row0, const uint8_t* row1, int64_t d) {
    if constexpr (kType == KvCacheType::f16) {
        const __m256i h = _mm256_inserti128_si256(
            _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row0 + 2 * d))),
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(row1 + 2 * d)), 1);
        return _mm512_cvtph_ps(h);
    } else if constexpr (kType == KvCacheType::f32) {
        return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_loadu_ps(reinterpret_cast<const float*>(row0) + d)),
                                  _mm256_loadu_ps(reinterpret_cast<const float*>(row1) + d), 1);
    } else {
        const auto& b0 = reinterpret_cast<const quant::BlockQ8_0*>(row0)[d / 32];
        const auto& b1 = reinterpret_cast<const quant::BlockQ8_0*>(row1)[d / 32];
        const __m128i q = _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b0.qs + d % 32)),
                                             _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b1.qs + d % 32)));
        const __m512 scale = _mm512_insertf32x8(_mm512_set1_ps(quant::h2f(b0.d)), _mm256_set1_ps(quant::h2f(b1.d)), 1);
        return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)), scale);
    }
}

// e^x for x ≤ 0, 16 at a time, by exactly the operations of the AVX2 path's exp_nonpositive
// (cpu_attention_avx2.cpp: x = n·ln2 + r, e^r by its degree-7 Taylor series, 2^n into the
// exponent bits; clamped at -87; NaN stays NaN), so each lane's result is the AVX2 one.
T512 inline __m512 exp_nonpositive(__m512 x) {
    x = _mm512_max_ps(_mm512_set1_ps(-87.0f), x);  // NaN in x is returned as is (second operand)
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    const __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
}

// The 16 lanes of v summed pairwise into 8 (lane i + lane i+8).
T512 inline __m256 fold(__m512 v) { return _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1)); }

// The maximum of lanes i and i+8, for i < 8.
T512 inline __m256 fold_max(__m512 v) {
    return _mm256_max_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
}

// The eight horizontal sums of v[0..7] as one vector (element i = Σ v[i]).
T512 inline __m256 hsum8(const __m256 (&v)[8]) {
    const __m256 t0 = _mm256_hadd_ps(v[0], v[1]), t1 = _mm256_hadd_ps(v[2], v[3]);
    const __m256 t2 = _mm256_hadd_ps(v[4], v[5]), t3 = _mm256_hadd_ps(v[6], v[7]);
    const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);  // [0..3 low | 0..3 high], [4..7 ...]
    return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

// The eight horizontal sums of the 16-lane v[0..7] (element i = Σ v[i]), the AVX2 path's two
// accumulators (lanes 0-7 and 8-15) added first.
T512 inline __m256 hsum8x16(const __m512 (&v)[8]) {
    __m256 h[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) h[i] = fold(v[i]);
    return hsum8(h);
}

// _mm256_hadd_ps on each 256-bit half: per 128-bit lane [a0+a1, a2+a3, b0+b1, b2+b3].
T512 inline __m512 hadd_halves(__m512 a, __m512 b) {
    return _mm512_add_ps(_mm512_shuffle_ps(a, b, 0x88), _mm512_shuffle_ps(a, b, 0xDD));
}

// hsum8 on each 256-bit half of v[0..7] (two keys' 8-dimension accumulators per head): lanes
// 0-7 the eight sums of the low halves, 8-15 of the high halves, each by the AVX2 hsum8's adds.
T512 inline __m512 hsum8_halves(const __m512 (&v)[8]) {
    const __m512 t0 = hadd_halves(v[0], v[1]), t1 = hadd_halves(v[2], v[3]);
    const __m512 t2 = hadd_halves(v[4], v[5]), t3 = hadd_halves(v[6], v[7]);
    const __m512 u0 = hadd_halves(t0, t1), u1 = hadd_halves(t2, t3);  // 128-bit lanes: [key0 lo, key0 hi, key1 lo, key1 hi]
    const __m512 sum = _mm512_add_ps(_mm512_shuffle_f32x4(u0, u1, _MM_SHUFFLE(2, 0, 2, 0)),   // u0.0 u0.2 u1.0 u1.2
                                     _mm512_shuffle_f32x4(u0, u1, _MM_SHUFFLE(3, 1, 3, 1)));  // u0.1 u0.3 u1.1 u1.3
    return _mm512_shuffle_f32x4(sum, sum, _MM_SHUFFLE(3, 1, 2, 0));  // key0 heads 0-7, key1 heads 0-7
}

// q · K row over head_dim, 16 lanes, not yet summed: lanes 0-7 the AVX2 path's first
// accumulator (dimensions 16i + lane), 8-15 its second (16i + 8 + lane).
template <KvCacheType kType>
T512 inline __m512 dot_lanes(const float* q, const uint8_t* k, int64_t hd) {
    __m512 s = _mm512_setzero_ps();
    int64_t d = 0;
    for (; d + 16 <= hd; d += 16) s = _mm512_fmadd_ps(load16<kType>(k, d), _mm512_loadu_ps(q + d), s);
    // The last 8 go into the low lanes only (as the AVX2 path adds them to its first accumulator).
    if (d < hd) s = _mm512_mask3_fmadd_ps(load8_low<kType>(k, d), _mm512_maskz_loadu_ps(kLow8, q + d), s, kLow8);
    return s;
}

// s[i] = e^(s[i] - shift) in place (every s[i] ≤ shift); returns their sum, added in the AVX2
// path's order (8 lanes over steps of 8, their horizontal sum, then the tail one by one).
T512 float exp_shifted_in_place(float* s, int64_t n, float shift) {
    const __m512 vshift = _mm512_set1_ps(shift);
    __m256 vsum = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        const __m512 e = exp_nonpositive(_mm512_sub_ps(_mm512_loadu_ps(s + j), vshift));
        _mm512_storeu_ps(s + j, e);
        vsum = _mm256_add_ps(_mm256_add_ps(vsum, _mm512_castps512_ps256(e)), _mm512_extractf32x8_ps(e, 1));
    }
    if (j + 8 <= n) {
        const __m512 e = exp_nonpositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(kLow8, s + j), vshift));
        _mm512_mask_storeu_ps(s + j, kLow8, e);
        vsum = _mm256_add_ps(vsum, _mm512_castps512_ps256(e));
        j += 8;
    }
    float sum = quant::avx2::hsum(vsum);
    if (j < n) {
        const int n_tail = static_cast<int>(n - j);
        const __mmask16 m = static_cast<__mmask16>((1u << n_tail) - 1);
        const __m512 x = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), m, s + j);
        alignas(64) float tail[16];
        _mm512_store_ps(tail, exp_nonpositive(_mm512_sub_ps(x, vshift)));
        for (int i = 0; i < n_tail; ++i) {
            s[j + i] = tail[i];
            sum += tail[i];
        }
    }
    return sum;
}

// One query head at a time (group 1, or head_dim above the grouped path's limit).
template <KvCacheType kType>
T512 void task(const AttentionTask& a) {
    const int64_t hd = a.head_dim;
    const int64_t n_full = hd / 16;   // whole 16-dimension vectors
    const bool tail8 = hd % 16 != 0;  // then 8 more dimensions
    for (int64_t g = 0; g < a.group; ++g) {
        const float* qg = a.q + g * hd;
        float* sg = a.scores + g * a.scores_stride;
        // Scores, eight positions at a time, then the rest one by one.
        const __m256 scale = _mm256_set1_ps(a.scale);
        __m256 vmax = _mm256_set1_ps(-INFINITY);
        int64_t j = 0;
        for (; j + 8 <= a.n_pos; j += 8) {
            __m512 dots[8];
#pragma GCC unroll 8
            for (int i = 0; i < 8; ++i) dots[i] = dot_lanes<kType>(qg, a.k_base + a.row(j + i), hd);
            const __m256 s8 = _mm256_mul_ps(hsum8x16(dots), scale);
            _mm256_storeu_ps(sg + j, s8);
            vmax = _mm256_max_ps(vmax, s8);
        }
        float max_score = quant::avx2::hmax(vmax);
        for (; j < a.n_pos; ++j) {
            sg[j] = quant::avx2::hsum(fold(dot_lanes<kType>(qg, a.k_base + a.row(j), hd))) * a.scale;
            max_score = std::max(max_score, sg[j]);
        }
        if (a.sinks) max_score = std::max(max_score, a.sinks[g]);
        float sum = exp_shifted_in_place(sg, a.n_pos, max_score);
        if (a.sinks) sum += _mm512_cvtss_f32(exp_nonpositive(_mm512_set1_ps(a.sinks[g] - max_score)));
        const float inv_sum = 1.0f / sum;
        const __m512 norm = _mm512_set1_ps(inv_sum);
        // Weighted values, 128 dimensions (8 registers) per pass over the positions.
        float* og = a.out + g * hd;
        for (int64_t v0 = 0; v0 < n_full + tail8; v0 += 8) {
            const int n_vec = static_cast<int>(std::min<int64_t>(8, n_full - v0));  // whole vectors this pass
            const bool tail = tail8 && v0 + 8 > n_full;                              // and the 8-lane tail
            __m512 acc[8], acc_tail = _mm512_setzero_ps();
            for (int i = 0; i < 8; ++i) acc[i] = _mm512_setzero_ps();
            for (int64_t jv = 0; jv < a.n_pos; ++jv) {
                const uint8_t* v = a.v_base + a.row(jv);
                const __m512 p = _mm512_set1_ps(sg[jv]);
                // Unrolled with constant indices so acc stays in registers whatever n_vec is.
#pragma GCC unroll 8
                for (int i = 0; i < 8; ++i)
                    if (i < n_vec) acc[i] = _mm512_fmadd_ps(p, load16<kType>(v, 16 * (v0 + i)), acc[i]);
                if constexpr (kType != KvCacheType::q8_0) {
                    if (tail) acc_tail = _mm512_fmadd_ps(p, load8_low<kType>(v, 16 * n_full), acc_tail);
                }
            }
            for (int i = 0; i < n_vec; ++i) _mm512_storeu_ps(og + 16 * (v0 + i), _mm512_mul_ps(acc[i], norm));
            if (tail) _mm512_mask_storeu_ps(og + 16 * n_full, kLow8, _mm512_mul_ps(acc_tail, norm));
        }
    }
}

// Grouped path limits: accumulators for 8 heads × 256 dimensions (8 KiB), keys per block.
constexpr int64_t kGroupMaxHeadDim = 256;
constexpr int kGroupBlock = 64;

// The G (≤ 8) query heads at q (G × head_dim) against the task's KV head, into out.
template <KvCacheType kType, int G>
T512 void grouped_heads(const AttentionTask& a, const float* q, float* out) {
    const int64_t hd = a.head_dim;
    const int64_t n_full = hd / 16;
    const bool tail8 = hd % 16 != 0;
    alignas(64) float acc[G][kGroupMaxHeadDim];   // Σ weight · V per head, at the running max
    alignas(64) float w[kGroupBlock * 8];        // [key][head] scores, then weights; lanes ≥ G unused
    for (int g = 0; g < G; ++g) std::fill(acc[g], acc[g] + hd, 0.0f);
    const __m512 scale = _mm512_set1_ps(a.scale);
    // Per head (8 lanes; those ≥ G unused): the running maximum and the sum at it.
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
        const int n_pairs = (nb + 1) / 2;
        // Scores, two keys at a time (the second a repeat of the first when nb is odd; its lanes
        // are masked off below): each K row converted once for the whole group.
        __m512 block_max = _mm512_set1_ps(-INFINITY);
        for (int jp = 0; jp < n_pairs; ++jp) {
            const int j = 2 * jp;
            const uint8_t* k0 = a.k_base + a.row(j0 + j);
            const uint8_t* k1 = j + 1 < nb ? a.k_base + a.row(j0 + j + 1) : k0;
            // Per head: 8 dimensions of key j in lanes 0-7 and of key j + 1 in 8-15, each half
            // summing as the AVX2 path's accumulator for that key.
            __m512 dots[8];
            for (int g = 0; g < 8; ++g) dots[g] = _mm512_setzero_ps();
            for (int64_t d = 0; d < hd; d += 8) {
                const __m512 kv = load8x2<kType>(k0, k1, d);
#pragma GCC unroll 8
                for (int g = 0; g < G; ++g)
                    dots[g] = _mm512_fmadd_ps(kv, _mm512_broadcast_f32x8(_mm256_loadu_ps(q + g * hd + d)), dots[g]);
            }
            const __m512 s16 = _mm512_mul_ps(hsum8_halves(dots), scale);
            _mm512_store_ps(w + 16 * jp, s16);
            block_max = _mm512_mask_max_ps(block_max, j + 1 < nb ? 0xFFFF : kLow8, block_max, s16);
        }
        // Weights at the new running max; what was summed so far is rescaled to it (by e^-87,
        // about 0, on the first block, where the sums are still 0).
        const __m256 new_max = _mm256_max_ps(run_max, fold_max(block_max));
        const __m512 new_max16 = _mm512_broadcast_f32x8(new_max);
        const __m256 corr = _mm512_castps512_ps256(exp_nonpositive(_mm512_broadcast_f32x8(_mm256_sub_ps(run_max, new_max))));
        __m256 sum = _mm256_setzero_ps();  // key by key, as the AVX2 path adds them
        for (int jp = 0; jp < n_pairs; ++jp) {
            const __m512 e = exp_nonpositive(_mm512_sub_ps(_mm512_load_ps(w + 16 * jp), new_max16));
            _mm512_store_ps(w + 16 * jp, e);
            sum = _mm256_add_ps(sum, _mm512_castps512_ps256(e));
            if (2 * jp + 1 < nb) sum = _mm256_add_ps(sum, _mm512_extractf32x8_ps(e, 1));
        }
        run_sum = _mm256_fmadd_ps(run_sum, corr, sum);
        run_max = new_max;
        alignas(32) float c[8];
        _mm256_store_ps(c, corr);
        // Values: 16 dimensions of every head per pass over the block's rows.
        for (int64_t v0 = 0; v0 < n_full; ++v0) {
            __m512 av[G];
            for (int g = 0; g < G; ++g) av[g] = _mm512_mul_ps(_mm512_load_ps(acc[g] + 16 * v0), _mm512_set1_ps(c[g]));
            for (int j = 0; j < nb; ++j) {
                const __m512 v = load16<kType>(a.v_base + a.row(j0 + j), 16 * v0);
#pragma GCC unroll 8
                for (int g = 0; g < G; ++g) av[g] = _mm512_fmadd_ps(_mm512_set1_ps(w[8 * j + g]), v, av[g]);
            }
            for (int g = 0; g < G; ++g) _mm512_store_ps(acc[g] + 16 * v0, av[g]);
        }
        if constexpr (kType != KvCacheType::q8_0) {
            if (tail8) {  // the last 8 dimensions, in the low lanes
                __m512 av[G];
                for (int g = 0; g < G; ++g)
                    av[g] = _mm512_mul_ps(_mm512_maskz_load_ps(kLow8, acc[g] + 16 * n_full), _mm512_set1_ps(c[g]));
                for (int j = 0; j < nb; ++j) {
                    const __m512 v = load8_low<kType>(a.v_base + a.row(j0 + j), 16 * n_full);
                    for (int g = 0; g < G; ++g) av[g] = _mm512_fmadd_ps(_mm512_set1_ps(w[8 * j + g]), v, av[g]);
                }
                for (int g = 0; g < G; ++g) _mm512_mask_store_ps(acc[g] + 16 * n_full, kLow8, av[g]);
            }
        }
    }
    alignas(32) float total[8];
    _mm256_store_ps(total, run_sum);
    for (int g = 0; g < G; ++g) {
        const __m512 norm = _mm512_set1_ps(1.0f / total[g]);
        for (int64_t v0 = 0; v0 < n_full; ++v0)
            _mm512_storeu_ps(out + g * hd + 16 * v0, _mm512_mul_ps(_mm512_load_ps(acc[g] + 16 * v0), norm));
        if (tail8)
            _mm512_mask_storeu_ps(out + g * hd + 16 * n_full, kLow8,
                                  _mm512_mul_ps(_mm512_maskz_load_ps(kLow8, acc[g] + 16 * n_full), norm));
    }
}

template <KvCacheType kType>
T512 void grouped_task(const AttentionTask& a) {
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
T512 void any_task(const AttentionTask& a) {
    if (a.group >= 2 && a.head_dim <= kGroupMaxHeadDim) return grouped_task<kType>(a);
    task<kType>(a);
}

}  // namespace

void attention_task_avx512(const AttentionTask& t) {
    switch (t.type) {
        case KvCacheType::f16: return any_task<KvCacheType::f16>(t);
        case KvCacheType::f32: return any_task<KvCacheType::f32>(t);
        case KvCacheType::q8_0: return any_task<KvCacheType::q8_0>(t);
    }
}

}  // namespace strata

#else

namespace strata {
void attention_task_avx512(const AttentionTask& t) { attention_task_avx2(t); }
}  // namespace strata

#endif
