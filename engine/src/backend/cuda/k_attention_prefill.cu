// Prefill attention (many tokens): causal GQA with an online softmax over key tiles, float32
// on the CUDA cores. Block (query tile of BQ tokens, head h): Q tile in shared memory, then for
// each tile of 32 keys up to the tile's last position: scores S = Q·Kᵀ (masked causally), row
// max / sum updated, O = O·corr + P·V with O in registers. head_dim ≤ 256. Attention sinks
// (gpt-oss) join each row's sum when the output is normalized: with the row's max m and sum l,
// M = max(m, sink), out = O·e^(m−M) / (l·e^(m−M) + e^(sink−M)). The only prefill kernel with
// sinks, soft caps and sliding windows (cuda_exec.cpp sends those here).
#include "backend/cuda/attention_common.cuh"

namespace strata::cuk {

namespace {

constexpr int kThreads = 128;
constexpr int kBK = 32;  // keys per tile (= warp size: one lane per key in the softmax step)

template <int HDMAX> struct Cfg { static constexpr int BQ = HDMAX <= 128 ? 32 : 16; };

size_t smem_bytes(int bq, int64_t hd) {
    // Qs (BQ, hd) | Ks (BK, hd + 1) | Vs (BK, hd) | S (BQ, BK + 1) | m, l, corr (BQ each)
    return sizeof(float) * static_cast<size_t>(bq * hd + kBK * (hd + 1) + kBK * hd + bq * (kBK + 1) + 3 * bq);
}

template <int HDMAX>
__global__ void __launch_bounds__(kThreads) attention_prefill_kernel(const AttnArgs a) {
    pdl_enter();
    constexpr int BQ = Cfg<HDMAX>::BQ;
    constexpr int kAcc = BQ * HDMAX / kThreads;   // output elements per thread
    constexpr int kPairs = BQ * kBK / kThreads;   // scores per thread
    extern __shared__ float smem[];
    const int64_t hd = a.head_dim;
    float* Qs = smem;
    float* Ks = Qs + BQ * hd;
    float* Vs = Ks + kBK * (hd + 1);
    float* S = Vs + kBK * hd;
    float* m_row = S + BQ * (kBK + 1);
    float* l_row = m_row + BQ;
    float* c_row = l_row + BQ;

    const int64_t h = blockIdx.y, t0 = static_cast<int64_t>(blockIdx.x) * BQ;
    const int64_t kvh = h / (a.n_head / a.n_head_kv);
    const int64_t pos0 = a.pos[0];
    const int64_t n_q = imin(BQ, a.n_tok - t0);  // valid query rows in this tile
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;

    for (int64_t i = threadIdx.x; i < BQ * hd; i += kThreads) {
        const int64_t qi = i / hd, d = i % hd;
        Qs[i] = qi < n_q ? a.q[((t0 + qi) * a.n_head + h) * hd + d] * a.scale : 0.0f;
    }
    if (threadIdx.x < BQ) {
        m_row[threadIdx.x] = -INFINITY;
        l_row[threadIdx.x] = 0.0f;
    }
    float acc[kAcc];
#pragma unroll
    for (int r = 0; r < kAcc; ++r) acc[r] = 0.0f;

    const int64_t last_key = pos0 + t0 + n_q - 1;  // the tile's last query attends up to here
    // With a sliding window the tile's first query sees nothing before pos0 + t0 - window + 1.
    const int64_t first_key = a.window > 0 ? imax(0, pos0 + t0 + 1 - a.window) / kBK * kBK : 0;
    for (int64_t kb = first_key; kb <= last_key; kb += kBK) {
        __syncthreads();  // previous tile's Ks / Vs / S reads are done (and Qs / m / l written)
        for (int64_t i = threadIdx.x; i < kBK * hd; i += kThreads) {
            const int64_t kj = i / hd, d = i % hd, kp = kb + kj;
            const bool ok = kp <= last_key;
            const int64_t row = kv_row(kp, a.n_rows);
            Ks[kj * (hd + 1) + d] = ok ? kv_load(a.k, a.kv_type, a.n_embd_kv, row, kvh * hd + d) : 0.0f;
            Vs[kj * hd + d] = ok ? kv_load(a.v, a.kv_type, a.n_embd_kv, row, kvh * hd + d) : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int r = 0; r < kPairs; ++r) {
            const int p = threadIdx.x + kThreads * r;
            const int qi = p / kBK, kj = p % kBK;
            float dot = 0.0f;
            for (int64_t d = 0; d < hd; ++d) dot += Qs[qi * hd + d] * Ks[kj * (hd + 1) + d];
            const int64_t qpos = pos0 + t0 + qi, kp = kb + kj;
            const bool visible = qi < n_q && kp <= qpos && (a.window <= 0 || kp > qpos - a.window);
            if (a.softcap > 0.0f) dot = a.softcap * tanhf(dot / a.softcap);
            S[qi * (kBK + 1) + kj] = visible ? dot : -INFINITY;
        }
        __syncthreads();
        // Online softmax: one warp per query row, one lane per key.
        for (int qi = warp; qi < BQ; qi += kThreads / 32) {
            const float s = S[qi * (kBK + 1) + lane];
            const float m_old = m_row[qi];
            const float m_new = fmaxf(m_old, warp_max(s));
            const float p = s == -INFINITY ? 0.0f : expf(s - m_new);
            S[qi * (kBK + 1) + lane] = p;
            const float psum = warp_sum(p);
            if (lane == 0) {
                const float corr = m_old == -INFINITY ? 0.0f : expf(m_old - m_new);
                c_row[qi] = corr;
                l_row[qi] = l_row[qi] * corr + psum;
                m_row[qi] = m_new;
            }
        }
        __syncthreads();
#pragma unroll
        for (int r = 0; r < kAcc; ++r) {
            const int64_t idx = threadIdx.x + kThreads * r;
            if (idx < BQ * hd) {
                const int64_t qi = idx / hd, d = idx % hd;
                float v = acc[r] * c_row[qi];
                const float* srow = S + qi * (kBK + 1);
#pragma unroll 8
                for (int kj = 0; kj < kBK; ++kj) v += srow[kj] * Vs[kj * hd + d];
                acc[r] = v;
            }
        }
    }
    __syncthreads();
#pragma unroll
    for (int r = 0; r < kAcc; ++r) {
        const int64_t idx = threadIdx.x + kThreads * r;
        const int64_t qi = idx / hd, d = idx % hd;
        if (idx < BQ * hd && qi < n_q) {
            float o = acc[r], l = l_row[qi];
            if (a.sinks) {  // m_row is finite: every query sees at least its own key
                const float sink = a.sinks[h], m = m_row[qi], m_all = fmaxf(m, sink);
                const float c = expf(m - m_all);
                o *= c;
                l = l * c + expf(sink - m_all);
            }
            a.out[((t0 + qi) * a.n_head + h) * hd + d] = o / l;
        }
    }
}

template <int HDMAX>
cudaError_t launch_cfg(const AttnArgs& a, LaunchOn stream) {
    constexpr int BQ = Cfg<HDMAX>::BQ;
    const size_t smem = smem_bytes(BQ, a.head_dim);
    if (smem > 48 * 1024) {
        const cudaError_t e = cudaFuncSetAttribute(attention_prefill_kernel<HDMAX>,
                                                   cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
        if (e != cudaSuccess) return e;
    }
    const dim3 grid(static_cast<unsigned>((a.n_tok + BQ - 1) / BQ), static_cast<unsigned>(a.n_head));
    launch_kernel(attention_prefill_kernel<HDMAX>, grid, kThreads, smem, stream, a);
    return cudaGetLastError();
}

}  // namespace

bool attention_prefill_supported(int64_t head_dim) { return head_dim > 0 && head_dim <= 256; }

cudaError_t launch_attention_prefill(const AttnArgs& a, LaunchOn stream) {
    if (a.n_tok <= 0) return cudaSuccess;
    if (!attention_prefill_supported(a.head_dim) || a.n_head > 65535) return cudaErrorInvalidValue;
    if (a.head_dim <= 64) return launch_cfg<64>(a, stream);
    if (a.head_dim <= 128) return launch_cfg<128>(a, stream);
    return launch_cfg<256>(a, stream);
}

}  // namespace strata::cuk
