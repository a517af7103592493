// x += y elementwise.
#include "backend/cuda/cuda_common.cuh"

namespace strata::cuk {

namespace {
__global__ void add_kernel(float* x, const float* y, int64_t n) {
    pdl_enter();
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) x[i] += y[i];
}
}  // namespace

cudaError_t launch_add(float* x, const float* y, int64_t n, LaunchOn stream) {
    if (n <= 0) return cudaSuccess;
    constexpr int kThreads = 256;
    launch_kernel(add_kernel, grid_1d(n, kThreads), kThreads, 0, stream, x, y, n);
    return cudaGetLastError();
}

}  // namespace strata::cuk
