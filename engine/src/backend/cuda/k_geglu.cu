// out = gelu(gate) * up elementwise with GELU's tanh form (out may alias gate), as the CPU:
// 0.5·g·(1 + tanh(√(2/π)·(g + 0.044715·g³)))·u.
#include "backend/cuda/cuda_common.cuh"

namespace strata::cuk {

namespace {
__global__ void geglu_kernel(const float* gate, const float* up, int64_t n, float* out) {
    pdl_enter();
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) {
        const float g = gate[i];
        out[i] = 0.5f * g * (1.0f + tanhf(0.7978845608028654f * (g + 0.044715f * g * g * g))) * up[i];
    }
}
}  // namespace

cudaError_t launch_geglu(const float* gate, const float* up, int64_t n, float* out, LaunchOn stream) {
    if (n <= 0) return cudaSuccess;
    constexpr int kThreads = 256;
    launch_kernel(geglu_kernel, grid_1d(n, kThreads), kThreads, 0, stream, gate, up, n, out);
    return cudaGetLastError();
}

}  // namespace strata::cuk
