// Prefill attention for the common head sizes (64, 128): the online-softmax tiling of
// k_attention_prefill.cu with register blocking, so each shared-memory load feeds several FMAs.
// Block = 32 queries × 1 head, 128 threads; key tiles of 32.
//   scores: thread (qg = t / 8, kg = t % 8) computes queries 2qg, 2qg+1 × keys kg + 8j (j < 4)
//           from float4 loads of Q and K rows (K rows padded by 4 floats: conflict-free);
//   softmax: one warp per query row, one lane per key;
//   output:  thread (qg = t / 16, dg = t % 16) owns queries 4qg .. 4qg+3 × values
//            dg*DV .. dg*DV+DV-1 (DV = HD / 16) in registers.
#include "backend/cuda/attention_common.cuh"

namespace strata::cuk {

namespace {

constexpr int kThreads = 128;
constexpr int kBQ = 32;
constexpr int kBK = 32;

template <int HD> constexpr size_t smem_floats() {
    // Qs, Ks, Vs (rows padded to HD + 4) | S (BQ, BK + 1) | m, l, corr (BQ each)
    return static_cast<size_t>(3 * 32 * (HD + 4) + 32 * (kBK + 1) + 3 * 32);
}

// Row `pos` of the cache slice [col0, col0 + HD) as floats into dst (HD floats), by the 128
// threads together: each thread converts 8 values (HD / 8 threads per row, rows by `sub`).
template <int HD>
__device__ __forceinline__ void load_rows(const AttnArgs& a, const void* cache, int64_t kb, int64_t last_key,
                                          int64_t col0, float* tile) {
    constexpr int kPerRow = HD / 8;              // threads per row
    constexpr int kRowsPerPass = kThreads / kPerRow;
    const int part = threadIdx.x % kPerRow, sub = threadIdx.x / kPerRow;
    for (int kj = sub; kj < kBK; kj += kRowsPerPass) {
        const int64_t pos = kb + kj;
        float v[8];
        if (pos > last_key) {
#pragma unroll
            for (int i = 0; i < 8; ++i) v[i] = 0.0f;
        } else if (a.kv_type == kKvF16) {
            const uint4 raw = __ldg(reinterpret_cast<const uint4*>(static_cast<const uint16_t*>(cache) + pos * a.n_embd_kv +
                                                                   col0 + 8 * part));
            const uint32_t w[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
            for (int i = 0; i < 4; ++i) {
                v[2 * i] = h2f(static_cast<uint16_t>(w[i] & 0xffffu));
                v[2 * i + 1] = h2f(static_cast<uint16_t>(w[i] >> 16));
            }
        } else {
#pragma unroll
            for (int i = 0; i < 8; ++i) v[i] = kv_load(cache, a.kv_type, a.n_embd_kv, pos, col0 + 8 * part + i);
        }
        float4* dst = reinterpret_cast<float4*>(tile + kj * (HD + 4) + 8 * part);
        dst[0] = make_float4(v[0], v[1], v[2], v[3]);
        dst[1] = make_float4(v[4], v[5], v[6], v[7]);
    }
}

template <int HD>
__global__ void __launch_bounds__(kThreads) attention_prefill_hd_kernel(const AttnArgs a) {
    pdl_enter();
    constexpr int kStride = HD + 4;
    constexpr int DV = HD / 16;
    extern __shared__ float4 smem4[];
    float* smem = reinterpret_cast<float*>(smem4);
    float* Qs = smem;
    float* Ks = Qs + kBQ * kStride;
    float* Vs = Ks + kBK * kStride;
    float* S = Vs + kBK * kStride;
    float* m_row = S + kBQ * (kBK + 1);
    float* l_row = m_row + kBQ;
    float* c_row = l_row + kBQ;

    const int64_t h = blockIdx.y, t0 = static_cast<int64_t>(blockIdx.x) * kBQ;
    const int64_t kvh = h / (a.n_head / a.n_head_kv);
    const int64_t col0 = kvh * HD;
    const int64_t pos0 = a.pos[0];
    const int64_t n_q = imin(kBQ, a.n_tok - t0);
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;

    for (int i = threadIdx.x; i < kBQ * HD; i += kThreads) {
        const int qi = i / HD, d = i % HD;
        Qs[qi * kStride + d] = qi < n_q ? a.q[((t0 + qi) * a.n_head + h) * HD + d] * a.scale : 0.0f;
    }
    if (threadIdx.x < kBQ) {
        m_row[threadIdx.x] = -INFINITY;
        l_row[threadIdx.x] = 0.0f;
    }
    const int sqg = threadIdx.x / 8, skg = threadIdx.x % 8;   // scores
    const int oqg = threadIdx.x / 16, odg = threadIdx.x % 16;  // output
    float acc[4][DV];
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int v = 0; v < DV; ++v) acc[i][v] = 0.0f;

    const int64_t last_key = pos0 + t0 + n_q - 1;
    for (int64_t kb = 0; kb <= last_key; kb += kBK) {
        __syncthreads();  // the previous tile is consumed (and Qs / m / l are written)
        load_rows<HD>(a, a.k, kb, last_key, col0, Ks);
        load_rows<HD>(a, a.v, kb, last_key, col0, Vs);
        __syncthreads();
        float s[2][4] = {};
#pragma unroll 4
        for (int d = 0; d < HD; d += 4) {
            const float4 q0 = *reinterpret_cast<const float4*>(Qs + (2 * sqg) * kStride + d);
            const float4 q1 = *reinterpret_cast<const float4*>(Qs + (2 * sqg + 1) * kStride + d);
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                const float4 k = *reinterpret_cast<const float4*>(Ks + (skg + 8 * j) * kStride + d);
                s[0][j] += q0.x * k.x + q0.y * k.y + q0.z * k.z + q0.w * k.w;
                s[1][j] += q1.x * k.x + q1.y * k.y + q1.z * k.z + q1.w * k.w;
            }
        }
#pragma unroll
        for (int i = 0; i < 2; ++i)
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                const int qi = 2 * sqg + i, kj = skg + 8 * j;
                const bool visible = qi < n_q && kb + kj <= pos0 + t0 + qi;
                S[qi * (kBK + 1) + kj] = visible ? s[i][j] : -INFINITY;
            }
        __syncthreads();
        for (int qi = warp; qi < kBQ; qi += kThreads / 32) {
            const float sv = S[qi * (kBK + 1) + lane];
            const float m_old = m_row[qi];
            const float m_new = fmaxf(m_old, warp_max(sv));
            const float p = sv == -INFINITY ? 0.0f : expf(sv - m_new);
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
        for (int i = 0; i < 4; ++i) {
            const float corr = c_row[4 * oqg + i];
#pragma unroll
            for (int v = 0; v < DV; ++v) acc[i][v] *= corr;
        }
#pragma unroll 4
        for (int kj = 0; kj < kBK; ++kj) {
            float p[4];
#pragma unroll
            for (int i = 0; i < 4; ++i) p[i] = S[(4 * oqg + i) * (kBK + 1) + kj];
            const float* vrow = Vs + kj * kStride + odg * DV;
#pragma unroll
            for (int v4 = 0; v4 < DV; v4 += 4) {
                const float4 vv = *reinterpret_cast<const float4*>(vrow + v4);
#pragma unroll
                for (int i = 0; i < 4; ++i) {
                    acc[i][v4] += p[i] * vv.x;
                    acc[i][v4 + 1] += p[i] * vv.y;
                    acc[i][v4 + 2] += p[i] * vv.z;
                    acc[i][v4 + 3] += p[i] * vv.w;
                }
            }
        }
    }
    __syncthreads();
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const int qi = 4 * oqg + i;
        if (qi >= n_q) continue;
        const float inv = 1.0f / l_row[qi];
        float* o = a.out + ((t0 + qi) * a.n_head + h) * HD + odg * DV;
#pragma unroll
        for (int v = 0; v < DV; ++v) o[v] = acc[i][v] * inv;
    }
}

template <int HD>
cudaError_t launch_hd(const AttnArgs& a, LaunchOn stream) {
    const size_t smem = smem_floats<HD>() * sizeof(float);
    if (smem > 48 * 1024) {
        const cudaError_t e = cudaFuncSetAttribute(attention_prefill_hd_kernel<HD>,
                                                   cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
        if (e != cudaSuccess) return e;
    }
    const dim3 grid(static_cast<unsigned>((a.n_tok + kBQ - 1) / kBQ), static_cast<unsigned>(a.n_head));
    launch_kernel(attention_prefill_hd_kernel<HD>, grid, kThreads, smem, stream, a);
    return cudaGetLastError();
}

}  // namespace

bool attention_prefill_hd_supported(int64_t head_dim) { return head_dim == 64 || head_dim == 128; }

cudaError_t launch_attention_prefill_hd(const AttnArgs& a, LaunchOn stream) {
    if (a.n_tok <= 0) return cudaSuccess;
    if (a.n_head > 65535) return cudaErrorInvalidValue;
    if (a.head_dim == 64) return launch_hd<64>(a, stream);
    if (a.head_dim == 128) return launch_hd<128>(a, stream);
    return cudaErrorInvalidValue;
}

}  // namespace strata::cuk
