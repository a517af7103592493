// Constants and helpers shared by the CudaDevice sources (cuda_device.cpp, cuda_transfer.cpp).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace strata::cuda::detail {

constexpr size_t kStagingBytes = 32ull << 20;  // pinned; two halves for streamed copies

inline size_t align16(size_t n) { return (n + 15) / 16 * 16; }

// "1.50 GiB" (the engine's format_bytes lives with the GGUF code, which the module does not link).
std::string format_bytes(uint64_t n);
// "cudaErrorMemoryAllocation: out of memory"
std::string cuda_error_text(cudaError_t e);

}  // namespace strata::cuda::detail
