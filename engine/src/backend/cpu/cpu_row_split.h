// How cpu_matmul splits a weight's output rows into tasks for the ThreadPool, and how
// CpuWeight::prepare splits the repack the same way (so the thread that first writes a part of
// the repacked copy, and so places its pages on its NUMA node, is the one that reads it).
//
// Rules (tests/engine/tst_cpu_matmul.cpp checks them for 1..64 threads):
// - The parts cover rows [0, n_rows) exactly once, in order.
// - Every part begins at a multiple of kSplitUnitRows = 16 rows: whole groups of the 8-row
//   repacked layouts, whole pairs for the 512-bit kernels, and 64 bytes of F32 output per token,
//   so no two parts write into one cache line of `out` (given `out` 64-byte aligned and n_rows a
//   multiple of 16, as every real shape is; a ragged n_rows only shares lines between tokens'
//   rows, never inside one part's range of one token).
// - Parts differ by at most one unit (16 rows) before the last one is clipped to n_rows.
// - There are at most kSplitPartsPerThread parts per thread (and at least one unit per part):
//   each thread claims its own contiguous home parts first (ThreadPool::home_range), so its rows
//   stay one range whatever the part count, and takes others' parts only when it runs out. Small
//   parts bound the tail when a core is shared or slow (a thread waits at most for one part of
//   another), at the price of one uncontended fetch_add on the thread's own counter per part.
// Pure functions of (n_rows, n_threads); no state.
#pragma once

#include <algorithm>
#include <cstdint>

namespace strata {

constexpr int64_t kSplitUnitRows = 16;
constexpr int64_t kSplitPartsPerThread = 16;

struct RowRange {
    int64_t begin = 0, end = 0;  // [begin, end)
};

// Number of parts for n_rows over n_threads (at least 1 for n_rows > 0).
inline int64_t row_split_parts(int64_t n_rows, int n_threads) {
    const int64_t units = (n_rows + kSplitUnitRows - 1) / kSplitUnitRows;
    return std::max<int64_t>(1, std::min<int64_t>(units, int64_t(std::max(1, n_threads)) * kSplitPartsPerThread));
}

// Rows of part `part` of n_parts (from row_split_parts).
inline RowRange row_split_part(int64_t n_rows, int64_t n_parts, int64_t part) {
    const int64_t units = (n_rows + kSplitUnitRows - 1) / kSplitUnitRows;
    const int64_t u0 = units * part / n_parts, u1 = units * (part + 1) / n_parts;
    return {std::min(n_rows, u0 * kSplitUnitRows), std::min(n_rows, u1 * kSplitUnitRows)};
}

}  // namespace strata
