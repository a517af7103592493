// Portable kernels of the 8-row interleaved layouts (the scalar path), and the choice between
// them and the AVX2 ones.
#include <cstring>

#include "backend/cpu/cpu_matmul_internal.h"
#include "util/fp16.h"

namespace strata {

FloatX8Kernel float_x8_kernel_avx2(TensorType type);
QuantX8Kernel quant_x8_kernel_avx2(int layout);

namespace {

template <TensorType kType>
float load_w(const uint8_t* p) {
    if constexpr (kType == TensorType::F32) {
        float f;
        std::memcpy(&f, p, 4);
        return f;
    } else {
        uint16_t h;
        std::memcpy(&h, p, 2);
        return kType == TensorType::F16 ? fp16_to_fp32(h) : bf16_to_fp32(h);
    }
}

template <TensorType kType>
void float_x8_scalar(const uint8_t* const* groups, int n_groups, int64_t n_cols, const float* x, int64_t xs,
                     int n_tok, float* out) {
    constexpr size_t kEs = kType == TensorType::F32 ? 4 : 2;
    for (int g = 0; g < n_groups; ++g) {
        for (int t = 0; t < n_tok; ++t) {
            float acc[8] = {};
            for (int64_t k = 0; k < n_cols; ++k) {
                const float xv = x[t * xs + k];
                for (int r = 0; r < 8; ++r) acc[r] += load_w<kType>(groups[g] + (k * 8 + r) * kEs) * xv;
            }
            std::memcpy(out + t * 8 * n_groups + 8 * g, acc, sizeof acc);
        }
    }
}

void q4_0_x8_scalar(const uint8_t* w, int64_t nb, const ActQ8* act, int64_t as, int n_tok, float* out) {
    for (int t = 0; t < n_tok; ++t) {
        float acc[8] = {};
        for (int64_t b = 0; b < nb; ++b) {
            const uint8_t* blk = w + b * 144;
            const ActQ8& a = act[t * as + b];
            for (int r = 0; r < 8; ++r) {
                int s = 0;
                for (int j = 0; j < 4; ++j) {
                    for (int i = 0; i < 4; ++i) {
                        const uint8_t v = blk[16 + 32 * j + 4 * r + i];
                        s += (v & 0xF) * a.q[8 * j + i] + (v >> 4) * a.q[8 * j + 4 + i];
                    }
                }
                s -= 8 * a.sum;
                uint16_t h;
                std::memcpy(&h, blk + 2 * r, 2);
                acc[r] += static_cast<float>(s) * (fp16_to_fp32(h) * a.d);
            }
        }
        std::memcpy(out + 8 * t, acc, sizeof acc);
    }
}

void q8_0_x8_scalar(const uint8_t* w, int64_t nb, const ActQ8* act, int64_t as, int n_tok, float* out) {
    for (int t = 0; t < n_tok; ++t) {
        float acc[8] = {};
        for (int64_t b = 0; b < nb; ++b) {
            const uint8_t* blk = w + b * 272;
            const ActQ8& a = act[t * as + b];
            for (int r = 0; r < 8; ++r) {
                int s = 0;
                for (int c = 0; c < 8; ++c) {
                    for (int i = 0; i < 4; ++i) s += static_cast<int8_t>(blk[16 + 32 * c + 4 * r + i]) * a.q[4 * c + i];
                }
                uint16_t h;
                std::memcpy(&h, blk + 2 * r, 2);
                acc[r] += static_cast<float>(s) * (fp16_to_fp32(h) * a.d);
            }
        }
        std::memcpy(out + 8 * t, acc, sizeof acc);
    }
}

}  // namespace

FloatX8Kernel float_x8_kernel(TensorType type, CpuIsa isa) {
    if (isa == CpuIsa::avx2) return float_x8_kernel_avx2(type);
    switch (type) {
        case TensorType::F32: return float_x8_scalar<TensorType::F32>;
        case TensorType::F16: return float_x8_scalar<TensorType::F16>;
        case TensorType::BF16: return float_x8_scalar<TensorType::BF16>;
        default: return nullptr;
    }
}

QuantX8Kernel quant_x8_kernel(int layout, CpuIsa isa) {
    if (isa == CpuIsa::avx2) return quant_x8_kernel_avx2(layout);
    switch (layout) {
        case kLayoutQ4_0X8: return q4_0_x8_scalar;
        case kLayoutQ8_0X8: return q8_0_x8_scalar;
        default: return nullptr;
    }
}

int x8_token_tile(int layout) { return layout == kLayoutFloatX8 ? kMaxTileTokens : 4; }

}  // namespace strata
