// x *= s elementwise (Gemma's embedding scale).
#include "backend/cuda/cuda_common.cuh"

namespace strata::cuk {

namespace {
__global__ void scale_kernel(float* x, float s, int64_t n) {
    pdl_enter();
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) x[i] *= s;
}
}  // namespace

cudaError_t launch_scale(float* x, float s, int64_t n, LaunchOn stream) {
    if (n <= 0) return cudaSuccess;
    constexpr int kThreads = 256;
    launch_kernel(scale_kernel, grid_1d(n, kThreads), kThreads, 0, stream, x, s, n);
    return cudaGetLastError();
}

}  // namespace strata::cuk
