// The per-expert decisions of the CUDA MoE kernels (k_moe.cu), written as plain functions so
// tests/engine/tst_cuda_units.cpp compiles them for the CPU and checks them against
// backend/moe_routing.cpp (the rules every backend follows) without a GPU: the score and choice
// key of one expert, the order in which a token's experts are chosen, and the order in which a
// token's chosen experts are summed.
#pragma once

#include <climits>
#include <cstdint>

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

}  // namespace strata::cuk
