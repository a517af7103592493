// Portable dot kernels: the fallback path when AVX2 is absent or STRATA_CPU_ISA=scalar.
// Integer sums per block (exact), then one float multiply-add per block, as the SIMD kernels
// do; only the float accumulation order differs from them.
#include <cstring>

#include "quant/quant_blocks.h"
#include "quant/quant_internal.h"

namespace strata::quant {
namespace {

uint32_t qh32(const uint8_t* qh) {
    uint32_t v;
    std::memcpy(&v, qh, 4);
    return v;
}

// 4-bit (and optional fifth bit) levels of a legacy block, unsigned.
void legacy_levels(const uint8_t* qs, const uint8_t* qh, int* L) {
    const uint32_t h = qh ? qh32(qh) : 0;
    for (int j = 0; j < 16; ++j) {
        L[j] = (qs[j] & 0xF) | static_cast<int>(((h >> j) & 1) << 4);
        L[j + 16] = (qs[j] >> 4) | static_cast<int>(((h >> (j + 16)) & 1) << 4);
    }
}

int dot32(const int* L, const int8_t* a) {
    int s = 0;
    for (int j = 0; j < 32; ++j) s += L[j] * a[j];
    return s;
}

int sum32(const int8_t* a) {
    int s = 0;
    for (int j = 0; j < 32; ++j) s += a[j];
    return s;
}

}  // namespace

float vec_dot_q4_0_q8_0_scalar(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ4_0*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    float sum = 0.0f;
    int L[32];
    for (int64_t i = 0; i < n / kQK; ++i) {
        legacy_levels(x[i].qs, nullptr, L);
        const int s = dot32(L, y[i].qs) - 8 * sum32(y[i].qs);
        sum += h2f(x[i].d) * h2f(y[i].d) * static_cast<float>(s);
    }
    return sum;
}

float vec_dot_q4_1_q8_1_scalar(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ4_1*>(w);
    const auto* y = static_cast<const BlockQ8_1*>(a);
    float sum = 0.0f;
    int L[32];
    for (int64_t i = 0; i < n / kQK; ++i) {
        legacy_levels(x[i].qs, nullptr, L);
        sum += h2f(x[i].d) * h2f(y[i].d) * static_cast<float>(dot32(L, y[i].qs)) + h2f(x[i].m) * h2f(y[i].s);
    }
    return sum;
}

float vec_dot_q5_0_q8_0_scalar(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ5_0*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    float sum = 0.0f;
    int L[32];
    for (int64_t i = 0; i < n / kQK; ++i) {
        legacy_levels(x[i].qs, x[i].qh, L);
        const int s = dot32(L, y[i].qs) - 16 * sum32(y[i].qs);
        sum += h2f(x[i].d) * h2f(y[i].d) * static_cast<float>(s);
    }
    return sum;
}

float vec_dot_q5_1_q8_1_scalar(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ5_1*>(w);
    const auto* y = static_cast<const BlockQ8_1*>(a);
    float sum = 0.0f;
    int L[32];
    for (int64_t i = 0; i < n / kQK; ++i) {
        legacy_levels(x[i].qs, x[i].qh, L);
        sum += h2f(x[i].d) * h2f(y[i].d) * static_cast<float>(dot32(L, y[i].qs)) + h2f(x[i].m) * h2f(y[i].s);
    }
    return sum;
}

float vec_dot_q8_0_q8_0_scalar(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ8_0*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / kQK; ++i) {
        int s = 0;
        for (int j = 0; j < 32; ++j) s += x[i].qs[j] * y[i].qs[j];
        sum += h2f(x[i].d) * h2f(y[i].d) * static_cast<float>(s);
    }
    return sum;
}

// ---- K-quants: levels per element (signed, offsets applied) and one scale per 16 ----------

float vec_dot_q2_k_q8_k_scalar(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ2_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        int isum = 0, imin = 0;
        for (int e = 0; e < kQKK; ++e) {
            const int half = e / 128, j = (e % 128) / 32, l = e % 32;
            const int q = (x[i].qs[32 * half + l] >> (2 * j)) & 3;
            isum += (x[i].scales[e / 16] & 0xF) * q * y[i].qs[e];
        }
        for (int g = 0; g < 16; ++g) imin += (x[i].scales[g] >> 4) * y[i].bsums[g];
        sum += y[i].d * (h2f(x[i].d) * static_cast<float>(isum) - h2f(x[i].dmin) * static_cast<float>(imin));
    }
    return sum;
}

float vec_dot_q3_k_q8_k_scalar(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ3_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        int isum = 0;
        for (int g = 0; g < 16; ++g) {
            int gs = 0;
            for (int e = 16 * g; e < 16 * g + 16; ++e) {
                const int half = e / 128, j = (e % 128) / 32, l = e % 32;
                const int lo = (x[i].qs[32 * half + l] >> (2 * j)) & 3;
                const int q = lo - (((x[i].hmask[l] >> (4 * half + j)) & 1) ? 0 : 4);
                gs += q * y[i].qs[e];
            }
            isum += k3_scale(x[i].scales, g) * gs;
        }
        sum += y[i].d * h2f(x[i].d) * static_cast<float>(isum);
    }
    return sum;
}

namespace {
template <bool kFifthBit, class Block>
float dot_q45k(int64_t n, const Block* x, const BlockQ8_K* y) {
    float sum = 0.0f;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        int isum = 0, imin = 0;
        for (int g = 0; g < 8; ++g) {
            int sc, mn;
            k4_scale_min(x[i].scales, g, sc, mn);
            const int c = g / 2, shift = 4 * (g % 2);
            int gs = 0;
            for (int l = 0; l < 32; ++l) {
                int q = (x[i].qs[32 * c + l] >> shift) & 0xF;
                if constexpr (kFifthBit) q |= ((x[i].qh[l] >> g) & 1) << 4;
                gs += q * y[i].qs[32 * g + l];
            }
            isum += sc * gs;
            imin += mn * (y[i].bsums[2 * g] + y[i].bsums[2 * g + 1]);
        }
        sum += y[i].d * (h2f(x[i].d) * static_cast<float>(isum) - h2f(x[i].dmin) * static_cast<float>(imin));
    }
    return sum;
}
}  // namespace

float vec_dot_q4_k_q8_k_scalar(int64_t n, const void* w, const void* a) {
    return dot_q45k<false>(n, static_cast<const BlockQ4_K*>(w), static_cast<const BlockQ8_K*>(a));
}

float vec_dot_q5_k_q8_k_scalar(int64_t n, const void* w, const void* a) {
    return dot_q45k<true>(n, static_cast<const BlockQ5_K*>(w), static_cast<const BlockQ8_K*>(a));
}

float vec_dot_q6_k_q8_k_scalar(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ6_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        int isum = 0;
        for (int g = 0; g < 16; ++g) {
            int gs = 0;
            for (int e = 16 * g; e < 16 * g + 16; ++e) {
                const int half = e / 128, k = (e % 128) / 32, l = e % 32;
                const int lo = (x[i].ql[64 * half + 32 * (k % 2) + l] >> (4 * (k / 2))) & 0xF;
                const int hi = (x[i].qh[32 * half + l] >> (2 * k)) & 3;
                gs += ((lo | (hi << 4)) - 32) * y[i].qs[e];
            }
            isum += x[i].scales[g] * gs;
        }
        sum += y[i].d * h2f(x[i].d) * static_cast<float>(isum);
    }
    return sum;
}

float vec_dot_q8_k_q8_k_scalar(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockQ8_K*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        int s = 0;
        for (int j = 0; j < kQKK; ++j) s += x[i].qs[j] * y[i].qs[j];
        sum += x[i].d * y[i].d * static_cast<float>(s);
    }
    return sum;
}

// ---- float weights vs F32 activations --------------------------------------------------------

float vec_dot_f32_f32_scalar(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const float*>(w);
    const auto* y = static_cast<const float*>(a);
    float sum = 0.0f;
    for (int64_t i = 0; i < n; ++i) sum += x[i] * y[i];
    return sum;
}

float vec_dot_f16_f32_scalar(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const uint16_t*>(w);
    const auto* y = static_cast<const float*>(a);
    float sum = 0.0f;
    for (int64_t i = 0; i < n; ++i) sum += fp16_to_fp32(x[i]) * y[i];
    return sum;
}

float vec_dot_bf16_f32_scalar(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const uint16_t*>(w);
    const auto* y = static_cast<const float*>(a);
    float sum = 0.0f;
    for (int64_t i = 0; i < n; ++i) sum += bf16_to_fp32(x[i]) * y[i];
    return sum;
}

}  // namespace strata::quant
