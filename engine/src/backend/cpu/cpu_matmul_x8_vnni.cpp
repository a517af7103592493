// VNNI forms of the integer 8-row interleaved kernels (layouts in cpu_matmul_internal.h).
//
// vpdpbusd adds four u8·s8 products straight into an int32 lane, where AVX2 needs vpmaddubsw
// (pairs into int16) and vpmaddwd (pairs into int32): one instruction instead of two or three
// per weight vector and token, and no int16 partial sums to flush. The kernel bodies live in
// cpu_matmul_x8_vnni_body.inc and are compiled three times: for AVX-VNNI (VEX), for
// AVX512-VNNI + AVX512VL (EVEX, 256-bit vectors), and on an exact AVX2 emulation of the
// instruction that lets machines without VNNI run and test the same code.
#include "backend/cpu/cpu_matmul_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cstring>

#include "quant/avx2_util.h"
#include "quant/quant_blocks.h"

namespace strata {

namespace vnni_avx {
#define STRATA_VNNI_TARGET __attribute__((target("avx2,fma,f16c,avxvnni")))
#define STRATA_VNNI_DP(acc, u, s) _mm256_dpbusd_avx_epi32((acc), (u), (s))
#include "backend/cpu/cpu_matmul_x8_vnni_body.inc"
#undef STRATA_VNNI_TARGET
#undef STRATA_VNNI_DP
}  // namespace vnni_avx

namespace vnni_avx512 {
#define STRATA_VNNI_TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512vnni,avx512vl")))
#define STRATA_VNNI_DP(acc, u, s) _mm256_dpbusd_epi32((acc), (u), (s))
#include "backend/cpu/cpu_matmul_x8_vnni_body.inc"
#undef STRATA_VNNI_TARGET
#undef STRATA_VNNI_DP
}  // namespace vnni_avx512

namespace vnni_emulated {
// acc + Σ of the four u8·s8 products in each int32 lane, without saturation, as vpdpbusd: the
// even and odd bytes of each 16-bit lane widened to int16 (u zero-, s sign-extended), then one
// vpmaddwd each. Products are at most 255·128, pair sums fit int32 exactly.
STRATA_AVX2 inline __m256i dpbusd_emulated(__m256i acc, __m256i u, __m256i s) {
    const __m256i u_even = _mm256_and_si256(u, _mm256_set1_epi16(0x00FF));
    const __m256i u_odd = _mm256_srli_epi16(u, 8);
    const __m256i s_even = _mm256_srai_epi16(_mm256_slli_epi16(s, 8), 8);
    const __m256i s_odd = _mm256_srai_epi16(s, 8);
    return _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_madd_epi16(u_even, s_even), _mm256_madd_epi16(u_odd, s_odd)));
}
#define STRATA_VNNI_TARGET STRATA_AVX2
#define STRATA_VNNI_DP(acc, u, s) dpbusd_emulated((acc), (u), (s))
#include "backend/cpu/cpu_matmul_x8_vnni_body.inc"
#undef STRATA_VNNI_TARGET
#undef STRATA_VNNI_DP
}  // namespace vnni_emulated

QuantX8Kernel quant_x8_kernel_vnni(int layout, VnniForm form) {
    switch (form) {
        case VnniForm::avx_vnni: return vnni_avx::kernel(layout);
        case VnniForm::avx512_vnni: return vnni_avx512::kernel(layout);
        case VnniForm::emulated: return vnni_emulated::kernel(layout);
    }
    return nullptr;
}

}  // namespace strata

#else

namespace strata {
QuantX8Kernel quant_x8_kernel_vnni(int, VnniForm) { return nullptr; }
}  // namespace strata

#endif
