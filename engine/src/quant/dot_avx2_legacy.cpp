// AVX2 dot kernels of the 32-element formats against Q8_0 / Q8_1 activations, the float
// weight types against F32 activations, and the AVX2 activation quantizers (bit-identical to
// the reference ones: same float operations, round-to-nearest-even).
#include <algorithm>
#include <cmath>

#include "quant/avx2_util.h"
#include "quant/quant_blocks.h"
#include "quant/quant_internal.h"

namespace strata::quant {
using namespace avx2;

STRATA_AVX2 float vec_dot_q4_0_q8_0_avx2(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ4_0*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    const __m256i eight = _mm256_set1_epi8(8);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQK; ++i) {
        const __m256i wq = unpack_nibbles16(x[i].qs);
        const __m256i aq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
        const __m256i p16 = _mm256_sub_epi16(_mm256_maddubs_epi16(wq, aq), _mm256_maddubs_epi16(eight, aq));
        const __m256i p32 = _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), _mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), acc);
    }
    return hsum(acc);
}

STRATA_AVX2 float vec_dot_q4_1_q8_1_avx2(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ4_1*>(w);
    const auto* y = static_cast<const BlockQ8_1*>(a);
    __m256 acc = _mm256_setzero_ps();
    float ms = 0.0f;
    for (int64_t i = 0; i < n / kQK; ++i) {
        const __m256i wq = unpack_nibbles16(x[i].qs);
        const __m256i aq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_u8s8(wq, aq)), _mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), acc);
        ms += h2f(x[i].m) * h2f(y[i].s);
    }
    return hsum(acc) + ms;
}

STRATA_AVX2 float vec_dot_q5_0_q8_0_avx2(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ5_0*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    const __m256i sixteen = _mm256_set1_epi8(16);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQK; ++i) {
        const __m256i wq = _mm256_or_si256(unpack_nibbles16(x[i].qs), expand_bits32(x[i].qh, 0x10));
        const __m256i aq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
        const __m256i p16 = _mm256_sub_epi16(_mm256_maddubs_epi16(wq, aq), _mm256_maddubs_epi16(sixteen, aq));
        const __m256i p32 = _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), _mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), acc);
    }
    return hsum(acc);
}

STRATA_AVX2 float vec_dot_q5_1_q8_1_avx2(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ5_1*>(w);
    const auto* y = static_cast<const BlockQ8_1*>(a);
    __m256 acc = _mm256_setzero_ps();
    float ms = 0.0f;
    for (int64_t i = 0; i < n / kQK; ++i) {
        const __m256i wq = _mm256_or_si256(unpack_nibbles16(x[i].qs), expand_bits32(x[i].qh, 0x10));
        const __m256i aq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_u8s8(wq, aq)), _mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), acc);
        ms += h2f(x[i].m) * h2f(y[i].s);
    }
    return hsum(acc) + ms;
}

STRATA_AVX2 float vec_dot_q8_0_q8_0_avx2(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ8_0*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQK; ++i) {
        const __m256i wq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs));
        const __m256i aq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_s8s8(wq, aq)), _mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), acc);
    }
    return hsum(acc);
}

// ---- float weights ----------------------------------------------------------------------------

namespace {
template <class Load>
STRATA_AVX2 inline float dot_float_rows(int64_t n, const float* y, Load load) {  // n % 8 == 0
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps(),
           acc3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_fmadd_ps(load(i), _mm256_loadu_ps(y + i), acc0);
        acc1 = _mm256_fmadd_ps(load(i + 8), _mm256_loadu_ps(y + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(load(i + 16), _mm256_loadu_ps(y + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(load(i + 24), _mm256_loadu_ps(y + i + 24), acc3);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(load(i), _mm256_loadu_ps(y + i), acc0);
    return hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}
}  // namespace

STRATA_AVX2 float vec_dot_f32_f32_avx2(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const float*>(w);
    const auto* y = static_cast<const float*>(a);
    struct L { const float* x; STRATA_AVX2 __m256 operator()(int64_t i) const { return _mm256_loadu_ps(x + i); } };
    float tail = 0.0f;
    const int64_t n8 = n & ~int64_t(7);
    for (int64_t i = n8; i < n; ++i) tail += x[i] * y[i];
    return dot_float_rows(n8, y, L{x}) + tail;
}

STRATA_AVX2 float vec_dot_f16_f32_avx2(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const uint16_t*>(w);
    const auto* y = static_cast<const float*>(a);
    struct L {
        const uint16_t* x;
        STRATA_AVX2 __m256 operator()(int64_t i) const {
            return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
        }
    };
    float tail = 0.0f;
    const int64_t n8 = n & ~int64_t(7);
    for (int64_t i = n8; i < n; ++i) tail += fp16_to_fp32(x[i]) * y[i];
    return dot_float_rows(n8, y, L{x}) + tail;
}

STRATA_AVX2 float vec_dot_bf16_f32_avx2(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const uint16_t*>(w);
    const auto* y = static_cast<const float*>(a);
    struct L {
        const uint16_t* x;
        STRATA_AVX2 __m256 operator()(int64_t i) const {
            const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
            return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
        }
    };
    float tail = 0.0f;
    const int64_t n8 = n & ~int64_t(7);
    for (int64_t i = n8; i < n; ++i) tail += bf16_to_fp32(x[i]) * y[i];
    return dot_float_rows(n8, y, L{x}) + tail;
}

STRATA_AVX2 void dequantize_row_f16_avx2(const void* src, float* dst, int64_t n) {
    const auto* x = static_cast<const uint16_t*>(src);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))));
    }
    for (; i < n; ++i) dst[i] = fp16_to_fp32(x[i]);
}

// ---- activation quantizers -------------------------------------------------------------------

namespace {
// Quantizes 32 floats with inverse scale id; writes 32 int8, returns their int32 partial sums.
STRATA_AVX2 inline __m256i quantize32(const float* x, __m256 id, int8_t* out) {
    constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
    const __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x), id), kRound));
    const __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 8), id), kRound));
    const __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 16), id), kRound));
    const __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 24), id), kRound));
    const __m256i p01 = _mm256_packs_epi32(i0, i1);  // lanes interleaved by 128-bit halves
    const __m256i p23 = _mm256_packs_epi32(i2, i3);
    __m256i b = _mm256_packs_epi16(p01, p23);
    b = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), b);
    return _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
}

STRATA_AVX2 inline float absmax(const float* x, int n) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    for (int i = 0; i < n; i += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
}  // namespace

STRATA_AVX2 void quantize_row_q8_0_avx2(const float* src, void* dst, int64_t n) {
    auto* b = static_cast<BlockQ8_0*>(dst);
    for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
        const float d = absmax(src, kQK) / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        quantize32(src, _mm256_set1_ps(id), b[i].qs);
        b[i].d = f2h(d);
    }
}

STRATA_AVX2 void quantize_row_q8_1_avx2(const float* src, void* dst, int64_t n) {
    auto* b = static_cast<BlockQ8_1*>(dst);
    for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
        const float d = absmax(src, kQK) / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        const int sum = hsum_i32(quantize32(src, _mm256_set1_ps(id), b[i].qs));
        b[i].d = f2h(d);
        b[i].s = f2h(h2f(b[i].d) * static_cast<float>(sum));
    }
}

STRATA_AVX2 void quantize_row_q8_k_avx2(const float* src, void* dst, int64_t n) {
    auto* b = static_cast<BlockQ8_K*>(dst);
    for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
        const float d = absmax(src, kQKK) / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        const __m256 vid = _mm256_set1_ps(id);
        for (int j = 0; j < kQKK / 32; ++j) {
            quantize32(src + 32 * j, vid, b[i].qs + 32 * j);
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].qs + 32 * j));
            const __m256i q16lo = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(q));
            const __m256i q16hi = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(q, 1));
            b[i].bsums[2 * j] = static_cast<int16_t>(hsum_i32(_mm256_madd_epi16(q16lo, _mm256_set1_epi16(1))));
            b[i].bsums[2 * j + 1] = static_cast<int16_t>(hsum_i32(_mm256_madd_epi16(q16hi, _mm256_set1_epi16(1))));
        }
        b[i].d = d;
    }
}

}  // namespace strata::quant
