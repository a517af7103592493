// Activations F32 → F16 (saturating at ±65504) for the cuBLAS prefill path.
#include "backend/cuda/cuda_common.cuh"

namespace strata::cuk {

namespace {
__global__ void f32_to_f16_kernel(const float* __restrict__ x, int64_t n, uint16_t* __restrict__ out) {
    pdl_enter();
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) out[i] = f2h_sat(x[i]);
}
}  // namespace

cudaError_t launch_f32_to_f16(const float* x, int64_t n, void* out, LaunchOn stream) {
    if (n <= 0) return cudaSuccess;
    constexpr int kThreads = 256;
    launch_kernel(f32_to_f16_kernel, grid_1d(n, kThreads), kThreads, 0, stream, x, n, static_cast<uint16_t*>(out));
    return cudaGetLastError();
}

}  // namespace strata::cuk
