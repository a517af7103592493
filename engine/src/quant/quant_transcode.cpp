// Direct re-encodings between block formats, for devices that store a type their kernels do not
// read as one they do (backend/weight_storage.h). Each maps a block's integer levels and scales
// onto the target's without going through floats, so the stored weights are the file's:
//   Q3_K → Q6_K    exact: same 16-value groups, int8 group scales (Q3_K's 6-bit ones fit), and
//                  Q3_K's levels -4..3 are Q6_K levels (stored +32);
//   Q5_0 → Q8_0    exact: levels -16..15 become int8 quants under the same fp16 scale;
//   IQ4_NL → Q8_0  exact: the table levels (int8) under the same fp16 scale;
//   IQ4_XS → Q8_0  the levels exactly; each 32-group's scale d·s rounded to fp16 (relative
//                  error ≤ 2^-11, against up to half a quantization step through floats).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/quant.h"
#include "quant/quant_blocks.h"

namespace strata::quant {
namespace {

void q3_k_to_q6_k(const void* src, void* dst, int64_t n) {
    const auto* in = static_cast<const BlockQ3_K*>(src);
    auto* out = static_cast<BlockQ6_K*>(dst);
    for (int64_t i = 0; i < n / kQKK; ++i) {
        BlockQ6_K& b = out[i];
        b.d = in[i].d;
        for (int g = 0; g < 16; ++g) b.scales[g] = static_cast<int8_t>(k3_scale(in[i].scales, g));
        std::memset(b.ql, 0, sizeof b.ql);
        std::memset(b.qh, 0, sizeof b.qh);
        for (int e = 0; e < kQKK; ++e) k6_put_level(b, e, k3_level(in[i], e) + 32);
    }
}

void q5_0_to_q8_0(const void* src, void* dst, int64_t n) {
    const auto* in = static_cast<const BlockQ5_0*>(src);
    auto* out = static_cast<BlockQ8_0*>(dst);
    for (int64_t i = 0; i < n / kQK; ++i) {
        uint32_t qh;
        std::memcpy(&qh, in[i].qh, 4);
        out[i].d = in[i].d;
        for (int j = 0; j < 16; ++j) {
            out[i].qs[j] = static_cast<int8_t>(((in[i].qs[j] & 0xF) | (((qh >> j) & 1) << 4)) - 16);
            out[i].qs[j + 16] = static_cast<int8_t>(((in[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16);
        }
    }
}

void levels_to_q8_0(const uint8_t* qs, uint16_t d, BlockQ8_0& out) {
    out.d = d;
    for (int j = 0; j < 16; ++j) {
        out.qs[j] = kIq4Levels[qs[j] & 0xF];
        out.qs[j + 16] = kIq4Levels[qs[j] >> 4];
    }
}

void iq4_nl_to_q8_0(const void* src, void* dst, int64_t n) {
    const auto* in = static_cast<const BlockIQ4_NL*>(src);
    auto* out = static_cast<BlockQ8_0*>(dst);
    for (int64_t i = 0; i < n / kQK; ++i) levels_to_q8_0(in[i].qs, in[i].d, out[i]);
}

void iq4_xs_to_q8_0(const void* src, void* dst, int64_t n) {
    const auto* in = static_cast<const BlockIQ4_XS*>(src);
    auto* out = static_cast<BlockQ8_0*>(dst);
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d = h2f(in[i].d);
        for (int g = 0; g < 8; ++g)
            levels_to_q8_0(in[i].qs + 16 * g, f2h(d * static_cast<float>(iq4xs_scale(in[i], g))), out[8 * i + g]);
    }
}

void mxfp4_to_q8_0(const void* src, void* dst, int64_t n) {
    const auto* in = static_cast<const BlockMXFP4*>(src);
    auto* out = static_cast<BlockQ8_0*>(dst);
    for (int64_t i = 0; i < n / kQK; ++i) {
        // fp16 normals reach down to 2^-14 (subnormal powers of two to 2^-24): shift the levels
        // up (by at most 8, so |q| ≤ 96) as far as the scale needs to stay normal.
        const int ex = static_cast<int>(in[i].e) - 128;
        const int k = ex < -14 ? std::min(3, -14 - ex) : 0;
        out[i].d = f2h(std::ldexp(1.0f, ex - k));
        for (int j = 0; j < 16; ++j) {
            out[i].qs[j] = static_cast<int8_t>(kMxfp4Levels[in[i].qs[j] & 0xF] * (1 << k));
            out[i].qs[j + 16] = static_cast<int8_t>(kMxfp4Levels[in[i].qs[j] >> 4] * (1 << k));
        }
    }
}

}  // namespace

bool can_transcode(TensorType from, TensorType to) {
    return (from == TensorType::Q3_K && to == TensorType::Q6_K) ||
           (to == TensorType::Q8_0 &&
            (from == TensorType::Q5_0 || from == TensorType::IQ4_NL || from == TensorType::IQ4_XS ||
             from == TensorType::MXFP4));
}

bool transcode_row(TensorType from, TensorType to, const void* src, void* dst, int64_t n) {
    if (!can_transcode(from, to)) return false;
    switch (from) {
        case TensorType::Q3_K: q3_k_to_q6_k(src, dst, n); return true;
        case TensorType::Q5_0: q5_0_to_q8_0(src, dst, n); return true;
        case TensorType::IQ4_NL: iq4_nl_to_q8_0(src, dst, n); return true;
        case TensorType::IQ4_XS: iq4_xs_to_q8_0(src, dst, n); return true;
        case TensorType::MXFP4: mxfp4_to_q8_0(src, dst, n); return true;
        default: return false;
    }
}

}  // namespace strata::quant
