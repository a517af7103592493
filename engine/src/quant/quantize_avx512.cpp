// Activation quantizers on 512-bit vectors (Q8_0 and Q8_K rows), run at the avx512 level and
// above (util/cpu_features.h). They do what the AVX2 ones (dot_avx2_legacy.cpp) and the scalar
// reference do, in IEEE operations whose results do not depend on the vector width: the block's
// absolute maximum (max is exact, so any order gives the same value for finite inputs), d =
// amax / 127, id = 1 / d, each quant = round-to-nearest-even(x · id) saturated to int8, sums over
// the stored int8 quants. So they write bitwise the same blocks for finite inputs (tested in
// tst_cpu_matmul against both, at ragged sizes); inputs with NaN give NaN-dependent garbage in
// every version alike, but not necessarily the same garbage.
//
// Compiled with a function target attribute: a portable build carries it, only a CPU whose level
// is avx512 or above runs it.
#include "quant/quant_blocks.h"
#include "quant/quant_internal.h"

#if defined(__x86_64__) || defined(__i386__)
// GCC 12 reports -Wmaybe-uninitialized inside its own AVX-512 intrinsics (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

namespace strata::quant {
namespace {

#define T512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")))

// max |x| over n floats (n a multiple of 16).
T512 inline float absmax16(const float* x, int n) {
    __m512 m = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + i)));
    return _mm512_reduce_max_ps(m);
}

// 16 floats times id, rounded to nearest even, saturated to int8 (as _mm256_packs does).
T512 inline __m128i quantize16(const float* x, __m512 id) {
    const __m512i i = _mm512_cvt_roundps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x), id),
                                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm512_cvtsepi32_epi8(i);
}

T512 inline int sum_i8(__m128i q) { return _mm512_reduce_add_epi32(_mm512_cvtepi8_epi32(q)); }

}  // namespace

T512 void quantize_row_q8_0_avx512(const float* src, void* dst, int64_t n) {
    auto* b = static_cast<BlockQ8_0*>(dst);
    for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
        const float d = absmax16(src, kQK) / 127.0f;
        const __m512 id = _mm512_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(b[i].qs), quantize16(src, id));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(b[i].qs + 16), quantize16(src + 16, id));
        b[i].d = f2h(d);
    }
}

T512 void quantize_row_q8_k_avx512(const float* src, void* dst, int64_t n) {
    auto* b = static_cast<BlockQ8_K*>(dst);
    for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
        const float d = absmax16(src, kQKK) / 127.0f;
        const __m512 id = _mm512_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
        for (int g = 0; g < kQKK / 16; ++g) {  // bsums are per 16 quants: one vector each
            const __m128i q = quantize16(src + 16 * g, id);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(b[i].qs + 16 * g), q);
            b[i].bsums[g] = static_cast<int16_t>(sum_i8(q));
        }
        b[i].d = d;
    }
}

}  // namespace strata::quant

#else  // not x86: never dispatched (cpu_isa() is scalar there)

namespace strata::quant {
void quantize_row_q8_0_avx512(const float* src, void* dst, int64_t n) { quantize_row_q8_0(src, dst, n); }
void quantize_row_q8_k_avx512(const float* src, void* dst, int64_t n) { quantize_row_q8_k(src, dst, n); }
}  // namespace strata::quant

#endif
