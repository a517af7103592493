// Small AVX2 helpers shared by the AVX2 kernels. Every function here is compiled for
// AVX2+FMA+F16C through target attributes (not -mavx2), so only the callers that the run-time
// dispatcher picks on a capable CPU ever execute them.
#pragma once

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#define STRATA_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace strata::quant::avx2 {

STRATA_AVX2 inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

STRATA_AVX2 inline float hmax(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

STRATA_AVX2 inline int hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

// The 4 bytes at p in every 32-bit lane.
STRATA_AVX2 inline __m256i bcast32(const void* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

// The 16 bytes at p in both 128-bit lanes (a table for _mm256_shuffle_epi8).
STRATA_AVX2 inline __m256i bcast128(const void* p) {
    const __m128i t = _mm_loadu_si128(static_cast<const __m128i*>(p));
    return _mm256_set_m128i(t, t);
}

// 16 packed nibbles → 32 bytes: low nibbles in bytes 0..15, high nibbles in bytes 16..31.
STRATA_AVX2 inline __m256i unpack_nibbles16(const uint8_t* p) {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i m = _mm_set1_epi8(0x0F);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m), _mm_and_si128(q, m));
}

// Bit j of the 32-bit little-endian word at p → byte j of the result is `value` or 0.
STRATA_AVX2 inline __m256i expand_bits32(const uint8_t* p, char value) {
    uint32_t bits;
    std::memcpy(&bits, p, 4);
    const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), shuf);
    const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ULL));
    v = _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
    return _mm256_and_si256(v, _mm256_set1_epi8(value));
}

// Σ of 32 products u8·s8, as 8 int32 lanes.
STRATA_AVX2 inline __m256i dot_u8s8(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

// Σ of 32 products s8·s8 (values in [-127, 127]), as 8 int32 lanes.
STRATA_AVX2 inline __m256i dot_s8s8(__m256i a, __m256i b) {
    return dot_u8s8(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
}

}  // namespace strata::quant::avx2

#endif
