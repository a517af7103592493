// Reference dequantizers of the K-quants (256-element super-blocks) and Q8_K, written from the
// published layouts (quant_blocks.h). Quantizers are in quant_k_quantize.cpp.
//
// Element order, Q2_K / Q3_K: the super-block is two halves of 128; inside a half, element
// 32*j + l (j = 0..3, l = 0..31) takes bits 2j..2j+1 of qs[32*half + l], and group (scale
// index) 8*half + 2j + l/16. Q3_K's third bit is bit (4*half + j) of hmask[l].
// Q4_K / Q5_K: four chunks of 64; in chunk c, elements l (0..31) are the low nibbles of
// qs[32c + l] with group 2c, elements 32 + l the high nibbles with group 2c + 1; Q5_K's fifth
// bit of those is bit 2c (resp. 2c + 1) of qh[l].
// Q6_K: two halves of 128; in half h, element 32k + l (k = 0..3, l = 0..31) has its low 4
// bits in ql[64h + 32(k%2) + l] (low nibble for k < 2, high nibble for k >= 2), its top 2 bits
// in bits 2k..2k+1 of qh[32h + l], and group 8h + 2k + l/16; q = 6-bit value - 32.
#include <cmath>

#include "quant/quant_blocks.h"
#include "quant/quant_internal.h"

namespace strata::quant {

void dequantize_row_q2_k(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ2_K*>(src);
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d = h2f(b[i].d), dmin = h2f(b[i].dmin);
        for (int half = 0; half < 2; ++half) {
            for (int j = 0; j < 4; ++j) {
                for (int l = 0; l < 32; ++l) {
                    const int g = 8 * half + 2 * j + l / 16;
                    const int q = (b[i].qs[32 * half + l] >> (2 * j)) & 3;
                    const float sc = static_cast<float>(b[i].scales[g] & 0xF);
                    const float mn = static_cast<float>(b[i].scales[g] >> 4);
                    *dst++ = d * sc * static_cast<float>(q) - dmin * mn;
                }
            }
        }
    }
}

void dequantize_row_q3_k(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ3_K*>(src);
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d = h2f(b[i].d);
        for (int e = 0; e < kQKK; ++e)
            *dst++ = d * static_cast<float>(k3_scale(b[i].scales, e / 16)) * static_cast<float>(k3_level(b[i], e));
    }
}

void dequantize_row_q4_k(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ4_K*>(src);
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d = h2f(b[i].d), dmin = h2f(b[i].dmin);
        for (int c = 0; c < 4; ++c) {
            int sc0, mn0, sc1, mn1;
            k4_scale_min(b[i].scales, 2 * c, sc0, mn0);
            k4_scale_min(b[i].scales, 2 * c + 1, sc1, mn1);
            const uint8_t* q = b[i].qs + 32 * c;
            for (int l = 0; l < 32; ++l) dst[l] = d * sc0 * static_cast<float>(q[l] & 0xF) - dmin * mn0;
            for (int l = 0; l < 32; ++l) dst[32 + l] = d * sc1 * static_cast<float>(q[l] >> 4) - dmin * mn1;
            dst += 64;
        }
    }
}

void dequantize_row_q5_k(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ5_K*>(src);
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d = h2f(b[i].d), dmin = h2f(b[i].dmin);
        for (int c = 0; c < 4; ++c) {
            int sc0, mn0, sc1, mn1;
            k4_scale_min(b[i].scales, 2 * c, sc0, mn0);
            k4_scale_min(b[i].scales, 2 * c + 1, sc1, mn1);
            const uint8_t* q = b[i].qs + 32 * c;
            for (int l = 0; l < 32; ++l) {
                const int v0 = (q[l] & 0xF) | (((b[i].qh[l] >> (2 * c)) & 1) << 4);
                const int v1 = (q[l] >> 4) | (((b[i].qh[l] >> (2 * c + 1)) & 1) << 4);
                dst[l] = d * sc0 * static_cast<float>(v0) - dmin * mn0;
                dst[32 + l] = d * sc1 * static_cast<float>(v1) - dmin * mn1;
            }
            dst += 64;
        }
    }
}

void dequantize_row_q6_k(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ6_K*>(src);
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d = h2f(b[i].d);
        for (int half = 0; half < 2; ++half) {
            const uint8_t* ql = b[i].ql + 64 * half;
            const uint8_t* qh = b[i].qh + 32 * half;
            const int8_t* sc = b[i].scales + 8 * half;
            for (int l = 0; l < 32; ++l) {
                const int g = l / 16;
                const int q0 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q1 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q2 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q3 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                dst[l] = d * sc[g + 0] * static_cast<float>(q0);
                dst[l + 32] = d * sc[g + 2] * static_cast<float>(q1);
                dst[l + 64] = d * sc[g + 4] * static_cast<float>(q2);
                dst[l + 96] = d * sc[g + 6] * static_cast<float>(q3);
            }
            dst += 128;
        }
    }
}

void dequantize_row_q8_k(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ8_K*>(src);
    for (int64_t i = 0; i < n / kQKK; ++i, dst += kQKK) {
        for (int j = 0; j < kQKK; ++j) dst[j] = b[i].d * static_cast<float>(b[i].qs[j]);
    }
}

void quantize_row_q8_k(const float* src, void* dst, int64_t n) {
    auto* b = static_cast<BlockQ8_K*>(dst);
    for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
        float amax = 0.0f;
        for (int j = 0; j < kQKK; ++j) amax = std::fmax(amax, std::fabs(src[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        for (int j = 0; j < kQKK; ++j) b[i].qs[j] = static_cast<int8_t>(std::nearbyint(src[j] * id));
        for (int g = 0; g < 16; ++g) {
            int s = 0;
            for (int l = 0; l < 16; ++l) s += b[i].qs[16 * g + l];
            b[i].bsums[g] = static_cast<int16_t>(s);
        }
        b[i].d = d;
    }
}

}  // namespace strata::quant
