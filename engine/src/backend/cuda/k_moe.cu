// Mixture-of-experts FFN on the device: routing (router logits → chosen experts and weights,
// the rules of backend/moe_routing.cpp) and the chosen experts' gate/up, activation and down
// projections as matvecs grouped over (token, chosen expert) pairs. The expert of a pair is
// read from the ids the routing kernel wrote, and its matrices from the layer's device table of
// MoeExpertView (kernel_args.h): nothing goes back to the host between router and output.
//
// Decode runs the pair-grouped matvec (one warp per output row and pair). Prefill (a launch
// with MoeFfnArgs::grouped) sorts the pairs by expert on the device and runs a grouped GEMM,
// reading an expert's rows once per tile of up to kMoeTilePairs of its pairs instead of once
// per pair. Sums follow the CPU's order where it is cheap: each token's experts are added in
// increasing expert id, as CpuOps::moe_ffn does.
#include <cfloat>
#include <climits>
#include <type_traits>

#include "backend/cuda/moe_route_rules.cuh"
#include "backend/cuda/quant_units.cuh"

namespace strata::cuk {

namespace {

constexpr int kRowsPerBlock = 4;  // warps per block of the matvec kernels

// ---- routing -------------------------------------------------------------------------------

__device__ __forceinline__ double warp_sum_d(double v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// One warp per token. Shared memory: score (n_expert doubles), key (n_expert doubles), taken
// (n_expert bytes). Scores in double, as on the CPU.
__global__ void __launch_bounds__(32) moe_route_kernel(const MoeRouteArgs a) {
    extern __shared__ double moe_smem[];
    const int n = static_cast<int>(a.n_expert), k = static_cast<int>(a.n_used);
    double* score = moe_smem;
    double* key = moe_smem + n;
    unsigned char* taken = reinterpret_cast<unsigned char*>(moe_smem + 2 * n);
    pdl_enter();
    const int64_t t = blockIdx.x;
    const int lane = threadIdx.x;
    const float* l = a.logits + t * a.n_expert;

    double sum = 0.0;
    if (!a.sigmoid) {
        float mx = -INFINITY;
        for (int e = lane; e < n; e += 32)
            if (isfinite(l[e])) mx = fmaxf(mx, l[e]);
        mx = warp_max(mx);
        for (int e = lane; e < n; e += 32) {
            const double s = moe_score(l[e], mx, false);
            score[e] = s;
            sum += s;
        }
        sum = warp_sum_d(sum);
    } else {
        for (int e = lane; e < n; e += 32) score[e] = moe_score(l[e], 0.0f, true);
    }
    // Without a bias a softmax ranks as its logits do (keeps apart what underflows to 0).
    const bool by_logit = !a.sigmoid && a.bias == nullptr;
    for (int e = lane; e < n; e += 32) {
        if (!a.sigmoid && sum > 0.0) score[e] /= sum;
        key[e] = moe_key(l[e], score[e], a.bias, e, by_logit);
        taken[e] = 0;
    }
    __syncwarp();

    double picked[kMoeMaxUsed];
    double chosen = 0.0;
    for (int j = 0; j < k; ++j) {
        int best = -1;
        for (int e = lane; e < n; e += 32)
            if (moe_ranks_before(e, best, key, taken)) best = e;
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            const int other = __shfl_xor_sync(0xffffffffu, best, o);
            if (moe_ranks_before(other, best, key, taken)) best = other;
        }
        // Every lane holds the same `best` (the order is total); all read the same values.
        const double s = moe_finite(key[best]) ? score[best] : 0.0;
        picked[j] = s;
        chosen += s;
        __syncwarp();
        if (lane == 0) {
            taken[best] = 1;
            a.ids[t * a.n_used + j] = best;
        }
        __syncwarp();
    }
    if (lane != 0) return;
    const double div = a.normalize && chosen > 0.0 ? chosen : 1.0;
    for (int j = 0; j < k; ++j) a.weights[t * a.n_used + j] = static_cast<float>(picked[j] / div * a.scale);
}

// ---- the experts' matvecs ---------------------------------------------------------------------

template <int T>
__device__ __forceinline__ float load_f(const uint8_t* row, int64_t e) {
    if constexpr (T == kF32) return __ldg(reinterpret_cast<const float*>(row) + e);
    const uint16_t h = __ldg(reinterpret_cast<const unsigned short*>(row) + e);
    return T == kF16 ? h2f(h) : bf2f(h);
}

constexpr bool is_float_type(int t) { return t == kF32 || t == kF16 || t == kBF16; }

// Lane-partial dot product of row r of w with activation row `row` (n columns): float weights
// read x, quantized ones the ActQ8 form (base at qs/ds of row 0).
template <int T>
__device__ __forceinline__ float row_dot(const WeightView& w, int64_t r, const float* x, const int8_t* qs,
                                         const float* ds, int64_t row, int64_t n, int lane) {
    float acc = 0.0f;
    if constexpr (is_float_type(T)) {
        const uint8_t* wr = w.main + r * w.row_bytes;
        const float* xr = x + row * n;
        for (int64_t e = lane; e < n; e += 32) acc += load_f<T>(wr, e) * xr[e];
    } else {
        ActQ8 act;
        act.qs = const_cast<int8_t*>(qs) + row * n;
        act.ds = const_cast<float*>(ds) + row * (n / 32) * 2;
        float a1[1] = {0.0f};
        for (int64_t u = lane; u < n / 32; u += 32) accumulate_unit<T, 1>(load_unit<T>(w, r, u), act, n, a1);
        acc = a1[0];
    }
    return acc;
}

__device__ __forceinline__ float activate(int act, float g, float u) {
    if (act == kMoeSwigluOai) {
        const float gc = fminf(g, 7.0f), uc = fminf(fmaxf(u, -7.0f), 7.0f);
        return gc / (1.0f + expf(-1.702f * gc)) * (uc + 1.0f);
    }
    if (act == kMoeSilu) return g / (1.0f + expf(-g)) * u;
    return 0.5f * g * (1.0f + tanhf(0.7978845608028654f * (g + 0.044715f * g * g * g))) * u;
}

// h[p, r] = act(gate_e row r · x_t + bg_e[r], up_e row r · x_t + bu_e[r]) for pair p of the
// launch (token tok0 + p / ns, its choice j0 + p % ns, e its expert). One warp per (r, p).
template <int T>
__global__ void __launch_bounds__(kRowsPerBlock * 32) moe_gate_up_kernel(const MoeFfnArgs a, int64_t tok0, int64_t j0,
                                                                         int64_t ns) {
    pdl_enter();
    const int lane = threadIdx.x % 32;
    const int64_t r = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;
    const int64_t p = blockIdx.y;
    if (r >= a.n_ff) return;
    const int64_t t = tok0 + p / ns;
    const int32_t e = a.ids[t * a.n_used + j0 + p % ns];
    float* hp = a.h + p * a.n_ff;
    if (e < 0 || e >= a.n_expert) {  // never from moe_route; weighs nothing rather than faulting
        if (lane == 0) hp[r] = 0.0f;
        return;
    }
    const MoeExpertView& ev = a.experts[e];
    const WeightView wg = ev.gate, wu = ev.up;
    float g = row_dot<T>(wg, r, a.x, a.x_q.qs, a.x_q.ds, t, a.n_embd, lane);
    float u = row_dot<T>(wu, r, a.x, a.x_q.qs, a.x_q.ds, t, a.n_embd, lane);
    g = warp_sum(g);
    u = warp_sum(u);
    if (lane != 0) return;
    if (a.biased) {
        g += ev.gate_bias[r];
        u += ev.up_bias[r];
    }
    hp[r] = activate(a.act, g, u);
}

// out[t, r] (+)= Σ over token t's choices j0 .. j0 + ns - 1 in increasing expert id of
//               weight · (down_e row r · h[pair] + bd_e[r]); the first chunk (j0 = 0) writes,
//               later ones add. One warp per (r, token of the launch).
template <int T>
__global__ void __launch_bounds__(kRowsPerBlock * 32) moe_down_kernel(const MoeFfnArgs a, int64_t tok0, int64_t j0,
                                                                      int64_t ns, const int8_t* hq, const float* hds) {
    pdl_enter();
    const int lane = threadIdx.x % 32;
    const int64_t r = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;
    const int64_t tl = blockIdx.y;
    if (r >= a.n_embd) return;
    const int64_t t = tok0 + tl;
    const int32_t* ids = a.ids + t * a.n_used;
    const int jb = static_cast<int>(j0), je = static_cast<int>(j0 + ns);
    float sum = 0.0f;
    int prev_e = INT_MIN, prev_j = -1;
    for (int k = jb; k < je; ++k) {
        int be, bj;
        moe_next_choice(ids, jb, je, prev_e, prev_j, be, bj);
        prev_e = be;
        prev_j = bj;
        if (be < 0 || be >= a.n_expert) continue;
        const MoeExpertView& ev = a.experts[be];
        const WeightView wd = ev.down;
        float v = warp_sum(row_dot<T>(wd, r, a.h, hq, hds, tl * ns + (bj - jb), a.n_ff, lane));
        if (a.biased) v += ev.down_bias[r];
        sum += a.weights[t * a.n_used + bj] * v;
    }
    if (lane != 0) return;
    if (j0 == 0) a.out[t * a.n_embd + r] = sum;
    else a.out[t * a.n_embd + r] += sum;
}

// ---- prefill: the pairs grouped by expert ---------------------------------------------------
//
// A group's pairs are sorted by expert (moe_sort_kernel), then each block of a grouped GEMM
// computes one tile of one expert's sorted pairs (up to kMoeTilePairs) against kGemmRows rows of
// its matrices, so the expert's weights are read once per tile instead of once per pair. A lane
// owns a weight row, a warp kPairsPerWarp pairs; every (row, pair) dot product runs over whole
// 32-weight units in column order with the matvec's arithmetic (unit_dot_act on the ActQ8
// activations for quantized weights, float FMA for float ones), so only the summation order
// differs from the pair matvecs. Plain CUDA cores and dp4a: the tensor-core version is #21's
// prefill work, after a GPU has measured this one.

constexpr int kGemmRows = 32;
constexpr int kGemmWarps = 4;
constexpr int kPairsPerWarp = kMoeTilePairs / kGemmWarps;
constexpr int kGemmUnits = 2;  // 32-column units per shared-memory step (quantized weights)
constexpr int kSortThreads = 256;

// One block: counts the group's pairs per expert, builds offsets and the tile table (thread 0),
// then places each expert's pairs (a thread per expert). Shared: count (n_expert + 1) and
// offset (n_expert + 2) int32.
__global__ void __launch_bounds__(kSortThreads) moe_sort_kernel(const MoeFfnArgs a, int64_t tok0, int64_t n_pairs) {
    extern __shared__ int32_t sort_smem[];
    int32_t* count = sort_smem;
    int32_t* offset = sort_smem + a.n_expert + 1;
    pdl_enter();
    const int32_t* ids = a.ids + tok0 * a.n_used;
    int32_t* order = a.sort;
    int32_t* pos = a.sort + n_pairs;
    MoeTile* tiles = reinterpret_cast<MoeTile*>(a.sort + 2 * n_pairs);
    for (int64_t b = threadIdx.x; b <= a.n_expert; b += blockDim.x) count[b] = 0;
    __syncthreads();
    for (int64_t p = threadIdx.x; p < n_pairs; p += blockDim.x) atomicAdd(&count[moe_bucket(ids[p], a.n_expert)], 1);
    __syncthreads();
    if (threadIdx.x == 0) moe_build_tiles(count, a.n_expert, offset, tiles, moe_max_tiles(n_pairs, a.n_expert));
    __syncthreads();
    for (int64_t b = threadIdx.x; b <= a.n_expert; b += blockDim.x)
        moe_place_bucket(ids, n_pairs, a.n_expert, static_cast<int32_t>(b), offset, order, pos);
}

// The rows a grouped GEMM multiplies: NW matrices of expert e (gate and up, or down), n_rows ×
// n_cols; activation row of sorted pair s: x / x_q row tok0 + order[s] / n_used (gate/up), or
// h / h_q row s (down).
template <int NW>
struct GemmSide {
    WeightView w[NW];
    int64_t n_rows, n_cols;
    const float* act_f;  // float weights: float activations
    ActQ8 act_q;         // quantized weights: ActQ8 activations
    bool by_token;       // rows of x by token (gate/up), else rows of h by sorted index
};

template <int NW>
__device__ __forceinline__ int64_t act_row(const GemmSide<NW>& g, const MoeFfnArgs& a, int64_t tok0, int64_t s) {
    return g.by_token ? tok0 + a.sort[s] / a.n_used : s;
}

// acc[m][i] = row (row0 + lane) of matrix m · activation row of sorted pair tile.begin + warp ·
// kPairsPerWarp + i, for the pairs of the tile (others 0). Quantized weights.
template <int T, int NW>
__device__ __forceinline__ void gemm_tile_q(const GemmSide<NW>& g, const MoeFfnArgs& a, int64_t tok0, const MoeTile& tile,
                                            int64_t row0, float (&acc)[NW][kPairsPerWarp]) {
    __shared__ uint32_t wq[kGemmUnits][NW][8][kGemmRows];
    __shared__ float wsc[kGemmUnits][NW][4][kGemmRows];
    __shared__ int aq[kGemmUnits][kMoeTilePairs][8];
    __shared__ float ad[kGemmUnits][kMoeTilePairs][4];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int64_t n_units = g.n_cols / 32, nb = g.n_cols / 32;
    for (int64_t k0 = 0; k0 < n_units; k0 += kGemmUnits) {
#pragma unroll
        for (int m = 0; m < NW; ++m)  // m known at compile time: g stays in registers
        for (int i = threadIdx.x; i < kGemmUnits * kGemmRows; i += blockDim.x) {
            const int uk = i / kGemmRows, rr = i % kGemmRows;
            const int64_t u = k0 + uk, r = row0 + rr;
            if (u < n_units && r < g.n_rows) {
                const Unit q = load_unit<T>(g.w[m], r, u);
                for (int k = 0; k < 4; ++k) {
                    wq[uk][m][k][rr] = q.q0[k];
                    wq[uk][m][4 + k][rr] = q.q1[k];
                }
                wsc[uk][m][0][rr] = q.s0;
                wsc[uk][m][1][rr] = q.s1;
                wsc[uk][m][2][rr] = q.m0;
                wsc[uk][m][3][rr] = q.m1;
            } else {
                for (int k = 0; k < 8; ++k) wq[uk][m][k][rr] = 0u;
                for (int k = 0; k < 4; ++k) wsc[uk][m][k][rr] = 0.0f;
            }
        }
        for (int i = threadIdx.x; i < kGemmUnits * kMoeTilePairs; i += blockDim.x) {
            const int uk = i / kMoeTilePairs, p = i % kMoeTilePairs;
            const int64_t u = k0 + uk;
            if (u < n_units && p < tile.count) {
                int64_t e0, e1;
                unit_offsets<T>(u, e0, e1);
                const int64_t row = act_row(g, a, tok0, tile.begin + p);
                const int8_t* qs = g.act_q.qs + row * g.n_cols;
                const int4 a0 = *reinterpret_cast<const int4*>(qs + e0);
                const int4 a1 = *reinterpret_cast<const int4*>(qs + e1);
                const float2 d0 = reinterpret_cast<const float2*>(g.act_q.ds)[row * nb + e0 / 32];
                const float2 d1 = reinterpret_cast<const float2*>(g.act_q.ds)[row * nb + e1 / 32];
                aq[uk][p][0] = a0.x, aq[uk][p][1] = a0.y, aq[uk][p][2] = a0.z, aq[uk][p][3] = a0.w;
                aq[uk][p][4] = a1.x, aq[uk][p][5] = a1.y, aq[uk][p][6] = a1.z, aq[uk][p][7] = a1.w;
                ad[uk][p][0] = d0.x, ad[uk][p][1] = d0.y, ad[uk][p][2] = d1.x, ad[uk][p][3] = d1.y;
            } else {
                for (int k = 0; k < 8; ++k) aq[uk][p][k] = 0;
                for (int k = 0; k < 4; ++k) ad[uk][p][k] = 0.0f;
            }
        }
        __syncthreads();
        for (int uk = 0; uk < kGemmUnits && k0 + uk < n_units; ++uk) {
            int64_t e0, e1;
            unit_offsets<T>(k0 + uk, e0, e1);
            const bool block_start = (e0 & 31) == 0;
#pragma unroll
            for (int m = 0; m < NW; ++m) {
                uint32_t q0[4], q1[4];
#pragma unroll
                for (int k = 0; k < 4; ++k) {
                    q0[k] = wq[uk][m][k][lane];
                    q1[k] = wq[uk][m][4 + k][lane];
                }
                const float s0 = wsc[uk][m][0][lane], s1 = wsc[uk][m][1][lane];
                const float m0 = wsc[uk][m][2][lane], m1 = wsc[uk][m][3][lane];
#pragma unroll
                for (int i = 0; i < kPairsPerWarp; ++i) {
                    const int p = warp * kPairsPerWarp + i;
                    int a0[4], a1[4];
#pragma unroll
                    for (int k = 0; k < 4; ++k) {
                        a0[k] = aq[uk][p][k];
                        a1[k] = aq[uk][p][4 + k];
                    }
                    const float2 d0 = make_float2(ad[uk][p][0], ad[uk][p][1]);
                    const float2 d1 = make_float2(ad[uk][p][2], ad[uk][p][3]);
                    acc[m][i] += unit_dot_act<T>(q0, q1, s0, s1, m0, m1, block_start, a0, a1, d0, d1);
                }
            }
        }
        __syncthreads();
    }
}

// The same for float weights (F32, F16, BF16) on float activations, 32 columns per step.
template <int T, int NW>
__device__ __forceinline__ void gemm_tile_f(const GemmSide<NW>& g, const MoeFfnArgs& a, int64_t tok0, const MoeTile& tile,
                                            int64_t row0, float (&acc)[NW][kPairsPerWarp]) {
    __shared__ float wf[NW][32][kGemmRows + 1];
    __shared__ float xf[kMoeTilePairs][33];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    for (int64_t c0 = 0; c0 < g.n_cols; c0 += 32) {
#pragma unroll
        for (int m = 0; m < NW; ++m)
        for (int i = threadIdx.x; i < kGemmRows * 32; i += blockDim.x) {
            const int rr = i / 32, cc = i % 32;
            const int64_t r = row0 + rr, c = c0 + cc;
            wf[m][cc][rr] = r < g.n_rows && c < g.n_cols ? load_f<T>(g.w[m].main + r * g.w[m].row_bytes, c) : 0.0f;
        }
        for (int i = threadIdx.x; i < kMoeTilePairs * 32; i += blockDim.x) {
            const int p = i / 32, cc = i % 32;
            const int64_t c = c0 + cc;
            xf[p][cc] = p < tile.count && c < g.n_cols
                            ? g.act_f[act_row(g, a, tok0, tile.begin + p) * g.n_cols + c]
                            : 0.0f;
        }
        __syncthreads();
        for (int cc = 0; cc < 32; ++cc) {
#pragma unroll
            for (int m = 0; m < NW; ++m) {
                const float w = wf[m][cc][lane];
#pragma unroll
                for (int i = 0; i < kPairsPerWarp; ++i) acc[m][i] += w * xf[warp * kPairsPerWarp + i][cc];
            }
        }
        __syncthreads();
    }
}

template <int T, int NW>
__device__ __forceinline__ void gemm_tile(const GemmSide<NW>& g, const MoeFfnArgs& a, int64_t tok0, const MoeTile& tile,
                                          int64_t row0, float (&acc)[NW][kPairsPerWarp]) {
#pragma unroll
    for (int m = 0; m < NW; ++m)
#pragma unroll
        for (int i = 0; i < kPairsPerWarp; ++i) acc[m][i] = 0.0f;
    if constexpr (is_float_type(T)) gemm_tile_f<T, NW>(g, a, tok0, tile, row0, acc);
    else gemm_tile_q<T, NW>(g, a, tok0, tile, row0, acc);
}

__device__ __forceinline__ MoeTile load_tile(const MoeFfnArgs& a, int64_t n_pairs, int64_t t) {
    return reinterpret_cast<const MoeTile*>(a.sort + 2 * n_pairs)[t];
}

// h[s, r] = act(gate_e row r · x_t + bg_e[r], up_e row r · x_t + bu_e[r]) for sorted pair s of
// tile blockIdx.y (token t, expert e), rows blockIdx.x · kGemmRows ...
template <int T>
__global__ void __launch_bounds__(kGemmWarps * 32) moe_gate_up_gemm_kernel(const MoeFfnArgs a, int64_t tok0,
                                                                            int64_t n_pairs) {
    pdl_enter();
    const MoeTile tile = load_tile(a, n_pairs, blockIdx.y);
    if (tile.count == 0) return;  // the whole block: no __syncthreads is skipped by part of it
    const MoeExpertView& ev = a.experts[tile.expert];
    GemmSide<2> g;
    g.w[0] = ev.gate;
    g.w[1] = ev.up;
    g.n_rows = a.n_ff;
    g.n_cols = a.n_embd;
    g.act_f = a.x;
    g.act_q = a.x_q;
    g.by_token = true;
    const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kGemmRows;
    float acc[2][kPairsPerWarp];
    gemm_tile<T, 2>(g, a, tok0, tile, row0, acc);
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int64_t r = row0 + lane;
    if (r >= a.n_ff) return;
    const float bg = a.biased ? ev.gate_bias[r] : 0.0f, bu = a.biased ? ev.up_bias[r] : 0.0f;
#pragma unroll
    for (int i = 0; i < kPairsPerWarp; ++i) {
        const int p = warp * kPairsPerWarp + i;
        if (p < tile.count) a.h[(tile.begin + p) * a.n_ff + r] = activate(a.act, acc[0][i] + bg, acc[1][i] + bu);
    }
}

// y[s, r] = down_e row r · h[s] + bd_e[r] for sorted pair s of tile blockIdx.y.
template <int T>
__global__ void __launch_bounds__(kGemmWarps * 32) moe_down_gemm_kernel(const MoeFfnArgs a, int64_t tok0,
                                                                         int64_t n_pairs, ActQ8 hq) {
    pdl_enter();
    const MoeTile tile = load_tile(a, n_pairs, blockIdx.y);
    if (tile.count == 0) return;
    const MoeExpertView& ev = a.experts[tile.expert];
    GemmSide<1> g;
    g.w[0] = ev.down;
    g.n_rows = a.n_embd;
    g.n_cols = a.n_ff;
    g.act_f = a.h;
    g.act_q = hq;
    g.by_token = false;
    const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kGemmRows;
    float acc[1][kPairsPerWarp];
    gemm_tile<T, 1>(g, a, tok0, tile, row0, acc);
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int64_t r = row0 + lane;
    if (r >= a.n_embd) return;
    const float bd = a.biased ? ev.down_bias[r] : 0.0f;
#pragma unroll
    for (int i = 0; i < kPairsPerWarp; ++i) {
        const int p = warp * kPairsPerWarp + i;
        if (p < tile.count) a.y[(tile.begin + p) * a.n_embd + r] = acc[0][i] + bd;
    }
}

// out[t, r] = Σ over token t's choices in increasing expert id of weight · y[pos of the pair, r],
// the order the pair matvecs and the CPU add them in. A thread per (r, token of the group).
__global__ void __launch_bounds__(128) moe_combine_kernel(const MoeFfnArgs a, int64_t tok0, int64_t n_pairs) {
    pdl_enter();
    const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const int64_t tl = blockIdx.y;
    if (r >= a.n_embd) return;
    const int64_t t = tok0 + tl;
    const int32_t* ids = a.ids + t * a.n_used;
    const int32_t* pos = a.sort + n_pairs;
    const int n_used = static_cast<int>(a.n_used);
    float sum = 0.0f;
    int prev_e = INT_MIN, prev_j = -1;
    for (int k = 0; k < n_used; ++k) {
        int be, bj;
        moe_next_choice(ids, 0, n_used, prev_e, prev_j, be, bj);
        prev_e = be;
        prev_j = bj;
        if (be < 0 || be >= a.n_expert) continue;
        sum += a.weights[t * a.n_used + bj] * a.y[static_cast<int64_t>(pos[tl * a.n_used + bj]) * a.n_embd + r];
    }
    a.out[t * a.n_embd + r] = sum;
}

// Calls f(std::integral_constant<int, T>{}) for the DevType t every MoE kernel is instantiated
// for; false for any other. The one switch over the formats the four launchers share.
template <class F>
bool with_moe_type(int t, F&& f) {
    switch (t) {
        case kF32: f(std::integral_constant<int, kF32>{}); return true;
        case kF16: f(std::integral_constant<int, kF16>{}); return true;
        case kBF16: f(std::integral_constant<int, kBF16>{}); return true;
        case kQ4_0: f(std::integral_constant<int, kQ4_0>{}); return true;
        case kQ8_0: f(std::integral_constant<int, kQ8_0>{}); return true;
        case kQ4_K: f(std::integral_constant<int, kQ4_K>{}); return true;
        case kQ5_K: f(std::integral_constant<int, kQ5_K>{}); return true;
        case kQ6_K: f(std::integral_constant<int, kQ6_K>{}); return true;
        default: return false;
    }
}

template <int T>
void launch_gate_up_gemm(const MoeFfnArgs& a, int64_t tok0, int64_t n_pairs, LaunchOn s) {
    const dim3 grid(grid_1d(a.n_ff, kGemmRows), static_cast<unsigned>(moe_max_tiles(n_pairs, a.n_expert)));
    launch_kernel(moe_gate_up_gemm_kernel<T>, grid, dim3(kGemmWarps * 32), 0, s, a, tok0, n_pairs);
}

template <int T>
void launch_down_gemm(const MoeFfnArgs& a, int64_t tok0, int64_t n_pairs, ActQ8 hq, LaunchOn s) {
    const dim3 grid(grid_1d(a.n_embd, kGemmRows), static_cast<unsigned>(moe_max_tiles(n_pairs, a.n_expert)));
    launch_kernel(moe_down_gemm_kernel<T>, grid, dim3(kGemmWarps * 32), 0, s, a, tok0, n_pairs, hq);
}

bool dispatch_gate_up_gemm(const MoeFfnArgs& a, int64_t tok0, int64_t n_pairs, LaunchOn s) {
    return with_moe_type(a.gate_type, [&](auto t) { launch_gate_up_gemm<decltype(t)::value>(a, tok0, n_pairs, s); });
}

bool dispatch_down_gemm(const MoeFfnArgs& a, int64_t tok0, int64_t n_pairs, ActQ8 hq, LaunchOn s) {
    return with_moe_type(a.down_type, [&](auto t) { launch_down_gemm<decltype(t)::value>(a, tok0, n_pairs, hq, s); });
}

// One group of a grouped launch: tokens tok0 .. tok0 + n_tok - 1, all their choices.
cudaError_t run_grouped(const MoeFfnArgs& a, int64_t tok0, int64_t n_tok, LaunchOn s) {
    const int64_t n_pairs = n_tok * a.n_used;
    const size_t smem = static_cast<size_t>(2 * a.n_expert + 3) * sizeof(int32_t);
    launch_kernel(moe_sort_kernel, dim3(1), dim3(kSortThreads), smem, s, a, tok0, n_pairs);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;
    if (!dispatch_gate_up_gemm(a, tok0, n_pairs, s)) return cudaErrorInvalidValue;
    if ((e = cudaGetLastError()) != cudaSuccess) return e;
    ActQ8 hq;
    if (!is_float_type(a.down_type)) {
        hq = act_q8_at(a.h_q, n_pairs, a.n_ff);
        if ((e = launch_quantize_act(a.h, n_pairs, a.n_ff, hq, s)) != cudaSuccess) return e;
    }
    if (!dispatch_down_gemm(a, tok0, n_pairs, hq, s)) return cudaErrorInvalidValue;
    if ((e = cudaGetLastError()) != cudaSuccess) return e;
    launch_kernel(moe_combine_kernel, dim3(grid_1d(a.n_embd, 128), static_cast<unsigned>(n_tok)), dim3(128), 0, s, a,
                  tok0, n_pairs);
    return cudaGetLastError();
}

// A launch: tokens tok0 .. tok0 + n_tok - 1, their choices j0 .. j0 + ns - 1.
struct Chunk {
    int64_t tok0, n_tok, j0, ns;
};

template <int T>
void launch_gate_up(const MoeFfnArgs& a, const Chunk& c, LaunchOn s) {
    const dim3 grid(grid_1d(a.n_ff, kRowsPerBlock), static_cast<unsigned>(c.n_tok * c.ns));
    launch_kernel(moe_gate_up_kernel<T>, grid, dim3(kRowsPerBlock * 32), 0, s, a, c.tok0, c.j0, c.ns);
}

template <int T>
void launch_down(const MoeFfnArgs& a, const Chunk& c, const int8_t* hq, const float* hds, LaunchOn s) {
    const dim3 grid(grid_1d(a.n_embd, kRowsPerBlock), static_cast<unsigned>(c.n_tok));
    launch_kernel(moe_down_kernel<T>, grid, dim3(kRowsPerBlock * 32), 0, s, a, c.tok0, c.j0, c.ns, hq, hds);
}

bool dispatch_gate_up(const MoeFfnArgs& a, const Chunk& c, LaunchOn s) {
    return with_moe_type(a.gate_type, [&](auto t) { launch_gate_up<decltype(t)::value>(a, c, s); });
}

bool dispatch_down(const MoeFfnArgs& a, const Chunk& c, const int8_t* hq, const float* hds, LaunchOn s) {
    return with_moe_type(a.down_type, [&](auto t) { launch_down<decltype(t)::value>(a, c, hq, hds, s); });
}

}  // namespace

bool moe_type_supported(int t) { return t >= kF32 && t < kDevTypeCount; }

cudaError_t launch_moe_route(const MoeRouteArgs& a, LaunchOn stream) {
    if (a.n_tok <= 0) return cudaSuccess;
    if (a.n_expert < 1 || a.n_expert > kMoeMaxExperts || a.n_used < 1 || a.n_used > kMoeMaxUsed ||
        a.n_used > a.n_expert || a.n_tok > INT_MAX)
        return cudaErrorInvalidValue;
    const size_t smem = static_cast<size_t>(a.n_expert) * (2 * sizeof(double) + 1);
    launch_kernel(moe_route_kernel, dim3(static_cast<unsigned>(a.n_tok)), dim3(32), smem, stream, a);
    return cudaGetLastError();
}

cudaError_t launch_moe_ffn(const MoeFfnArgs& a, LaunchOn stream) {
    if (a.n_tok <= 0) return cudaSuccess;
    if (!moe_type_supported(a.gate_type) || !moe_type_supported(a.down_type) || a.group_tok < 1 ||
        a.slot_chunk < 1 || a.slot_chunk > a.n_used || a.group_tok * a.slot_chunk > 65535 ||
        (a.slot_chunk < a.n_used && a.group_tok != 1))
        return cudaErrorInvalidValue;
    if (a.grouped && (a.slot_chunk != a.n_used || !a.y || !a.sort || a.group_tok * a.n_used > INT_MAX / 2))
        return cudaErrorInvalidValue;
    const bool gate_q = !is_float_type(a.gate_type), down_q = !is_float_type(a.down_type);
    if (gate_q) {
        const cudaError_t e = launch_quantize_act(a.x, a.n_tok, a.n_embd, a.x_q, stream);
        if (e != cudaSuccess) return e;
    }
    if (a.grouped) {
        for (int64_t tok0 = 0; tok0 < a.n_tok; tok0 += a.group_tok) {
            const int64_t n = a.n_tok - tok0 < a.group_tok ? a.n_tok - tok0 : a.group_tok;
            const cudaError_t e = run_grouped(a, tok0, n, stream);
            if (e != cudaSuccess) return e;
        }
        return cudaSuccess;
    }
    for (int64_t tok0 = 0; tok0 < a.n_tok; tok0 += a.group_tok) {
        for (int64_t j0 = 0; j0 < a.n_used; j0 += a.slot_chunk) {
            Chunk c;
            c.tok0 = tok0;
            c.n_tok = a.n_tok - tok0 < a.group_tok ? a.n_tok - tok0 : a.group_tok;
            c.j0 = j0;
            c.ns = a.n_used - j0 < a.slot_chunk ? a.n_used - j0 : a.slot_chunk;
            if (!dispatch_gate_up(a, c, stream)) return cudaErrorInvalidValue;
            cudaError_t e = cudaGetLastError();
            if (e != cudaSuccess) return e;
            ActQ8 hq;
            if (down_q) {
                hq = act_q8_at(a.h_q, c.n_tok * c.ns, a.n_ff);
                e = launch_quantize_act(a.h, c.n_tok * c.ns, a.n_ff, hq, stream);
                if (e != cudaSuccess) return e;
            }
            if (!dispatch_down(a, c, hq.qs, hq.ds, stream)) return cudaErrorInvalidValue;
            e = cudaGetLastError();
            if (e != cudaSuccess) return e;
        }
    }
    return cudaSuccess;
}

}  // namespace strata::cuk
