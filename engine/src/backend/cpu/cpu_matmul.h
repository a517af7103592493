// Matrix products on the CPU with weights in any computable tensor type.
//
// CpuWeight is a weight matrix (n_rows outputs × n_cols inputs, row-major, rows contiguous as in
// GGUF) prepared for the kernels: either a view of the mapped file or a repacked copy it owns.
// With allow_repack, every computable type but Q8_K is copied into a layout that interleaves 8
// rows (one SIMD lane per row; see cpu_matmul_internal.h), about the same size as the original;
// Q8_K, or any type without allow_repack, is used in place through quant::vec_dot. Kernels:
// scalar, AVX2+FMA+F16C, VNNI (AVX-VNNI / AVX512-VNNI on 256 bits) for the integer formats,
// and on AVX-512 CPUs 512-bit kernels (two row groups per vector for the integer formats,
// float prefill on 16-row panels), chosen at run time (util/cpu_features.h). Every level from
// AVX2 up returns bitwise the same results.
// Immutable after prepare(); shareable between threads.
//
// cpu_matmul computes out (n_tok, n_rows) = x (n_tok, n_cols) · Wᵀ. It runs on the given pool
// as one parallel_for (one barrier) over the parts of cpu_row_split.h, after the activations are
// quantized or packed (on the calling thread below 4 tokens, as in decode; on the pool, a second
// parallel_for, for prefill). Results do not depend on the pool's thread count (work is split
// over output rows in whole 16-row units, never over the reduction), so splits are bitwise
// repeatable. `out` 64-byte aligned keeps the threads' outputs on separate cache lines.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "strata/status.h"
#include "strata/tensor_type.h"

namespace strata {

class ThreadPool;

class CpuWeight {
public:
    // `data` must outlive the CpuWeight unless it repacks (then it owns a copy).
    // With a pool, the repack runs on it with the row split of cpu_matmul (cpu_row_split.h), so
    // each part of the copy is first written, and on a NUMA machine placed, by the thread that
    // will read it (the copy is allocated untouched); the bytes are the same for any pool.
    // Calls parallel_for on `pool`: not from inside one of its tasks.
    static Result<CpuWeight> prepare(TensorType type, const void* data, int64_t n_rows,
                                     int64_t n_cols, bool allow_repack = true, ThreadPool* pool = nullptr);
    CpuWeight() = default;

    TensorType type() const { return type_; }
    int64_t n_rows() const { return n_rows_; }
    int64_t n_cols() const { return n_cols_; }
    const void* data() const { return data_; }
    // Bytes this weight occupies in memory it owns (0 for a view of the mapping).
    size_t owned_bytes() const { return owned_ ? owned_size_ : 0; }
    // Bytes read per full pass over the matrix (for bandwidth figures).
    size_t bytes() const;
    int layout() const { return layout_; }  // 0 = GGUF row-major (a view); others: repacked copies

private:
    TensorType type_ = TensorType::F32;
    int64_t n_rows_ = 0, n_cols_ = 0;
    const void* data_ = nullptr;
    std::shared_ptr<uint8_t> owned_;  // the repacked copy, owned_size_ bytes
    size_t owned_size_ = 0;
    int layout_ = 0;
    friend struct CpuWeightAccess;
};

// Scratch reused between calls (quantized or repacked activations), grown on demand. One per
// caller thread (it is written before the pool's tasks start and only read by them).
struct MatmulScratch {
    std::vector<uint8_t> activations;
};

void cpu_matmul(ThreadPool& pool, const CpuWeight& w, const float* x, int64_t n_tok, float* out,
                MatmulScratch& scratch);

}  // namespace strata
