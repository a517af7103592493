// AVX2 kernels of the K-quant 8-row interleaved layouts against Q8_K activations.
// Q4_K/Q5_K: per 32-column group the int16 products of the 8 rows accumulate over the group
// (Q5_K: over half a group, its 5-bit levels would overflow int16), then one vpmaddwd applies
// the 8 rows' group scales; the mins meet Q8_K's block sums in a second, short pass.
// Q6_K: per 16-column group, vpmaddwd by the rows' signed scales; the level offset 32 is
// taken off in integers with the block sums. Q2_K/Q3_K: as Q6_K with 2-bit planes (and Q3_K's
// third bit), Q2_K's mins as Q4_K's.
//
// The running sums live in the output tile (memory) between super-blocks, so that the group
// pass can keep 4 tokens × (int16 sums + int32 sums) in registers; each token's float
// operations are the same whatever the tile size, so decode and prefill agree bitwise.
#include <cstring>

#include "backend/cpu/cpu_matmul_internal.h"
#include "quant/avx2_util.h"
#include "quant/quant_blocks.h"

namespace strata {
namespace {

#define AVX2 STRATA_AVX2
#define KEEP_IN_REG(v) __asm__("" : "+x"(v))


// 8 bytes → [b0, b0, b1, b1, ... b7, b7] as int16.
AVX2 inline __m256i byte_pairs16(const uint8_t* p) {
    const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    return _mm256_or_si256(v, _mm256_slli_epi32(v, 16));
}

// 8 signed bytes → [b0, b0, b1, b1, ...] as int16.
AVX2 inline __m256i byte_pairs16s(const int8_t* p) {
    const __m256i v = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    return _mm256_or_si256(_mm256_and_si256(v, _mm256_set1_epi32(0xFFFF)), _mm256_slli_epi32(v, 16));
}

using quant::avx2::bcast32;

// Adds bit `bit` of each byte of h, as 16, to levels.
AVX2 inline __m256i add_bit4(__m256i levels, __m256i h, int bit) {
    const __m256i one = _mm256_set1_epi8(1);
    return _mm256_or_si256(levels, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, bit), one), 4));
}

template <bool kFifthBit, int T>
AVX2 void q45_k_x8_t(const uint8_t* w, int64_t nb, const uint8_t* act, size_t arb, float* out) {
    using quant::BlockQ8_K;
    constexpr size_t kGroupBytes = kFifthBit ? 160 : 128;
    constexpr size_t kSuperBlockBytes = 160 + 8 * kGroupBytes;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int t = 0; t < T; ++t) _mm256_storeu_ps(out + 8 * t, _mm256_setzero_ps());
    for (int64_t b = 0; b < nb; ++b, w += kSuperBlockBytes) {
        const BlockQ8_K* a[T];
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(act + t * arb) + b;
        const __m256 wd = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
        const __m256 wm = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 16)));
        {  // mins: Σ_g mn[g][r] · (bsums[2g] + bsums[2g+1])
            __m256i imin[T];
#pragma GCC unroll 4
            for (int t = 0; t < T; ++t) imin[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
            for (int g = 0; g < 8; ++g) {
                const __m256i mn = byte_pairs16(w + 96 + 8 * g);
#pragma GCC unroll 4
                for (int t = 0; t < T; ++t) {
                    imin[t] = _mm256_add_epi32(imin[t], _mm256_madd_epi16(mn, bcast32(a[t]->bsums + 2 * g)));
                    KEEP_IN_REG(imin[t]);
                }
            }
#pragma GCC unroll 4
            for (int t = 0; t < T; ++t) {
                const __m256 m = _mm256_mul_ps(wm, _mm256_set1_ps(a[t]->d));
                _mm256_storeu_ps(out + 8 * t,
                                 _mm256_fnmadd_ps(_mm256_cvtepi32_ps(imin[t]), m, _mm256_loadu_ps(out + 8 * t)));
            }
        }
        __m256i isum[T];
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) isum[t] = _mm256_setzero_si256();
        for (int g = 0; g < 8; ++g) {
            const uint8_t* q = w + 160 + kGroupBytes * g;
            const __m256i sc = byte_pairs16(w + 32 + 8 * g);
            __m256i h = _mm256_setzero_si256();
            if constexpr (kFifthBit) h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 128));
            __m256i s16[T];
#pragma GCC unroll 4
            for (int t = 0; t < T; ++t) s16[t] = _mm256_setzero_si256();
#pragma GCC unroll 4
            for (int j = 0; j < 4; ++j) {
                const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 32 * j));
                __m256i lo = _mm256_and_si256(v, m4);
                __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
                if constexpr (kFifthBit) {
                    lo = add_bit4(lo, h, j);
                    hi = add_bit4(hi, h, 4 + j);
                }
#pragma GCC unroll 4
                for (int t = 0; t < T; ++t) {
                    const int8_t* aq = a[t]->qs + 32 * g + 8 * j;
                    const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, bcast32(aq)),
                                                       _mm256_maddubs_epi16(hi, bcast32(aq + 4)));
                    s16[t] = _mm256_add_epi16(s16[t], p);
                    KEEP_IN_REG(s16[t]);
                }
                if (j == 3 || (kFifthBit && j == 1)) {  // flush before int16 could overflow
#pragma GCC unroll 4
                    for (int t = 0; t < T; ++t) {
                        isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(s16[t], sc));
                        s16[t] = _mm256_setzero_si256();
                        KEEP_IN_REG(isum[t]);
                    }
                }
            }
        }
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
            const __m256 d = _mm256_mul_ps(wd, _mm256_set1_ps(a[t]->d));
            _mm256_storeu_ps(out + 8 * t, _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), d, _mm256_loadu_ps(out + 8 * t)));
        }
    }
}

// 8 signed bytes at p and at p2 → int16 pairs [p[r], p2[r]] per int32 lane r.
AVX2 inline __m256i sbyte_pairs16(const int8_t* p, const int8_t* p2) {
    const __m256i a = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    const __m256i b = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p2)));
    return _mm256_or_si256(_mm256_and_si256(a, _mm256_set1_epi32(0xFFFF)), _mm256_slli_epi32(b, 16));
}

// Q6_K x8 super-block (1680 bytes): d[8] (f16), scales sc[16][8] (int8), then per 32-column
// chunk c: 4 nibble vectors as in Q4_0X8 (levels' low 4 bits) and 2 vectors with their top 2
// bits: byte 4r+i of the first holds in bits 2j..2j+1 the top bits of column 8j+i, the second
// those of column 8j+4+i.
template <int T>
AVX2 void q6_k_x8_t(const uint8_t* w, int64_t nb, const uint8_t* act, size_t arb, float* out) {
    using quant::BlockQ8_K;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
    for (int t = 0; t < T; ++t) _mm256_storeu_ps(out + 8 * t, _mm256_setzero_ps());
    for (int64_t b = 0; b < nb; ++b, w += 1680) {
        const BlockQ8_K* a[T];
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(act + t * arb) + b;
        const auto* sc8 = reinterpret_cast<const int8_t*>(w + 16);
        __m256i isum[T];
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) isum[t] = _mm256_setzero_si256();
        for (int c = 0; c < 8; ++c) {
            const uint8_t* q = w + 144 + 192 * c;
            const __m256i h0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 128));
            const __m256i h1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 160));
            {  // level offset: isum -= 32 · (sc[2c]·bsums[2c] + sc[2c+1]·bsums[2c+1])
                const __m256i scp = sbyte_pairs16(sc8 + 8 * (2 * c), sc8 + 8 * (2 * c + 1));
#pragma GCC unroll 4
                for (int t = 0; t < T; ++t) {
                    const __m256i off = _mm256_madd_epi16(scp, bcast32(a[t]->bsums + 2 * c));
                    isum[t] = _mm256_sub_epi32(isum[t], _mm256_slli_epi32(off, 5));
                    KEEP_IN_REG(isum[t]);
                }
            }
#pragma GCC unroll 4
            for (int j = 0; j < 4; ++j) {
                const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 32 * j));
                const __m256i lo = _mm256_or_si256(
                    _mm256_and_si256(v, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h0, 2 * j), m2), 4));
                const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4),
                                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h1, 2 * j), m2), 4));
                const __m256i sc = byte_pairs16s(sc8 + 8 * (2 * c + j / 2));
#pragma GCC unroll 4
                for (int t = 0; t < T; ++t) {
                    const int8_t* aq = a[t]->qs + 32 * c + 8 * j;
                    const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, bcast32(aq)),
                                                       _mm256_maddubs_epi16(hi, bcast32(aq + 4)));
                    isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(p, sc));
                    KEEP_IN_REG(isum[t]);
                }
            }
        }
        const __m256 wd = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
            const __m256 d = _mm256_mul_ps(wd, _mm256_set1_ps(a[t]->d));
            _mm256_storeu_ps(out + 8 * t, _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), d, _mm256_loadu_ps(out + 8 * t)));
        }
    }
}

// Q3_K x8 super-block (912 bytes): d[8] (f16), scales sc[16][8] (int8, -32..31), then per
// 32-column chunk c three vectors: L0 and L1 hold in bits 2j..2j+1 of byte 4r+i the low 2 bits
// of level u = q + 4 of row r at column 8j+i (L0) or 8j+4+i (L1); H holds their third bits in
// bit j (column 8j+i) and bit 4+j (column 8j+4+i).
// Q2_K x8 super-block (672 bytes): d[8], dmin[8] (f16), scale|min<<4 bytes scm[16][8], then per
// chunk L0 and L1 as for Q3_K (levels 0..3).
template <bool kQ3, int T>
AVX2 void q23_k_x8_t(const uint8_t* w, int64_t nb, const uint8_t* act, size_t arb, float* out) {
    using quant::BlockQ8_K;
    constexpr size_t kHead = kQ3 ? 144 : 160, kChunk = kQ3 ? 96 : 64, kBytes = kHead + 8 * kChunk;
    const __m256i m2 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1), m4_32 = _mm256_set1_epi32(0x0F);
    for (int t = 0; t < T; ++t) _mm256_storeu_ps(out + 8 * t, _mm256_setzero_ps());
    for (int64_t b = 0; b < nb; ++b, w += kBytes) {
        const BlockQ8_K* a[T];
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(act + t * arb) + b;
        const uint8_t* scb = w + (kQ3 ? 16 : 32);
        if constexpr (!kQ3) {  // mins: Σ_g mn[g][r] · bsums[g], taken off with dmin
            __m256i imin[T];
#pragma GCC unroll 4
            for (int t = 0; t < T; ++t) imin[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
            for (int c = 0; c < 8; ++c) {
                const __m256i m0 = _mm256_srli_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(scb + 16 * c))), 4);
                const __m256i m1 = _mm256_srli_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(scb + 16 * c + 8))), 4);
                const __m256i mp = _mm256_or_si256(m0, _mm256_slli_epi32(m1, 16));
#pragma GCC unroll 4
                for (int t = 0; t < T; ++t) {
                    imin[t] = _mm256_add_epi32(imin[t], _mm256_madd_epi16(mp, bcast32(a[t]->bsums + 2 * c)));
                    KEEP_IN_REG(imin[t]);
                }
            }
            const __m256 wm = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 16)));
#pragma GCC unroll 4
            for (int t = 0; t < T; ++t) {
                const __m256 m = _mm256_mul_ps(wm, _mm256_set1_ps(a[t]->d));
                _mm256_storeu_ps(out + 8 * t,
                                 _mm256_fnmadd_ps(_mm256_cvtepi32_ps(imin[t]), m, _mm256_loadu_ps(out + 8 * t)));
            }
        }
        __m256i isum[T];
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) isum[t] = _mm256_setzero_si256();
        for (int c = 0; c < 8; ++c) {
            const uint8_t* q = w + kHead + kChunk * c;
            const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
            const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 32));
            __m256i h = _mm256_setzero_si256();
            if constexpr (kQ3) {
                h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64));
                // level offset 4: isum -= 4 · (sc[2c]·bsums[2c] + sc[2c+1]·bsums[2c+1])
                const auto* sc8 = reinterpret_cast<const int8_t*>(scb);
                const __m256i scp = sbyte_pairs16(sc8 + 16 * c, sc8 + 16 * c + 8);
#pragma GCC unroll 4
                for (int t = 0; t < T; ++t) {
                    const __m256i off = _mm256_madd_epi16(scp, bcast32(a[t]->bsums + 2 * c));
                    isum[t] = _mm256_sub_epi32(isum[t], _mm256_slli_epi32(off, 2));
                    KEEP_IN_REG(isum[t]);
                }
            }
#pragma GCC unroll 2
            for (int half = 0; half < 2; ++half) {
                __m256i s16[T];
#pragma GCC unroll 4
                for (int t = 0; t < T; ++t) s16[t] = _mm256_setzero_si256();
#pragma GCC unroll 2
                for (int jj = 0; jj < 2; ++jj) {
                    const int j = 2 * half + jj;
                    __m256i lo = _mm256_and_si256(_mm256_srli_epi16(l0, 2 * j), m2);
                    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(l1, 2 * j), m2);
                    if constexpr (kQ3) {
                        lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, j), one), 2));
                        hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4 + j), one), 2));
                    }
#pragma GCC unroll 4
                    for (int t = 0; t < T; ++t) {
                        const int8_t* aq = a[t]->qs + 32 * c + 8 * j;
                        const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, bcast32(aq)),
                                                           _mm256_maddubs_epi16(hi, bcast32(aq + 4)));
                        s16[t] = _mm256_add_epi16(s16[t], p);
                        KEEP_IN_REG(s16[t]);
                    }
                }
                __m256i sc;
                if constexpr (kQ3) {
                    sc = byte_pairs16s(reinterpret_cast<const int8_t*>(scb) + 8 * (2 * c + half));
                } else {
                    const __m256i v = _mm256_and_si256(
                        _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(scb + 8 * (2 * c + half)))), m4_32);
                    sc = _mm256_or_si256(v, _mm256_slli_epi32(v, 16));
                }
#pragma GCC unroll 4
                for (int t = 0; t < T; ++t) {
                    isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(s16[t], sc));
                    KEEP_IN_REG(isum[t]);
                }
            }
        }
        const __m256 wd = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
            const __m256 d = _mm256_mul_ps(wd, _mm256_set1_ps(a[t]->d));
            _mm256_storeu_ps(out + 8 * t, _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), d, _mm256_loadu_ps(out + 8 * t)));
        }
    }
}

#define STRATA_TILE_DISPATCH(name, call)                                                           \
    void name(const uint8_t* w, int64_t nb, const void* act, size_t arb, int n_tok, float* out) { \
        const auto* a = static_cast<const uint8_t*>(act);                                          \
        switch (n_tok) {                                                                           \
            case 1: return call<1>(w, nb, a, arb, out);                                            \
            case 2: return call<2>(w, nb, a, arb, out);                                            \
            case 3: return call<3>(w, nb, a, arb, out);                                            \
            default: return call<4>(w, nb, a, arb, out);                                           \
        }                                                                                          \
    }

template <int T>
AVX2 void q4_k_x8_t(const uint8_t* w, int64_t nb, const uint8_t* a, size_t arb, float* out) {
    q45_k_x8_t<false, T>(w, nb, a, arb, out);
}
template <int T>
AVX2 void q5_k_x8_t(const uint8_t* w, int64_t nb, const uint8_t* a, size_t arb, float* out) {
    q45_k_x8_t<true, T>(w, nb, a, arb, out);
}
template <int T>
AVX2 void q2_k_x8_t(const uint8_t* w, int64_t nb, const uint8_t* a, size_t arb, float* out) {
    q23_k_x8_t<false, T>(w, nb, a, arb, out);
}
template <int T>
AVX2 void q3_k_x8_t(const uint8_t* w, int64_t nb, const uint8_t* a, size_t arb, float* out) {
    q23_k_x8_t<true, T>(w, nb, a, arb, out);
}
STRATA_TILE_DISPATCH(q2_k_x8_avx2, q2_k_x8_t)
STRATA_TILE_DISPATCH(q3_k_x8_avx2, q3_k_x8_t)
STRATA_TILE_DISPATCH(q4_k_x8_avx2, q4_k_x8_t)
STRATA_TILE_DISPATCH(q5_k_x8_avx2, q5_k_x8_t)
STRATA_TILE_DISPATCH(q6_k_x8_avx2, q6_k_x8_t)

}  // namespace

QuantX8Kernel k_x8_kernel_avx2(int layout) {
    switch (layout) {
        case kLayoutQ2_KX8: return q2_k_x8_avx2;
        case kLayoutQ3_KX8: return q3_k_x8_avx2;
        case kLayoutQ4_KX8: return q4_k_x8_avx2;
        case kLayoutQ5_KX8: return q5_k_x8_avx2;
        case kLayoutQ6_KX8: return q6_k_x8_avx2;
        default: return nullptr;
    }
}

}  // namespace strata
