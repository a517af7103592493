// Decode attention, second pass: merges the split-K chunks of each (head, token):
// out[d] = Σ_c acc_c[d] · exp(m_c - M) / (Σ_c l_c · exp(m_c - M) + exp(sink - M)),
// M = max(max_c m_c, sink), over the chunks that hold the token's positions; without attention
// sinks (a.sinks null) sink = -inf and its term is 0. The sink joins the denominator only: it has
// no value row, so the chunks' acc are untouched. Optionally also writes out as ActQ8 for the next
// (quantized) matvec (head_dim % 32 == 0; activation row = n_head × head_dim).
//
// The chunks' (m, l) pairs are read by all threads at once (one chunk each) and their weights
// exp(m_c - M) kept in shared memory, so the block waits for memory about three times rather
// than once per chunk (a decode step deep in a context merges up to 256 chunks per head).
#include "backend/cuda/cuda_common.cuh"

namespace strata::cuk {

namespace {

constexpr int kThreads = 128;
constexpr int kMaxPer = 8;       // head_dim ≤ 1024
constexpr int kMaxChunks = 256;  // split_k_geometry() never makes more

__global__ void __launch_bounds__(kThreads) attention_combine_kernel(const AttnArgs a) {
    pdl_enter();
    __shared__ float weight[kMaxChunks];  // exp(m_c - M)
    __shared__ float red[32];
    const int64_t h = blockIdx.x, t = blockIdx.y;
    const int64_t hd = a.head_dim, stride = 2 + hd;
    const int64_t n_pos = static_cast<int64_t>(a.pos[0]) + t + 1;
    const int n_valid = static_cast<int>(imin((n_pos + a.chunk_len - 1) / a.chunk_len, a.n_chunks));
    const float* part = a.partial + (t * a.n_head + h) * a.n_chunks * stride;

    float m_local = -INFINITY;
    for (int c = threadIdx.x; c < n_valid; c += kThreads) {
        const float m = part[c * stride];
        weight[c] = m;
        m_local = fmaxf(m_local, m);
    }
    const float sink = a.sinks ? a.sinks[h] : -INFINITY;
    const float m_max = fmaxf(block_max(m_local, red), sink);
    float l_local = 0.0f;
    for (int c = threadIdx.x; c < n_valid; c += kThreads) {  // the same chunks as above: no race
        const float w = expf(weight[c] - m_max);
        weight[c] = w;
        l_local += part[c * stride + 1] * w;
    }
    // its barriers also publish `weight`; expf(-inf) = 0 without a sink
    const float inv = 1.0f / (block_sum(l_local, red) + expf(sink - m_max));

    const int lane = threadIdx.x % 32;
#pragma unroll
    for (int k = 0; k < kMaxPer; ++k) {
        const int64_t d = threadIdx.x + kThreads * k;
        if (d >= hd) continue;  // with hd % 32 == 0 whole warps skip together
        const float* pd = part + 2 + d;
        float v0 = 0.0f, v1 = 0.0f;  // two chains: more loads in flight
        int c = 0;
#pragma unroll 4
        for (; c + 1 < n_valid; c += 2) {
            v0 += pd[c * stride] * weight[c];
            v1 += pd[(c + 1) * stride] * weight[c + 1];
        }
        if (c < n_valid) v0 += pd[c * stride] * weight[c];
        const float v = (v0 + v1) * inv;
        const int64_t col = h * hd + d;
        a.out[t * a.n_head * hd + col] = v;
        if (a.act.qs) warp_quantize_block(v, a.act, (t * a.n_head * hd + col) / 32, lane);
    }
}

}  // namespace

cudaError_t launch_attention_combine(const AttnArgs& a, LaunchOn stream) {
    if (a.n_tok <= 0) return cudaSuccess;
    if (a.head_dim <= 0 || a.head_dim > kThreads * kMaxPer || a.n_tok > 65535 || a.n_chunks <= 0 ||
        a.n_chunks > kMaxChunks)
        return cudaErrorInvalidValue;
    if (a.act.qs && a.head_dim % 32 != 0) return cudaErrorInvalidValue;
    const dim3 grid(static_cast<unsigned>(a.n_head), static_cast<unsigned>(a.n_tok));
    launch_kernel(attention_combine_kernel, grid, kThreads, 0, stream, a);
    return cudaGetLastError();
}

}  // namespace strata::cuk
