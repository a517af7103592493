// AVX2 dot kernels of the K-quants against Q8_K activations.
//
// Every K-quant is handled in the same shape: for each 32-element vector v (0..7) of a
// super-block, unsigned levels u (offset applied so maddubs can take them) times the int8
// activations, multiplied by the two group scales of that vector (groups 2v and 2v+1, one per
// 128-bit half), summed in int32. The offset/min terms use Q8_K's per-group sums (bsums).
#include <cstring>

#include "quant/avx2_util.h"
#include "quant/quant_blocks.h"
#include "quant/quant_internal.h"

namespace strata::quant {
using namespace avx2;

namespace {

// Sixteen int16 group scales, ready to hand out as [S[2v] x8 | S[2v+1] x8] per vector v.
struct GroupScales {
    __m256i lo, hi;  // scales 0..7 and 8..15, each broadcast to both 128-bit halves
};

STRATA_AVX2 inline GroupScales make_group_scales(__m256i s16) {  // s16: 16 int16 scales
    return {_mm256_permute2x128_si256(s16, s16, 0x00), _mm256_permute2x128_si256(s16, s16, 0x11)};
}

STRATA_AVX2 inline __m256i scale_pair(const GroupScales& s, int v) {
    // Low half takes int16 #2k, high half #2k+1 (k = v % 4) of the 8 in the chosen register.
    alignas(32) static const int8_t kMasks[4][32] = {
        {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3},
        {4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7},
        {8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11},
        {12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15},
    };
    const __m256i mask = _mm256_load_si256(reinterpret_cast<const __m256i*>(kMasks[v % 4]));
    return _mm256_shuffle_epi8(v < 4 ? s.lo : s.hi, mask);
}

// Σ_g S[g]·bsums[g] for int16 scales S.
STRATA_AVX2 inline int scaled_bsums(__m256i s16, const int16_t* bsums) {
    return hsum_i32(_mm256_madd_epi16(s16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bsums))));
}

STRATA_AVX2 inline __m256i load32(const void* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

// One vector's contribution: Σ scale·u·a over 32 elements, as 8 int32 lanes.
STRATA_AVX2 inline __m256i scaled_dot(__m256i u, const int8_t* a, __m256i scales) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, load32(a)), scales);
}

}  // namespace

STRATA_AVX2 float vec_dot_q2_k_q8_k_avx2(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ2_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    const __m256i m2 = _mm256_set1_epi8(3);
    __m256 acc = _mm256_setzero_ps();
    float corr = 0.0f;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const __m128i sm = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales));
        const __m256i sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(sm, _mm_set1_epi8(0x0F)));
        const __m256i mn16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sm, 4), _mm_set1_epi8(0x0F)));
        const GroupScales gs = make_group_scales(sc16);
        __m256i isum = _mm256_setzero_si256();
        for (int half = 0; half < 2; ++half) {
            const __m256i q = load32(x[i].qs + 32 * half);
            for (int j = 0; j < 4; ++j) {
                const __m256i u = _mm256_and_si256(_mm256_srli_epi16(q, 2 * j), m2);
                const int v = 4 * half + j;
                isum = _mm256_add_epi32(isum, scaled_dot(u, y[i].qs + 32 * v, scale_pair(gs, v)));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(y[i].d * h2f(x[i].d)), acc);
        corr += y[i].d * h2f(x[i].dmin) * static_cast<float>(scaled_bsums(mn16, y[i].bsums));
    }
    return hsum(acc) - corr;
}

namespace {
// Q3_K: the 16 signed 6-bit scales from 12 packed bytes (words w0..w2): low nibbles of w0 are
// scales 0-3, of w1 4-7, high nibbles of w0 8-11, of w1 12-15; bits 2k..2k+1 of w2's bytes
// are the top bits of scales 4k..4k+3. Stored +32.
STRATA_AVX2 inline __m256i k3_scales16(const uint8_t* packed) {
    uint32_t w[3];
    std::memcpy(w, packed, 12);
    constexpr uint32_t k4 = 0x0f0f0f0f, k2 = 0x03030303;
    const uint32_t v0 = (w[0] & k4) | ((w[2] & k2) << 4);
    const uint32_t v1 = (w[1] & k4) | (((w[2] >> 2) & k2) << 4);
    const uint32_t v2 = ((w[0] >> 4) & k4) | (((w[2] >> 4) & k2) << 4);
    const uint32_t v3 = ((w[1] >> 4) & k4) | (((w[2] >> 6) & k2) << 4);
    const __m128i u = _mm_set_epi32(static_cast<int>(v3), static_cast<int>(v2), static_cast<int>(v1), static_cast<int>(v0));
    return _mm256_cvtepi8_epi16(_mm_sub_epi8(u, _mm_set1_epi8(32)));
}
}  // namespace

STRATA_AVX2 float vec_dot_q3_k_q8_k_avx2(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ3_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    const __m256i m2 = _mm256_set1_epi8(3);
    const __m256i one = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    float corr = 0.0f;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const __m256i sc16 = k3_scales16(x[i].scales);
        const GroupScales gs = make_group_scales(sc16);
        const __m256i hm = load32(x[i].hmask);
        __m256i isum = _mm256_setzero_si256();
        for (int half = 0; half < 2; ++half) {
            const __m256i q = load32(x[i].qs + 32 * half);
            for (int j = 0; j < 4; ++j) {
                const int v = 4 * half + j;
                const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(q, 2 * j), m2);
                const __m256i hb = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hm, v), one), 2);
                isum = _mm256_add_epi32(isum, scaled_dot(_mm256_or_si256(lo, hb), y[i].qs + 32 * v, scale_pair(gs, v)));
            }
        }
        // levels are u - 4
        const float d = y[i].d * h2f(x[i].d);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(d), acc);
        corr += d * static_cast<float>(4 * scaled_bsums(sc16, y[i].bsums));
    }
    return hsum(acc) - corr;
}

namespace {
// Q4_K / Q5_K: the 8 6-bit scales and mins from their 12 packed bytes, as per-16 tables with
// each group's value twice. Words w0..w2 are bytes 0-3, 4-7, 8-11: scales 0-3 are the low 6
// bits of w0, mins 0-3 of w1; scales 4-7 take their low 4 bits from w2's low nibbles and their
// top 2 bits from the top bits of w0; mins 4-7 from w2's high nibbles and w1's top bits.
STRATA_AVX2 inline void k4_scales16(const uint8_t* packed, __m256i* sc16, __m256i* mn16) {
    uint32_t w[3];
    std::memcpy(w, packed, 12);
    constexpr uint32_t k6 = 0x3f3f3f3f, k4 = 0x0f0f0f0f, k2 = 0x03030303;
    const uint32_t s_lo = w[0] & k6, m_lo = w[1] & k6;
    const uint32_t s_hi = (w[2] & k4) | (((w[0] >> 6) & k2) << 4);
    const uint32_t m_hi = ((w[2] >> 4) & k4) | (((w[1] >> 6) & k2) << 4);
    const __m128i sc8 = _mm_set_epi32(0, 0, static_cast<int>(s_hi), static_cast<int>(s_lo));
    const __m128i mn8 = _mm_set_epi32(0, 0, static_cast<int>(m_hi), static_cast<int>(m_lo));
    *sc16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(sc8, sc8));
    *mn16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mn8, mn8));
}

template <bool kFifthBit, class Block>
STRATA_AVX2 inline float dot_q45k_avx2(int64_t n, const Block* x, const BlockQ8_K* y) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i one = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    float corr = 0.0f;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        __m256i sc16, mn16;
        k4_scales16(x[i].scales, &sc16, &mn16);
        const GroupScales gs = make_group_scales(sc16);
        __m256i qh = _mm256_setzero_si256();
        if constexpr (kFifthBit) qh = load32(x[i].qh);
        __m256i isum = _mm256_setzero_si256();
        for (int c = 0; c < 4; ++c) {
            const __m256i q = load32(x[i].qs + 32 * c);
            __m256i u0 = _mm256_and_si256(q, m4);
            __m256i u1 = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            if constexpr (kFifthBit) {
                u0 = _mm256_or_si256(u0, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one), 4));
                u1 = _mm256_or_si256(u1, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one), 4));
            }
            isum = _mm256_add_epi32(isum, scaled_dot(u0, y[i].qs + 64 * c, scale_pair(gs, 2 * c)));
            isum = _mm256_add_epi32(isum, scaled_dot(u1, y[i].qs + 64 * c + 32, scale_pair(gs, 2 * c + 1)));
        }
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(y[i].d * h2f(x[i].d)), acc);
        corr += y[i].d * h2f(x[i].dmin) * static_cast<float>(scaled_bsums(mn16, y[i].bsums));
    }
    return hsum(acc) - corr;
}
}  // namespace

STRATA_AVX2 float vec_dot_q4_k_q8_k_avx2(int64_t n, const void* w, const void* a) {
    return dot_q45k_avx2<false>(n, static_cast<const BlockQ4_K*>(w), static_cast<const BlockQ8_K*>(a));
}

STRATA_AVX2 float vec_dot_q5_k_q8_k_avx2(int64_t n, const void* w, const void* a) {
    return dot_q45k_avx2<true>(n, static_cast<const BlockQ5_K*>(w), static_cast<const BlockQ8_K*>(a));
}

STRATA_AVX2 float vec_dot_q6_k_q8_k_avx2(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ6_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i m2 = _mm256_set1_epi8(3);
    __m256 acc = _mm256_setzero_ps();
    float corr = 0.0f;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales)));
        const GroupScales gs = make_group_scales(sc16);
        __m256i isum = _mm256_setzero_si256();
        for (int half = 0; half < 2; ++half) {
            const __m256i l0 = load32(x[i].ql + 64 * half);
            const __m256i l1 = load32(x[i].ql + 64 * half + 32);
            const __m256i h = load32(x[i].qh + 32 * half);
            const __m256i lows[4] = {_mm256_and_si256(l0, m4), _mm256_and_si256(l1, m4),
                                     _mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                     _mm256_and_si256(_mm256_srli_epi16(l1, 4), m4)};
            for (int k = 0; k < 4; ++k) {
                const __m256i hi = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2 * k), m2), 4);
                const int v = 4 * half + k;
                isum = _mm256_add_epi32(isum, scaled_dot(_mm256_or_si256(lows[k], hi), y[i].qs + 32 * v, scale_pair(gs, v)));
            }
        }
        const float d = y[i].d * h2f(x[i].d);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(d), acc);
        corr += d * static_cast<float>(32 * scaled_bsums(sc16, y[i].bsums));
    }
    return hsum(acc) - corr;
}

STRATA_AVX2 float vec_dot_q8_k_q8_k_avx2(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ8_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQKK; ++i) {
        __m256i isum = _mm256_setzero_si256();
        for (int v = 0; v < 8; ++v) isum = _mm256_add_epi32(isum, dot_s8s8(load32(x[i].qs + 32 * v), load32(y[i].qs + 32 * v)));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(x[i].d * y[i].d), acc);
    }
    return hsum(acc);
}

}  // namespace strata::quant
