// Rotary embedding in place and/or KV cache store, one block per (token, head) row:
//   part A rows: rope of q;  part B rows: (rope of k), then k and v written into the cache.
// Plain rope, plain store_kv and the fused "rope q, rope k, store k and v" of decode are all
// this kernel with parts switched on or off. Angles as the CPU computes them: theta =
// pos * rate_i in double (rate_i: base^(-2i/n_rot) with frequency factors, interpolation and
// YaRN's mix, device.h), reduced to (-pi, pi] before sin/cos.
// Rows are read entirely before any element is written (a rotation pairs elements that other
// threads own).
#include "backend/cuda/cuda_common.cuh"

namespace strata::cuk {

namespace {

constexpr int kMaxThreads = 256;
constexpr int kPerThread = 4;  // head_dim ≤ 1024

// The rotated value of element e of a head (device.h's RopeParams: per-pair rate in double,
// angle reduced to (-pi, pi] before the float sincos, cos and sin scaled by mscale).
__device__ __forceinline__ float rotated(const float* x, int e, const RopeStoreArgs& a, double pos, double log2_base) {
    const int n_rot = a.n_rot;
    const int half = n_rot / 2;
    int i, p, q;
    if (a.neox) {
        if (e >= 2 * half) return x[e];
        i = e < half ? e : e - half;
        p = i;
        q = i + half;
    } else {
        i = e / 2;
        if (i >= half) return x[e];
        p = 2 * i;
        q = 2 * i + 1;
    }
    double extrap = exp2(-2.0 * static_cast<double>(i) / static_cast<double>(n_rot) * log2_base);
    if (a.freq_factors) extrap /= static_cast<double>(a.freq_factors[i]);
    const double interp = extrap * static_cast<double>(a.freq_scale);
    double rate = interp;
    if (a.ext_factor != 0.0f) {
        const double y = (static_cast<double>(i) - a.corr_low) / fmax(0.001, static_cast<double>(a.corr_high) - a.corr_low);
        const double mix = (1.0 - fmin(1.0, fmax(0.0, y))) * a.ext_factor;
        rate = interp * (1.0 - mix) + extrap * mix;
    }
    const double theta = pos * rate;
    const double k = rint(theta * 0.15915494309189535);  // 1 / (2 pi)
    const float r = static_cast<float>(fma(-k, 6.283185307179586, theta));
    float s, c;
    sincosf(r, &s, &c);
    s *= a.mscale;
    c *= a.mscale;
    const float x0 = x[p], x1 = x[q];
    return e == p ? x0 * c - x1 * s : x0 * s + x1 * c;
}

// Writes value v as element `col` of cache row `pos`; q8_0 needs all 32 lanes of the warp
// holding one 32-aligned block (col = 32 * block + lane).
__device__ __forceinline__ void store_cache(void* cache, int kv_type, int64_t n_embd_kv, int64_t pos, int64_t col,
                                            float v, int lane) {
    char* base = static_cast<char*>(cache);
    if (kv_type == kKvF32) {
        reinterpret_cast<float*>(base + pos * n_embd_kv * 4)[col] = v;
    } else if (kv_type == kKvF16) {
        reinterpret_cast<uint16_t*>(base + pos * n_embd_kv * 2)[col] = f2h(v);
    } else {
        uint8_t* blk = reinterpret_cast<uint8_t*>(base + pos * (n_embd_kv / 32) * 34 + (col / 32) * 34);
        const float amax = warp_max(fabsf(v));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        blk[2 + lane] = static_cast<uint8_t>(static_cast<int8_t>(__float2int_rn(v * id)));
        // One aligned 16-bit store (blocks are 34 bytes from an even base). Two byte stores of
        // the half's low and high byte lost the low byte on sm_90 (first H100 run: every stored
        // scale had a zero low byte while the quants were right).
        if (lane == 0) *reinterpret_cast<uint16_t*>(blk) = f2h(d);
    }
}

__global__ void __launch_bounds__(kMaxThreads) rope_store_kernel(const RopeStoreArgs a) {
    pdl_enter();
    const int64_t hd = a.head_dim;
    const int64_t rows_a = a.n_tok * a.n_head_a;
    const bool part_b = blockIdx.x >= rows_a;
    const int64_t row = part_b ? blockIdx.x - rows_a : blockIdx.x;
    const int64_t n_head = part_b ? a.n_head_b : a.n_head_a;
    const int64_t t = row / n_head, h = row % n_head;
    float* x = (part_b ? a.xb : a.xa) + row * hd;
    const int32_t* pos_rope = part_b ? a.pos_b_rope : a.pos_a;
    const bool do_rope = pos_rope != nullptr && a.n_rot > 0;
    const double pos = do_rope ? static_cast<double>(pos_rope[0] + t) : 0.0;
    const double log2_base = log2(static_cast<double>(a.freq_base));

    float nv[kPerThread];
#pragma unroll
    for (int k = 0; k < kPerThread; ++k) {
        const int e = threadIdx.x + blockDim.x * k;
        nv[k] = 0.0f;
        if (e < hd) nv[k] = do_rope ? rotated(x, e, a, pos, log2_base) : x[e];
    }
    __syncthreads();  // every read of this row is done before it is overwritten
    const int lane = threadIdx.x % 32;
    const int64_t store_pos = part_b && a.store ? (a.pos_store[0] + t) % a.kv_rows : 0;  // its ring row
#pragma unroll
    for (int k = 0; k < kPerThread; ++k) {
        const int e = threadIdx.x + blockDim.x * k;
        // hd % 32 == 0 whenever the cache is q8_0, so a warp is wholly inside or outside the row.
        if (e >= hd) continue;
        if (do_rope) x[e] = nv[k];
        if (part_b && a.store) {
            const int64_t col = h * hd + e;
            store_cache(a.k_cache, a.kv_type, a.n_embd_kv, store_pos, col, nv[k], lane);
            store_cache(a.v_cache, a.kv_type, a.n_embd_kv, store_pos, col, a.v[t * a.n_embd_kv + col], lane);
        }
    }
}

}  // namespace

cudaError_t launch_rope_store(const RopeStoreArgs& a, LaunchOn stream) {
    if (a.head_dim <= 0 || a.head_dim > kMaxThreads * kPerThread) return cudaErrorInvalidValue;
    if (a.kv_type == kKvQ8_0 && a.store && a.head_dim % 32 != 0) return cudaErrorInvalidValue;
    if (a.store && a.kv_rows <= 0) return cudaErrorInvalidValue;
    const int64_t rows = a.n_tok * (a.n_head_a + a.n_head_b);
    if (rows <= 0) return cudaSuccess;
    if (rows > 0x7fffffff) return cudaErrorInvalidValue;
    // One thread per value for heads up to 256 (whole warps: q8_0 blocks need all 32 lanes).
    const int threads = static_cast<int>(a.head_dim >= kMaxThreads ? kMaxThreads : (a.head_dim + 31) / 32 * 32);
    launch_kernel(rope_store_kernel, static_cast<unsigned>(rows), threads, 0, stream, a);
    return cudaGetLastError();
}

}  // namespace strata::cuk
