// x[t, i] += b[i] over (n_tok, n).
#include "backend/cuda/cuda_common.cuh"

namespace strata::cuk {

namespace {
__global__ void add_bias_kernel(float* x, const float* __restrict__ b, int64_t n_total, int64_t n) {
    pdl_enter();
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n_total) x[i] += b[i % n];
}
}  // namespace

cudaError_t launch_add_bias(float* x, const float* b, int64_t n_tok, int64_t n, LaunchOn stream) {
    if (n_tok <= 0 || n <= 0) return cudaSuccess;
    constexpr int kThreads = 256;
    launch_kernel(add_bias_kernel, grid_1d(n_tok * n, kThreads), kThreads, 0, stream, x, b, n_tok * n, n);
    return cudaGetLastError();
}

}  // namespace strata::cuk
