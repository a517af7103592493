// The per-expert decisions of the CUDA MoE kernels (k_moe.cu), written as plain functions so
// tests/engine/tst_cuda_units.cpp compiles them for the CPU and checks them against
// backend/moe_routing.cpp (the rules every backend follows) without a GPU: the score and choice
// key of one expert, the order in which a token's experts are chosen, the order in which a
// token's chosen experts are summed, and how prefill's grouped launches sort pairs by expert.
#pragma once

#include <climits>
#include <cstdint>

#include "backend/cuda/kernel_args.h"

#ifndef STRATA_CUDA_HOST_TEST
#include "backend/cuda/cuda_common.cuh"
#define STRATA_MOE_FN __device__ __forceinline__
#else
#include <cmath>
#define STRATA_MOE_FN inline
#endif

namespace strata::cuk {

#ifdef STRATA_CUDA_HOST_TEST
inline bool moe_finite(double v) { return std::isfinite(v); }
inline double moe_exp(double v) { return std::exp(v); }
#else
__device__ __forceinline__ bool moe_finite(double v) { return isfinite(v); }
__device__ __forceinline__ double moe_exp(double v) { return exp(v); }
#endif

// An expert's score before the softmax's division: e^(l − max) for a softmax (the max of the
// finite logits), 1 / (1 + e^−l) for a sigmoid; 0 for a non-finite logit.
STRATA_MOE_FN double moe_score(float l, float mx, bool sigmoid) {
    if (!moe_finite(l)) return 0.0;
    return sigmoid ? 1.0 / (1.0 + moe_exp(-static_cast<double>(l))) : moe_exp(static_cast<double>(l - mx));
}

// The key experts are chosen by: −inf for a non-finite logit; the logit itself for a softmax
// without a choice bias (it ranks as the softmax does and keeps apart what underflows to 0);
// else the (normalised) score plus the bias.
STRATA_MOE_FN double moe_key(float l, double score, const float* bias, int e, bool by_logit) {
    if (!moe_finite(l)) return -static_cast<double>(INFINITY);
    if (by_logit) return static_cast<double>(l);
    return score + (bias ? static_cast<double>(bias[e]) : 0.0);
}

// Whether expert a ranks before expert b (b < 0: none yet): untaken ones only, finite keys
// before non-finite ones, the larger key first, ties to the lower index — moe_routing.cpp's
// best_untaken as a total order, so a warp's reduction finds the expert it would.
STRATA_MOE_FN bool moe_ranks_before(int a, int b, const double* key, const unsigned char* taken) {
    if (a < 0 || taken[a]) return false;
    if (b < 0 || taken[b]) return true;
    const bool fa = moe_finite(key[a]), fb = moe_finite(key[b]);
    if (fa != fb) return fa;
    if (fa && key[a] != key[b]) return key[a] > key[b];
    return a < b;
}

// After choice (prev_e, prev_j), the next of a token's choices jb .. je − 1 in (expert id,
// choice index) order: the order CpuOps::moe_ffn adds experts in. bj < 0 when none is left.
STRATA_MOE_FN void moe_next_choice(const int32_t* ids, int jb, int je, int prev_e, int prev_j, int& be, int& bj) {
    be = INT_MAX;
    bj = -1;
    for (int j = jb; j < je; ++j) {
        const int e = ids[j];
        const bool after = e > prev_e || (e == prev_e && j > prev_j);
        if (after && (bj < 0 || e < be || (e == be && j < bj))) {
            be = e;
            bj = j;
        }
    }
}

// ---- grouping a launch's pairs by expert (the grouped GEMM of prefill) ----------------------

// A pair's bucket: its expert, or n_expert for an id out of range (never from moe_route; such
// pairs are sorted last, in no tile, and weigh nothing).
STRATA_MOE_FN int32_t moe_bucket(int32_t id, int64_t n_expert) {
    return id >= 0 && id < n_expert ? id : static_cast<int32_t>(n_expert);
}

// From the pairs per bucket (count[0 .. n_expert], the last the bad ids): each bucket's first
// sorted index (offset[0 .. n_expert + 1]) and the tile table, each expert's pairs in tiles of
// kMoeTilePairs in expert order, the rest of the max_tiles entries empty. One thread runs it.
STRATA_MOE_FN void moe_build_tiles(const int32_t* count, int64_t n_expert, int32_t* offset, MoeTile* tiles,
                                   int64_t max_tiles) {
    int64_t n_tiles = 0;
    offset[0] = 0;
    for (int64_t e = 0; e <= n_expert; ++e) {
        offset[e + 1] = offset[e] + count[e];
        if (e == n_expert) break;
        for (int32_t b = 0; b < count[e] && n_tiles < max_tiles; b += kMoeTilePairs) {
            MoeTile& t = tiles[n_tiles++];
            t.expert = static_cast<int32_t>(e);
            t.begin = offset[e] + b;
            t.count = count[e] - b < kMoeTilePairs ? count[e] - b : kMoeTilePairs;
        }
    }
    for (; n_tiles < max_tiles; ++n_tiles) {
        MoeTile& t = tiles[n_tiles];
        t.expert = 0;
        t.begin = 0;
        t.count = 0;
    }
}

// Writes bucket b's pairs in pair order (stable: the same sort every run) from offset[b]:
// order[sorted index] = pair, pos[pair] = sorted index. Buckets are independent (one thread
// each on the device).
STRATA_MOE_FN void moe_place_bucket(const int32_t* ids, int64_t n_pairs, int64_t n_expert, int32_t b,
                                    const int32_t* offset, int32_t* order, int32_t* pos) {
    int32_t next = offset[b];
    for (int64_t p = 0; p < n_pairs; ++p) {
        if (moe_bucket(ids[p], n_expert) != b) continue;
        order[next] = static_cast<int32_t>(p);
        pos[p] = next;
        ++next;
    }
}

}  // namespace strata::cuk
