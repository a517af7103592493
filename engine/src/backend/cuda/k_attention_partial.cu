// Decode attention, split-K ("flash decoding") first pass: block (chunk c, head h, token t)
// computes, over cache positions [c*L, min((c+1)*L, n_pos)) (from the sliding window's start
// when there is one), the running max m, the sum l of
// exp(score - m) and acc[d] = Σ exp(score - m) · V[d]; the combine kernel merges the chunks.
// Positions come from device memory, so the grid (sized for the context) is fixed and chunks
// past the token's last position return at once (replayable as a CUDA graph).
//
// Keys are taken 128 at a time: one thread scores one key (its K row read with 16-byte loads
// when the cache is f16 / f32 and the head is a multiple of 8 values), so every key's loads are
// in flight together; then one thread per output value accumulates the weighted V rows.
#include "backend/cuda/attention_common.cuh"

namespace strata::cuk {

namespace {

constexpr int kThreads = 128;
constexpr int kTile = 128;      // keys scored per step (one per thread)
constexpr int kMaxPer = 8;      // head_dim ≤ 1024

// q (scaled, in shared memory) · K row `pos` (a row index, not a position), elements [col0, col0 + hd).
__device__ __forceinline__ float score(const AttnArgs& a, const float* qs, int64_t pos, int64_t col0) {
    const int64_t hd = a.head_dim;
    float dot = 0.0f;
    if (a.kv_type == kKvF16 && hd % 8 == 0) {
        const uint4* row = reinterpret_cast<const uint4*>(static_cast<const uint16_t*>(a.k) + pos * a.n_embd_kv + col0);
#pragma unroll 4
        for (int64_t i = 0; i < hd / 8; ++i) {
            const uint4 v = __ldg(row + i);
            const uint32_t w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
            for (int k = 0; k < 4; ++k) {
                dot += qs[8 * i + 2 * k] * h2f(static_cast<uint16_t>(w[k] & 0xffffu));
                dot += qs[8 * i + 2 * k + 1] * h2f(static_cast<uint16_t>(w[k] >> 16));
            }
        }
    } else if (a.kv_type == kKvF32 && hd % 4 == 0) {
        const float4* row = reinterpret_cast<const float4*>(static_cast<const float*>(a.k) + pos * a.n_embd_kv + col0);
#pragma unroll 4
        for (int64_t i = 0; i < hd / 4; ++i) {
            const float4 v = __ldg(row + i);
            dot += qs[4 * i] * v.x + qs[4 * i + 1] * v.y + qs[4 * i + 2] * v.z + qs[4 * i + 3] * v.w;
        }
    } else {
#pragma unroll 4
        for (int64_t d = 0; d < hd; ++d) dot += qs[d] * kv_load(a.k, a.kv_type, a.n_embd_kv, pos, col0 + d);
    }
    return dot;
}

__global__ void __launch_bounds__(kThreads) attention_partial_kernel(const AttnArgs a) {
    pdl_enter();
    extern __shared__ float smem[];
    float* qs = smem;               // (head_dim)
    float* sc = smem + a.head_dim;  // (kTile)
    __shared__ float red[32];
    const int64_t c = blockIdx.x, h = blockIdx.y, t = blockIdx.z;
    const int64_t hd = a.head_dim;
    const int64_t n_pos = static_cast<int64_t>(a.pos[0]) + t + 1;
    const int64_t c0 = c * a.chunk_len;
    if (c0 >= n_pos) return;  // uniform over the block; the combine reads no chunk past n_pos
    const int64_t j1 = imin(c0 + a.chunk_len, n_pos);
    // A sliding window starts `window` positions back: a chunk wholly before it is an empty
    // partial (m = -inf, l = 0), which the combine weighs by 0.
    const int64_t j0 = a.window > 0 ? imax(c0, n_pos - a.window) : c0;
    const int64_t kvh = h / (a.n_head / a.n_head_kv);
    const int64_t col0 = kvh * hd;

    for (int64_t d = threadIdx.x; d < hd; d += kThreads) qs[d] = a.q[(t * a.n_head + h) * hd + d] * a.scale;
    __syncthreads();

    float m = -INFINITY, l = 0.0f;
    float acc[kMaxPer];
#pragma unroll
    for (int k = 0; k < kMaxPer; ++k) acc[k] = 0.0f;

    for (int64_t jb = j0; jb < j1; jb += kTile) {
        const int nb = static_cast<int>(imin(kTile, j1 - jb));
        float s = threadIdx.x < nb ? score(a, qs, kv_row(jb + threadIdx.x, a.n_rows), col0) : -INFINITY;
        if (a.softcap > 0.0f && threadIdx.x < nb) s = a.softcap * tanhf(s / a.softcap);
        const float m_new = fmaxf(m, block_max(s, red));  // finite: the tile has ≥ 1 key
        const float p = threadIdx.x < nb ? expf(s - m_new) : 0.0f;
        sc[threadIdx.x] = p;
        const float psum = block_sum(p, red);  // its barriers also publish sc
        const float corr = expf(m - m_new);    // 0 on the first tile (m = -inf)
        l = l * corr + psum;
        m = m_new;
#pragma unroll
        for (int k = 0; k < kMaxPer; ++k) {
            const int64_t d = threadIdx.x + kThreads * k;
            if (d < hd) {  // no `break`: the loop unrolls fully and acc stays in registers
                float v = acc[k] * corr;
#pragma unroll 8
                for (int jj = 0; jj < nb; ++jj)
                    v += sc[jj] * kv_load(a.v, a.kv_type, a.n_embd_kv, kv_row(jb + jj, a.n_rows), col0 + d);
                acc[k] = v;
            }
        }
        __syncthreads();  // sc is rewritten by the next tile
    }
    float* out = a.partial + ((t * a.n_head + h) * a.n_chunks + c) * (2 + hd);
    if (threadIdx.x == 0) {
        out[0] = m;
        out[1] = l;
    }
#pragma unroll
    for (int k = 0; k < kMaxPer; ++k) {
        const int64_t d = threadIdx.x + kThreads * k;
        if (d < hd) out[2 + d] = acc[k];
    }
}

}  // namespace

cudaError_t launch_attention_partial(const AttnArgs& a, LaunchOn stream) {
    if (a.n_tok <= 0) return cudaSuccess;
    if (a.head_dim <= 0 || a.head_dim > kThreads * kMaxPer || a.n_tok > 65535 || a.n_head > 65535 ||
        a.n_chunks <= 0 || a.chunk_len <= 0)
        return cudaErrorInvalidValue;
    const dim3 grid(static_cast<unsigned>(a.n_chunks), static_cast<unsigned>(a.n_head), static_cast<unsigned>(a.n_tok));
    const size_t smem = static_cast<size_t>(a.head_dim + kTile) * sizeof(float);
    launch_kernel(attention_partial_kernel, grid, kThreads, smem, stream, a);
    return cudaGetLastError();
}

}  // namespace strata::cuk
