// IQ4_NL and IQ4_XS: reference dequantizers, quantizers and scalar dot kernels.
//
// Both store 4-bit indices into kIq4Levels (quant_blocks.h), a fixed table of 16 int8 levels
// spaced closer near zero, times a scale: one fp16 per 32 values (IQ4_NL), or a 6-bit signed
// scale per 32 times one fp16 per 256 (IQ4_XS, 4.25 bits per weight). The table is asymmetric
// (-127 ... 113), so a scale's sign matters: the quantizer tries both ends for the largest value.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "quant/quant_blocks.h"
#include "quant/quant_internal.h"

namespace strata::quant {
namespace {

constexpr int kGroup = 32;
constexpr int kZeroLevel = 8;  // index of the level nearest zero (+1)

// For each integer k in [-128, 127]: the index of the largest level ≤ k (0 below the table).
constexpr std::array<uint8_t, 256> kLevelBelow = [] {
    std::array<uint8_t, 256> a{};
    for (int k = -128; k < 128; ++k) {
        int i = 0;
        while (i < 15 && kIq4Levels[i + 1] <= k) ++i;
        a[static_cast<size_t>(k + 128)] = static_cast<uint8_t>(i);
    }
    return a;
}();

// The levels as floats, with a sentinel past the top so the comparison below needs no bound.
constexpr std::array<float, 17> kLevelsUp = [] {
    std::array<float, 17> a{};
    for (int i = 0; i < 16; ++i) a[static_cast<size_t>(i)] = kIq4Levels[i];
    a[16] = 1e9f;
    return a;
}();

// Index of the level nearest to t (in level units; ties go down). The levels are integers, so
// t lies between level kLevelBelow[floor(t)] and the next: one lookup and one comparison,
// without branches (the quantizer calls this 22 times per value, on data whose comparisons a
// branch predictor cannot guess).
int nearest_level(float t) {
    t = std::fmin(std::fmax(t, -127.0f), 113.0f);  // NaN → -127
    const int i = kLevelBelow[static_cast<size_t>(static_cast<int>(t + 128.0f))];  // t + 128 > 0: truncation is floor
    const auto idx = static_cast<size_t>(i);
    return i + static_cast<int>(t - kLevelsUp[idx] > kLevelsUp[idx + 1] - t);
}

// x ≈ scale·level[q] for one group of kGroup values, weights w (nullptr = uniform). Tries
// inverse scales that put the largest-magnitude value at or near either end of the table,
// refits the scale by weighted least squares for each assignment, keeps the one with the lowest
// weighted error (the largest Σwlx² / Σwl²). Returns the scale, possibly negative.
float fit_group(const float* x, const float* w, uint8_t* q) {
    float amax = 0.0f, vmax = 0.0f;
    for (int i = 0; i < kGroup; ++i) {
        if (std::fabs(x[i]) > amax) {
            amax = std::fabs(x[i]);
            vmax = x[i];
        }
    }
    if (amax < 1e-30f) {
        std::memset(q, kZeroLevel, kGroup);
        return 0.0f;
    }
    float best_score = -1.0f, best_scale = 0.0f;
    uint8_t cand[kGroup];
    for (const float end : {-127.0f, 113.0f}) {
        for (int step = -4; step <= 6; ++step) {
            const float iscale = end * (1.0f + 0.04f * static_cast<float>(step)) / vmax;
            double sqx = 0, sqq = 0;
            for (int i = 0; i < kGroup; ++i) {
                const int l = nearest_level(iscale * x[i]);
                cand[i] = static_cast<uint8_t>(l);
                const double wi = w ? w[i] : 1.0;
                const double lv = kIq4Levels[l];
                sqx += wi * lv * x[i];
                sqq += wi * lv * lv;
            }
            if (sqq <= 0) continue;
            const double score = sqx * sqx / sqq;
            if (score > best_score) {
                best_score = static_cast<float>(score);
                best_scale = static_cast<float>(sqx / sqq);
                std::memcpy(q, cand, kGroup);
            }
        }
    }
    return best_scale;
}

// Indices for the scale as stored (after rounding to fp16 / 6 bits).
void assign_levels(const float* x, float scale, uint8_t* q) {
    const float inv = scale != 0.0f ? 1.0f / scale : 0.0f;
    for (int i = 0; i < kGroup; ++i) q[i] = static_cast<uint8_t>(scale != 0.0f ? nearest_level(x[i] * inv) : kZeroLevel);
}

// 32 indices → 16 bytes: element j in the low nibble of byte j, element j+16 in its high nibble.
void pack_nibbles(const uint8_t* q, uint8_t* qs) {
    for (int j = 0; j < 16; ++j) qs[j] = static_cast<uint8_t>(q[j] | (q[j + 16] << 4));
}

// Σ level·a over one group of 32 (int8 activations).
int dot_group(const uint8_t* qs, const int8_t* a) {
    int s = 0;
    for (int j = 0; j < 16; ++j) {
        s += kIq4Levels[qs[j] & 0xF] * a[j];
        s += kIq4Levels[qs[j] >> 4] * a[j + 16];
    }
    return s;
}

}  // namespace

void dequantize_row_iq4_nl(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockIQ4_NL*>(src);
    for (int64_t i = 0; i < n / kGroup; ++i, dst += kGroup) {
        const float d = h2f(b[i].d);
        for (int j = 0; j < 16; ++j) {
            dst[j] = d * static_cast<float>(kIq4Levels[b[i].qs[j] & 0xF]);
            dst[j + 16] = d * static_cast<float>(kIq4Levels[b[i].qs[j] >> 4]);
        }
    }
}

void dequantize_row_iq4_xs(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockIQ4_XS*>(src);
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d = h2f(b[i].d);
        for (int g = 0; g < 8; ++g, dst += kGroup) {
            const float dl = d * static_cast<float>(iq4xs_scale(b[i], g));
            const uint8_t* qs = b[i].qs + 16 * g;
            for (int j = 0; j < 16; ++j) {
                dst[j] = dl * static_cast<float>(kIq4Levels[qs[j] & 0xF]);
                dst[j + 16] = dl * static_cast<float>(kIq4Levels[qs[j] >> 4]);
            }
        }
    }
}

void quantize_row_iq4_nl(const float* src, void* dst, int64_t n, const float* importance) {
    auto* b = static_cast<BlockIQ4_NL*>(dst);
    uint8_t q[kGroup];
    for (int64_t i = 0; i < n / kGroup; ++i, src += kGroup) {
        const float scale = fit_group(src, importance ? importance + i * kGroup : nullptr, q);
        b[i].d = f2h(scale);
        assign_levels(src, h2f(b[i].d), q);
        pack_nibbles(q, b[i].qs);
    }
}

void quantize_row_iq4_xs(const float* src, void* dst, int64_t n, const float* importance) {
    auto* b = static_cast<BlockIQ4_XS*>(dst);
    uint8_t q[kGroup];
    for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
        const float* w = importance ? importance + i * kQKK : nullptr;
        float scales[8];
        float amax = 0.0f, vmax = 0.0f;
        for (int g = 0; g < 8; ++g) {
            scales[g] = fit_group(src + kGroup * g, w ? w + kGroup * g : nullptr, q);
            if (std::fabs(scales[g]) > amax) {
                amax = std::fabs(scales[g]);
                vmax = scales[g];
            }
        }
        // The largest group scale takes the 6-bit code -32, the end with the most range.
        b[i].d = f2h(vmax / -32.0f);
        const float d = h2f(b[i].d);
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].scales_h = 0;
        std::memset(b[i].scales_l, 0, sizeof b[i].scales_l);
        for (int g = 0; g < 8; ++g) {
            const int l = std::clamp(nearest_int(scales[g] * id), -32, 31);
            const int ls = l + 32;
            b[i].scales_l[g / 2] = static_cast<uint8_t>(b[i].scales_l[g / 2] | ((ls & 0xF) << (4 * (g % 2))));
            b[i].scales_h = static_cast<uint16_t>(b[i].scales_h | ((ls >> 4) << (2 * g)));
            assign_levels(src + kGroup * g, d * static_cast<float>(l), q);
            pack_nibbles(q, b[i].qs + 16 * g);
        }
    }
}

float vec_dot_iq4_nl_q8_0_scalar(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockIQ4_NL*>(w);
    const auto* y = static_cast<const BlockQ8_0*>(a);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / kGroup; ++i)
        sum += h2f(x[i].d) * h2f(y[i].d) * static_cast<float>(dot_group(x[i].qs, y[i].qs));
    return sum;
}

float vec_dot_iq4_xs_q8_k_scalar(int64_t n, const void* w, const void* a) {
    const auto* x = static_cast<const BlockIQ4_XS*>(w);
    const auto* y = static_cast<const BlockQ8_K*>(a);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        int sumi = 0;
        for (int g = 0; g < 8; ++g) sumi += iq4xs_scale(x[i], g) * dot_group(x[i].qs + 16 * g, y[i].qs + kGroup * g);
        sum += h2f(x[i].d) * y[i].d * static_cast<float>(sumi);
    }
    return sum;
}

}  // namespace strata::quant
