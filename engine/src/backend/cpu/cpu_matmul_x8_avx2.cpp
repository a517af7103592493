// AVX2+FMA+F16C kernels of the 8-row interleaved layouts: one vector lane per weight row, so a
// pass over the columns yields 8 outputs per token with no horizontal sums, and each weight
// vector loaded (and unpacked) once serves every token of the tile.
#include <array>
#include <cstring>
#include <utility>

#include "backend/cpu/cpu_matmul_internal.h"
#include "quant/avx2_util.h"
#include "quant/quant_blocks.h"

namespace strata {
namespace {

#define AVX2 STRATA_AVX2
// Pins a vector in a register at this point: stops GCC from reassociating the integer
// accumulations across iterations into a tree of spilled temporaries.
#define KEEP_IN_REG(v) __asm__("" : "+x"(v))

template <TensorType kType>
AVX2 inline __m256 load_w8(const uint8_t* p) {
    if constexpr (kType == TensorType::F32) {
        return _mm256_loadu_ps(reinterpret_cast<const float*>(p));
    } else if constexpr (kType == TensorType::F16) {
        return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    } else {
        const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
        return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
    }
}

// R row groups × T tokens of accumulators (R*T <= 12 keeps them in registers).
template <TensorType kType, int R, int T>
AVX2 void float_x8_rt(const uint8_t* const* groups, int64_t n_cols, const float* x, int64_t xs, int64_t xk,
                      float* out) {
    constexpr size_t kStep = 8 * (kType == TensorType::F32 ? 4 : 2);
    __m256 acc[R][T];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
    const uint8_t* g[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) g[r] = groups[r];
    for (int64_t k = 0; k < n_cols; ++k) {
        __m256 w[R];
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) w[r] = load_w8<kType>(g[r] + k * kStep);
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) {
            const __m256 xb = _mm256_broadcast_ss(x + t * xs + k * xk);
#pragma GCC unroll 8
            for (int r = 0; r < R; ++r) acc[r][t] = _mm256_fmadd_ps(w[r], xb, acc[r][t]);
        }
    }
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t)
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) _mm256_storeu_ps(out + t * 8 * R + 8 * r, acc[r][t]);
}

template <TensorType kType, int R, int... T>
constexpr auto row_of_kernels(std::integer_sequence<int, T...>) {
    using Fn = void (*)(const uint8_t* const*, int64_t, const float*, int64_t, int64_t, float*);
    return std::array<Fn, sizeof...(T)>{(R * (T + 1) + R + 1 <= 16 ? float_x8_rt<kType, R, T + 1> : nullptr)...};
}

template <TensorType kType>
void float_x8_avx2(const uint8_t* const* groups, int n_groups, int64_t n_cols, const float* x, int64_t xs,
                   int64_t xk, int n_tok, float* out) {
    // Decode: up to 8 groups of one token (8 independent FMA chains); prefill: R groups × T tokens.
    static constexpr auto kOneTok = std::array{
        float_x8_rt<kType, 1, 1>, float_x8_rt<kType, 2, 1>, float_x8_rt<kType, 3, 1>, float_x8_rt<kType, 4, 1>,
        float_x8_rt<kType, 5, 1>, float_x8_rt<kType, 6, 1>, float_x8_rt<kType, 7, 1>, float_x8_rt<kType, 8, 1>};
    static constexpr auto kR1 = row_of_kernels<kType, 1>(std::make_integer_sequence<int, kMaxTileTokens>{});
    static constexpr auto kR2 = row_of_kernels<kType, 2>(std::make_integer_sequence<int, kMaxTileTokens>{});
    static constexpr auto kR3 = row_of_kernels<kType, 3>(std::make_integer_sequence<int, kMaxTileTokens>{});
    static constexpr auto kR4 = row_of_kernels<kType, 4>(std::make_integer_sequence<int, kMaxTileTokens>{});
    if (n_tok == 1) return kOneTok[n_groups - 1](groups, n_cols, x, xs, xk, out);
    const auto& row = n_groups == 1 ? kR1 : n_groups == 2 ? kR2 : n_groups == 3 ? kR3 : kR4;
    return row[n_tok - 1](groups, n_cols, x, xs, xk, out);
}

// ---- Q4_0 x8 against ActQ8 -----------------------------------------------------------------------
template <int T>
AVX2 void q4_0_x8_t(const uint8_t* w, int64_t nb, const ActQ8* act, int64_t as, float* out) {  // as: in blocks
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b, w += 144) {
        const __m256 wd = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
        __m256i s16[T];
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) s16[t] = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
            const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 16 + 32 * j));
            const __m256i lo = _mm256_and_si256(v, m4);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
#pragma GCC unroll 4
            for (int t = 0; t < T; ++t) {
                const int8_t* q = act[t * as + b].q + 8 * j;
                int32_t q0, q1;
                std::memcpy(&q0, q, 4);
                std::memcpy(&q1, q + 4, 4);
                const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, _mm256_set1_epi32(q0)),
                                                   _mm256_maddubs_epi16(hi, _mm256_set1_epi32(q1)));
                s16[t] = _mm256_add_epi16(s16[t], p);
                KEEP_IN_REG(s16[t]);
            }
        }
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
            const ActQ8& a = act[t * as + b];
            const __m256i i32 = _mm256_sub_epi32(_mm256_madd_epi16(s16[t], ones), _mm256_set1_epi32(8 * a.sum));
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i32), _mm256_mul_ps(wd, _mm256_set1_ps(a.d)), acc[t]);
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) _mm256_storeu_ps(out + 8 * t, acc[t]);
}

// ---- Q8_0 x8 against ActQ8: maddubs(|a|, sign(w, a)) ----------------------------------------------
template <int T>
AVX2 void q8_0_x8_t(const uint8_t* w, int64_t nb, const ActQ8* act, int64_t as, float* out) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b, w += 272) {
        const __m256 wd = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
        __m256i i32[T];
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) i32[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (int c = 0; c < 8; ++c) {
            const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 16 + 32 * c));
#pragma GCC unroll 4
            for (int t = 0; t < T; ++t) {
                const ActQ8& a = act[t * as + b];
                int32_t q, aq;
                std::memcpy(&q, a.q + 4 * c, 4);
                std::memcpy(&aq, a.aq + 4 * c, 4);
                const __m256i p = _mm256_maddubs_epi16(_mm256_set1_epi32(aq), _mm256_sign_epi8(v, _mm256_set1_epi32(q)));
                i32[t] = _mm256_add_epi32(i32[t], _mm256_madd_epi16(p, ones));
                KEEP_IN_REG(i32[t]);
            }
        }
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
            const float d = act[t * as + b].d;
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i32[t]), _mm256_mul_ps(wd, _mm256_set1_ps(d)), acc[t]);
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) _mm256_storeu_ps(out + 8 * t, acc[t]);
}

// ---- Q4_1 / Q5_0 / Q5_1 x8 against ActQ8 ---------------------------------------------------------
// Layout per block: d[8], [m[8] for the min formats], 4 nibble vectors as Q4_0X8, [a fifth-bit
// vector for the 5-bit formats: bit j of byte 4r+i for column 8j+i, bit 4+j for 8j+4+i]. The
// running sums live in the output tile between blocks (registers go to the int sums).
template <bool kMin, bool kFifth, int T>
AVX2 void legacy_x8_t(const uint8_t* w, int64_t nb, const ActQ8* act, int64_t as, float* out) {
    constexpr size_t kBytes = 16 + (kMin ? 16 : 0) + 128 + (kFifth ? 32 : 0);
    constexpr int kOffset = kMin ? 0 : 16;  // Q5_0 levels are q + 16
    const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
    for (int t = 0; t < T; ++t) _mm256_storeu_ps(out + 8 * t, _mm256_setzero_ps());
    for (int64_t b = 0; b < nb; ++b, w += kBytes) {
        const uint8_t* q = w + (kMin ? 32 : 16);
        __m256i h = _mm256_setzero_si256();
        if constexpr (kFifth) h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 128));
        __m256i s16[T], i32[T];
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
            s16[t] = _mm256_setzero_si256();
            i32[t] = _mm256_setzero_si256();
        }
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
            const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 32 * j));
            __m256i lo = _mm256_and_si256(v, m4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
            if constexpr (kFifth) {
                lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, j), one), 4));
                hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4 + j), one), 4));
            }
#pragma GCC unroll 4
            for (int t = 0; t < T; ++t) {
                const int8_t* aq = act[t * as + b].q + 8 * j;
                int32_t q0, q1;
                std::memcpy(&q0, aq, 4);
                std::memcpy(&q1, aq + 4, 4);
                const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, _mm256_set1_epi32(q0)),
                                                   _mm256_maddubs_epi16(hi, _mm256_set1_epi32(q1)));
                s16[t] = _mm256_add_epi16(s16[t], p);
                KEEP_IN_REG(s16[t]);
            }
            if (j == 3 || (kFifth && j == 1)) {  // 5-bit levels: flush before int16 overflows
#pragma GCC unroll 4
                for (int t = 0; t < T; ++t) {
                    i32[t] = _mm256_add_epi32(i32[t], _mm256_madd_epi16(s16[t], ones16));
                    s16[t] = _mm256_setzero_si256();
                    KEEP_IN_REG(i32[t]);
                }
            }
        }
        const __m256 wd = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
            const ActQ8& a = act[t * as + b];
            __m256i isum = i32[t];
            if constexpr (kOffset != 0) isum = _mm256_sub_epi32(isum, _mm256_set1_epi32(kOffset * a.sum));
            __m256 o = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(wd, _mm256_set1_ps(a.d)),
                                       _mm256_loadu_ps(out + 8 * t));
            if constexpr (kMin) {
                const __m256 wm = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 16)));
                o = _mm256_fmadd_ps(wm, _mm256_set1_ps(a.d * static_cast<float>(a.sum)), o);
            }
            _mm256_storeu_ps(out + 8 * t, o);
        }
    }
}

template <bool kMin, bool kFifth>
void legacy_x8_avx2(const uint8_t* w, int64_t nb, const void* a, size_t arb, int n_tok, float* out) {
    const auto* act = static_cast<const ActQ8*>(a);
    const auto as = static_cast<int64_t>(arb / sizeof(ActQ8));
    switch (n_tok) {
        case 1: return legacy_x8_t<kMin, kFifth, 1>(w, nb, act, as, out);
        case 2: return legacy_x8_t<kMin, kFifth, 2>(w, nb, act, as, out);
        case 3: return legacy_x8_t<kMin, kFifth, 3>(w, nb, act, as, out);
        default: return legacy_x8_t<kMin, kFifth, 4>(w, nb, act, as, out);
    }
}

void q4_0_x8_avx2(const uint8_t* w, int64_t nb, const void* a, size_t arb, int n_tok, float* out) {
    const auto* act = static_cast<const ActQ8*>(a);
    const auto as = static_cast<int64_t>(arb / sizeof(ActQ8));
    switch (n_tok) {
        case 1: return q4_0_x8_t<1>(w, nb, act, as, out);
        case 2: return q4_0_x8_t<2>(w, nb, act, as, out);
        case 3: return q4_0_x8_t<3>(w, nb, act, as, out);
        default: return q4_0_x8_t<4>(w, nb, act, as, out);
    }
}

void q8_0_x8_avx2(const uint8_t* w, int64_t nb, const void* a, size_t arb, int n_tok, float* out) {
    const auto* act = static_cast<const ActQ8*>(a);
    const auto as = static_cast<int64_t>(arb / sizeof(ActQ8));
    switch (n_tok) {
        case 1: return q8_0_x8_t<1>(w, nb, act, as, out);
        case 2: return q8_0_x8_t<2>(w, nb, act, as, out);
        case 3: return q8_0_x8_t<3>(w, nb, act, as, out);
        default: return q8_0_x8_t<4>(w, nb, act, as, out);
    }
}

}  // namespace

FloatX8Kernel float_x8_kernel_avx2(TensorType type) {
    switch (type) {
        case TensorType::F32: return float_x8_avx2<TensorType::F32>;
        case TensorType::F16: return float_x8_avx2<TensorType::F16>;
        case TensorType::BF16: return float_x8_avx2<TensorType::BF16>;
        default: return nullptr;
    }
}

QuantX8Kernel k_x8_kernel_avx2(int layout);

QuantX8Kernel quant_x8_kernel_avx2(int layout) {
    switch (layout) {
        case kLayoutQ4_0X8: return q4_0_x8_avx2;
        case kLayoutQ8_0X8: return q8_0_x8_avx2;
        case kLayoutQ4_1X8: return legacy_x8_avx2<true, false>;
        case kLayoutQ5_0X8: return legacy_x8_avx2<false, true>;
        case kLayoutQ5_1X8: return legacy_x8_avx2<true, true>;
        case kLayoutQ2_KX8:
        case kLayoutQ3_KX8:
        case kLayoutQ4_KX8:
        case kLayoutQ5_KX8:
        case kLayoutQ6_KX8: return k_x8_kernel_avx2(layout);
        default: return nullptr;
    }
}

}  // namespace strata
