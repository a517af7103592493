// Workspace and tiling of the prefill matmul (n_tok > 8): activations converted to F16, weights
// dequantized tile by tile to F16 and multiplied with cublasGemmEx (F16 in, F32 accumulate and
// out). Two tile buffers let the dequantization of tile k+1 (second stream) overlap the GEMM of
// tile k; together they take at most the layout's "4096 rows of the row length" (each buffer
// half of it): row tiles of ≤ 4096 rows cut into column chunks (accumulated with beta = 1) so a
// tile fits its buffer, chunks balanced. F16 weights are multiplied in place; F32 weights with an
// F32 GEMM.
//
// The workspace sits at the END of the stage's scratch buffer (the layout's device_extra
// region, see plan/memory_estimate.h), anchored at the end so the F16 activations land at the
// same address for every matrix of a layer:
//     [cuBLAS workspace 32 MiB][tile 0][tile 1][F16 activations]  ← end of the scratch buffer
// Its size never exceeds make_scratch_layout()'s device_extra_bytes for the model.
// Plain arithmetic; no CUDA.
#pragma once

#include <cstddef>
#include <cstdint>

namespace strata::cuda {

constexpr size_t kCublasWorkspaceBytes = 32ull << 20;
constexpr int64_t kMaxTileRows = 4096;

struct GemmPlan {
    bool direct = false;       // F16 / F32 weights: no tiles
    bool f32 = false;          // F32 weights: F32 GEMM on x itself, no F16 activations
    int64_t tile_rows = 0;     // R
    int64_t tile_cols = 0;     // C
    int64_t n_row_tiles = 0;
    int64_t n_col_chunks = 0;
    size_t tile_bytes = 0;     // one tile buffer (256-aligned)
    size_t act16_bytes = 0;    // (256-aligned)
    size_t ws_bytes = 0;       // whole workspace
    size_t tile0_offset = 0, tile1_offset = 0, act16_offset = 0;  // from the workspace start
};

inline size_t gemm_align(size_t n) { return (n + 255) / 256 * 256; }

// dev_type: cuk::DevType (0 F32, 1 F16, 2 BF16, 3 Q4_0, 4 Q8_0, 5 Q4_K, 6 Q5_K, 7 Q6_K).
inline GemmPlan plan_gemm(int dev_type, int64_t n_rows, int64_t n_cols, int64_t n_tok) {
    GemmPlan p;
    p.f32 = dev_type == 0;
    p.direct = dev_type == 0 || dev_type == 1;
    if (!p.direct) {
        const int64_t g = dev_type >= 5 ? 256 : dev_type >= 3 ? 32 : 8;  // column granularity
        const int64_t budget = kMaxTileRows / 2 * n_cols;                 // F16 values per buffer
        p.n_row_tiles = (n_rows + kMaxTileRows - 1) / kMaxTileRows;
        p.tile_rows = ((n_rows + p.n_row_tiles - 1) / p.n_row_tiles + 127) / 128 * 128;
        if (p.tile_rows > n_rows) p.tile_rows = n_rows;
        int64_t c_max = budget / p.tile_rows / g * g;
        if (c_max < g || n_cols % g != 0) {  // narrow rows: tiles of 2048 full rows instead
            p.tile_rows = kMaxTileRows / 2 < n_rows ? kMaxTileRows / 2 : n_rows;
            c_max = n_cols;
        }
        if (c_max > n_cols) c_max = n_cols;
        p.n_row_tiles = (n_rows + p.tile_rows - 1) / p.tile_rows;
        p.n_col_chunks = (n_cols + c_max - 1) / c_max;
        const int64_t per = (n_cols + p.n_col_chunks - 1) / p.n_col_chunks;  // balanced chunks
        p.tile_cols = n_cols % g == 0 ? (per + g - 1) / g * g : n_cols;
        if (p.tile_cols > c_max) p.tile_cols = c_max;
        p.n_col_chunks = (n_cols + p.tile_cols - 1) / p.tile_cols;
        p.tile_bytes = gemm_align(static_cast<size_t>(p.tile_rows * p.tile_cols) * 2);
    }
    p.act16_bytes = p.f32 ? 0 : gemm_align(static_cast<size_t>(n_tok * n_cols) * 2);
    p.tile0_offset = kCublasWorkspaceBytes;
    p.tile1_offset = p.tile0_offset + p.tile_bytes;
    p.act16_offset = p.tile1_offset + p.tile_bytes;
    p.ws_bytes = p.act16_offset + p.act16_bytes;
    return p;
}

}  // namespace strata::cuda
