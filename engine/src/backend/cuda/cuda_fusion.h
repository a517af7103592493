// Plans the launches for a recorded op list: which neighbouring ops become one kernel.
//
//   rms_norm → matvec(x = its output)      norm writes the quantized activations too
//   matvec, matvec, matvec (same input)    one launch (q, k, v), activations quantized once
//   matvec(gate), matvec(up) → swiglu      one launch computing silu(g)·u per row pair
//   matvec → add(x += its output)          the residual add in the matvec epilogue
//   rope(q), rope(k) → store_kv(k)         one launch: both rotations and the cache writes
//   attention → matvec(x = its output)     the split-K combine quantizes its output
//
// Every fused launch still writes every output the separate ops would have written, so what
// memory holds after a flush does not depend on fusion. Pure function; no CUDA.
#pragma once

#include <string>
#include <vector>

#include "backend/cuda/cuda_op.h"

namespace strata::cuda {

enum class ItemKind : uint8_t {
    op,          // ops[first], launched on its own
    norm_quant,  // rms_norm ops[first] that also writes `act`
    quant,       // quantize act_x (act_rows × act_cols) into `act`
    matvec,      // n_mat matmuls ops[first ..], then the epilogue op if any
    gemm,        // matmul ops[first] through cuBLAS
    rope_store,  // rope ops[first], ops[first + 1], store_kv ops[first + 2]
    attention,   // attention ops[first]; with `act` the combine also quantizes the output
};
const char* item_kind_name(ItemKind k);

struct Item {
    ItemKind kind = ItemKind::op;
    int first = 0;
    int count = 1;              // ops consumed
    int n_mat = 1;              // matvec: matrices in the launch
    int epilogue = 0;           // matvec: cuk::MatvecEpilogue
    void* act = nullptr;        // ActQ8 written (norm_quant, quant, attention) or read (matvec)
    const float* act_x = nullptr;
    int64_t act_rows = 0, act_cols = 0;
    bool convert_x = true;      // gemm: F16 activations must be made (not left by the previous gemm)
};

struct PlanOptions {
    bool fuse = true;  // false: one launch per op, activations quantized for every matmul
};

std::vector<Item> plan_launches(const std::vector<Op>& ops, const PlanOptions& options);

// What an item launches, for the launch profile: "matvec Q4_0 (4096+1024+1024)x4096 t1",
// "matvec Q4_K 4096x11008 t1 +residual", "gemm Q4_K 11008x4096 t512", "attention split-K
// 32x128 chunks 64 t1 +quantize", ...
std::string item_label(const Item& item, const std::vector<Op>& ops);

// True when every item may be captured in a CUDA graph (no cuBLAS, no prefill attention).
bool graphable(const std::vector<Op>& ops, const std::vector<Item>& items);

}  // namespace strata::cuda
