// Reading K/V cache elements for the attention kernels (f32, f16 or q8_0 rows of n_embd_kv).
#pragma once

#include "backend/cuda/cuda_common.cuh"

namespace strata::cuk {

// Element `col` of cache row `pos`.
// The cache row of position `pos` (a sliding-window layer's cache is a ring of n_rows rows).
__device__ __forceinline__ int64_t kv_row(int64_t pos, int64_t n_rows) { return pos % n_rows; }

__device__ __forceinline__ float kv_load(const void* cache, int kv_type, int64_t n_embd_kv, int64_t pos, int64_t col) {
    if (kv_type == kKvF32) return __ldg(static_cast<const float*>(cache) + pos * n_embd_kv + col);
    if (kv_type == kKvF16) return h2f(__ldg(static_cast<const unsigned short*>(cache) + pos * n_embd_kv + col));
    const uint8_t* blk = static_cast<const uint8_t*>(cache) + pos * (n_embd_kv / 32) * 34 + (col / 32) * 34;
    const uint16_t d = static_cast<uint16_t>(__ldg(blk) | (__ldg(blk + 1) << 8));
    return h2f(d) * static_cast<float>(static_cast<int8_t>(__ldg(blk + 2 + col % 32)));
}

}  // namespace strata::cuk
