#include "backend/cuda/cuda_detect.h"

#include <cuda_runtime.h>

#include <sstream>

#include "backend/cuda/kernels.h"

#ifndef STRATA_CUDA_ARCHS
#define STRATA_CUDA_ARCHS "unknown"
#endif

namespace strata::cuda {

namespace {

// Dense F16 tensor-core throughput (F32 accumulation) per SM per clock.
double flops_per_sm_clock(int major, int minor) {
    if (major >= 9) return 4096;
    if (major == 8 && minor == 0) return 2048;
    if (major == 8) return 512;
    if (major == 7) return 1024;
    return 256;
}

std::string error_words(cudaError_t e) {
    switch (e) {
        case cudaErrorInsufficientDriver:
            return "no NVIDIA driver found, or the driver is older than this build's CUDA runtime "
                   "(cudaErrorInsufficientDriver)";
        case cudaErrorNoDevice: return "the NVIDIA driver reports no GPU (cudaErrorNoDevice)";
        case cudaErrorInitializationError: return "the NVIDIA driver could not be initialised (cudaErrorInitializationError)";
        case cudaErrorSystemDriverMismatch:
            return "the NVIDIA kernel module and user-space driver versions differ (cudaErrorSystemDriverMismatch)";
        case cudaErrorCompatNotSupportedOnDevice:
            return "the CUDA forward-compatibility package does not support this GPU (cudaErrorCompatNotSupportedOnDevice)";
        default: return std::string("CUDA initialisation failed (") + cudaGetErrorName(e) + ": " + cudaGetErrorString(e) + ")";
    }
}

}  // namespace

const char* compiled_architectures() { return STRATA_CUDA_ARCHS; }

bool describe_gpu(int index, int ordinal, DeviceInfo& info, std::string& error) {
    info = DeviceInfo{};
    info.id = "cuda" + std::to_string(index);
    info.type = DeviceType::cuda;
    cudaDeviceProp prop{};
    cudaError_t e = cudaSetDevice(ordinal);
    if (e == cudaSuccess) e = cudaGetDeviceProperties(&prop, ordinal);
    size_t free_b = 0, total_b = 0;
    if (e == cudaSuccess) e = cudaMemGetInfo(&free_b, &total_b);
    if (e != cudaSuccess) {
        cudaGetLastError();
        error = "GPU " + std::to_string(ordinal) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
        return false;
    }
    int mem_clock_khz = 0, bus_bits = 0, clock_khz = 0, driver = 0;
    cudaDeviceGetAttribute(&mem_clock_khz, cudaDevAttrMemoryClockRate, ordinal);
    cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, ordinal);
    cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, ordinal);
    cudaDriverGetVersion(&driver);
    // The GPU's PCI address: what NVML (live telemetry) knows it by, whatever CUDA's ordering.
    char bus_id[32] = {};
    if (cudaDeviceGetPCIBusId(bus_id, static_cast<int>(sizeof bus_id), ordinal) == cudaSuccess) info.pci_bus_id = bus_id;
    cudaGetLastError();
    info.name = prop.name;
    info.total_memory = total_b;
    info.free_memory = free_b;
    info.memory_bandwidth_gbs = 2.0 * mem_clock_khz * 1e3 * (bus_bits / 8.0) / 1e9;
    info.matmul_tflops = prop.multiProcessorCount * (clock_khz * 1e3) * flops_per_sm_clock(prop.major, prop.minor) / 1e12;
    std::ostringstream note;
    note << "compute capability " << prop.major << "." << prop.minor << ", " << prop.multiProcessorCount << " SMs, "
         << (prop.l2CacheSize >> 20) << " MiB L2, driver " << driver / 1000 << "." << (driver % 1000) / 10;
    info.note = note.str();
    return true;
}

Detection detect_gpus() {
    Detection d;
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        cudaGetLastError();
        d.reason = error_words(e);
        return d;
    }
    if (n == 0) {
        d.reason = "the NVIDIA driver reports no GPU";
        return d;
    }
    std::string skipped;
    for (int ordinal = 0; ordinal < n; ++ordinal) {
        DeviceInfo info;
        std::string err;
        if (!describe_gpu(static_cast<int>(d.ordinals.size()), ordinal, info, err)) {
            skipped += (skipped.empty() ? "" : "; ") + err;
            continue;
        }
        // Does this build hold machine code (or PTX) the GPU can run?
        cudaFuncAttributes attr{};
        const cudaError_t fe = cudaFuncGetAttributes(&attr, cuk::noop_kernel_address());
        if (fe != cudaSuccess) {
            cudaGetLastError();
            skipped += (skipped.empty() ? "" : "; ") + std::string("GPU ") + std::to_string(ordinal) + " (" + info.name +
                       ", " + info.note.substr(0, info.note.find(',')) + ") is not supported by this build (compiled for sm_" +
                       compiled_architectures() + "; " + cudaGetErrorName(fe) + ")";
            continue;
        }
        d.ordinals.push_back(ordinal);
        d.devices.push_back(info);
    }
    if (!skipped.empty()) d.reason = skipped;
    return d;
}

}  // namespace strata::cuda
