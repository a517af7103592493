// Kernels for the device probes: pseudo-random F16 fill (never zeros: a GEMM on zeros runs
// faster than on real data), a streaming read of a buffer with 16-byte loads (memory
// bandwidth), and an empty kernel whose presence tells detection this build has code for a GPU.
#include "backend/cuda/cuda_common.cuh"

namespace strata::cuk {

namespace {

__global__ void fill_random_f16_kernel(uint16_t* p, int64_t n, uint32_t seed) {
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        uint32_t x = static_cast<uint32_t>(i) * 0x9E3779B9u ^ seed ^ static_cast<uint32_t>(i >> 32) * 0x85EBCA6Bu;
        x ^= x >> 16;
        x *= 0x7FEB352Du;
        x ^= x >> 15;
        x *= 0x846CA68Bu;
        x ^= x >> 16;
        const float v = (static_cast<float>(x & 0xffffu) / 65535.0f - 0.5f) * 2.0f;  // (-1, 1)
        p[i] = f2h(v);
    }
}

__global__ void read_probe_kernel(const uint4* __restrict__ p, int64_t n, float* sink) {
    uint32_t acc = 0;
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const uint4 v = __ldg(p + i);
        acc ^= v.x ^ v.y ^ v.z ^ v.w;
    }
    // Written only in an impossible case, so the loads cannot be optimised away.
    if (acc == 0x12345678u && threadIdx.x == 0) sink[blockIdx.x] = static_cast<float>(acc);
}

__global__ void noop_kernel() {}

}  // namespace

cudaError_t launch_fill_random_f16(void* p, int64_t n, uint32_t seed, cudaStream_t stream) {
    if (n <= 0) return cudaSuccess;
    fill_random_f16_kernel<<<1024, 256, 0, stream>>>(static_cast<uint16_t*>(p), n, seed);
    return cudaGetLastError();
}

cudaError_t launch_read_probe(const void* p, size_t bytes, float* sink, cudaStream_t stream) {
    const int64_t n = static_cast<int64_t>(bytes / 16);
    if (n <= 0) return cudaSuccess;
    int dev = 0, sms = 0;
    cudaGetDevice(&dev);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
    const unsigned blocks = static_cast<unsigned>(sms > 0 ? sms * 8 : 1024);  // sink holds ≥ this many floats
    read_probe_kernel<<<blocks, 512, 0, stream>>>(static_cast<const uint4*>(p), n, sink);
    return cudaGetLastError();
}

const void* noop_kernel_address() { return reinterpret_cast<const void*>(&noop_kernel); }

}  // namespace strata::cuk
