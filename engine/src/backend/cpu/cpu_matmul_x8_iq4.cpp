// Kernels of the 8-row interleaved IQ4_NL and IQ4_XS layouts (see cpu_matmul_internal.h; the
// repacking is in cpu_matmul_repack.cpp).
//
// IQ4_NL blocks have Q4_0's bytes (fp16 d, 16 bytes of nibbles), so kLayoutIQ4_NLX8 is the
// Q4_0X8 layout; only the kernel differs: nibbles index the level table (one byte shuffle)
// instead of standing for nibble - 8. IQ4_XS adds a 6-bit signed scale per 32 columns:
// kLayoutIQ4_XSX8 stores, per 256-column super-block (1104 bytes), the 8 rows' fp16 d, then
// their scales sc[g][r] as int8 (64 bytes), then per 32-column group g the 4 nibble vectors of
// the Q4_0X8 layout. MXFP4 (kLayoutMXFP4X8) is IQ4_NL's kernel with its own table (the doubled
// E2M1 values) and, instead of fp16 scales, the rows' 8 E8M0 exponent bytes, each 2^(e − 128).
// Products are exact in int32; the order of float operations does not depend on the token
// tile, so decode and prefill agree bitwise.
#include <cstring>

#include "backend/cpu/cpu_matmul_internal.h"
#include "quant/avx2_util.h"
#include "quant/quant_blocks.h"

namespace strata {

using quant::BlockQ8_K;
using quant::kIq4Levels;

namespace {

constexpr size_t kXsSuperBlockBytes = 16 + 64 + 8 * 128;

// ---- AVX2 -------------------------------------------------------------------------------------
#define AVX2 STRATA_AVX2

using quant::avx2::bcast128;
using quant::avx2::bcast32;

// The two level vectors of one nibble vector: columns 8j+i (lo) and 8j+4+i (hi) of row r in
// bytes 4r+i.
struct Levels {
    __m256i lo, hi;
};
AVX2 inline Levels levels_of(__m256i table, const uint8_t* p) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return {_mm256_shuffle_epi8(table, _mm256_and_si256(v, m4)),
            _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(v, 4), m4))};
}

// Lane r: Σ_i level(r, 8j+i)·a[8j+i] + level(r, 8j+4+i)·a[8j+4+i] for the 8 activations
// a8 = a[8j .. 8j+7] (|a| in abs8): maddubs(|a|, level·sign(a)) keeps every pair sum in int16.
AVX2 inline __m256i levels_dot(const Levels& l, const int8_t* a8, __m256i abs0, __m256i abs1) {
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i p0 = _mm256_maddubs_epi16(abs0, _mm256_sign_epi8(l.lo, bcast32(a8)));
    const __m256i p1 = _mm256_maddubs_epi16(abs1, _mm256_sign_epi8(l.hi, bcast32(a8 + 4)));
    return _mm256_add_epi32(_mm256_madd_epi16(p0, ones), _mm256_madd_epi16(p1, ones));
}

// The 8 rows' MXFP4 scales 2^(e − 128) from their exponent bytes, exactly as
// quant::mxfp4_scale: exponent field e − 1 for e ≥ 2, the subnormals 2^-127 and 2^-128 below.
AVX2 inline __m256 mxfp4_scales8(const uint8_t* e8) {
    const __m256i e = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(e8)));
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i normal = _mm256_slli_epi32(_mm256_sub_epi32(e, one), 23);
    const __m256i subnormal = _mm256_sllv_epi32(_mm256_set1_epi32(0x00200000), e);
    return _mm256_castsi256_ps(_mm256_blendv_epi8(subnormal, normal, _mm256_cmpgt_epi32(e, one)));
}

// IQ4_NL (kMx false: fp16 scales, 144-byte blocks) and MXFP4 (kMx true: exponent bytes,
// 136-byte blocks).
template <int T, bool kMx>
AVX2 void table4_x8_t(const uint8_t* w, int64_t nb, const ActQ8* act, int64_t as, float* out) {
    constexpr int64_t kHead = kMx ? 8 : 16;
    const __m256i table = bcast128(kMx ? quant::kMxfp4Levels : kIq4Levels);
    __m256 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b, w += kHead + 128) {
        const __m256 wd = kMx ? mxfp4_scales8(w) : _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
        __m256i s[T];
        for (int t = 0; t < T; ++t) s[t] = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
            const Levels l = levels_of(table, w + kHead + 32 * j);
            for (int t = 0; t < T; ++t) {
                const ActQ8& a = act[t * as + b];
                s[t] = _mm256_add_epi32(s[t], levels_dot(l, a.q + 8 * j, bcast32(reinterpret_cast<const int8_t*>(a.aq) + 8 * j),
                                                         bcast32(reinterpret_cast<const int8_t*>(a.aq) + 8 * j + 4)));
            }
        }
        for (int t = 0; t < T; ++t)
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[t]), _mm256_mul_ps(wd, _mm256_set1_ps(act[t * as + b].d)), acc[t]);
    }
    for (int t = 0; t < T; ++t) _mm256_storeu_ps(out + 8 * t, acc[t]);
}

template <int T>
AVX2 void iq4_xs_x8_t(const uint8_t* w, int64_t nb, const uint8_t* act, size_t arb, float* out) {
    const __m256i table = bcast128(kIq4Levels);
    __m256 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b, w += kXsSuperBlockBytes) {
        const BlockQ8_K* a[T];
        for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(act + t * arb) + b;
        const __m256 wd = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
        // |Σ| ≤ 8 groups · 32 scale · 32 columns · 127 · 127 < 2^31.
        __m256i s[T];
        for (int t = 0; t < T; ++t) s[t] = _mm256_setzero_si256();
        for (int g = 0; g < 8; ++g) {
            const __m256i sc = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(w + 16 + 8 * g)));
            __m256i gs[T];
            for (int t = 0; t < T; ++t) gs[t] = _mm256_setzero_si256();
#pragma GCC unroll 4
            for (int j = 0; j < 4; ++j) {
                const Levels l = levels_of(table, w + 80 + 128 * g + 32 * j);
                for (int t = 0; t < T; ++t) {
                    const int8_t* a8 = a[t]->qs + 32 * g + 8 * j;
                    gs[t] = _mm256_add_epi32(gs[t], levels_dot(l, a8, _mm256_abs_epi8(bcast32(a8)), _mm256_abs_epi8(bcast32(a8 + 4))));
                }
            }
            for (int t = 0; t < T; ++t) s[t] = _mm256_add_epi32(s[t], _mm256_mullo_epi32(gs[t], sc));
        }
        for (int t = 0; t < T; ++t)
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[t]), _mm256_mul_ps(wd, _mm256_set1_ps(a[t]->d)), acc[t]);
    }
    for (int t = 0; t < T; ++t) _mm256_storeu_ps(out + 8 * t, acc[t]);
}

template <bool kMx>
void table4_x8_avx2(const uint8_t* w, int64_t nb, const void* ap, size_t arb, int n_tok, float* out) {
    const auto* act = static_cast<const ActQ8*>(ap);
    const auto as = static_cast<int64_t>(arb / sizeof(ActQ8));
    switch (n_tok) {
        case 1: return table4_x8_t<1, kMx>(w, nb, act, as, out);
        case 2: return table4_x8_t<2, kMx>(w, nb, act, as, out);
        case 3: return table4_x8_t<3, kMx>(w, nb, act, as, out);
        default: return table4_x8_t<4, kMx>(w, nb, act, as, out);
    }
}

void iq4_xs_x8_avx2(const uint8_t* w, int64_t nb, const void* ap, size_t arb, int n_tok, float* out) {
    const auto* act = static_cast<const uint8_t*>(ap);
    switch (n_tok) {
        case 1: return iq4_xs_x8_t<1>(w, nb, act, arb, out);
        case 2: return iq4_xs_x8_t<2>(w, nb, act, arb, out);
        case 3: return iq4_xs_x8_t<3>(w, nb, act, arb, out);
        default: return iq4_xs_x8_t<4>(w, nb, act, arb, out);
    }
}

// ---- scalar -----------------------------------------------------------------------------------

// Σ level·a over one 32-column block of row r, from its 4 interleaved nibble vectors.
int block_dot_scalar(const uint8_t* vectors, int r, const int8_t* a, const int8_t* levels = kIq4Levels) {
    int s = 0;
    for (int j = 0; j < 4; ++j)
        for (int i = 0; i < 4; ++i) {
            const uint8_t v = vectors[32 * j + 4 * r + i];
            s += levels[v & 0xF] * a[8 * j + i] + levels[v >> 4] * a[8 * j + 4 + i];
        }
    return s;
}

float half(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return quant::h2f(h);
}

void iq4_nl_x8_scalar(const uint8_t* w, int64_t nb, const void* ap, size_t arb, int n_tok, float* out) {
    const auto* act = static_cast<const ActQ8*>(ap);
    const auto as = static_cast<int64_t>(arb / sizeof(ActQ8));
    for (int t = 0; t < n_tok; ++t) {
        float acc[8] = {};
        for (int64_t b = 0; b < nb; ++b) {
            const uint8_t* blk = w + b * 144;
            const ActQ8& a = act[t * as + b];
            for (int r = 0; r < 8; ++r)
                acc[r] += static_cast<float>(block_dot_scalar(blk + 16, r, a.q)) * (half(blk + 2 * r) * a.d);
        }
        std::memcpy(out + 8 * t, acc, sizeof acc);
    }
}

void mxfp4_x8_scalar(const uint8_t* w, int64_t nb, const void* ap, size_t arb, int n_tok, float* out) {
    const auto* act = static_cast<const ActQ8*>(ap);
    const auto as = static_cast<int64_t>(arb / sizeof(ActQ8));
    for (int t = 0; t < n_tok; ++t) {
        float acc[8] = {};
        for (int64_t b = 0; b < nb; ++b) {
            const uint8_t* blk = w + b * 136;
            const ActQ8& a = act[t * as + b];
            for (int r = 0; r < 8; ++r)
                acc[r] += static_cast<float>(block_dot_scalar(blk + 8, r, a.q, quant::kMxfp4Levels)) *
                          (quant::mxfp4_scale(blk[r]) * a.d);
        }
        std::memcpy(out + 8 * t, acc, sizeof acc);
    }
}

void iq4_xs_x8_scalar(const uint8_t* w, int64_t nb, const void* ap, size_t arb, int n_tok, float* out) {
    const auto* act = static_cast<const uint8_t*>(ap);
    for (int t = 0; t < n_tok; ++t) {
        float acc[8] = {};
        for (int64_t b = 0; b < nb; ++b) {
            const uint8_t* blk = w + b * kXsSuperBlockBytes;
            const BlockQ8_K& a = reinterpret_cast<const BlockQ8_K*>(act + t * arb)[b];
            for (int r = 0; r < 8; ++r) {
                int s = 0;
                for (int g = 0; g < 8; ++g)
                    s += static_cast<int8_t>(blk[16 + 8 * g + r]) * block_dot_scalar(blk + 80 + 128 * g, r, a.qs + 32 * g);
                acc[r] += static_cast<float>(s) * (half(blk + 2 * r) * a.d);
            }
        }
        std::memcpy(out + 8 * t, acc, sizeof acc);
    }
}

}  // namespace

QuantX8Kernel iq4_x8_kernel(int layout, CpuIsa isa) {
    const bool avx2 = isa >= CpuIsa::avx2;
    switch (layout) {
        case kLayoutIQ4_NLX8: return avx2 ? table4_x8_avx2<false> : iq4_nl_x8_scalar;
        case kLayoutMXFP4X8: return avx2 ? table4_x8_avx2<true> : mxfp4_x8_scalar;
        case kLayoutIQ4_XSX8: return avx2 ? iq4_xs_x8_avx2 : iq4_xs_x8_scalar;
        default: return nullptr;
    }
}

}  // namespace strata
