// Repacking of GGUF rows into the 8-row interleaved layouts (see cpu_matmul_internal.h) and
// the activation quantizer of the integer X8 kernels.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include "backend/cpu/cpu_matmul_internal.h"
#include "quant/quant.h"
#include "quant/quant_blocks.h"
#include "quant/quant_dispatch.h"

namespace strata {

using quant::BlockQ4_0;
using quant::BlockQ8_0;
static_assert(sizeof(quant::BlockIQ4_NL) == sizeof(BlockQ4_0) && offsetof(quant::BlockIQ4_NL, qs) == offsetof(BlockQ4_0, qs));

size_t x8_group_bytes(int layout, TensorType type, int64_t n_cols) {
    switch (layout) {
        case kLayoutFloatX8: return 8 * static_cast<size_t>(n_cols) * (type == TensorType::F32 ? 4 : 2);
        case kLayoutQ4_0X8:
        case kLayoutIQ4_NLX8: return static_cast<size_t>(n_cols / 32) * (16 + 128);
        case kLayoutIQ4_XSX8: return static_cast<size_t>(n_cols / 256) * 1104;
        case kLayoutMXFP4X8: return static_cast<size_t>(n_cols / 32) * (8 + 128);
        case kLayoutQ8_0X8: return static_cast<size_t>(n_cols / 32) * (16 + 256);
        case kLayoutQ4_1X8: return static_cast<size_t>(n_cols / 32) * 160;
        case kLayoutQ5_0X8: return static_cast<size_t>(n_cols / 32) * 176;
        case kLayoutQ5_1X8: return static_cast<size_t>(n_cols / 32) * 192;
        case kLayoutQ4_KX8: return static_cast<size_t>(n_cols / 256) * 1184;
        case kLayoutQ5_KX8: return static_cast<size_t>(n_cols / 256) * 1440;
        case kLayoutQ6_KX8: return static_cast<size_t>(n_cols / 256) * 1680;
        case kLayoutQ2_KX8: return static_cast<size_t>(n_cols / 256) * 672;
        case kLayoutQ3_KX8: return static_cast<size_t>(n_cols / 256) * 912;
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

// A block's 32 nibbles (low: columns 0..15, high: 16..31) into row r of the 4 interleaved
// vectors: byte 4r+i of vector j gets column 8j+i in its low nibble and 8j+4+i in its high one.
void interleave_nibbles(const uint8_t* qs, int r, uint8_t* vectors) {
    uint8_t level[32];
    for (int j = 0; j < 16; ++j) {
        level[j] = qs[j] & 0xF;
        level[j + 16] = qs[j] >> 4;
    }
    for (int j = 0; j < 4; ++j)
        for (int i = 0; i < 4; ++i)
            vectors[32 * j + 4 * r + i] = static_cast<uint8_t>(level[8 * j + i] | (level[8 * j + 4 + i] << 4));
}

// Q4_0, and IQ4_NL (the same block bytes).
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
                interleave_nibbles(blk.qs, r, out + 16);
            }
        }
    }
}

// MXFP4, 136 bytes per block: the rows' E8M0 exponents e[8], then the 4 nibble vectors of
// Q4_0X8. Padding rows get exponent 0 and code 0 (value 0).
void repack_mxfp4(const void* src, int64_t n_rows, int64_t n_cols, uint8_t* dst) {
    const int64_t nb = n_cols / 32, n_groups = (n_rows + 7) / 8;
    const auto* rows = static_cast<const quant::BlockMXFP4*>(src);
    for (int64_t g = 0; g < n_groups; ++g) {
        for (int64_t b = 0; b < nb; ++b) {
            uint8_t* out = dst + (static_cast<size_t>(g) * nb + b) * 136;
            std::memset(out, 0, 136);
            for (int r = 0; r < 8; ++r) {
                const int64_t row = g * 8 + r;
                if (row >= n_rows) continue;
                const quant::BlockMXFP4& blk = rows[row * nb + b];
                out[r] = blk.e;
                interleave_nibbles(blk.qs, r, out + 8);
            }
        }
    }
}

// IQ4_XS, 1104 bytes per super-block: d[8], the rows' group scales sc[g][r] (int8, 64 bytes),
// then per 32-column group the 4 nibble vectors of Q4_0X8.
void repack_iq4_xs(const void* src, int64_t n_rows, int64_t n_cols, uint8_t* dst) {
    constexpr size_t kBytes = 16 + 64 + 8 * 128;
    const int64_t nb = n_cols / 256, n_groups = (n_rows + 7) / 8;
    const auto* rows = static_cast<const quant::BlockIQ4_XS*>(src);
    for (int64_t g = 0; g < n_groups; ++g) {
        for (int64_t b = 0; b < nb; ++b) {
            uint8_t* out = dst + (static_cast<size_t>(g) * nb + b) * kBytes;
            std::memset(out, 0, kBytes);  // padding rows: zero scales
            for (int r = 0; r < 8; ++r) {
                const int64_t row = g * 8 + r;
                if (row >= n_rows) continue;
                const quant::BlockIQ4_XS& blk = rows[row * nb + b];
                std::memcpy(out + 2 * r, &blk.d, 2);
                for (int q = 0; q < 8; ++q) {
                    out[16 + 8 * q + r] = static_cast<uint8_t>(static_cast<int8_t>(quant::iq4xs_scale(blk, q)));
                    interleave_nibbles(blk.qs + 16 * q, r, out + 80 + 128 * q);
                }
            }
        }
    }
}

// Q4_1 / Q5_0 / Q5_1 (see cpu_matmul_internal.h).
template <class Block, bool kMin, bool kFifth>
void repack_legacy(const void* src, int64_t n_rows, int64_t n_cols, uint8_t* dst) {
    constexpr size_t kBytes = 16 + (kMin ? 16 : 0) + 128 + (kFifth ? 32 : 0);
    const int64_t nb = n_cols / 32, n_groups = (n_rows + 7) / 8;
    const auto* rows = static_cast<const Block*>(src);
    for (int64_t g = 0; g < n_groups; ++g) {
        for (int64_t b = 0; b < nb; ++b) {
            uint8_t* out = dst + (static_cast<size_t>(g) * nb + b) * kBytes;
            std::memset(out, 0, kBytes);
            uint8_t* q = out + (kMin ? 32 : 16);
            for (int r = 0; r < 8; ++r) {
                const int64_t row = g * 8 + r;
                if (row >= n_rows) continue;
                const Block& blk = rows[row * nb + b];
                std::memcpy(out + 2 * r, &blk.d, 2);
                uint32_t qh = 0;
                if constexpr (kMin) std::memcpy(out + 16 + 2 * r, &blk.m, 2);
                if constexpr (kFifth) std::memcpy(&qh, blk.qh, 4);
                uint8_t level[32];
                for (int j = 0; j < 16; ++j) {
                    level[j] = static_cast<uint8_t>((blk.qs[j] & 0xF) | (((qh >> j) & 1) << 4));
                    level[j + 16] = static_cast<uint8_t>((blk.qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
                }
                for (int j = 0; j < 4; ++j) {
                    for (int i = 0; i < 4; ++i) {
                        const uint8_t a = level[8 * j + i], c = level[8 * j + 4 + i];
                        q[32 * j + 4 * r + i] = static_cast<uint8_t>((a & 0xF) | ((c & 0xF) << 4));
                        if constexpr (kFifth) q[128 + 4 * r + i] |= static_cast<uint8_t>(((a >> 4) << j) | ((c >> 4) << (4 + j)));
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

// Writes the 32 levels of one row's 32-column group into the nibble vectors at q (Q4_0X8 order).
void put_nibble_vectors(const uint8_t* level, int r, uint8_t* q) {
    for (int j = 0; j < 4; ++j) {
        for (int i = 0; i < 4; ++i) {
            q[32 * j + 4 * r + i] = static_cast<uint8_t>((level[8 * j + i] & 0xF) | ((level[8 * j + 4 + i] & 0xF) << 4));
        }
    }
}

// Q4_K (kFifthBit false) and Q5_K.
template <bool kFifthBit, class Block>
void repack_q45_k(const void* src, int64_t n_rows, int64_t n_cols, uint8_t* dst) {
    constexpr size_t kGroupBytes = kFifthBit ? 160 : 128, kBytes = 160 + 8 * kGroupBytes;
    const int64_t nb = n_cols / 256, n_groups = (n_rows + 7) / 8;
    const auto* rows = static_cast<const Block*>(src);
    for (int64_t grp = 0; grp < n_groups; ++grp) {
        for (int64_t b = 0; b < nb; ++b) {
            uint8_t* out = dst + (static_cast<size_t>(grp) * nb + b) * kBytes;
            std::memset(out, 0, kBytes);
            for (int r = 0; r < 8; ++r) {
                const int64_t row = grp * 8 + r;
                if (row >= n_rows) continue;
                const Block& blk = rows[row * nb + b];
                std::memcpy(out + 2 * r, &blk.d, 2);
                std::memcpy(out + 16 + 2 * r, &blk.dmin, 2);
                for (int g = 0; g < 8; ++g) {
                    int sc, mn;
                    quant::k4_scale_min(blk.scales, g, sc, mn);
                    out[32 + 8 * g + r] = static_cast<uint8_t>(sc);
                    out[96 + 8 * g + r] = static_cast<uint8_t>(mn);
                    uint8_t level[32];
                    for (int l = 0; l < 32; ++l) {
                        level[l] = (blk.qs[32 * (g / 2) + l] >> (4 * (g % 2))) & 0xF;
                        if constexpr (kFifthBit) level[l] |= ((blk.qh[l] >> g) & 1) << 4;
                    }
                    uint8_t* q = out + 160 + kGroupBytes * g;
                    put_nibble_vectors(level, r, q);
                    if constexpr (kFifthBit) {
                        for (int j = 0; j < 4; ++j) {
                            for (int i = 0; i < 4; ++i) {
                                q[128 + 4 * r + i] |= static_cast<uint8_t>(((level[8 * j + i] >> 4) << j) |
                                                                           ((level[8 * j + 4 + i] >> 4) << (4 + j)));
                            }
                        }
                    }
                }
            }
        }
    }
}

void repack_q6_k(const void* src, int64_t n_rows, int64_t n_cols, uint8_t* dst) {
    const int64_t nb = n_cols / 256, n_groups = (n_rows + 7) / 8;
    const auto* rows = static_cast<const quant::BlockQ6_K*>(src);
    for (int64_t grp = 0; grp < n_groups; ++grp) {
        for (int64_t b = 0; b < nb; ++b) {
            uint8_t* out = dst + (static_cast<size_t>(grp) * nb + b) * 1680;
            std::memset(out, 0, 1680);
            for (int r = 0; r < 8; ++r) {
                const int64_t row = grp * 8 + r;
                if (row >= n_rows) continue;
                const quant::BlockQ6_K& blk = rows[row * nb + b];
                std::memcpy(out + 2 * r, &blk.d, 2);
                for (int g = 0; g < 16; ++g) out[16 + 8 * g + r] = static_cast<uint8_t>(blk.scales[g]);
                for (int c = 0; c < 8; ++c) {  // element e = 32c + l = 128h + 32k + l
                    const int h = c / 4, k = c % 4;
                    uint8_t level[32];
                    for (int l = 0; l < 32; ++l) {
                        const int lo = (blk.ql[64 * h + 32 * (k % 2) + l] >> (4 * (k / 2))) & 0xF;
                        const int hi = (blk.qh[32 * h + l] >> (2 * k)) & 3;
                        level[l] = static_cast<uint8_t>(lo | (hi << 4));
                    }
                    uint8_t* q = out + 144 + 192 * c;
                    put_nibble_vectors(level, r, q);
                    for (int j = 0; j < 4; ++j) {
                        for (int i = 0; i < 4; ++i) {
                            q[128 + 4 * r + i] |= static_cast<uint8_t>((level[8 * j + i] >> 4) << (2 * j));
                            q[160 + 4 * r + i] |= static_cast<uint8_t>((level[8 * j + 4 + i] >> 4) << (2 * j));
                        }
                    }
                }
            }
        }
    }
}

// Writes 2-bit planes (and for Q3_K the third-bit vector) of one row's 32-column chunk.
void put_2bit_planes(const uint8_t* u, int r, uint8_t* q, bool third_bit) {
    for (int j = 0; j < 4; ++j) {
        for (int i = 0; i < 4; ++i) {
            q[4 * r + i] |= static_cast<uint8_t>((u[8 * j + i] & 3) << (2 * j));
            q[32 + 4 * r + i] |= static_cast<uint8_t>((u[8 * j + 4 + i] & 3) << (2 * j));
            if (third_bit) {
                q[64 + 4 * r + i] |= static_cast<uint8_t>(((u[8 * j + i] >> 2) << j) | ((u[8 * j + 4 + i] >> 2) << (4 + j)));
            }
        }
    }
}

// Q2_K (kQ3 false) and Q3_K. Element 32c + l has its 2 low bits at bits 2(c%4) of qs[32(c/4) + l]
// and (Q3_K) its third bit at bit c of hmask[l].
template <bool kQ3>
void repack_q23_k(const void* src, int64_t n_rows, int64_t n_cols, uint8_t* dst) {
    constexpr size_t kHead = kQ3 ? 144 : 160, kChunk = kQ3 ? 96 : 64, kBytes = kHead + 8 * kChunk;
    const int64_t nb = n_cols / 256, n_groups = (n_rows + 7) / 8;
    for (int64_t grp = 0; grp < n_groups; ++grp) {
        for (int64_t b = 0; b < nb; ++b) {
            uint8_t* out = dst + (static_cast<size_t>(grp) * nb + b) * kBytes;
            std::memset(out, 0, kBytes);
            for (int r = 0; r < 8; ++r) {
                const int64_t row = grp * 8 + r;
                if (row >= n_rows) continue;
                const uint8_t* qs;
                const uint8_t* hmask = nullptr;
                if constexpr (kQ3) {
                    const auto& blk = static_cast<const quant::BlockQ3_K*>(src)[row * nb + b];
                    std::memcpy(out + 2 * r, &blk.d, 2);
                    for (int g = 0; g < 16; ++g) out[16 + 8 * g + r] = static_cast<uint8_t>(quant::k3_scale(blk.scales, g));
                    qs = blk.qs;
                    hmask = blk.hmask;
                } else {
                    const auto& blk = static_cast<const quant::BlockQ2_K*>(src)[row * nb + b];
                    std::memcpy(out + 2 * r, &blk.d, 2);
                    std::memcpy(out + 16 + 2 * r, &blk.dmin, 2);
                    for (int g = 0; g < 16; ++g) out[32 + 8 * g + r] = blk.scales[g];
                    qs = blk.qs;
                }
                for (int c = 0; c < 8; ++c) {
                    uint8_t u[32];
                    for (int l = 0; l < 32; ++l) {
                        u[l] = (qs[32 * (c / 4) + l] >> (2 * (c % 4))) & 3;
                        if (kQ3) u[l] |= ((hmask[l] >> c) & 1) << 2;
                    }
                    put_2bit_planes(u, r, out + kHead + kChunk * c, kQ3);
                }
            }
        }
    }
}

}  // namespace

void repack_x8(int layout, TensorType type, const void* src, int64_t n_rows, int64_t n_cols, uint8_t* dst) {
    switch (layout) {
        case kLayoutFloatX8: return repack_float(type, src, n_rows, n_cols, dst);
        case kLayoutQ4_0X8:
        case kLayoutIQ4_NLX8: return repack_q4_0(src, n_rows, n_cols, dst);  // same block bytes
        case kLayoutIQ4_XSX8: return repack_iq4_xs(src, n_rows, n_cols, dst);
        case kLayoutMXFP4X8: return repack_mxfp4(src, n_rows, n_cols, dst);
        case kLayoutQ8_0X8: return repack_q8_0(src, n_rows, n_cols, dst);
        case kLayoutQ4_1X8: return repack_legacy<quant::BlockQ4_1, true, false>(src, n_rows, n_cols, dst);
        case kLayoutQ5_0X8: return repack_legacy<quant::BlockQ5_0, false, true>(src, n_rows, n_cols, dst);
        case kLayoutQ5_1X8: return repack_legacy<quant::BlockQ5_1, true, true>(src, n_rows, n_cols, dst);
        case kLayoutQ4_KX8: return repack_q45_k<false, quant::BlockQ4_K>(src, n_rows, n_cols, dst);
        case kLayoutQ5_KX8: return repack_q45_k<true, quant::BlockQ5_K>(src, n_rows, n_cols, dst);
        case kLayoutQ6_KX8: return repack_q6_k(src, n_rows, n_cols, dst);
        case kLayoutQ2_KX8: return repack_q23_k<false>(src, n_rows, n_cols, dst);
        case kLayoutQ3_KX8: return repack_q23_k<true>(src, n_rows, n_cols, dst);
        default: return;
    }
}

void quantize_act_q8(const float* x, int64_t n_cols, ActQ8* out, CpuIsa isa) {
    if (cpu_isa_has_avx512(isa)) return quantize_act_q8_avx512(x, n_cols, out);
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
