// Prefill attention on the tensor cores (mma.sync m16n8k16, F16 in, F32 accumulate) for an f16
// KV cache and head sizes 64 and 128. Opt-in (STRATA_CUDA_ATTN=mma) until a GPU run has checked
// it against the selftest and timed it against k_attention_prefill_hd.cu.
//
// Block = 4 warps, 64 queries (16 per warp) of one head; key tiles of 64. Per tile:
//   S (16 × 64 per warp) = Q · Kᵀ    Q fragments in registers, K rows from shared memory
//   online softmax on S in registers (the accumulator layout: rows g and g + 8 of the warp,
//                                     the four lanes of a quad share a row)
//   O (16 × HD per warp) += P · V    P re-used from S's registers as the A operand, V stored
//                                     transposed in shared memory
// Precision: the f16 cache holds K and V exactly; Q and P are each split into an f16 high part
// and an f16 remainder and multiplied twice, so the result carries about 22 bits, as the F32
// kernels do (the selftest holds every attention path to 1e-4).
//
// Fragment layouts (PTX ISA, mma.m16n8k16 with .f16 A/B and .f32 C), g = lane / 4, t = lane % 4:
//   A (16 × 16, row): a0 = (g, 2t..2t+1), a1 = (g+8, 2t..2t+1), a2 = (g, 2t+8..), a3 = (g+8, 2t+8..)
//   B (16 × 8, col):  b0 = (k 2t..2t+1, n g), b1 = (k 2t+8..2t+9, n g)
//   C (16 × 8):       c0, c1 = (g, 2t..2t+1), c2, c3 = (g+8, 2t..2t+1)
#include "backend/cuda/attention_common.cuh"

namespace strata::cuk {

namespace {

constexpr int kThreads = 128;
constexpr int kBQ = 64;  // queries per block (16 per warp)
constexpr int kBK = 64;  // keys per tile
constexpr int kVtStride = kBK + 8;  // halves; +8 keeps the fragment reads conflict-free

template <int HD> constexpr int k_stride() { return HD + 8; }
template <int HD> constexpr size_t smem_bytes() {
    return static_cast<size_t>(kBK * k_stride<HD>() + HD * kVtStride) * sizeof(__half);
}

__device__ __forceinline__ void mma16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#else
    (void)c;
    (void)a;
    (void)b0;
    (void)b1;
    __trap();  // callers check the compute capability (kernels.h)
#endif
}

// Two floats as an f16 pair (x in the low half: the lower column / key) split into a high part
// and the remainder.
__device__ __forceinline__ void split_pack(float x, float y, uint32_t& hi, uint32_t& lo) {
    const __half2 h = __floats2half2_rn(x, y);
    const float2 hf = __half22float2(h);
    const __half2 l = __floats2half2_rn(x - hf.x, y - hf.y);
    hi = *reinterpret_cast<const uint32_t*>(&h);
    lo = *reinterpret_cast<const uint32_t*>(&l);
}

template <int HD>
__global__ void __launch_bounds__(kThreads) attention_prefill_mma_kernel(const AttnArgs a) {
    pdl_enter();
    constexpr int KS = k_stride<HD>();
    constexpr int KSTEPS = HD / 16;  // k-steps of Q · Kᵀ
    constexpr int DTILES = HD / 8;   // n-tiles of O
    extern __shared__ float4 smem4[];
    __half* Ks = reinterpret_cast<__half*>(smem4);  // (kBK, KS): key rows
    __half* Vt = Ks + kBK * KS;                      // (HD, kVtStride): V transposed

    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int g = lane / 4, t = lane % 4;
    const int64_t h = blockIdx.y, t0 = static_cast<int64_t>(blockIdx.x) * kBQ;
    const int64_t kvh = h / (a.n_head / a.n_head_kv);
    const int64_t col0 = kvh * HD;
    const int64_t pos0 = a.pos[0];
    const int64_t n_q = imin(kBQ, a.n_tok - t0);
    const int64_t last_key = pos0 + t0 + n_q - 1;        // the block's last visible key
    const int64_t row0 = 16 * warp + g;                   // this lane's rows: row0, row0 + 8
    const int64_t qpos0 = pos0 + t0 + row0, qpos1 = qpos0 + 8;
    const int64_t warp_last = pos0 + t0 + imin(16 * warp + 15, n_q - 1);
    const float kLog2e = 1.4426950408889634f;

    // Q fragments, scaled, split into high and low halves. Rows past n_q read as zeros.
    uint32_t qh[KSTEPS][4], ql[KSTEPS][4];
    {
        const float* q0 = row0 < n_q ? a.q + ((t0 + row0) * a.n_head + h) * HD : nullptr;
        const float* q1 = row0 + 8 < n_q ? a.q + ((t0 + row0 + 8) * a.n_head + h) * HD : nullptr;
        auto ld = [&](const float* q, int d) { return q ? make_float2(q[d] * a.scale, q[d + 1] * a.scale) : make_float2(0.f, 0.f); };
#pragma unroll
        for (int kk = 0; kk < KSTEPS; ++kk) {
            const int d = 16 * kk + 2 * t;
            float2 v;
            v = ld(q0, d);     split_pack(v.x, v.y, qh[kk][0], ql[kk][0]);
            v = ld(q1, d);     split_pack(v.x, v.y, qh[kk][1], ql[kk][1]);
            v = ld(q0, d + 8); split_pack(v.x, v.y, qh[kk][2], ql[kk][2]);
            v = ld(q1, d + 8); split_pack(v.x, v.y, qh[kk][3], ql[kk][3]);
        }
    }

    float o[DTILES][4];
#pragma unroll
    for (int i = 0; i < DTILES; ++i) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.0f;
    float m0 = -INFINITY, m1 = -INFINITY;  // running max (log2 units) of rows row0, row0 + 8
    float l0 = 0.0f, l1 = 0.0f;            // this lane's part of the running sums

    const uint16_t* kc = static_cast<const uint16_t*>(a.k);
    const uint16_t* vc = static_cast<const uint16_t*>(a.v);
    for (int64_t kb = 0; kb <= last_key; kb += kBK) {
        __syncthreads();  // the previous tile is consumed
        // Tiles: thread → key j = tid % 64 and 16-byte chunks c = tid / 64, + 2, + 4, ...; keys
        // past last_key (or the cache) become zeros, masked below anyway.
        {
            const int j = threadIdx.x % kBK;
            const int64_t pos = kb + j;
            const bool live = pos <= last_key;
#pragma unroll
            for (int c = threadIdx.x / kBK; c < HD / 8; c += kThreads / kBK) {
                uint4 kv = make_uint4(0, 0, 0, 0), vv = make_uint4(0, 0, 0, 0);
                if (live) {
                    kv = __ldg(reinterpret_cast<const uint4*>(kc + pos * a.n_embd_kv + col0) + c);
                    vv = __ldg(reinterpret_cast<const uint4*>(vc + pos * a.n_embd_kv + col0) + c);
                }
                *reinterpret_cast<uint4*>(Ks + j * KS + 8 * c) = kv;
                const uint32_t w[4] = {vv.x, vv.y, vv.z, vv.w};
#pragma unroll
                for (int i = 0; i < 4; ++i) {
                    reinterpret_cast<uint16_t*>(Vt)[(8 * c + 2 * i) * kVtStride + j] = static_cast<uint16_t>(w[i] & 0xffffu);
                    reinterpret_cast<uint16_t*>(Vt)[(8 * c + 2 * i + 1) * kVtStride + j] = static_cast<uint16_t>(w[i] >> 16);
                }
            }
        }
        __syncthreads();
        if (kb > warp_last) continue;  // every key of the tile is after this warp's queries

        // S = Q · Kᵀ for keys kb + 8n + (2t, 2t + 1).
        float s[kBK / 8][4];
#pragma unroll
        for (int n = 0; n < kBK / 8; ++n) {
            s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
            const uint32_t* krow = reinterpret_cast<const uint32_t*>(Ks + (8 * n + g) * KS);
#pragma unroll
            for (int kk = 0; kk < KSTEPS; ++kk) {
                const uint32_t b0 = krow[8 * kk + t], b1 = krow[8 * kk + t + 4];
                mma16816(s[n], qh[kk], b0, b1);
                mma16816(s[n], ql[kk], b0, b1);
            }
        }
        // Mask, running max over the quad (the four lanes holding a row), rescale.
        float mx0 = -INFINITY, mx1 = -INFINITY;
#pragma unroll
        for (int n = 0; n < kBK / 8; ++n) {
#pragma unroll
            for (int e = 0; e < 2; ++e) {
                const int64_t key = kb + 8 * n + 2 * t + e;
                s[n][e] = key <= qpos0 ? s[n][e] * kLog2e : -INFINITY;
                s[n][2 + e] = key <= qpos1 ? s[n][2 + e] * kLog2e : -INFINITY;
                mx0 = fmaxf(mx0, s[n][e]);
                mx1 = fmaxf(mx1, s[n][2 + e]);
            }
        }
#pragma unroll
        for (int off = 1; off <= 2; off <<= 1) {
            mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, off));
            mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, off));
        }
        const float mn0 = fmaxf(m0, mx0), mn1 = fmaxf(m1, mx1);
        // Key 0 is visible to every query, so a row's max is finite from the first tile on;
        // a row whose keys are all masked in a later tile keeps its max (corr = 1, p = 0).
        const float c0 = m0 == -INFINITY ? 0.0f : exp2f(m0 - mn0), c1 = m1 == -INFINITY ? 0.0f : exp2f(m1 - mn1);
        m0 = mn0;
        m1 = mn1;
        l0 *= c0;
        l1 *= c1;
#pragma unroll
        for (int i = 0; i < DTILES; ++i) {
            o[i][0] *= c0;
            o[i][1] *= c0;
            o[i][2] *= c1;
            o[i][3] *= c1;
        }
#pragma unroll
        for (int n = 0; n < kBK / 8; ++n) {
#pragma unroll
            for (int e = 0; e < 2; ++e) {
                s[n][e] = s[n][e] == -INFINITY ? 0.0f : exp2f(s[n][e] - mn0);
                s[n][2 + e] = s[n][2 + e] == -INFINITY ? 0.0f : exp2f(s[n][2 + e] - mn1);
                l0 += s[n][e];
                l1 += s[n][2 + e];
            }
        }
        // O += P · V, 16 keys per k-step: P's A fragment is two neighbouring S tiles.
#pragma unroll
        for (int kk = 0; kk < kBK / 16; ++kk) {
            uint32_t ph[4], pl[4];
            split_pack(s[2 * kk][0], s[2 * kk][1], ph[0], pl[0]);
            split_pack(s[2 * kk][2], s[2 * kk][3], ph[1], pl[1]);
            split_pack(s[2 * kk + 1][0], s[2 * kk + 1][1], ph[2], pl[2]);
            split_pack(s[2 * kk + 1][2], s[2 * kk + 1][3], ph[3], pl[3]);
#pragma unroll
            for (int i = 0; i < DTILES; ++i) {
                const uint32_t* vrow = reinterpret_cast<const uint32_t*>(Vt + (8 * i + g) * kVtStride);
                const uint32_t b0 = vrow[8 * kk + t], b1 = vrow[8 * kk + t + 4];
                mma16816(o[i], ph, b0, b1);
                mma16816(o[i], pl, b0, b1);
            }
        }
    }

    // Sums over the quad, then out rows row0 and row0 + 8 (columns 8i + 2t, + 1).
#pragma unroll
    for (int off = 1; off <= 2; off <<= 1) {
        l0 += __shfl_xor_sync(0xffffffffu, l0, off);
        l1 += __shfl_xor_sync(0xffffffffu, l1, off);
    }
    const float inv0 = 1.0f / l0, inv1 = 1.0f / l1;
    float* out0 = row0 < n_q ? a.out + ((t0 + row0) * a.n_head + h) * HD : nullptr;
    float* out1 = row0 + 8 < n_q ? a.out + ((t0 + row0 + 8) * a.n_head + h) * HD : nullptr;
#pragma unroll
    for (int i = 0; i < DTILES; ++i) {
        const int d = 8 * i + 2 * t;
        if (out0) *reinterpret_cast<float2*>(out0 + d) = make_float2(o[i][0] * inv0, o[i][1] * inv0);
        if (out1) *reinterpret_cast<float2*>(out1 + d) = make_float2(o[i][2] * inv1, o[i][3] * inv1);
    }
}

template <int HD>
cudaError_t launch_mma(const AttnArgs& a, LaunchOn stream) {
    constexpr size_t smem = smem_bytes<HD>();
    static_assert(smem <= 48 * 1024, "tiles fit the default shared-memory limit");
    const dim3 grid(static_cast<unsigned>((a.n_tok + kBQ - 1) / kBQ), static_cast<unsigned>(a.n_head));
    launch_kernel(attention_prefill_mma_kernel<HD>, grid, kThreads, smem, stream, a);
    return cudaGetLastError();
}

}  // namespace

bool attention_prefill_mma_supported(int64_t head_dim, int kv_type) {
    return (head_dim == 64 || head_dim == 128) && kv_type == kKvF16;
}

cudaError_t launch_attention_prefill_mma(const AttnArgs& a, LaunchOn stream) {
    if (a.n_tok <= 0) return cudaSuccess;
    if (!attention_prefill_mma_supported(a.head_dim, a.kv_type) || a.n_head > 65535 || a.n_embd_kv % 8 != 0)
        return cudaErrorInvalidValue;
    if (a.head_dim == 64) return launch_mma<64>(a, stream);
    return launch_mma<128>(a, stream);
}

}  // namespace strata::cuk
