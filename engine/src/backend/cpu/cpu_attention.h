// One attention task of the CPU backend: the group of query heads that share one KV head, for
// one token, over n_pos consecutive positions of the cache, which may wrap around its rows (a
// sliding window's ring). Pure function of its inputs (no threads).
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/device.h"
#include "util/cpu_features.h"

namespace strata {

// Byte offset of the j-th of consecutive positions starting at cache row first_row, in a cache
// of n_rows rows that a sliding window's ring wraps back to row 0.
inline size_t ring_row_offset(int64_t first_row, int64_t n_rows, size_t row_bytes, int64_t j) {
    const int64_t r = first_row + j;
    return static_cast<size_t>(r < n_rows ? r : r - n_rows) * row_bytes;
}

struct AttentionTask {
    const float* q;          // (group, head_dim): the group's query heads, consecutive
    const uint8_t* k_base;   // this KV head's slice of cache row 0
    const uint8_t* v_base;
    size_t row_bytes;        // bytes between cache rows
    int64_t first_row;       // the row of the first position attended to
    int64_t n_rows;          // rows in the cache: position j (from the first) is row (first_row + j) mod n_rows
    KvCacheType type;
    int64_t n_pos, group, head_dim;
    float scale;
    float* scores;           // scratch (group, n_ctx_stride); the grouped AVX2 path needs none
    int64_t scores_stride;
    float* out;              // (group, head_dim)
    const float* sinks = nullptr;  // (group) attention sinks of the group's heads, or none

    // Byte offset of the j-th attended position's row.
    size_t row(int64_t j) const { return ring_row_offset(first_row, n_rows, row_bytes, j); }
};

// True when the vectorised paths handle this cache type and head size (AVX2 available at `isa`;
// head_dim a multiple of 8 for f16/f32 caches, of 32 for q8_0).
bool attention_task_vectorised(KvCacheType type, int64_t head_dim, CpuIsa isa);
// The AVX2+FMA+F16C path; only call when attention_task_vectorised() says so.
void attention_task_avx2(const AttentionTask& t);
// The same on 512-bit vectors (cpu_attention_avx512.cpp): same cache types and head sizes, only
// call when attention_task_vectorised() says so and the level is avx512 or above. Its outputs
// are bitwise those of the AVX2 path (each lane repeats an AVX2 lane's operations in order).
void attention_task_avx512(const AttentionTask& t);
// The vectorised path for level `isa` (AVX-512 at avx512 and above, else AVX2).
inline void attention_task_vectorised_run(const AttentionTask& t, CpuIsa isa) {
    if (cpu_isa_has_avx512(isa)) attention_task_avx512(t);
    else attention_task_avx2(t);
}
// out[i] = e^x[i] for x[i] ≤ 0 as the AVX2 path's softmax computes it (exposed for its test).
// Needs AVX2; n any length.
void exp_nonpositive_avx2(const float* x, float* out, int64_t n);

}  // namespace strata
