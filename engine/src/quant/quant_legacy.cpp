// Reference dequantizers and quantizers of the 32-element formats Q4_0, Q4_1, Q5_0, Q5_1,
// Q8_0 and Q8_1. Written from the published block layouts (see quant_blocks.h).
//
// Element order inside a block: the low nibbles of qs[0..15] are elements 0..15, the high
// nibbles elements 16..31; for the 5-bit formats bit j of the little-endian 32-bit qh is the
// fifth bit of element j.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/quant_blocks.h"
#include "quant/quant_internal.h"

namespace strata::quant {
namespace {

uint32_t load_qh(const uint8_t* qh) {
    uint32_t v;
    std::memcpy(&v, qh, 4);
    return v;
}

// The value of largest magnitude in x (keeps its sign).
float signed_absmax(const float* x, int n) {
    float amax = 0.0f, vmax = 0.0f;
    for (int i = 0; i < n; ++i) {
        if (std::fabs(x[i]) > amax) {
            amax = std::fabs(x[i]);
            vmax = x[i];
        }
    }
    return vmax;
}

// Symmetric 2^bits-level quantization of one block: the value of largest magnitude maps to
// the most negative level -(2^(bits-1)). Writes unsigned levels (q + 2^(bits-1)).
float quantize_sym_block(const float* x, int bits, uint8_t* levels) {
    const int half = 1 << (bits - 1);
    const float vmax = signed_absmax(x, kQK);
    const float d = vmax / static_cast<float>(-half);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int i = 0; i < kQK; ++i) {
        const int q = nearest_int(x[i] * id) + half;
        levels[i] = static_cast<uint8_t>(std::clamp(q, 0, 2 * half - 1));
    }
    return d;
}

// Affine quantization x ≈ d*q + m, q in [0, 2^bits - 1].
float quantize_affine_block(const float* x, int bits, float* m, uint8_t* levels) {
    const int nmax = (1 << bits) - 1;
    float lo = x[0], hi = x[0];
    for (int i = 1; i < kQK; ++i) {
        lo = std::min(lo, x[i]);
        hi = std::max(hi, x[i]);
    }
    const float d = (hi - lo) / static_cast<float>(nmax);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int i = 0; i < kQK; ++i) {
        const int q = nearest_int((x[i] - lo) * id);
        levels[i] = static_cast<uint8_t>(std::clamp(q, 0, nmax));
    }
    *m = lo;
    return d;
}

void pack_nibbles(const uint8_t* levels, uint8_t* qs) {
    for (int j = 0; j < 16; ++j) qs[j] = static_cast<uint8_t>((levels[j] & 0xF) | ((levels[j + 16] & 0xF) << 4));
}

uint32_t pack_fifth_bits(const uint8_t* levels) {
    uint32_t qh = 0;
    for (int j = 0; j < kQK; ++j) qh |= static_cast<uint32_t>((levels[j] >> 4) & 1) << j;
    return qh;
}

}  // namespace

// ---- dequantize ----------------------------------------------------------------------------

void dequantize_row_q4_0(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ4_0*>(src);
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
        const float d = h2f(b[i].d);
        for (int j = 0; j < 16; ++j) {
            dst[j] = d * static_cast<float>((b[i].qs[j] & 0xF) - 8);
            dst[j + 16] = d * static_cast<float>((b[i].qs[j] >> 4) - 8);
        }
    }
}

void dequantize_row_q4_1(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ4_1*>(src);
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
        const float d = h2f(b[i].d), m = h2f(b[i].m);
        for (int j = 0; j < 16; ++j) {
            dst[j] = d * static_cast<float>(b[i].qs[j] & 0xF) + m;
            dst[j + 16] = d * static_cast<float>(b[i].qs[j] >> 4) + m;
        }
    }
}

void dequantize_row_q5_0(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ5_0*>(src);
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
        const float d = h2f(b[i].d);
        const uint32_t qh = load_qh(b[i].qh);
        for (int j = 0; j < 16; ++j) {
            const int lo = (b[i].qs[j] & 0xF) | static_cast<int>(((qh >> j) & 1) << 4);
            const int hi = (b[i].qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1) << 4);
            dst[j] = d * static_cast<float>(lo - 16);
            dst[j + 16] = d * static_cast<float>(hi - 16);
        }
    }
}

void dequantize_row_q5_1(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ5_1*>(src);
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
        const float d = h2f(b[i].d), m = h2f(b[i].m);
        const uint32_t qh = load_qh(b[i].qh);
        for (int j = 0; j < 16; ++j) {
            const int lo = (b[i].qs[j] & 0xF) | static_cast<int>(((qh >> j) & 1) << 4);
            const int hi = (b[i].qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1) << 4);
            dst[j] = d * static_cast<float>(lo) + m;
            dst[j + 16] = d * static_cast<float>(hi) + m;
        }
    }
}

void dequantize_row_q8_0(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ8_0*>(src);
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
        const float d = h2f(b[i].d);
        for (int j = 0; j < kQK; ++j) dst[j] = d * static_cast<float>(b[i].qs[j]);
    }
}

void dequantize_row_q8_1(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ8_1*>(src);
    for (int64_t i = 0; i < n / kQK; ++i, dst += kQK) {
        const float d = h2f(b[i].d);
        for (int j = 0; j < kQK; ++j) dst[j] = d * static_cast<float>(b[i].qs[j]);
    }
}

// ---- quantize --------------------------------------------------------------------------------

void quantize_row_q4_0(const float* src, void* dst, int64_t n) {
    auto* b = static_cast<BlockQ4_0*>(dst);
    uint8_t levels[kQK];
    for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
        b[i].d = f2h(quantize_sym_block(src, 4, levels));
        pack_nibbles(levels, b[i].qs);
    }
}

void quantize_row_q4_1(const float* src, void* dst, int64_t n) {
    auto* b = static_cast<BlockQ4_1*>(dst);
    uint8_t levels[kQK];
    for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
        float m;
        b[i].d = f2h(quantize_affine_block(src, 4, &m, levels));
        b[i].m = f2h(m);
        pack_nibbles(levels, b[i].qs);
    }
}

void quantize_row_q5_0(const float* src, void* dst, int64_t n) {
    auto* b = static_cast<BlockQ5_0*>(dst);
    uint8_t levels[kQK];
    for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
        b[i].d = f2h(quantize_sym_block(src, 5, levels));
        pack_nibbles(levels, b[i].qs);
        const uint32_t qh = pack_fifth_bits(levels);
        std::memcpy(b[i].qh, &qh, 4);
    }
}

void quantize_row_q5_1(const float* src, void* dst, int64_t n) {
    auto* b = static_cast<BlockQ5_1*>(dst);
    uint8_t levels[kQK];
    for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
        float m;
        b[i].d = f2h(quantize_affine_block(src, 5, &m, levels));
        b[i].m = f2h(m);
        pack_nibbles(levels, b[i].qs);
        const uint32_t qh = pack_fifth_bits(levels);
        std::memcpy(b[i].qh, &qh, 4);
    }
}

namespace {
// Shared by Q8_0 / Q8_1: returns Σ q.
int quantize_q8_block(const float* x, uint16_t* d_out, int8_t* qs) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
        qs[j] = static_cast<int8_t>(std::nearbyint(x[j] * id));
        sum += qs[j];
    }
    *d_out = f2h(d);
    return sum;
}
}  // namespace

void quantize_row_q8_0(const float* src, void* dst, int64_t n) {
    auto* b = static_cast<BlockQ8_0*>(dst);
    for (int64_t i = 0; i < n / kQK; ++i, src += kQK) quantize_q8_block(src, &b[i].d, b[i].qs);
}

void quantize_row_q8_1(const float* src, void* dst, int64_t n) {
    auto* b = static_cast<BlockQ8_1*>(dst);
    for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
        const int sum = quantize_q8_block(src, &b[i].d, b[i].qs);
        b[i].s = f2h(h2f(b[i].d) * static_cast<float>(sum));
    }
}

}  // namespace strata::quant
