// BF16 weights on AVX512-BF16 dot products (vdpbf16ps), over the kLayoutFloatX8 copy.
//
// vdpbf16ps takes, per 32-bit lane, a pair of BF16 values from each source and adds both
// products to that lane's F32 accumulator. Here a lane is one weight row and a pair is two
// adjacent columns (k, k+1): the weights give (w[r][k], w[r][k+1]), the activations, rounded to
// BF16 once per matmul (round to nearest even), give (x[k], x[k+1]) broadcast to every lane.
// In kLayoutFloatX8 a group's columns k and k+1 are 32 contiguous bytes (8 rows each), so one
// vpermw turns two groups' 32 bytes into the 16 lanes' pairs (group a's rows in lanes 0..7,
// group b's in 8..15), the same lanes as the F32 pair panels of cpu_matmul_float_avx512.cpp.
//
// Decode and a few tokens (bf16_x8_direct_avx512) permute the stored groups on the fly: up to 4
// pairs of groups (4 independent accumulator chains per token) and a lone last group on 256-bit
// vectors. Prefill permutes each pair of groups once per column block into a panel and runs 2
// panels × 12 tokens of accumulators (bf16_x16_avx512), the activations packed per token tile as
// (column pair, token). In both, lane r's accumulator starts at zero and takes one vdpbf16ps per
// column pair in column order, so a token's outputs are bitwise the same whichever route, tile
// or thread count ran them. They are not bitwise those of the F32 routes (the activations are
// rounded to BF16): tests bound the difference (tests/engine/tst_cpu_matmul.cpp).
//
// Compiled with a function target attribute: a portable build carries it, only a CPU whose level
// is avx512_bf16 or above (util/cpu_features.h) runs it.
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

#define BF16 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

// vpermw index: the 32 words of [group a: column k rows 0..7, column k+1 rows 0..7 | group b:
// the same] → lane j's pair (word 2j: column k, word 2j+1: column k+1) of row j (a) or j-8 (b).
BF16 inline __m512i pair_index() {
    alignas(64) uint16_t idx[32];
    for (int j = 0; j < 16; ++j) {
        const int base = j < 8 ? j : 8 + j;  // a's row j at word j; b's row j-8 at word 16 + (j-8)
        idx[2 * j] = static_cast<uint16_t>(base);
        idx[2 * j + 1] = static_cast<uint16_t>(base + 8);
    }
    return _mm512_load_si512(idx);
}

// Its low half: the same permutation of one group's 16 words.
BF16 inline __m256i pair_index_lo() {
    alignas(32) uint16_t idx[16];
    for (int j = 0; j < 8; ++j) {
        idx[2 * j] = static_cast<uint16_t>(j);
        idx[2 * j + 1] = static_cast<uint16_t>(j + 8);
    }
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(idx));
}

// Column pair p of groups a and b as the 16 lanes' BF16 pairs.
BF16 inline __m512i pair_of_groups(const __m512i& idx, const uint8_t* a, const uint8_t* b, int64_t p) {
    const __m512i v = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 32 * p))),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 32 * p)), 1);
    return _mm512_permutexvar_epi16(idx, v);
}

// Column pair p of one group as 8 lanes' pairs (the low half of pair_of_groups).
BF16 inline __m256i pair_of_group(const __m256i& idx, const uint8_t* a, int64_t p) {
    return _mm256_permutexvar_epi16(idx, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 32 * p)));
}

BF16 inline __m512 dot512(__m512 acc, __m512i w, __m512i x) { return _mm512_dpbf16_ps(acc, (__m512bh)w, (__m512bh)x); }
BF16 inline __m256 dot256(__m256 acc, __m256i w, __m256i x) { return _mm256_dpbf16_ps(acc, (__m256bh)w, (__m256bh)x); }

// P pairs of groups (groups 0..2P-1) and, with kLone, group 2P alone, × T tokens, straight from
// the stored layout. x: (n_pairs, T) activation pairs. out (T, 8 * (2P + kLone)).
template <int P, bool kLone, int T>
BF16 void direct_pt(const uint8_t* const* groups, int64_t n_pairs, const uint32_t* x, float* out) {
    constexpr int kP = P > 0 ? P : 1;
    const __m512i idx = pair_index();
    const __m256i idx_lo = pair_index_lo();
    __m512 acc[kP][T];
    __m256 lone[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
#pragma GCC unroll 8
        for (int i = 0; i < P; ++i) acc[i][t] = _mm512_setzero_ps();
        lone[t] = _mm256_setzero_ps();
    }
    for (int64_t p = 0; p < n_pairs; ++p) {
        __m512i w[kP];
#pragma GCC unroll 8
        for (int i = 0; i < P; ++i) w[i] = pair_of_groups(idx, groups[2 * i], groups[2 * i + 1], p);
        __m256i wl = _mm256_setzero_si256();
        if constexpr (kLone) wl = pair_of_group(idx_lo, groups[2 * P], p);
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) {
            const int xv = static_cast<int>(x[p * T + t]);
#pragma GCC unroll 8
            for (int i = 0; i < P; ++i) acc[i][t] = dot512(acc[i][t], w[i], _mm512_set1_epi32(xv));
            if constexpr (kLone) lone[t] = dot256(lone[t], wl, _mm256_set1_epi32(xv));
        }
    }
    constexpr int kStride = 8 * (2 * P + (kLone ? 1 : 0));
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
#pragma GCC unroll 8
        for (int i = 0; i < P; ++i) _mm512_storeu_ps(out + t * kStride + 16 * i, acc[i][t]);
        if constexpr (kLone) _mm256_storeu_ps(out + t * kStride + 16 * P, lone[t]);
    }
}

using DirectFn = void (*)(const uint8_t* const*, int64_t, const uint32_t*, float*);
template <int T>
constexpr std::array<DirectFn, 8> direct_for_tokens() {  // index: n_groups - 1 (1..8 groups)
    return {direct_pt<0, true, T>, direct_pt<1, false, T>, direct_pt<1, true, T>, direct_pt<2, false, T>,
            direct_pt<2, true, T>, direct_pt<3, false, T>, direct_pt<3, true, T>, direct_pt<4, false, T>};
}

// R panels × T tokens from panels of column pairs (16 lanes' pairs per column pair, 64 bytes).
template <int R, int T>
BF16 void x16_rt(const uint32_t* const* panels, int64_t n_pairs, const uint32_t* x, float* out, bool accumulate) {
    __m512 acc[R][T];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
        for (int t = 0; t < T; ++t) acc[r][t] = accumulate ? _mm512_loadu_ps(out + t * 16 * R + 16 * r) : _mm512_setzero_ps();
    const uint32_t* pp[R];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) pp[r] = panels[r];
    for (int64_t p = 0; p < n_pairs; ++p) {
        __m512i w[R];
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) w[r] = _mm512_loadu_si512(pp[r] + 16 * p);
#pragma GCC unroll 16
        for (int t = 0; t < T; ++t) {
            const __m512i xb = _mm512_set1_epi32(static_cast<int>(x[p * T + t]));
#pragma GCC unroll 16
            for (int r = 0; r < R; ++r) acc[r][t] = dot512(acc[r][t], w[r], xb);
        }
    }
#pragma GCC unroll 16
    for (int t = 0; t < T; ++t)
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) _mm512_storeu_ps(out + t * 16 * R + 16 * r, acc[r][t]);
}

using X16Fn = void (*)(const uint32_t* const*, int64_t, const uint32_t*, float*, bool);
template <int R, int... T>
constexpr auto x16_row(std::integer_sequence<int, T...>) {
    return std::array<X16Fn, sizeof...(T)>{x16_rt<R, T + 1>...};
}

// n_cols (even) floats → n_cols / 2 BF16 pairs, round to nearest even, at dst[p * stride].
BF16 void pack_row(const float* x, int64_t n_cols, uint32_t* dst, int64_t stride) {
    alignas(32) uint32_t pairs[8];
    for (int64_t k = 0; k < n_cols; k += 16) {
        const int64_t n = n_cols - k < 16 ? n_cols - k : 16;
        const __mmask16 m = static_cast<__mmask16>((1u << n) - 1u);
        const __m256i v = (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, x + k));
        uint32_t* d = dst + (k / 2) * stride;
        if (stride == 1 && n == 16) {
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(d), v);
            continue;
        }
        _mm256_store_si256(reinterpret_cast<__m256i*>(pairs), v);
        for (int64_t j = 0; j < n / 2; ++j) d[j * stride] = pairs[j];
    }
}

BF16 void pair_panel(const uint8_t* a, const uint8_t* b, int64_t n_pairs, uint32_t* dst) {
    const __m512i idx = pair_index();
    for (int64_t p = 0; p < n_pairs; ++p) _mm512_storeu_si512(dst + 16 * p, pair_of_groups(idx, a, b, p));
}

}  // namespace

void bf16_pack_tile_avx512(const float* x, int64_t n_cols, int n_tok, uint32_t* dst) {
    for (int t = 0; t < n_tok; ++t) pack_row(x + t * n_cols, n_cols, dst + t, n_tok);
}

void bf16_x8_direct_avx512(const uint8_t* const* groups, int n_groups, int64_t n_cols, const uint32_t* x, int n_tok,
                           float* out) {
    static_assert(kBf16DirectMaxTokens == 5 && kFloatMaxGroups == 8);
    static constexpr std::array<std::array<DirectFn, 8>, kBf16DirectMaxTokens> kFns = {
        direct_for_tokens<1>(), direct_for_tokens<2>(), direct_for_tokens<3>(), direct_for_tokens<4>(),
        direct_for_tokens<5>()};
    kFns[n_tok - 1][n_groups - 1](groups, n_cols / 2, x, out);
}

void bf16_pair_panel_avx512(const uint8_t* a, const uint8_t* b, int64_t n_cols, uint32_t* dst) {
    pair_panel(a, b, n_cols / 2, dst);
}

void bf16_x16_avx512(const uint32_t* const* panels, int n_panels, int64_t n_cols, const uint32_t* x, int n_tok,
                     float* out, bool accumulate) {
    static_assert(kBf16TilePanels == 2);
    static constexpr auto kR1 = x16_row<1>(std::make_integer_sequence<int, kBf16TileTokens>{});
    static constexpr auto kR2 = x16_row<2>(std::make_integer_sequence<int, kBf16TileTokens>{});
    (n_panels == 1 ? kR1 : kR2)[n_tok - 1](panels, n_cols / 2, x, out, accumulate);
}

}  // namespace strata

#else

namespace strata {
void bf16_pack_tile_avx512(const float*, int64_t, int, uint32_t*) {}
void bf16_x8_direct_avx512(const uint8_t* const*, int, int64_t, const uint32_t*, int, float*) {}
void bf16_pair_panel_avx512(const uint8_t*, const uint8_t*, int64_t, uint32_t*) {}
void bf16_x16_avx512(const uint32_t* const*, int, int64_t, const uint32_t*, int, float*, bool) {}
}  // namespace strata

#endif
