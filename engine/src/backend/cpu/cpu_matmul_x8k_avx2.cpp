// AVX2 kernel of the Q4_K 8-row interleaved layout against Q8_K activations: per 32-column
// group the int16 products of the 8 rows accumulate over the group, then one vpmaddwd applies
// the 8 rows' group scales; the mins meet Q8_K's block sums in a second, short pass.
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

constexpr size_t kSuperBlockBytes = 1184;

// 8 bytes → [b0, b0, b1, b1, ... b7, b7] as int16.
AVX2 inline __m256i byte_pairs16(const uint8_t* p) {
    const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    return _mm256_or_si256(v, _mm256_slli_epi32(v, 16));
}

AVX2 inline __m256i bcast32(const void* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

template <int T>
AVX2 void q4_k_x8_t(const uint8_t* w, int64_t nb, const uint8_t* act, size_t arb, float* out) {
    using quant::BlockQ8_K;
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
            const uint8_t* q = w + 160 + 128 * g;
            __m256i s16[T];
#pragma GCC unroll 4
            for (int t = 0; t < T; ++t) s16[t] = _mm256_setzero_si256();
#pragma GCC unroll 4
            for (int j = 0; j < 4; ++j) {
                const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 32 * j));
                const __m256i lo = _mm256_and_si256(v, m4);
                const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
#pragma GCC unroll 4
                for (int t = 0; t < T; ++t) {
                    const int8_t* aq = a[t]->qs + 32 * g + 8 * j;
                    const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, bcast32(aq)),
                                                       _mm256_maddubs_epi16(hi, bcast32(aq + 4)));
                    s16[t] = _mm256_add_epi16(s16[t], p);
                    KEEP_IN_REG(s16[t]);
                }
            }
            const __m256i sc = byte_pairs16(w + 32 + 8 * g);
#pragma GCC unroll 4
            for (int t = 0; t < T; ++t) {
                isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(s16[t], sc));
                KEEP_IN_REG(isum[t]);
            }
        }
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
            const __m256 d = _mm256_mul_ps(wd, _mm256_set1_ps(a[t]->d));
            _mm256_storeu_ps(out + 8 * t, _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), d, _mm256_loadu_ps(out + 8 * t)));
        }
    }
}

void q4_k_x8_avx2(const uint8_t* w, int64_t nb, const void* act, size_t arb, int n_tok, float* out) {
    const auto* a = static_cast<const uint8_t*>(act);
    switch (n_tok) {
        case 1: return q4_k_x8_t<1>(w, nb, a, arb, out);
        case 2: return q4_k_x8_t<2>(w, nb, a, arb, out);
        case 3: return q4_k_x8_t<3>(w, nb, a, arb, out);
        default: return q4_k_x8_t<4>(w, nb, a, arb, out);
    }
}

}  // namespace

QuantX8Kernel q4_k_x8_kernel_avx2() { return q4_k_x8_avx2; }

}  // namespace strata
