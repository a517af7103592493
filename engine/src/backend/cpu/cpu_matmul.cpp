// CPU matrix products for every computable weight type.
//
// prepare() picks a layout: every type but Q8_K is repacked into an 8-row interleaved copy
// (cpu_matmul_internal.h) whose kernels produce 8 outputs per pass and serve up to 4-6 tokens
// per weight load; Q8_K (and any weight when allow_repack is false) stays in GGUF rows and runs
// quant::vec_dot per (row, token) against activations quantized to quant::vec_dot_type().
//
// Work is split over parts of the output rows (cpu_row_split.h: whole 16-row units, one
// parallel_for per matmul, never over the columns), and each output is summed by one kernel
// call in column order, so results do not depend on the thread count.
#include "backend/cpu/cpu_matmul.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <string>

#include "backend/cpu/cpu_matmul_internal.h"
#include "backend/cpu/cpu_row_split.h"
#include "quant/quant.h"
#include "quant/quant_dispatch.h"
#include "util/thread_pool.h"

namespace strata {
namespace {

int choose_layout(TensorType type) {
    switch (type) {
        case TensorType::F32:
        case TensorType::F16:
        case TensorType::BF16: return kLayoutFloatX8;
        case TensorType::Q4_0: return kLayoutQ4_0X8;
        case TensorType::Q8_0: return kLayoutQ8_0X8;
        case TensorType::Q4_1: return kLayoutQ4_1X8;
        case TensorType::Q5_0: return kLayoutQ5_0X8;
        case TensorType::Q5_1: return kLayoutQ5_1X8;
        case TensorType::Q2_K: return kLayoutQ2_KX8;
        case TensorType::Q3_K: return kLayoutQ3_KX8;
        case TensorType::Q4_K: return kLayoutQ4_KX8;
        case TensorType::Q5_K: return kLayoutQ5_KX8;
        case TensorType::Q6_K: return kLayoutQ6_KX8;
        case TensorType::IQ4_NL: return kLayoutIQ4_NLX8;
        case TensorType::IQ4_XS: return kLayoutIQ4_XSX8;
        case TensorType::MXFP4: return kLayoutMXFP4X8;
        default: return kLayoutRows;
    }
}

// Scatters a kernel tile (n_tok, tile_stride) holding n_groups groups starting at g0 into out
// (n_tok, n_rows); tile_stride defaults to 8 * n_groups (a tile with no unused rows).
void scatter(const float* tile, int n_tok, int n_groups, int64_t g0, int64_t t0, int64_t n_rows, float* out,
             int tile_stride = 0) {
    const int64_t r0 = g0 * 8;
    const int64_t n_valid = std::min<int64_t>(8 * n_groups, n_rows - r0);
    const int64_t stride = tile_stride ? tile_stride : 8 * n_groups;
    for (int t = 0; t < n_tok; ++t) {
        std::memcpy(out + (t0 + t) * n_rows + r0, tile + t * stride, static_cast<size_t>(n_valid) * sizeof(float));
    }
}

struct FloatX8Ctx {
    FloatX8Kernel kernel;            // on the stored type (decode)
    FloatX8Kernel kernel_f32;        // on panels converted to F32 (prefill)
    quant::DequantizeRowFn to_f32;   // stored type → F32; nullptr for F32
    bool avx512;                     // prefill on 512-bit pair panels (cpu_matmul_float_avx512.cpp)
    TensorType type;
    const uint8_t* data;
    size_t group_bytes;
    int64_t n_groups, n_rows, n_cols, n_tok;
    const float* x;        // (n_tok, n_cols)
    const float* x_tiles;  // prefill: token tiles of x_tile tokens, each (n_cols, n_t)
    int64_t x_tile;        // kFloatX16TileTokens on the avx512 route, else kMaxTileTokens
    float* out;
};

// Rows per kernel pass inside a task; tasks are the parts of the row split (cpu_row_split.h).
constexpr int64_t kFloatPanelGroups = kFloatMaxGroups;  // 64 rows
constexpr int64_t kQuantPanelGroups = 4;                // 32 rows
constexpr int64_t kRowsPanel = 16;                      // rows of the row-major layouts
constexpr int64_t kRowsTokenTile = 16;

// Columns per block of the 512-bit float prefill: a block of the pair panels (2 pairs × 16 rows
// × 1024 F32, 128 KiB) and of a token tile (12 × 1024 F32, 48 KiB) stay in L2 whatever n_cols
// is (ffn_down's 5632 columns would make 720 KiB of panel alone).
constexpr int64_t kFloatX16ColBlock = 1024;

// The 512-bit route of prefill for groups g0..g1 of one task: per set of 2 × kFloatX16TilePairs
// groups and per column block, the groups are converted into F32 pair panels (a lone last group
// is paired with itself, its copy's outputs dropped) and every token tile runs over them,
// carrying its accumulators from block to block through `partial`: each output is still one
// FMA chain over the columns in order, so the result is bitwise that of one pass.
void run_float_x16_panel(const FloatX8Ctx& c, const uint8_t* const* groups, int64_t g0, int64_t g1) {
    constexpr int kGroups = 2 * kFloatX16TilePairs;
    const int64_t elem = c.type == TensorType::F32 ? 4 : 2;
    const int64_t kc = std::min(c.n_cols, kFloatX16ColBlock);
    thread_local std::vector<float> panel, partial;
    panel.resize(static_cast<size_t>(kFloatX16TilePairs * 16 * kc));
    partial.resize(static_cast<size_t>(c.n_tok * 16 * kFloatX16TilePairs));
    for (int64_t g = g0; g < g1; g += kGroups) {
        const int n_g = static_cast<int>(std::min<int64_t>(kGroups, g1 - g));
        const int n_p = (n_g + 1) / 2;
        for (int64_t k0 = 0; k0 < c.n_cols; k0 += kc) {
            const int64_t len = std::min(kc, c.n_cols - k0);
            const float* pp[kFloatX16TilePairs];
            for (int i = 0; i < n_p; ++i) {
                const uint8_t* a = groups[g - g0 + 2 * i];
                const uint8_t* b = 2 * i + 1 < n_g ? groups[g - g0 + 2 * i + 1] : a;
                float* dst = panel.data() + i * 16 * kc;
                float_pair_to_f32_avx512(c.type, a + k0 * 8 * elem, b + k0 * 8 * elem, len, dst);
                pp[i] = dst;
            }
            for (int64_t t0 = 0; t0 < c.n_tok; t0 += c.x_tile) {
                const int n_t = static_cast<int>(std::min<int64_t>(c.x_tile, c.n_tok - t0));
                float_x16_avx512(pp, n_p, len, c.x_tiles + t0 * c.n_cols + k0 * n_t, 1, n_t, n_t,
                                 partial.data() + t0 * 16 * n_p, k0 > 0);
            }
        }
        scatter(partial.data(), static_cast<int>(c.n_tok), n_g, g, 0, c.n_rows, c.out, 16 * n_p);
    }
}

// Decode streams the stored weights once. Prefill converts each pair of row groups to F32 once
// (F16C conversion is slow next to FMA) and runs every token tile over it; the token tiles are
// packed column-major so the kernel's broadcasts read one stream instead of n_t strided ones.
// The conversion is exact, so both routes give bitwise the same sums. One call: the panel of
// groups g0..g1 (at most kFloatMaxGroups).
void run_float_panel(const FloatX8Ctx& c, int64_t g0, int64_t g1) {
    const uint8_t* groups[kFloatMaxGroups];
    for (int64_t g = g0; g < g1; ++g) groups[g - g0] = c.data + static_cast<size_t>(g) * c.group_bytes;
    alignas(32) float tile[kMaxTileTokens * 8 * kFloatMaxGroups];
    if (c.n_tok == 1) {
        c.kernel(groups, static_cast<int>(g1 - g0), c.n_cols, c.x, c.n_cols, 1, 1, tile);
        scatter(tile, 1, static_cast<int>(g1 - g0), g0, 0, c.n_rows, c.out);
        return;
    }
    thread_local std::vector<float> panel;
    if (c.avx512 && c.n_tok >= kMaxTileTokens) return run_float_x16_panel(c, groups, g0, g1);
    static_assert(kFloatTileGroups == 2);
    for (int64_t g = g0; g < g1; g += kFloatTileGroups) {
        const int n_g = static_cast<int>(std::min<int64_t>(kFloatTileGroups, g1 - g));
        const uint8_t* pg[kFloatTileGroups] = {groups[g - g0], n_g > 1 ? groups[g - g0 + 1] : nullptr};
        FloatX8Kernel kernel = c.kernel;
        if (c.to_f32 && c.n_tok >= kMaxTileTokens) {  // worth converting: a full tile or more
            const int64_t n = 8 * c.n_cols;
            panel.resize(static_cast<size_t>(kFloatTileGroups * n));
            for (int i = 0; i < n_g; ++i) {
                c.to_f32(pg[i], panel.data() + i * n, n);
                pg[i] = reinterpret_cast<const uint8_t*>(panel.data() + i * n);
            }
            kernel = c.kernel_f32;
        }
        for (int64_t t0 = 0; t0 < c.n_tok; t0 += kMaxTileTokens) {
            const int n_t = static_cast<int>(std::min<int64_t>(kMaxTileTokens, c.n_tok - t0));
            kernel(pg, n_g, c.n_cols, c.x_tiles + t0 * c.n_cols, 1, n_t, n_t, tile);
            scatter(tile, n_t, n_g, g, t0, c.n_rows, c.out);
        }
    }
}

// Runs fn(g0, g1) over the row groups of each part of the weight's row split (cpu_row_split.h),
// in panels of at most panel_groups groups: one parallel_for, one task per part.
template <class Fn>
void for_each_part(ThreadPool& pool, int64_t n_rows, int64_t panel_groups, const Fn& fn) {
    const int64_t n_parts = row_split_parts(n_rows, pool.n_threads());
    const int64_t n_groups = (n_rows + 7) / 8;
    pool.parallel_for(n_parts, [&](int64_t part, int) {
        const RowRange r = row_split_part(n_rows, n_parts, part);
        const int64_t gb = r.begin / 8, ge = std::min(n_groups, (r.end + 7) / 8);
        for (int64_t g = gb; g < ge; g += panel_groups) fn(g, std::min(ge, g + panel_groups));
    });
}

void run_float_x8(ThreadPool& pool, const FloatX8Ctx& c) {
    for_each_part(pool, c.n_rows, kFloatPanelGroups, [&c](int64_t g0, int64_t g1) { run_float_panel(c, g0, g1); });
}

// BF16 weights on vdpbf16ps (bf16_dot_route; cpu_matmul_bf16_avx512.cpp). x_tiles: the
// activations as BF16 pairs in token tiles of x_tile tokens, tile at t0 * n_cols / 2, each
// (n_cols / 2, n_t).
struct Bf16Ctx {
    const uint8_t* data;
    size_t group_bytes;
    int64_t n_rows, n_cols, n_tok;
    const uint32_t* x_tiles;
    int64_t x_tile;  // n_tok up to kBf16DirectMaxTokens (one tile), else kBf16TileTokens
    float* out;
};

// Columns per block of the BF16 prefill: 2 panels × 16 rows × 1024 column pairs (128 KiB) and a
// token tile's 12 × 1024 pairs (48 KiB) stay in L2, as the F32 route's blocks do.
constexpr int64_t kBf16ColBlock = 2048;

// One panel of groups g0..g1 (at most kFloatMaxGroups). Up to kBf16DirectMaxTokens tokens: one
// pass over the stored groups. More: per set of 2 × kBf16TilePanels groups and column block, the
// pairs of groups are permuted once into panels (a lone last group paired with itself, its
// copy's outputs dropped) and every token tile runs over them, carrying its accumulators from
// block to block through `partial`. Each output is one vdpbf16ps chain over the column pairs in
// order either way, so both give bitwise the same results.
void run_bf16_panel(const Bf16Ctx& c, int64_t g0, int64_t g1) {
    const uint8_t* groups[kFloatMaxGroups];
    for (int64_t g = g0; g < g1; ++g) groups[g - g0] = c.data + static_cast<size_t>(g) * c.group_bytes;
    if (c.n_tok <= kBf16DirectMaxTokens) {
        alignas(64) float tile[kBf16DirectMaxTokens * 8 * kFloatMaxGroups];
        bf16_x8_direct_avx512(groups, static_cast<int>(g1 - g0), c.n_cols, c.x_tiles, static_cast<int>(c.n_tok), tile);
        scatter(tile, static_cast<int>(c.n_tok), static_cast<int>(g1 - g0), g0, 0, c.n_rows, c.out);
        return;
    }
    constexpr int kGroups = 2 * kBf16TilePanels;
    const int64_t kc = std::min(c.n_cols, kBf16ColBlock);
    thread_local std::vector<uint32_t> panel;
    thread_local std::vector<float> partial;
    panel.resize(static_cast<size_t>(kBf16TilePanels * 8 * kc));
    partial.resize(static_cast<size_t>(c.n_tok * 16 * kBf16TilePanels));
    for (int64_t g = g0; g < g1; g += kGroups) {
        const int n_g = static_cast<int>(std::min<int64_t>(kGroups, g1 - g));
        const int n_p = (n_g + 1) / 2;
        for (int64_t k0 = 0; k0 < c.n_cols; k0 += kc) {
            const int64_t len = std::min(kc, c.n_cols - k0);
            const uint32_t* pp[kBf16TilePanels];
            for (int i = 0; i < n_p; ++i) {
                const uint8_t* a = groups[g - g0 + 2 * i];
                const uint8_t* b = 2 * i + 1 < n_g ? groups[g - g0 + 2 * i + 1] : a;
                uint32_t* dst = panel.data() + i * 8 * kc;
                bf16_pair_panel_avx512(a + k0 * 16, b + k0 * 16, len, dst);  // 16 bytes per column
                pp[i] = dst;
            }
            for (int64_t t0 = 0; t0 < c.n_tok; t0 += c.x_tile) {
                const int n_t = static_cast<int>(std::min<int64_t>(c.x_tile, c.n_tok - t0));
                bf16_x16_avx512(pp, n_p, len, c.x_tiles + t0 * c.n_cols / 2 + k0 / 2 * n_t, n_t,
                                partial.data() + t0 * 16 * n_p, k0 > 0);
            }
        }
        scatter(partial.data(), static_cast<int>(c.n_tok), n_g, g, 0, c.n_rows, c.out, 16 * n_p);
    }
}

// Rounds the activations to BF16 pairs once per matmul, in token tiles (one tile, as in decode,
// on the calling thread; more, one pool task per tile), then runs the panels.
void run_bf16(ThreadPool& pool, const CpuWeight& w, const float* x, int64_t n_tok, float* out, MatmulScratch& s) {
    const int64_t n_cols = w.n_cols();
    const int64_t x_tile = n_tok <= kBf16DirectMaxTokens ? n_tok : kBf16TileTokens;
    const size_t need = static_cast<size_t>(n_tok * n_cols / 2) * sizeof(uint32_t);
    if (s.activations.size() < need) s.activations.resize(need);
    auto* xt = reinterpret_cast<uint32_t*>(s.activations.data());
    const int64_t n_tiles = (n_tok + x_tile - 1) / x_tile;
    const auto pack = [&](int64_t tile) {
        const int64_t t0 = tile * x_tile;
        const int n_t = static_cast<int>(std::min(x_tile, n_tok - t0));
        bf16_pack_tile_avx512(x + t0 * n_cols, n_cols, n_t, xt + t0 * n_cols / 2);
    };
    if (n_tiles == 1) pack(0);
    else pool.parallel_for(n_tiles, [&pack](int64_t tile, int) { pack(tile); });
    const Bf16Ctx c{static_cast<const uint8_t*>(w.data()), x8_group_bytes(kLayoutFloatX8, w.type(), n_cols),
                    w.n_rows(), n_cols, n_tok, xt, x_tile, out};
    for_each_part(pool, c.n_rows, kFloatPanelGroups, [&c](int64_t g0, int64_t g1) { run_bf16_panel(c, g0, g1); });
}

struct QuantX8Ctx {
    QuantX8Kernel kernel;
    QuantX16Kernel kernel_x16;  // pairs of groups (nullptr: none at this level)
    const uint8_t* data;
    size_t group_bytes;
    int64_t n_groups, n_rows, n_blocks, n_tok;
    const uint8_t* act;  // token rows of activation blocks
    size_t act_row_bytes;
    float* out;
    int token_tile;  // tokens per pass over the weights (kX16TileTokens with kernel_x16)
    int x8_tile;     // tokens per call of `kernel`
};

void run_quant_x8(ThreadPool& pool, const QuantX8Ctx& c) {
    for_each_part(pool, c.n_rows, kQuantPanelGroups, [&c](int64_t g0, int64_t g1) {
        alignas(64) float tile[std::max(kMaxTileTokens, kX16TileTokens) * 16];
        for (int64_t t0 = 0; t0 < c.n_tok; t0 += c.token_tile) {
            const int n_t = static_cast<int>(std::min<int64_t>(c.token_tile, c.n_tok - t0));
            const uint8_t* act = c.act + t0 * c.act_row_bytes;
            int64_t g = g0;
            if (c.kernel_x16) {
                for (; g + 2 <= g1; g += 2) {
                    c.kernel_x16(c.data + static_cast<size_t>(g) * c.group_bytes, c.group_bytes, c.n_blocks, act,
                                 c.act_row_bytes, n_t, tile);
                    scatter(tile, n_t, 2, g, t0, c.n_rows, c.out);
                }
            }
            for (; g < g1; ++g) {  // one group at a time, in tiles of up to x8_tile tokens
                for (int s0 = 0; s0 < n_t; s0 += c.x8_tile) {
                    const int n_s = std::min(c.x8_tile, n_t - s0);
                    c.kernel(c.data + static_cast<size_t>(g) * c.group_bytes, c.n_blocks, act + s0 * c.act_row_bytes,
                             c.act_row_bytes, n_s, tile);
                    scatter(tile, n_s, 1, g, t0 + s0, c.n_rows, c.out);
                }
            }
        }
    });
}

struct RowsCtx {
    quant::VecDotFn dot;
    const uint8_t* data;
    size_t row_bytes, act_row_bytes;
    int64_t n_rows, n_cols, n_tok;
    const uint8_t* act;
    float* out;
};

void run_rows(ThreadPool& pool, const RowsCtx& c) {
    const int64_t n_parts = row_split_parts(c.n_rows, pool.n_threads());
    pool.parallel_for(n_parts, [&c, n_parts](int64_t part, int) {
        const RowRange part_rows = row_split_part(c.n_rows, n_parts, part);
        for (int64_t r0 = part_rows.begin; r0 < part_rows.end; r0 += kRowsPanel) {
            const int64_t r1 = std::min(part_rows.end, r0 + kRowsPanel);
            for (int64_t t0 = 0; t0 < c.n_tok; t0 += kRowsTokenTile) {
                const int64_t t1 = std::min(c.n_tok, t0 + kRowsTokenTile);
                for (int64_t r = r0; r < r1; ++r) {
                    const uint8_t* w = c.data + static_cast<size_t>(r) * c.row_bytes;
                    for (int64_t t = t0; t < t1; ++t) {
                        c.out[t * c.n_rows + r] = c.dot(c.n_cols, w, c.act + static_cast<size_t>(t) * c.act_row_bytes);
                    }
                }
            }
        }
    });
}

// Runs fn(t) for each token, on the pool when there are enough tokens to be worth it.
template <class Fn>
void for_each_token(ThreadPool& pool, int64_t n_tok, const Fn& fn) {
    if (n_tok < 4) {
        for (int64_t t = 0; t < n_tok; ++t) fn(t);
        return;
    }
    pool.parallel_for(n_tok, [&fn](int64_t t, int) { fn(t); });
}

// Packs x (n_tok, n_cols) into tiles of `tile` tokens, tile at offset t0 * n_cols laid out
// (n_cols, n_t), in scratch.
const float* pack_token_tiles(ThreadPool& pool, const float* x, int64_t n_tok, int64_t n_cols, int64_t tile_tokens,
                              MatmulScratch& s) {
    const size_t need = static_cast<size_t>(n_tok * n_cols) * sizeof(float);
    if (s.activations.size() < need) s.activations.resize(need);
    auto* xt = reinterpret_cast<float*>(s.activations.data());
    const int64_t n_tiles = (n_tok + tile_tokens - 1) / tile_tokens;
    pool.parallel_for(n_tiles, [&](int64_t tile, int) {
        const int64_t t0 = tile * tile_tokens;
        const int64_t n_t = std::min<int64_t>(tile_tokens, n_tok - t0);
        float* dst = xt + t0 * n_cols;
        for (int64_t t = 0; t < n_t; ++t) {
            const float* src = x + (t0 + t) * n_cols;
            for (int64_t k = 0; k < n_cols; ++k) dst[k * n_t + t] = src[k];
        }
    });
    return xt;
}

}  // namespace

Result<CpuWeight> CpuWeight::prepare(TensorType type, const void* data, int64_t n_rows, int64_t n_cols,
                                     bool allow_repack, ThreadPool* pool) {
    const auto& tr = tensor_type_traits(type);
    if (!tr.known || !quant::vec_dot_fn(type, CpuIsa::scalar)) {
        return Status(ErrorCode::unsupported, std::string("CPU matmul does not support tensor type ") + tr.name);
    }
    if (n_rows <= 0 || n_cols <= 0 || data == nullptr) {
        return Status(ErrorCode::invalid_argument, "CPU matmul weight needs rows, columns and data (got " +
                                                       std::to_string(n_rows) + " x " + std::to_string(n_cols) + ")");
    }
    if (n_cols % tr.block_size != 0) {
        return Status(ErrorCode::invalid_argument, std::string("CPU matmul: ") + std::to_string(n_cols) +
                                                       " columns is not a multiple of the " + tr.name +
                                                       " block size " + std::to_string(tr.block_size));
    }
    CpuWeight w;
    const int layout = allow_repack ? choose_layout(type) : kLayoutRows;
    if (layout == kLayoutRows) {
        CpuWeightAccess::set(w, type, data, n_rows, n_cols, kLayoutRows, nullptr, 0);
        return w;
    }
    const int64_t n_groups = (n_rows + 7) / 8;
    const size_t group_bytes = x8_group_bytes(layout, type, n_cols);
    const size_t size = static_cast<size_t>(n_groups) * group_bytes;
    // Allocated without being written (no value-initialisation): the pages are placed where the
    // repack first touches them (glibc serves blocks above its mmap threshold, at most 32 MiB,
    // from fresh mmap pages; smaller ones may reuse heap pages touched before).
    auto* bytes = static_cast<uint8_t*>(::operator new(size, std::align_val_t{64}, std::nothrow));
    if (!bytes) {
        return Status(ErrorCode::out_of_memory, "CPU matmul: cannot allocate " +
                                                    std::to_string(n_groups * 8) + " repacked rows of " +
                                                    std::to_string(n_cols) + " " + tr.name + " columns");
    }
    std::shared_ptr<uint8_t> owned(bytes, [](uint8_t* p) { ::operator delete(p, std::align_val_t{64}); });
    const auto* src = static_cast<const uint8_t*>(data);
    const size_t src_row_bytes = tensor_row_bytes(type, n_cols);
    if (pool) {
        // The matmul's split: part p's groups are repacked by the thread that will multiply them.
        const int64_t n_parts = row_split_parts(n_rows, pool->n_threads());
        pool->parallel_for(n_parts, [&](int64_t part, int) {
            const RowRange r = row_split_part(n_rows, n_parts, part);
            repack_x8(layout, type, src + static_cast<size_t>(r.begin) * src_row_bytes, r.end - r.begin, n_cols,
                      bytes + static_cast<size_t>(r.begin / 8) * group_bytes);
        });
    } else {
        repack_x8(layout, type, src, n_rows, n_cols, bytes);
    }
    CpuWeightAccess::set(w, type, bytes, n_rows, n_cols, layout, std::move(owned), size);
    return w;
}

size_t CpuWeight::bytes() const {
    if (layout_ == kLayoutRows) return tensor_row_bytes(type_, n_cols_) * static_cast<size_t>(n_rows_);
    return static_cast<size_t>((n_rows_ + 7) / 8) * x8_group_bytes(layout_, type_, n_cols_);
}

void cpu_matmul(ThreadPool& pool, const CpuWeight& w, const float* x, int64_t n_tok, float* out,
                MatmulScratch& scratch) {
    if (n_tok <= 0 || w.n_rows() == 0) return;
    const CpuIsa isa = cpu_isa();
    const int64_t n_rows = w.n_rows(), n_cols = w.n_cols();
    const auto* data = static_cast<const uint8_t*>(w.data());
    switch (w.layout()) {
        case kLayoutFloatX8: {
            if (bf16_dot_route(w.type(), n_cols, isa)) return run_bf16(pool, w, x, n_tok, out, scratch);
            const bool avx512 = cpu_isa_has_avx512(isa);
            const int64_t x_tile = avx512 && n_tok >= kMaxTileTokens ? kFloatX16TileTokens : kMaxTileTokens;
            const FloatX8Ctx c{float_x8_kernel(w.type(), isa),
                               float_x8_kernel(TensorType::F32, isa),
                               w.type() == TensorType::F32 ? nullptr : quant::dequantize_row_fn(w.type(), isa),
                               avx512,
                               w.type(),
                               data,
                               x8_group_bytes(kLayoutFloatX8, w.type(), n_cols),
                               (n_rows + 7) / 8,
                               n_rows,
                               n_cols,
                               n_tok,
                               x,
                               n_tok > 1 ? pack_token_tiles(pool, x, n_tok, n_cols, x_tile, scratch) : nullptr,
                               x_tile,
                               out};
            return run_float_x8(pool, c);
        }
        case kLayoutQ4_0X8:
        case kLayoutQ8_0X8:
        case kLayoutQ4_1X8:
        case kLayoutQ5_0X8:
        case kLayoutQ5_1X8:
        case kLayoutQ2_KX8:
        case kLayoutQ3_KX8:
        case kLayoutQ4_KX8:
        case kLayoutQ5_KX8:
        case kLayoutQ6_KX8:
        case kLayoutIQ4_NLX8:
        case kLayoutIQ4_XSX8:
        case kLayoutMXFP4X8: {
            const bool k_quant = x8_takes_q8_k(w.layout());
            const int64_t nb = n_cols / (k_quant ? 256 : 32);
            const size_t row_bytes = k_quant ? tensor_row_bytes(TensorType::Q8_K, n_cols) : nb * sizeof(ActQ8);
            const bool amx = isa >= CpuIsa::amx && n_tok >= kAmxMinTokens && amx_int8_supports(w.layout());
            const size_t act_bytes = static_cast<size_t>(n_tok) * row_bytes;
            // With AMX the packed token tiles follow the ActQ8 rows, 64-byte aligned.
            const size_t need = act_bytes + (amx ? 64 + amx_act_bytes(n_tok, nb) : 0);
            if (scratch.activations.size() < need) scratch.activations.resize(need);
            uint8_t* act = scratch.activations.data();
            if (k_quant) {
                const auto quantize = quant::quantize_row_fn(TensorType::Q8_K, isa);
                for_each_token(pool, n_tok, [&](int64_t t) { quantize(x + t * n_cols, act + t * row_bytes, n_cols); });
            } else {
                for_each_token(pool, n_tok, [&](int64_t t) {
                    quantize_act_q8(x + t * n_cols, n_cols, reinterpret_cast<ActQ8*>(act + t * row_bytes), isa);
                });
            }
            if (amx) {
                uint8_t* tiles = act + act_bytes + (64 - reinterpret_cast<uintptr_t>(act + act_bytes) % 64) % 64;
                return amx_int8_matmul(pool, w.layout(), data, x8_group_bytes(w.layout(), w.type(), n_cols), n_rows,
                                       nb, reinterpret_cast<const ActQ8*>(act), n_tok, tiles, out);
            }
            const QuantX16Kernel x16 = quant_x16_kernel(w.layout(), isa);
            const QuantX8Ctx c{quant_x8_kernel(w.layout(), isa),
                               x16,
                               data,
                               x8_group_bytes(w.layout(), w.type(), n_cols),
                               (n_rows + 7) / 8,
                               n_rows,
                               nb,
                               n_tok,
                               act,
                               row_bytes,
                               out,
                               x16 ? kX16TileTokens : x8_token_tile(w.layout()),
                               x8_token_tile(w.layout())};
            return run_quant_x8(pool, c);
        }
        default: {
            const TensorType vt = quant::vec_dot_type(w.type());
            RowsCtx c{quant::vec_dot_fn(w.type(), isa), data, tensor_row_bytes(w.type(), n_cols),
                      tensor_row_bytes(vt, n_cols), n_rows, n_cols, n_tok, nullptr, out};
            if (vt == TensorType::F32) {
                c.act = reinterpret_cast<const uint8_t*>(x);
            } else {
                const size_t need = static_cast<size_t>(n_tok) * c.act_row_bytes;
                if (scratch.activations.size() < need) scratch.activations.resize(need);
                uint8_t* act = scratch.activations.data();
                const auto quantize = quant::quantize_row_fn(vt, isa);
                for_each_token(pool, n_tok, [&](int64_t t) {
                    quantize(x + t * n_cols, act + static_cast<size_t>(t) * c.act_row_bytes, n_cols);
                });
                c.act = act;
            }
            return run_rows(pool, c);
        }
    }
}

}  // namespace strata
