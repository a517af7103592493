// Plain argument structs of the CUDA kernels, shared by host code and kernels. No CUDA headers,
// so host-only code (and tests) can use them. Pointers are device addresses; activations are
// float32, row-major, one row per token.
#pragma once

#include <cstddef>
#include <cstdint>

namespace strata::cuk {

// Weight element formats the kernels read (TensorTypes the device converts others to).
enum DevType : int { kF32 = 0, kF16, kBF16, kQ4_0, kQ8_0, kQ4_K, kQ5_K, kQ6_K, kDevTypeCount };

// A weight matrix (or embedding table) on the device.
//  - native layout: rows exactly as in GGUF (`main` holds whole blocks; `d` is null).
//  - split layout (Q4_0, Q8_0, Q6_K matrices): each block's fp16 scale `d` moved to a separate
//    array, so the remaining block bytes (16, 32, 208) stay 16-byte aligned for vector loads.
//    Q4_K and Q5_K blocks (144, 176 bytes) are aligned already and always stay native.
struct WeightView {
    const uint8_t* main = nullptr;  // row r at main + r * row_bytes
    const uint16_t* d = nullptr;    // split layout: (n_rows, d_per_row) fp16 scales
    int64_t n_rows = 0, n_cols = 0;
    int64_t row_bytes = 0;
    int64_t d_per_row = 0;
    int type = kF32;                // DevType
};

// Activations quantized to 8 bits in blocks of 32 for the integer dot products:
// qs (n_rows, n_cols) int8 and ds (n_rows, n_cols / 32) float2 {d, d * Σ qs}, d rounded to fp16
// (the same numbers the CPU's Q8_0 activations hold).
struct ActQ8 {
    int8_t* qs = nullptr;
    float* ds = nullptr;  // float2 pairs
};
// Bytes of an ActQ8 for n_rows × n_cols (n_cols a multiple of 32), and its two parts.
inline size_t act_q8_align(size_t n) { return (n + 255) / 256 * 256; }
inline size_t act_q8_bytes(int64_t n_rows, int64_t n_cols) {
    return act_q8_align(static_cast<size_t>(n_rows * n_cols)) + static_cast<size_t>(n_rows * (n_cols / 32)) * 8;
}
inline ActQ8 act_q8_at(void* base, int64_t n_rows, int64_t n_cols) {
    ActQ8 a;
    a.qs = static_cast<int8_t*>(base);
    a.ds = reinterpret_cast<float*>(static_cast<char*>(base) + act_q8_align(static_cast<size_t>(n_rows * n_cols)));
    return a;
}

constexpr int kMaxMatvecTokens = 8;   // matmuls with more tokens go through cuBLAS
constexpr int kMaxGroup = 3;          // matrices sharing one matvec launch (q, k, v)

enum MatvecEpilogue : int {
    kEpiNone = 0,
    kEpiResidual = 1,  // also residual[t, r] += out[t, r]   (matmul followed by add)
    kEpiSwiglu = 2,    // two matrices (gate, up) of equal rows: out[0] = silu(g) * u, out[1] = u
};

// One matvec launch: up to kMaxGroup matrices with the same input and row length.
struct MatvecArgs {
    int n_mat = 1;
    WeightView w[kMaxGroup];
    float* out[kMaxGroup] = {};       // (n_tok, w[m].n_rows)
    int64_t row_begin[kMaxGroup + 1] = {};  // prefix sums of n_rows (row slots of the launch)
    int64_t n_cols = 0;
    int n_tok = 1;                    // 1 .. kMaxMatvecTokens
    const float* x = nullptr;         // float weights: (n_tok, n_cols) activations
    ActQ8 act;                        // quantized weights: activations in ActQ8 form
    int epilogue = kEpiNone;
    float* residual = nullptr;        // kEpiResidual: (n_tok, n_rows)
};

// ---- mixture-of-experts FFN (k_moe.cu; DeviceOps::moe_route / moe_ffn in backend/device.h) ----
// One expert's matrices on the device: gate and up (n_ff, n_embd), down (n_embd, n_ff), and
// (gpt-oss) F32 biases of n_ff, n_ff and n_embd values, null without. A layer's experts form a
// device array of these, indexed by the expert id the routing kernel wrote: the kernels read
// the id from device memory, so no host round trip decides which weights a token reads.
struct MoeExpertView {
    WeightView gate, up, down;
    const float* gate_bias = nullptr;
    const float* up_bias = nullptr;
    const float* down_bias = nullptr;
};

constexpr int kMoeMaxExperts = 1024;  // shared memory of the routing kernel (17 bytes each)
constexpr int kMoeMaxUsed = 32;

// Routing (MoeRouting): logits (n_tok, n_expert) → ids, weights (n_tok, n_used).
struct MoeRouteArgs {
    const float* logits = nullptr;
    int64_t n_tok = 0, n_expert = 0, n_used = 0;
    int sigmoid = 0;                 // MoeGating::sigmoid, else softmax
    int normalize = 1;
    float scale = 1.0f;
    const float* bias = nullptr;     // (n_expert) choice bias, or null
    int32_t* ids = nullptr;
    float* weights = nullptr;
};

enum MoeActivation : int { kMoeSilu = 0, kMoeGeluTanh = 1, kMoeSwigluOai = 2 };  // FfnActivation order

// Prefill's grouped launches sort a group's (token, choice) pairs by expert and cut each
// expert's run into tiles of up to kMoeTilePairs pairs, one GEMM block column each.
constexpr int kMoeTilePairs = 32;
struct MoeTile {
    int32_t expert = 0, begin = 0, count = 0;  // sorted pairs begin .. begin + count - 1; count 0: none
};
// Tiles a group of n_pairs pairs can need: one partial tile per expert at most. constexpr, so
// kernels call it too (--expt-relaxed-constexpr).
constexpr int64_t moe_max_tiles(int64_t n_pairs, int64_t n_expert) {
    return (n_pairs + kMoeTilePairs - 1) / kMoeTilePairs + n_expert;
}
// int32 values of a grouped launch's sort region: order and pos (n_pairs each), then the tiles.
constexpr int64_t moe_sort_ints(int64_t n_pairs, int64_t n_expert) {
    return 2 * n_pairs + 3 * moe_max_tiles(n_pairs, n_expert);
}

// The experts' FFN over (token, chosen expert) pairs. A launch covers group_tok tokens and
// slot_chunk of their choices (all n_used unless one token's pairs overflow the workspace;
// later chunks add to out): its pairs' activations h (group_tok · slot_chunk, n_ff) fit the
// workspace that holds h and h_q.
//
// grouped = 1 (prefill; slot_chunk = n_used): each group's pairs are sorted by expert on the
// device and each expert's weights read once per tile of its pairs (a grouped GEMM) rather than
// once per pair; h then holds the group's pairs in sorted order, y their down projections, and
// sort the order (sorted index → pair), pos (pair → sorted index) and the MoeTile table.
struct MoeFfnArgs {
    const MoeExpertView* experts = nullptr;  // (n_expert), device memory
    int64_t n_expert = 0, n_embd = 0, n_ff = 0, n_used = 0;
    int gate_type = kF32;            // DevType of every gate and up matrix
    int down_type = kF32;            // DevType of every down matrix
    int act = kMoeSilu;
    int biased = 0;
    const float* x = nullptr;        // (n_tok, n_embd)
    ActQ8 x_q;                       // quantized gate/up: x as ActQ8 (n_tok rows)
    const int32_t* ids = nullptr;    // (n_tok, n_used)
    const float* weights = nullptr;  // (n_tok, n_used)
    float* h = nullptr;              // (group_tok · slot_chunk, n_ff)
    void* h_q = nullptr;             // quantized down: h as ActQ8 (group_tok · slot_chunk rows)
    float* out = nullptr;            // (n_tok, n_embd)
    int64_t n_tok = 0;
    int64_t group_tok = 1;
    int64_t slot_chunk = 1;          // n_used, or less with group_tok 1
    int grouped = 0;
    float* y = nullptr;              // grouped: (group_tok · n_used, n_embd)
    int32_t* sort = nullptr;         // grouped: moe_sort_ints(group_tok · n_used, n_expert) values
};

// KV cache element formats (match KvCacheType order: f32, f16, q8_0).
enum KvType : int { kKvF32 = 0, kKvF16 = 1, kKvQ8_0 = 2 };

// Rotary embedding and KV store, one launch (see k_rope_store.cu):
//  part A: rope of a (n_tok, n_head_a, head_dim) tensor in place (n_head_a may be 0);
//  part B: for each of n_head_b kv heads: optional rope of k in place, then (optionally) k and v
//          rows stored into the cache at positions pos_b.. .
struct RopeStoreArgs {
    int64_t n_tok = 0, head_dim = 0;
    int n_rot = 0;
    float freq_base = 10000.0f, freq_scale = 1.0f;
    int neox = 0;
    const float* freq_factors = nullptr;  // (n_rot/2) per-pair divisors, or null
    float ext_factor = 0.0f, corr_low = 0.0f, corr_high = 0.0f, mscale = 1.0f;  // YaRN (device.h RopeParams)
    float* xa = nullptr;  int64_t n_head_a = 0;  const int32_t* pos_a = nullptr;
    float* xb = nullptr;  int64_t n_head_b = 0;  const int32_t* pos_b_rope = nullptr;  // null: no rope of k
    int store = 0;
    const float* v = nullptr;
    void* k_cache = nullptr;
    void* v_cache = nullptr;
    int kv_type = kKvF16;
    int64_t n_embd_kv = 0;
    int64_t kv_rows = 0;        // rows of the cache: position p is stored in row p % kv_rows
    const int32_t* pos_store = nullptr;
};

// Attention over the cache. Decode (few tokens): split-K partials + combine. Prefill: tiled.
struct AttnArgs {
    const float* q = nullptr;   // (n_tok, n_head, head_dim)
    float* out = nullptr;       // (n_tok, n_head, head_dim)
    int64_t n_tok = 0, n_head = 0, n_head_kv = 0, head_dim = 0;
    float scale = 1.0f;
    float softcap = 0.0f;       // scores s → softcap·tanh(s / softcap) when > 0 (AttentionParams)
    int64_t window = 0;         // > 0: a query at p sees keys p − window + 1 .. p only
    // (n_head) attention sinks (gpt-oss), or null: head h's logit sinks[h] joins its softmax's
    // denominator only (AttentionParams). Decode adds it in the combine, prefill when it
    // normalizes its output; the split-K partials never see it.
    const float* sinks = nullptr;
    const void* k = nullptr;    // (n_ctx, n_embd_kv) in kv_type
    const void* v = nullptr;
    int kv_type = kKvF16;
    int64_t n_embd_kv = 0, n_ctx = 0;
    int64_t n_rows = 0;         // rows of the cache: position p is row p % n_rows (a sliding ring)
    const int32_t* pos = nullptr;  // position of token 0 (device memory)
    // split-K
    float* partial = nullptr;   // (n_tok, n_head, n_chunks, 2 + head_dim)
    int64_t chunk_len = 0;
    int64_t n_chunks = 0;       // chunks in the launch grid (≥ the chunks the positions need)
    ActQ8 act;                  // combine: also quantize out rows (head_dim % 32 == 0) when act.qs
};

}  // namespace strata::cuk
