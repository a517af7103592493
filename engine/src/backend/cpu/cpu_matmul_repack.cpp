// Repacking of GGUF rows into the 8-row interleaved layouts (see cpu_matmul_internal.h) and
// the activation quantizer of the integer X8 kernels.
#include <algorithm>
#include <cstring>
#include <vector>

#include "backend/cpu/cpu_matmul_internal.h"
#include "quant/quant.h"
#include "quant/quant_blocks.h"
#include "quant/quant_dispatch.h"

namespace strata {

using quant::BlockQ4_0;
using quant::BlockQ8_0;

size_t x8_group_bytes(int layout, TensorType type, int64_t n_cols) {
    switch (layout) {
        case kLayoutFloatX8: return 8 * static_cast<size_t>(n_cols) * (type == TensorType::F32 ? 4 : 2);
        case kLayoutQ4_0X8: return static_cast<size_t>(n_cols / 32) * (16 + 128);
        case kLayoutQ8_0X8: return static_cast<size_t>(n_cols / 32) * (16 + 256);
        default: return 0;
    }
}

namespace {

void repack_float(TensorType type, const void* src, int64_t n_rows, int64_t n_cols, uint8_t* dst) {
    const size_t es = type == TensorType::F32 ? 4 : 2;
    const int64_t n_groups = (n_rows + 7) / 8;
    for (int64_t g = 0; g < n_groups; ++g) {
        uint8_t* out = dst + static_cast<size_t>(g) * 8 * n_cols * es;
        for (int64_t k = 0; k < n_cols; ++k) {
            for (int r = 0; r < 8; ++r) {
                const int64_t row = g * 8 + r;
                uint8_t* o = out + (static_cast<size_t>(k) * 8 + r) * es;
                if (row < n_rows) {
                    std::memcpy(o, static_cast<const uint8_t*>(src) + (static_cast<size_t>(row) * n_cols + k) * es, es);
                } else {
                    std::memset(o, 0, es);
                }
            }
        }
    }
}

void repack_q4_0(const void* src, int64_t n_rows, int64_t n_cols, uint8_t* dst) {
    const int64_t nb = n_cols / 32, n_groups = (n_rows + 7) / 8;
    const auto* rows = static_cast<const BlockQ4_0*>(src);
    for (int64_t g = 0; g < n_groups; ++g) {
        for (int64_t b = 0; b < nb; ++b) {
            uint8_t* out = dst + (static_cast<size_t>(g) * nb + b) * 144;
            std::memset(out, 0, 144);
            for (int r = 0; r < 8; ++r) {
                const int64_t row = g * 8 + r;
                if (row >= n_rows) continue;  // zero scale, zero levels
                const BlockQ4_0& blk = rows[row * nb + b];
                std::memcpy(out + 2 * r, &blk.d, 2);
                uint8_t level[32];
                for (int j = 0; j < 16; ++j) {
                    level[j] = blk.qs[j] & 0xF;
                    level[j + 16] = blk.qs[j] >> 4;
                }
                for (int j = 0; j < 4; ++j) {
                    for (int i = 0; i < 4; ++i) {
                        out[16 + 32 * j + 4 * r + i] =
                            static_cast<uint8_t>(level[8 * j + i] | (level[8 * j + 4 + i] << 4));
                    }
                }
            }
        }
    }
}

void repack_q8_0(const void* src, int64_t n_rows, int64_t n_cols, uint8_t* dst) {
    const int64_t nb = n_cols / 32, n_groups = (n_rows + 7) / 8;
    const auto* rows = static_cast<const BlockQ8_0*>(src);
    for (int64_t g = 0; g < n_groups; ++g) {
        for (int64_t b = 0; b < nb; ++b) {
            uint8_t* out = dst + (static_cast<size_t>(g) * nb + b) * 272;
            std::memset(out, 0, 272);
            for (int r = 0; r < 8; ++r) {
                const int64_t row = g * 8 + r;
                if (row >= n_rows) continue;
                const BlockQ8_0& blk = rows[row * nb + b];
                std::memcpy(out + 2 * r, &blk.d, 2);
                for (int c = 0; c < 8; ++c) std::memcpy(out + 16 + 32 * c + 4 * r, blk.qs + 4 * c, 4);
            }
        }
    }
}

}  // namespace

void repack_x8(int layout, TensorType type, const void* src, int64_t n_rows, int64_t n_cols, uint8_t* dst) {
    switch (layout) {
        case kLayoutFloatX8: return repack_float(type, src, n_rows, n_cols, dst);
        case kLayoutQ4_0X8: return repack_q4_0(src, n_rows, n_cols, dst);
        case kLayoutQ8_0X8: return repack_q8_0(src, n_rows, n_cols, dst);
        default: return;
    }
}

void quantize_act_q8(const float* x, int64_t n_cols, ActQ8* out, CpuIsa isa) {
    const int64_t nb = n_cols / 32;
    constexpr int64_t kChunk = 64;  // blocks per pass through a small stack buffer
    BlockQ8_0 tmp[kChunk];
    const auto quantize = quant::quantize_row_fn(TensorType::Q8_0, isa);
    for (int64_t b0 = 0; b0 < nb; b0 += kChunk) {
        const int64_t n = std::min(kChunk, nb - b0);
        quantize(x + b0 * 32, tmp, n * 32);
        for (int64_t b = 0; b < n; ++b) {
            ActQ8& a = out[b0 + b];
            a.d = quant::h2f(tmp[b].d);
            int sum = 0;
            for (int j = 0; j < 32; ++j) {
                a.q[j] = tmp[b].qs[j];
                a.aq[j] = static_cast<uint8_t>(tmp[b].qs[j] < 0 ? -tmp[b].qs[j] : tmp[b].qs[j]);
                sum += tmp[b].qs[j];
            }
            a.sum = sum;
        }
    }
}

}  // namespace strata
