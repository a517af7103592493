// The activation quantizer of the integer X8 kernels (ActQ8 blocks, cpu_matmul_internal.h) on
// 512-bit vectors, run at the avx512 level and above. It writes what quantize_act_q8 writes at
// avx2 (a Q8_0 quantization, then |q| and Σq per block) in one pass per block: the same IEEE
// operations (absolute maximum, d = amax / 127 rounded through f16 for the stored scale, id =
// 1 / d, round-to-nearest-even of x · id saturated to int8), so the blocks are bitwise equal for
// finite inputs (tst_cpu_matmul checks it at ragged sizes).
#include "backend/cpu/cpu_matmul_internal.h"
#include "quant/quant_blocks.h"

#if defined(__x86_64__) || defined(__i386__)
// GCC 12 reports -Wmaybe-uninitialized inside its own AVX-512 intrinsics (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

namespace strata {

__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")))
void quantize_act_q8_avx512(const float* x, int64_t n_cols, ActQ8* out) {
    constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
    for (int64_t b = 0; b < n_cols / 32; ++b, x += 32) {
        const __m512 lo = _mm512_loadu_ps(x), hi = _mm512_loadu_ps(x + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(lo), _mm512_abs_ps(hi)));
        const float d = amax / 127.0f;
        const __m512 id = _mm512_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
        const __m128i q0 = _mm512_cvtsepi32_epi8(_mm512_cvt_roundps_epi32(_mm512_mul_ps(lo, id), kRound));
        const __m128i q1 = _mm512_cvtsepi32_epi8(_mm512_cvt_roundps_epi32(_mm512_mul_ps(hi, id), kRound));
        ActQ8& a = out[b];
        a.d = quant::h2f(quant::f2h(d));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(a.q), q0);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(a.q + 16), q1);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(a.aq), _mm_abs_epi8(q0));  // |-128| = 128 as uint8
        _mm_storeu_si128(reinterpret_cast<__m128i*>(a.aq + 16), _mm_abs_epi8(q1));
        a.sum = _mm512_reduce_add_epi32(_mm512_add_epi32(_mm512_cvtepi8_epi32(q0), _mm512_cvtepi8_epi32(q1)));
    }
}

}  // namespace strata

#else

namespace strata {
void quantize_act_q8_avx512(const float* x, int64_t n_cols, ActQ8* out) { quantize_act_q8(x, n_cols, out, CpuIsa::scalar); }
}  // namespace strata

#endif
