// Device-side helpers shared by the kernels: half/bfloat conversions, warp and block
// reductions, grid helpers. Header-only; included by .cu files only.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "backend/cuda/kernels.h"

namespace strata::cuk {

constexpr int kWarp = 32;

__device__ __forceinline__ float h2f(uint16_t h) { return __half2float(__ushort_as_half(h)); }
__device__ __forceinline__ float bf2f(uint16_t b) { return __uint_as_float(static_cast<uint32_t>(b) << 16); }
__device__ __forceinline__ uint16_t f2h(float f) { return __half_as_ushort(__float2half_rn(f)); }
// F16 with saturation (no infinities from large activations).
__device__ __forceinline__ uint16_t f2h_sat(float f) {
    return f2h(fminf(fmaxf(f, -65504.0f), 65504.0f));
}

__device__ __forceinline__ int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
__device__ __forceinline__ int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
__device__ __forceinline__ int warp_sum_int(int v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Sum over the block (blockDim.x a multiple of 32, ≤ 1024); every thread gets the result.
// `shared` holds ≥ 32 floats. Contains __syncthreads(): call from all threads.
__device__ __forceinline__ float block_sum(float v, float* shared) {
    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
    const int n_warps = blockDim.x / kWarp;
    v = warp_sum(v);
    __syncthreads();  // `shared` may still be read from a previous call
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    v = lane < n_warps ? shared[lane] : 0.0f;
    return warp_sum(v);
}
__device__ __forceinline__ float block_max(float v, float* shared) {
    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
    const int n_warps = blockDim.x / kWarp;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    v = lane < n_warps ? shared[lane] : -INFINITY;
    return warp_max(v);
}

// Quantizes one block of 32 activations held one per lane of a full warp into act (block index
// `blk` of the flat qs/ds arrays): d = amax / 127 (stored rounded to fp16), q = round-to-even(x / d).
__device__ __forceinline__ void warp_quantize_block(float x, ActQ8 act, int64_t blk, int lane) {
    const float amax = warp_max(fabsf(x));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const int q = __float2int_rn(x * id);
    act.qs[blk * 32 + lane] = static_cast<int8_t>(q);
    const int sum = warp_sum_int(q);
    if (lane == 0) {
        const float dh = __half2float(__float2half_rn(d));
        act.ds[2 * blk] = dh;
        act.ds[2 * blk + 1] = dh * static_cast<float>(sum);
    }
}

// Programmatic dependent launch, device side. pdl_enter() waits until the previous kernel of
// the stream has finished and its writes are visible (a no-op when the launch did not ask for
// the overlap, or before sm_90), then lets the next kernel be scheduled. Every kernel calls it
// before its first access to activations, caches or outputs, and before any early return: a
// kernel whose blocks all returned without waiting could complete before its predecessor, and
// the kernel after it would then wait on the wrong grid.
__device__ __forceinline__ void pdl_enter() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// Prefetches bytes [p, p + n) into L2, one 128-byte line per lane of the calling warp at a time
// (used on read-only weights before pdl_enter(), while the previous kernel finishes).
__device__ __forceinline__ void prefetch_l2(const void* p, int64_t n, int lane) {
#if defined(__CUDA_ARCH__)
    const char* c = static_cast<const char*>(p);
    for (int64_t o = 128 * static_cast<int64_t>(lane); o < n; o += 128 * 32)
        asm volatile("prefetch.global.L2 [%0];" ::"l"(c + o));
#else
    (void)p;
    (void)n;
    (void)lane;
#endif
}

// Enqueues kernel<<<grid, block, smem, on.stream>>>(args...), with the programmatic-serialization
// attribute when on.pdl. A launch error is left for cudaGetLastError(), as with <<< >>>.
template <typename... Params, typename... Args>
inline void launch_kernel(void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem, LaunchOn on, Args... args) {
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = grid;
    cfg.blockDim = block;
    cfg.dynamicSmemBytes = smem;
    cfg.stream = on.stream;
    cudaLaunchAttribute attr[1] = {};
    attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[0].val.programmaticStreamSerializationAllowed = 1;
    cfg.attrs = attr;
    cfg.numAttrs = on.pdl ? 1 : 0;
    static_cast<void>(cudaLaunchKernelEx(&cfg, kernel, static_cast<Params>(args)...));
}

inline unsigned grid_1d(int64_t n, int threads) {
    return static_cast<unsigned>((n + threads - 1) / threads);
}

}  // namespace strata::cuk
