// RMSNorm per row: out = x / sqrt(mean(x²) + eps) * w (out may alias x), optionally also the
// normalised row in ActQ8 form for the next quantized matvec (fused: saves a launch in decode).
// One block per row.
#include "backend/cuda/cuda_common.cuh"

namespace strata::cuk {

namespace {

template <bool QUANT>
__global__ void rms_norm_kernel(const float* x, const float* __restrict__ w, float eps, int64_t n, float* out,
                                ActQ8 act) {
    pdl_enter();
    __shared__ float red[32];
    const int64_t row = blockIdx.x;
    const float* xr = x + row * n;
    float* outr = out + row * n;
    float ss = 0.0f;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) ss += xr[i] * xr[i];
    ss = block_sum(ss, red);
    const float scale = 1.0f / sqrtf(ss / static_cast<float>(n) + eps);
    if constexpr (!QUANT) {
        // Each thread reads and writes only its own elements, so out may alias x.
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x) outr[i] = xr[i] * scale * w[i];
    } else {
        // Warps take whole blocks of 32 (n % 32 == 0), quantizing as they write.
        const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, n_warps = blockDim.x / 32;
        const int64_t nb = n / 32;
        for (int64_t b = warp; b < nb; b += n_warps) {
            const int64_t i = 32 * b + lane;
            const float v = xr[i] * scale * w[i];
            outr[i] = v;
            warp_quantize_block(v, act, row * nb + b, lane);
        }
    }
}

}  // namespace

cudaError_t launch_rms_norm(const float* x, const float* w, float eps, int64_t n_rows, int64_t n, float* out,
                            ActQ8 act, LaunchOn stream) {
    if (n_rows <= 0 || n <= 0) return cudaSuccess;
    // Few rows (decode): one block per row is all the parallelism there is, so give each row
    // more threads (fewer serial steps per thread); many rows fill the GPU with 256.
    const int threads = n >= 4096 && n_rows <= 64 ? 1024 : n >= 1024 ? 256 : n >= 256 ? 128 : 32;
    if (act.qs) {
        if (n % 32 != 0) return cudaErrorInvalidValue;
        launch_kernel(rms_norm_kernel<true>, static_cast<unsigned>(n_rows), threads, 0, stream, x, w, eps, n, out, act);
    } else {
        launch_kernel(rms_norm_kernel<false>, static_cast<unsigned>(n_rows), threads, 0, stream, x, w, eps, n, out, act);
    }
    return cudaGetLastError();
}

}  // namespace strata::cuk
