// out = silu(gate) * up elementwise (out may alias gate), as the CPU: g / (1 + exp(-g)) * u.
#include "backend/cuda/cuda_common.cuh"

namespace strata::cuk {

namespace {
__global__ void swiglu_kernel(const float* gate, const float* up, int64_t n, float* out) {
    pdl_enter();
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) {
        const float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}
}  // namespace

cudaError_t launch_swiglu(const float* gate, const float* up, int64_t n, float* out, LaunchOn stream) {
    if (n <= 0) return cudaSuccess;
    constexpr int kThreads = 256;
    launch_kernel(swiglu_kernel, grid_1d(n, kThreads), kThreads, 0, stream, gate, up, n, out);
    return cudaGetLastError();
}

}  // namespace strata::cuk
