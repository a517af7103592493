// Prefill of the float layouts (F32/F16/BF16, kLayoutFloatX8) on 512-bit vectors.
//
// Two adjacent row groups are converted once per matmul into one F32 "pair panel" whose column k
// holds 16 floats (the first group's 8 rows, then the second's), so one aligned 512-bit load
// feeds 16 rows. The kernel keeps kFloatX16TilePairs pair panels × up to kFloatX16TileTokens
// tokens of accumulators (2 × 12 = 24 of the 32 vector registers): per column, 24 FMAs for 2
// weight loads and 12 broadcasts. Every lane does what the AVX2
// kernel's lane does for its row, acc = fma(w_k, x_k, acc) over k in order from zero, and the
// conversion to F32 is exact, so the results are bitwise those of the AVX2 route.
//
// Compiled with a function target attribute: a portable build carries it, only a CPU whose level
// is avx512 or above (util/cpu_features.h) runs it.
#include "backend/cpu/cpu_matmul_internal.h"

#if defined(__x86_64__) || defined(__i386__)
// GCC 12 reports -Wmaybe-uninitialized inside its own AVX-512 intrinsics (their "undefined"
// pass-through operands; GCC bug 105593): not about this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <array>
#include <cstring>
#include <utility>

namespace strata {
namespace {

#define T512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")))

template <int R, int T>
T512 void float_x16_rt(const float* const* pairs, int64_t n_cols, const float* x, int64_t xs, int64_t xk, float* out,
                       bool accumulate) {
    __m512 acc[R][T];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
        for (int t = 0; t < T; ++t) acc[r][t] = accumulate ? _mm512_loadu_ps(out + t * 16 * R + 16 * r) : _mm512_setzero_ps();
    const float* p[R];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) p[r] = pairs[r];
    for (int64_t k = 0; k < n_cols; ++k) {
        __m512 w[R];
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) w[r] = _mm512_loadu_ps(p[r] + 16 * k);
#pragma GCC unroll 16
        for (int t = 0; t < T; ++t) {
            const __m512 xb = _mm512_set1_ps(x[t * xs + k * xk]);
#pragma GCC unroll 16
            for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(w[r], xb, acc[r][t]);
        }
    }
#pragma GCC unroll 16
    for (int t = 0; t < T; ++t)
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) _mm512_storeu_ps(out + t * 16 * R + 16 * r, acc[r][t]);
}

using X16Fn = void (*)(const float* const*, int64_t, const float*, int64_t, int64_t, float*, bool);
template <int R, int... T>
constexpr auto x16_row(std::integer_sequence<int, T...>) {
    return std::array<X16Fn, sizeof...(T)>{float_x16_rt<R, T + 1>...};
}

// 8 values of the stored type at p → 8 floats (256 bits), exact.
template <TensorType kType>
T512 inline __m256 load8(const uint8_t* p) {
    if constexpr (kType == TensorType::F32) {
        return _mm256_loadu_ps(reinterpret_cast<const float*>(p));
    } else if constexpr (kType == TensorType::F16) {
        return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    } else {
        const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
        return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
    }
}

template <TensorType kType>
T512 void to_pair(const uint8_t* a, const uint8_t* b, int64_t n_cols, float* dst) {
    constexpr size_t kStep = 8 * (kType == TensorType::F32 ? 4 : 2);
    for (int64_t k = 0; k < n_cols; ++k) {
        const __m512 v = _mm512_insertf32x8(_mm512_castps256_ps512(load8<kType>(a + k * kStep)),
                                            load8<kType>(b + k * kStep), 1);
        _mm512_storeu_ps(dst + 16 * k, v);
    }
}

}  // namespace

void float_pair_to_f32_avx512(TensorType type, const uint8_t* a, const uint8_t* b, int64_t n_cols, float* dst) {
    switch (type) {
        case TensorType::F32: return to_pair<TensorType::F32>(a, b, n_cols, dst);
        case TensorType::F16: return to_pair<TensorType::F16>(a, b, n_cols, dst);
        case TensorType::BF16: return to_pair<TensorType::BF16>(a, b, n_cols, dst);
        default: return;
    }
}

void float_x16_avx512(const float* const* pairs, int n_pairs, int64_t n_cols, const float* x, int64_t xs, int64_t xk,
                      int n_tok, float* out, bool accumulate) {
    static_assert(kFloatX16TilePairs == 2);
    static constexpr auto kR1 = x16_row<1>(std::make_integer_sequence<int, kFloatX16TileTokens>{});
    static constexpr auto kR2 = x16_row<2>(std::make_integer_sequence<int, kFloatX16TileTokens>{});
    (n_pairs == 1 ? kR1 : kR2)[n_tok - 1](pairs, n_cols, x, xs, xk, out, accumulate);
}

}  // namespace strata

#else

namespace strata {
void float_pair_to_f32_avx512(TensorType, const uint8_t*, const uint8_t*, int64_t, float*) {}
void float_x16_avx512(const float* const*, int, int64_t, const float*, int64_t, int64_t, int, float*, bool) {}
}  // namespace strata

#endif
