// Portable kernels of the 8-row interleaved layouts (the scalar path), and the choice between
// them, the AVX2 ones and the VNNI ones.
#include <cstring>

#include "backend/cpu/cpu_matmul_internal.h"
#include "quant/quant_blocks.h"
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
                     int64_t xk, int n_tok, float* out) {
    constexpr size_t kEs = kType == TensorType::F32 ? 4 : 2;
    for (int g = 0; g < n_groups; ++g) {
        for (int t = 0; t < n_tok; ++t) {
            float acc[8] = {};
            for (int64_t k = 0; k < n_cols; ++k) {
                const float xv = x[t * xs + k * xk];
                for (int r = 0; r < 8; ++r) acc[r] += load_w<kType>(groups[g] + (k * 8 + r) * kEs) * xv;
            }
            std::memcpy(out + t * 8 * n_groups + 8 * g, acc, sizeof acc);
        }
    }
}

void q4_0_x8_scalar(const uint8_t* w, int64_t nb, const void* ap, size_t arb, int n_tok, float* out) {
    const auto* act = static_cast<const ActQ8*>(ap);
    const auto as = static_cast<int64_t>(arb / sizeof(ActQ8));
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

template <bool kMin, bool kFifth>
void legacy_x8_scalar(const uint8_t* w, int64_t nb, const void* ap, size_t arb, int n_tok, float* out) {
    constexpr size_t kBytes = 16 + (kMin ? 16 : 0) + 128 + (kFifth ? 32 : 0);
    const auto* act = static_cast<const ActQ8*>(ap);
    const auto as = static_cast<int64_t>(arb / sizeof(ActQ8));
    for (int t = 0; t < n_tok; ++t) {
        float acc[8] = {};
        for (int64_t b = 0; b < nb; ++b) {
            const uint8_t* blk = w + b * kBytes;
            const uint8_t* q = blk + (kMin ? 32 : 16);
            const ActQ8& a = act[t * as + b];
            for (int r = 0; r < 8; ++r) {
                int s = 0;
                for (int j = 0; j < 4; ++j) {
                    for (int i = 0; i < 4; ++i) {
                        for (int half = 0; half < 2; ++half) {
                            const uint8_t v = q[32 * j + 4 * r + i];
                            int level = half ? v >> 4 : v & 0xF;
                            if constexpr (kFifth) level |= ((q[128 + 4 * r + i] >> (4 * half + j)) & 1) << 4;
                            s += level * a.q[8 * j + 4 * half + i];
                        }
                    }
                }
                if constexpr (!kMin) s -= 16 * a.sum;
                uint16_t h;
                std::memcpy(&h, blk + 2 * r, 2);
                acc[r] += static_cast<float>(s) * (fp16_to_fp32(h) * a.d);
                if constexpr (kMin) {
                    std::memcpy(&h, blk + 16 + 2 * r, 2);
                    acc[r] += fp16_to_fp32(h) * (a.d * static_cast<float>(a.sum));
                }
            }
        }
        std::memcpy(out + 8 * t, acc, sizeof acc);
    }
}

void q8_0_x8_scalar(const uint8_t* w, int64_t nb, const void* ap, size_t arb, int n_tok, float* out) {
    const auto* act = static_cast<const ActQ8*>(ap);
    const auto as = static_cast<int64_t>(arb / sizeof(ActQ8));
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

// Level of row r at column 8j+i (high = false) or 8j+4+i (high = true) in nibble vectors q.
int nibble_level(const uint8_t* q, int r, int j, int i, bool high) {
    const uint8_t v = q[32 * j + 4 * r + i];
    return high ? v >> 4 : v & 0xF;
}

// Q4_K / Q5_K x8 against Q8_K: per super-block d·Σ_g sc·(levels·q) - dmin·Σ_g mn·bsums.
template <bool kFifthBit>
void q45_k_x8_scalar(const uint8_t* w, int64_t nb, const void* ap, size_t arb, int n_tok, float* out) {
    constexpr size_t kGroupBytes = kFifthBit ? 160 : 128, kBytes = 160 + 8 * kGroupBytes;
    for (int t = 0; t < n_tok; ++t) {
        const auto* act = reinterpret_cast<const quant::BlockQ8_K*>(static_cast<const uint8_t*>(ap) + t * arb);
        float acc[8] = {};
        for (int64_t b = 0; b < nb; ++b) {
            const uint8_t* blk = w + b * kBytes;
            const quant::BlockQ8_K& a = act[b];
            for (int r = 0; r < 8; ++r) {
                int isum = 0, imin = 0;
                for (int g = 0; g < 8; ++g) {
                    const uint8_t* q = blk + 160 + kGroupBytes * g;
                    int s = 0;
                    for (int j = 0; j < 4; ++j) {
                        for (int i = 0; i < 4; ++i) {
                            for (int half = 0; half < 2; ++half) {
                                int level = nibble_level(q, r, j, i, half == 1);
                                if constexpr (kFifthBit) level |= ((q[128 + 4 * r + i] >> (4 * half + j)) & 1) << 4;
                                s += level * a.qs[32 * g + 8 * j + 4 * half + i];
                            }
                        }
                    }
                    isum += blk[32 + 8 * g + r] * s;
                    imin += blk[96 + 8 * g + r] * (a.bsums[2 * g] + a.bsums[2 * g + 1]);
                }
                uint16_t d, dmin;
                std::memcpy(&d, blk + 2 * r, 2);
                std::memcpy(&dmin, blk + 16 + 2 * r, 2);
                acc[r] -= static_cast<float>(imin) * (fp16_to_fp32(dmin) * a.d);
                acc[r] += static_cast<float>(isum) * (fp16_to_fp32(d) * a.d);
            }
        }
        std::memcpy(out + 8 * t, acc, sizeof acc);
    }
}

void q6_k_x8_scalar(const uint8_t* w, int64_t nb, const void* ap, size_t arb, int n_tok, float* out) {
    for (int t = 0; t < n_tok; ++t) {
        const auto* act = reinterpret_cast<const quant::BlockQ8_K*>(static_cast<const uint8_t*>(ap) + t * arb);
        float acc[8] = {};
        for (int64_t b = 0; b < nb; ++b) {
            const uint8_t* blk = w + b * 1680;
            const quant::BlockQ8_K& a = act[b];
            const auto* sc = reinterpret_cast<const int8_t*>(blk + 16);
            for (int r = 0; r < 8; ++r) {
                int isum = 0;
                for (int c = 0; c < 8; ++c) {
                    const uint8_t* q = blk + 144 + 192 * c;
                    for (int j = 0; j < 4; ++j) {
                        int s = 0;
                        for (int i = 0; i < 4; ++i) {
                            for (int half = 0; half < 2; ++half) {
                                const int top = (q[128 + 32 * half + 4 * r + i] >> (2 * j)) & 3;
                                const int level = nibble_level(q, r, j, i, half == 1) | (top << 4);
                                s += (level - 32) * a.qs[32 * c + 8 * j + 4 * half + i];
                            }
                        }
                        isum += sc[8 * (2 * c + j / 2) + r] * s;
                    }
                }
                uint16_t d;
                std::memcpy(&d, blk + 2 * r, 2);
                acc[r] += static_cast<float>(isum) * (fp16_to_fp32(d) * a.d);
            }
        }
        std::memcpy(out + 8 * t, acc, sizeof acc);
    }
}

// Q2_K (kQ3 false) / Q3_K x8 against Q8_K.
template <bool kQ3>
void q23_k_x8_scalar(const uint8_t* w, int64_t nb, const void* ap, size_t arb, int n_tok, float* out) {
    constexpr size_t kHead = kQ3 ? 144 : 160, kChunk = kQ3 ? 96 : 64, kBytes = kHead + 8 * kChunk;
    for (int t = 0; t < n_tok; ++t) {
        const auto* act = reinterpret_cast<const quant::BlockQ8_K*>(static_cast<const uint8_t*>(ap) + t * arb);
        float acc[8] = {};
        for (int64_t b = 0; b < nb; ++b) {
            const uint8_t* blk = w + b * kBytes;
            const quant::BlockQ8_K& a = act[b];
            for (int r = 0; r < 8; ++r) {
                int isum = 0, imin = 0;
                for (int c = 0; c < 8; ++c) {
                    const uint8_t* q = blk + kHead + kChunk * c;
                    for (int j = 0; j < 4; ++j) {
                        int s = 0;
                        for (int i = 0; i < 4; ++i) {
                            for (int half = 0; half < 2; ++half) {
                                int u = (q[32 * half + 4 * r + i] >> (2 * j)) & 3;
                                if constexpr (kQ3) u |= ((q[64 + 4 * r + i] >> (4 * half + j)) & 1) << 2;
                                s += (kQ3 ? u - 4 : u) * a.qs[32 * c + 8 * j + 4 * half + i];
                            }
                        }
                        const int g = 2 * c + j / 2;
                        if constexpr (kQ3) {
                            isum += static_cast<int8_t>(blk[16 + 8 * g + r]) * s;
                        } else {
                            isum += (blk[32 + 8 * g + r] & 0xF) * s;
                            if (j % 2 == 0) imin += (blk[32 + 8 * g + r] >> 4) * a.bsums[g];
                        }
                    }
                }
                uint16_t d;
                std::memcpy(&d, blk + 2 * r, 2);
                if constexpr (!kQ3) {
                    uint16_t dmin;
                    std::memcpy(&dmin, blk + 16 + 2 * r, 2);
                    acc[r] -= static_cast<float>(imin) * (fp16_to_fp32(dmin) * a.d);
                }
                acc[r] += static_cast<float>(isum) * (fp16_to_fp32(d) * a.d);
            }
        }
        std::memcpy(out + 8 * t, acc, sizeof acc);
    }
}

}  // namespace

FloatX8Kernel float_x8_kernel(TensorType type, CpuIsa isa) {
    if (isa >= CpuIsa::avx2) return float_x8_kernel_avx2(type);
    switch (type) {
        case TensorType::F32: return float_x8_scalar<TensorType::F32>;
        case TensorType::F16: return float_x8_scalar<TensorType::F16>;
        case TensorType::BF16: return float_x8_scalar<TensorType::BF16>;
        default: return nullptr;
    }
}

QuantX8Kernel quant_x8_kernel(int layout, CpuIsa isa) {
    if (QuantX8Kernel k = iq4_x8_kernel(layout, isa)) return k;
    if (cpu_isa_has_vnni(isa)) {
        const VnniForm form = cpu_has_avx_vnni() ? VnniForm::avx_vnni : VnniForm::avx512_vnni;
        if (QuantX8Kernel k = quant_x8_kernel_vnni(layout, form)) return k;
    }
    if (isa >= CpuIsa::avx2) return quant_x8_kernel_avx2(layout);
    switch (layout) {
        case kLayoutQ4_0X8: return q4_0_x8_scalar;
        case kLayoutQ8_0X8: return q8_0_x8_scalar;
        case kLayoutQ4_1X8: return legacy_x8_scalar<true, false>;
        case kLayoutQ5_0X8: return legacy_x8_scalar<false, true>;
        case kLayoutQ5_1X8: return legacy_x8_scalar<true, true>;
        case kLayoutQ2_KX8: return q23_k_x8_scalar<false>;
        case kLayoutQ3_KX8: return q23_k_x8_scalar<true>;
        case kLayoutQ4_KX8: return q45_k_x8_scalar<false>;
        case kLayoutQ5_KX8: return q45_k_x8_scalar<true>;
        case kLayoutQ6_KX8: return q6_k_x8_scalar;
        default: return nullptr;
    }
}

QuantX16Kernel quant_x16_kernel(int layout, CpuIsa isa) {
    if (isa >= CpuIsa::avx512_vnni) return quant_x16_kernel_vnni512(layout);
    return nullptr;
}

int x8_token_tile(int layout) { return layout == kLayoutFloatX8 ? kMaxTileTokens : 4; }

}  // namespace strata
