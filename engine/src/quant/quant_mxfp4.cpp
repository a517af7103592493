// MXFP4: reference dequantizer, quantizer and scalar dot kernel (layout in quant_blocks.h).
//
// A block is 32 E2M1 codes under one power-of-two scale. The quantizer tries the exponents
// around the one that just fits the block's largest magnitude (6 units, the top E2M1 value),
// rounds every value to its nearest code under each, and keeps the exponent with the lowest
// (importance-weighted) squared error: a smaller exponent clips the largest values but resolves
// the rest more finely, which sometimes wins.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/quant_blocks.h"
#include "quant/quant_internal.h"

namespace strata::quant {
namespace {

constexpr int kGroup = 32;

// Index (0..7) of the E2M1 magnitude nearest to t, in doubled units (levels 0, 1, 2, 3, 4, 6,
// 8, 12); ties go to the smaller magnitude. t ≥ 0 (NaN gives 0).
int nearest_magnitude(float t) {
    int best = 0;
    float best_d = std::fabs(t);
    for (int i = 1; i < 8; ++i) {
        const float d = std::fabs(t - static_cast<float>(kMxfp4Levels[i]));
        if (d < best_d) {
            best_d = d;
            best = i;
        }
    }
    return best;
}

// The code of x under scale `scale` (2^(e − 128), the doubled-level unit): magnitude index,
// plus 8 for a negative value; zero is always code 0.
uint8_t code_of(float x, float inv_scale) {
    const int m = nearest_magnitude(std::fabs(x) * inv_scale);
    return static_cast<uint8_t>(m == 0 ? 0 : (x < 0.0f ? m + 8 : m));
}

// Σ w·(x − level·scale)² of the block's values under exponent e, codes written to q.
double block_error(const float* x, const float* w, int e, uint8_t* q) {
    const float scale = mxfp4_scale(static_cast<uint8_t>(e));
    const float inv = 1.0f / scale;
    double err = 0.0;
    for (int i = 0; i < kGroup; ++i) {
        q[i] = code_of(x[i], inv);
        // The value as a float, as it will be read: a code that overflows to infinity (2^128 and
        // up, reachable from e = 253) costs an infinite error and is never chosen.
        const float v = static_cast<float>(kMxfp4Levels[q[i]]) * scale;
        const double d = static_cast<double>(x[i]) - static_cast<double>(v);
        err += (w ? w[i] : 1.0) * d * d;
    }
    return err;
}

}  // namespace

void dequantize_row_mxfp4(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockMXFP4*>(src);
    for (int64_t i = 0; i < n / kGroup; ++i, dst += kGroup) {
        const float d = mxfp4_scale(b[i].e);
        for (int j = 0; j < 16; ++j) {
            dst[j] = d * static_cast<float>(kMxfp4Levels[b[i].qs[j] & 0xF]);
            dst[j + 16] = d * static_cast<float>(kMxfp4Levels[b[i].qs[j] >> 4]);
        }
    }
}

void quantize_row_mxfp4(const float* src, void* dst, int64_t n, const float* importance) {
    auto* b = static_cast<BlockMXFP4*>(dst);
    uint8_t q[kGroup], cand[kGroup];
    for (int64_t i = 0; i < n / kGroup; ++i, src += kGroup) {
        const float* w = importance ? importance + i * kGroup : nullptr;
        float amax = 0.0f;
        for (int j = 0; j < kGroup; ++j) amax = std::fmax(amax, std::fabs(src[j]));  // fmax skips NaN
        int best_e = 0;
        if (amax > 0.0f) {
            // The smallest e with amax ≤ 12 · 2^(e − 128), i.e. the largest value within the top
            // level; then one exponent either side.
            const double fit = std::ceil(128.0 + std::log2(static_cast<double>(amax) / 12.0));
            const int e0 = static_cast<int>(std::clamp(fit, 0.0, 255.0));
            double best = INFINITY;
            for (int e = std::max(0, e0 - 1); e <= std::min(255, e0 + 1); ++e) {
                const double err = block_error(src, w, e, cand);
                if (err < best) {
                    best = err;
                    best_e = e;
                    std::memcpy(q, cand, kGroup);
                }
            }
            if (!(best < INFINITY)) block_error(src, w, best_e = e0, q);  // every error NaN/inf
        } else {
            std::memset(q, 0, kGroup);
        }
        b[i].e = static_cast<uint8_t>(best_e);
        for (int j = 0; j < 16; ++j) b[i].qs[j] = static_cast<uint8_t>(q[j] | (q[j + 16] << 4));
    }
}

float vec_dot_mxfp4_q8_0_scalar(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockMXFP4*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / kGroup; ++i) {
        int s = 0;
        for (int j = 0; j < 16; ++j) {
            s += kMxfp4Levels[x[i].qs[j] & 0xF] * y[i].qs[j];
            s += kMxfp4Levels[x[i].qs[j] >> 4] * y[i].qs[j + 16];
        }
        sum += mxfp4_scale(x[i].e) * h2f(y[i].d) * static_cast<float>(s);
    }
    return sum;
}

}  // namespace strata::quant
