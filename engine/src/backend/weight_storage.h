// What a CUDA device stores for a weight, from the file's type and shape alone. The planner
// budgets GPU memory with it before anything is loaded, and the CUDA backend lays weights out
// by the same rule (cuda/cuda_weight_layout.cpp), so the prediction is the allocation.
//
//  - vectors (norms, biases): F32;
//  - types the GPU kernels read (F32, F16, BF16, Q4_0, Q8_0, Q4_K, Q5_K, Q6_K): as in the file;
//  - other computable types: converted on upload, level for level where quant::transcode_row
//    can (Q3_K → Q6_K; Q5_0, IQ4_NL, IQ4_XS, MXFP4 → Q8_0), else through floats to Q8_0 (F16
//    when a row is not whole 32-blocks); either takes more memory than the file (Q3_K: 3.4 →
//    6.6 bits per weight, Q2_K: 2.6 → 8.5, MXFP4: 4.25 → 8.5 until CUDA has MXFP4 kernels);
//  - matrices of Q4_0, Q8_0 and Q6_K are "split" (block scales in their own 256-byte aligned
//    array), which costs at most 255 bytes of padding per tensor.
// Pure functions; thread-safe. CPU devices store what the file holds (see CpuWeight).
#pragma once

#include <cstdint>

#include "backend/device.h"

namespace strata {

// True for the types the CUDA kernels compute with as they are stored in the file.
bool cuda_reads_type(TensorType t);
// The type a weight is stored in on a CUDA device.
TensorType cuda_storage_type(TensorType t, WeightRole role, int64_t n_cols);
// A "split" stored form: each block's fp16 scale d moves to a separate array, so the rest of
// the block (main_bytes) is 16-byte aligned for vector loads.
struct CudaSplit {
    int64_t block_elems = 0;
    int64_t block_bytes = 0;  // the block in the file layout
    int64_t d_at = 0;         // byte offset of d in that block
    int64_t main_bytes = 0;   // block_bytes - 2
};
// The split geometry of a weight stored as `stored` in `role`; false when it is kept whole.
bool cuda_split(TensorType stored, WeightRole role, CudaSplit& out);
// Bytes the weight takes on a CUDA device; 0 when a row is not a whole number of the type's
// blocks (loading refuses such a tensor).
uint64_t cuda_weight_bytes(TensorType t, WeightRole role, int64_t n_rows, int64_t n_cols);

// A CUDA device that runs a MoE layer's experts keeps a table of them in device memory: one
// cuk::MoeExpertView (cuda/kernel_args.h: three weight views and three bias pointers, 192
// bytes; cuda_moe.cpp asserts the size) per expert, counted as the layer's weights. The planner
// adds it to the layer's CUDA expert bytes.
constexpr uint64_t kCudaExpertViewBytes = 192;
inline uint64_t cuda_expert_table_bytes(int64_t n_expert) {
    return n_expert > 0 ? static_cast<uint64_t>(n_expert) * kCudaExpertViewBytes : 0;
}

}  // namespace strata
