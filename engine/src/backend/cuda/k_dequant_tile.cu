// Dequantizes a tile of a weight matrix to F16 for the cuBLAS prefill path: rows
// [r0, r0 + n_rows) × columns [c0, c0 + n_cols) into a dense tile with leading dimension n_cols.
// Quantized types: one thread per 32-weight unit (two 16-weight runs, written as 2 × 32 bytes).
// BF16 / F32: one thread per 8 values. c0 and n_cols are multiples of the type's block.
#include "backend/cuda/quant_units.cuh"

namespace strata::cuk {

namespace {

__device__ __forceinline__ void store_run(uint16_t* dst, const uint32_t (&q)[4], float s, float m) {
    uint32_t packed[8];
#pragma unroll
    for (int k = 0; k < 4; ++k) {
#pragma unroll
        for (int b = 0; b < 4; b += 2) {
            const float v0 = s * static_cast<float>(static_cast<int8_t>((q[k] >> (8 * b)) & 0xffu)) - m;
            const float v1 = s * static_cast<float>(static_cast<int8_t>((q[k] >> (8 * (b + 1))) & 0xffu)) - m;
            packed[2 * k + b / 2] = static_cast<uint32_t>(f2h_sat(v0)) | (static_cast<uint32_t>(f2h_sat(v1)) << 16);
        }
    }
    uint4* d4 = reinterpret_cast<uint4*>(dst);
    d4[0] = make_uint4(packed[0], packed[1], packed[2], packed[3]);
    d4[1] = make_uint4(packed[4], packed[5], packed[6], packed[7]);
}

template <int T>
__global__ void dequant_tile_q_kernel(WeightView w, int64_t r0, int64_t n_rows, int64_t c0, int64_t n_cols,
                                      uint16_t* tile) {
    pdl_enter();
    const int64_t units = n_cols / 32;
    const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (idx >= units * n_rows) return;
    const int64_t r = idx / units, u = c0 / 32 + idx % units;
    const Unit q = load_unit<T>(w, r0 + r, u);
    uint16_t* row = tile + r * n_cols;  // matrix element c0 + j lands at row[j]
    store_run(row + (q.e0 - c0), q.q0, q.s0, q.m0);
    store_run(row + (q.e1 - c0), q.q1, q.s1, q.m1);
}

template <int T>
__global__ void dequant_tile_f_kernel(WeightView w, int64_t r0, int64_t n_rows, int64_t c0, int64_t n_cols,
                                      uint16_t* tile) {
    pdl_enter();
    const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (idx >= n_cols * n_rows) return;
    const int64_t r = idx / n_cols, c = idx % n_cols;
    const uint8_t* row = w.main + (r0 + r) * w.row_bytes;
    float v;
    if constexpr (T == kF32) {
        v = reinterpret_cast<const float*>(row)[c0 + c];
    } else {
        v = bf2f(reinterpret_cast<const uint16_t*>(row)[c0 + c]);
    }
    tile[r * n_cols + c] = f2h_sat(v);
}

template <int T>
cudaError_t launch_q(const WeightView& w, int64_t r0, int64_t n_rows, int64_t c0, int64_t n_cols, void* tile,
                     LaunchOn stream) {
    constexpr int kThreads = 256;
    const int64_t n = n_rows * (n_cols / 32);
    launch_kernel(dequant_tile_q_kernel<T>, grid_1d(n, kThreads), kThreads, 0, stream, w, r0, n_rows, c0, n_cols,
                  static_cast<uint16_t*>(tile));
    return cudaGetLastError();
}

template <int T>
cudaError_t launch_f(const WeightView& w, int64_t r0, int64_t n_rows, int64_t c0, int64_t n_cols, void* tile,
                     LaunchOn stream) {
    constexpr int kThreads = 256;
    launch_kernel(dequant_tile_f_kernel<T>, grid_1d(n_rows * n_cols, kThreads), kThreads, 0, stream, w, r0, n_rows, c0,
                  n_cols, static_cast<uint16_t*>(tile));
    return cudaGetLastError();
}

}  // namespace

cudaError_t launch_dequant_tile(const WeightView& w, int64_t r0, int64_t n_rows, int64_t c0, int64_t n_cols,
                                void* tile, LaunchOn stream) {
    if (n_rows <= 0 || n_cols <= 0) return cudaSuccess;
    const bool k_quant = w.type == kQ4_K || w.type == kQ5_K || w.type == kQ6_K;
    const int64_t block = k_quant ? 256 : (w.type == kQ4_0 || w.type == kQ8_0) ? 32 : 1;
    if (c0 % block != 0 || n_cols % block != 0) return cudaErrorInvalidValue;
    switch (w.type) {
        case kQ4_0: return launch_q<kQ4_0>(w, r0, n_rows, c0, n_cols, tile, stream);
        case kQ8_0: return launch_q<kQ8_0>(w, r0, n_rows, c0, n_cols, tile, stream);
        case kQ4_K: return launch_q<kQ4_K>(w, r0, n_rows, c0, n_cols, tile, stream);
        case kQ5_K: return launch_q<kQ5_K>(w, r0, n_rows, c0, n_cols, tile, stream);
        case kQ6_K: return launch_q<kQ6_K>(w, r0, n_rows, c0, n_cols, tile, stream);
        case kBF16: return launch_f<kBF16>(w, r0, n_rows, c0, n_cols, tile, stream);
        case kF32: return launch_f<kF32>(w, r0, n_rows, c0, n_cols, tile, stream);
        default: return cudaErrorInvalidValue;
    }
}

}  // namespace strata::cuk
