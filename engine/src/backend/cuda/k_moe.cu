// Mixture-of-experts FFN on the device: routing (router logits → chosen experts and weights,
// the rules of backend/moe_routing.cpp) and the chosen experts' gate/up, activation and down
// projections as matvecs grouped over (token, chosen expert) pairs. The expert of a pair is
// read from the ids the routing kernel wrote, and its matrices from the layer's device table of
// MoeExpertView (kernel_args.h): nothing goes back to the host between router and output.
//
// Correctness first: decode and prefill both run the pair-grouped matvec (one warp per output
// row and pair), so a prefill reads an expert's rows once per token routed to it rather than
// once per batch (a grouped GEMM would; not written yet). Sums follow the CPU's order where it
// is cheap: each token's experts are added in increasing expert id, as CpuOps::moe_ffn does.
#include <cfloat>
#include <climits>

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
    switch (a.gate_type) {
        case kF32: launch_gate_up<kF32>(a, c, s); return true;
        case kF16: launch_gate_up<kF16>(a, c, s); return true;
        case kBF16: launch_gate_up<kBF16>(a, c, s); return true;
        case kQ4_0: launch_gate_up<kQ4_0>(a, c, s); return true;
        case kQ8_0: launch_gate_up<kQ8_0>(a, c, s); return true;
        case kQ4_K: launch_gate_up<kQ4_K>(a, c, s); return true;
        case kQ5_K: launch_gate_up<kQ5_K>(a, c, s); return true;
        case kQ6_K: launch_gate_up<kQ6_K>(a, c, s); return true;
        default: return false;
    }
}

bool dispatch_down(const MoeFfnArgs& a, const Chunk& c, const int8_t* hq, const float* hds, LaunchOn s) {
    switch (a.down_type) {
        case kF32: launch_down<kF32>(a, c, hq, hds, s); return true;
        case kF16: launch_down<kF16>(a, c, hq, hds, s); return true;
        case kBF16: launch_down<kBF16>(a, c, hq, hds, s); return true;
        case kQ4_0: launch_down<kQ4_0>(a, c, hq, hds, s); return true;
        case kQ8_0: launch_down<kQ8_0>(a, c, hq, hds, s); return true;
        case kQ4_K: launch_down<kQ4_K>(a, c, hq, hds, s); return true;
        case kQ5_K: launch_down<kQ5_K>(a, c, hq, hds, s); return true;
        case kQ6_K: launch_down<kQ6_K>(a, c, hq, hds, s); return true;
        default: return false;
    }
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
    const bool gate_q = !is_float_type(a.gate_type), down_q = !is_float_type(a.down_type);
    if (gate_q) {
        const cudaError_t e = launch_quantize_act(a.x, a.n_tok, a.n_embd, a.x_q, stream);
        if (e != cudaSuccess) return e;
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
