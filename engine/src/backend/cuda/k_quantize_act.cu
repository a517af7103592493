// Activations to ActQ8 (int8 in blocks of 32 with fp16-rounded scale and block sum), the input
// of the quantized matvec. One warp per block of 32 values. n must be a multiple of 32.
#include "backend/cuda/cuda_common.cuh"

namespace strata::cuk {

namespace {

__global__ void quantize_act_kernel(const float* __restrict__ x, int64_t n_blocks, ActQ8 act) {
    pdl_enter();
    const int64_t blk = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
    if (blk >= n_blocks) return;  // whole warps leave together (blockDim is a multiple of 32)
    const int lane = threadIdx.x % 32;
    warp_quantize_block(x[blk * 32 + lane], act, blk, lane);
}

}  // namespace

cudaError_t launch_quantize_act(const float* x, int64_t n_rows, int64_t n, ActQ8 act, LaunchOn stream) {
    if (n % 32 != 0) return cudaErrorInvalidValue;
    // Rows are contiguous and n is a multiple of 32, so block b of the flat array is block
    // b % (n / 32) of row b / (n / 32): the qs/ds layout of ActQ8.
    const int64_t n_blocks = n_rows * (n / 32);
    if (n_blocks == 0) return cudaSuccess;
    constexpr int kThreads = 256;
    launch_kernel(quantize_act_kernel, grid_1d(n_blocks * 32, kThreads), kThreads, 0, stream, x, n_blocks, act);
    return cudaGetLastError();
}

}  // namespace strata::cuk
