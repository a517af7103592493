// Decode attention, second pass: merges the split-K chunks of each (head, token):
// out[d] = Σ_c acc_c[d] · exp(m_c - M) / Σ_c l_c · exp(m_c - M), M = max_c m_c, over the
// chunks that hold the token's positions. Optionally also writes out as ActQ8 for the next
// (quantized) matvec (head_dim % 32 == 0; activation row = n_head × head_dim).
#include "backend/cuda/cuda_common.cuh"

namespace strata::cuk {

namespace {

constexpr int kThreads = 128;
constexpr int kMaxPer = 8;

__global__ void __launch_bounds__(kThreads) attention_combine_kernel(const AttnArgs a) {
    const int64_t h = blockIdx.x, t = blockIdx.y;
    const int64_t hd = a.head_dim;
    const int64_t n_pos = static_cast<int64_t>(a.pos[0]) + t + 1;
    const int64_t n_valid = imin((n_pos + a.chunk_len - 1) / a.chunk_len, a.n_chunks);
    const float* part = a.partial + (t * a.n_head + h) * a.n_chunks * (2 + hd);
    float m_max = -INFINITY;
    for (int64_t c = 0; c < n_valid; ++c) m_max = fmaxf(m_max, part[c * (2 + hd)]);
    float denom = 0.0f;
    for (int64_t c = 0; c < n_valid; ++c) denom += part[c * (2 + hd) + 1] * expf(part[c * (2 + hd)] - m_max);
    const float inv = 1.0f / denom;
    const int lane = threadIdx.x % 32;
#pragma unroll
    for (int k = 0; k < kMaxPer; ++k) {
        const int64_t d = threadIdx.x + kThreads * k;
        if (d >= hd) continue;  // with hd % 32 == 0 whole warps skip together
        float v = 0.0f;
        for (int64_t c = 0; c < n_valid; ++c) {
            const float* pc = part + c * (2 + hd);
            v += pc[2 + d] * expf(pc[0] - m_max);
        }
        v *= inv;
        const int64_t col = h * hd + d;
        a.out[t * a.n_head * hd + col] = v;
        if (a.act.qs) warp_quantize_block(v, a.act, (t * a.n_head * hd + col) / 32, lane);
    }
}

}  // namespace

cudaError_t launch_attention_combine(const AttnArgs& a, cudaStream_t stream) {
    if (a.n_tok <= 0) return cudaSuccess;
    if (a.head_dim <= 0 || a.head_dim > kThreads * kMaxPer || a.n_tok > 65535) return cudaErrorInvalidValue;
    if (a.act.qs && a.head_dim % 32 != 0) return cudaErrorInvalidValue;
    const dim3 grid(static_cast<unsigned>(a.n_head), static_cast<unsigned>(a.n_tok));
    attention_combine_kernel<<<grid, kThreads, 0, stream>>>(a);
    return cudaGetLastError();
}

}  // namespace strata::cuk
