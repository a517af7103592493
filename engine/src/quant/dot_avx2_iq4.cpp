// AVX2 dot kernels of the table formats: IQ4_NL and MXFP4 (against Q8_0) and IQ4_XS (against
// Q8_K). The 4-bit indices become int8 levels with one byte shuffle against the 16-entry table;
// the products are then exact int8·int8 sums (levels within [-127, 113], activations within
// [-127, 127]).
#include "quant/avx2_util.h"
#include "quant/quant_blocks.h"
#include "quant/quant_internal.h"

namespace strata::quant {
using namespace avx2;

namespace {

// 16 bytes of nibbles → the 32 levels they index, in element order.
STRATA_AVX2 inline __m256i levels32(__m256i table, const uint8_t* qs) {
    return _mm256_shuffle_epi8(table, unpack_nibbles16(qs));
}

}  // namespace

STRATA_AVX2 float vec_dot_iq4_nl_q8_0_avx2(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockIQ4_NL*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    const __m256i table = bcast128(kIq4Levels);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQK; ++i) {
        const __m256i wq = levels32(table, x[i].qs);
        const __m256i aq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_s8s8(wq, aq)), _mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), acc);
    }
    return hsum(acc);
}

STRATA_AVX2 float vec_dot_iq4_xs_q8_k_avx2(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockIQ4_XS*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    const __m256i table = bcast128(kIq4Levels);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQKK; ++i) {
        // Per group: 8 int32 partial sums × its 6-bit scale; summed exactly in int32 (at most
        // 256 · 127 · 127 · 32 < 2^31).
        __m256i sumi = _mm256_setzero_si256();
        for (int g = 0; g < 8; ++g) {
            const __m256i wq = levels32(table, x[i].qs + 16 * g);
            const __m256i aq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs + 32 * g));
            sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(dot_s8s8(wq, aq), _mm256_set1_epi32(iq4xs_scale(x[i], g))));
        }
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), _mm256_set1_ps(h2f(x[i].d) * y[i].d), acc);
    }
    return hsum(acc);
}

STRATA_AVX2 float vec_dot_mxfp4_q8_0_avx2(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockMXFP4*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    const __m256i table = bcast128(kMxfp4Levels);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQK; ++i) {
        const __m256i wq = levels32(table, x[i].qs);
        const __m256i aq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_s8s8(wq, aq)), _mm256_set1_ps(mxfp4_scale(x[i].e) * h2f(y[i].d)), acc);
    }
    return hsum(acc);
}

}  // namespace strata::quant
