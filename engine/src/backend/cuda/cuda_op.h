// The CUDA device records DeviceOps calls as Op values and launches them at the next flush
// (synchronize, copy_to_host, a transport, freeing memory). Recording first lets the device
//  - fuse neighbouring ops into fewer kernels (see cuda_fusion.h),
//  - replay a repeated op sequence (a decode step) as one CUDA graph: positions travel through
//    device memory (pos slots), so the same graph serves every step.
// Plain C++ (no CUDA types), so the planning logic builds and is tested without a GPU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "backend/cuda/kernel_args.h"
#include "backend/device.h"

namespace strata::cuda {

enum class OpKind : uint8_t {
    copy_h2d, copy_d2h, copy_d2d, embed, rms_norm, matmul, add_bias, rope, store_kv, attention, swiglu, add, geglu,
    scale, moe_route, moe_ffn,
};
const char* op_kind_name(OpKind k);

// What the planner needs to know about a weight (the executor reads the rest from `handle`).
struct OpWeight {
    const void* handle = nullptr;  // the CudaWeight
    const void* data = nullptr;    // its device memory (part of graph signatures)
    int type = 0;                  // cuk::DevType
    int64_t n_rows = 0, n_cols = 0;
    bool quantized = false;        // int8 activations (ActQ8) in the matvec path
};

struct Op {
    OpKind kind = OpKind::add;
    int64_t n_tok = 0;      // tokens (rows) of the op
    int64_t n = 0;          // row length (rms_norm, add_bias), values (swiglu, add), bytes (copies)
    int64_t n_head = 0, n_head_kv = 0, head_dim = 0;
    float eps = 0.0f, scale = 0.0f;   // scale: attention's q·k scale, or the scale op's factor
    float softcap = 0.0f;             // attention (AttentionParams)
    int64_t window = 0;
    const float* x = nullptr;   // main input (in place for rope, add, add_bias); store_kv: k
    const float* y = nullptr;   // second input: swiglu up, add y, store_kv v
    float* out = nullptr;       // output: embed, rms_norm, matmul, attention, swiglu, geglu
    OpWeight w;                 // matmul weight, norm weight, bias, embedding table, rope
                                // frequency factors, attention sinks (none: handle null)
    const int32_t* tokens = nullptr;
    KvView kv;
    RopeParams rope;
    float* scratch = nullptr;   // attention split-K partials
    int64_t chunk_len = 0, n_chunks = 0;  // attention split-K geometry
    int pos_slot = -1;          // rope, store_kv, attention: index into the position array
    void* act = nullptr;        // matmul: ActQ8 (matvec path) or F16 activations (GEMM path)
    void* ws = nullptr;         // matmul GEMM path: workspace (cuBLAS, tiles, F16 activations)
    size_t ws_bytes = 0;
    const void* src = nullptr;  // copies (host staging offsets are folded into src/dst)
    void* dst = nullptr;
    cuk::MoeRouteArgs route;    // moe_route (device addresses; no positions)
    cuk::MoeFfnArgs moe;        // moe_ffn
};

// Bytes of int8 activations in blocks of 32 (the ActQ8 layout of kernels.h: qs, 256-aligned,
// then one float pair per block).
inline size_t act_q8_size(int64_t rows, int64_t cols) {
    const size_t qs = static_cast<size_t>(rows * cols);
    return (qs + 255) / 256 * 256 + static_cast<size_t>(rows * (cols / 32)) * 8;
}

// Decisions shared by recording, planning and execution.
inline bool matmul_uses_matvec(int64_t n_tok) { return n_tok >= 1 && n_tok <= 8; }
inline bool attention_uses_split_k(int64_t n_tok, int64_t head_dim) { return n_tok <= 8 || head_dim > 256; }

// Chunk geometry of split-K decode attention for a cache of n_ctx positions: chunks of
// chunk_len ≥ 16 positions (short chunks: many blocks, little serial work each), at most 256
// chunks (the size of the layout's partials region). The
// launch covers a power of two of chunks ≥ what positions 0 .. n_pos - 1 need (≤ the total), so
// a decode step's graph is reused until the context doubles.
struct SplitK {
    int64_t chunk_len = 0;
    int64_t n_chunks = 0;
};
inline SplitK split_k_geometry(int64_t n_ctx, int64_t n_pos) {
    SplitK s;
    const int64_t per = (n_ctx + 255) / 256;
    s.chunk_len = per < 16 ? 16 : (per + 15) / 16 * 16;
    const int64_t total = (n_ctx + s.chunk_len - 1) / s.chunk_len;
    const int64_t need = ((n_pos < 1 ? 1 : n_pos) + s.chunk_len - 1) / s.chunk_len;
    int64_t p = 1;
    while (p < need) p *= 2;
    s.n_chunks = p < total ? p : total;
    return s;
}

// A stable description of an op list (everything but position values and copied bytes): two
// lists with equal signatures launch the same kernels with the same arguments.
void append_signature(const Op& op, std::vector<uint64_t>& sig);

}  // namespace strata::cuda
