// strata_cuda_probe: the ceilings benchmarks are measured against, on one GPU — device-to-device
// copy and streaming-read bandwidth, and cuBLAS F16 GEMM throughput with F32 accumulation (the
// configuration the prefill path uses). Timed with CUDA events after warm-up, on random data.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "backend/cuda/cuda_detect.h"
#include "backend/cuda/cuda_probe_abi.h"
#include "backend/cuda/cuda_resources.h"
#include "backend/cuda/kernels.h"

namespace strata::cuda {
void probe_kernels(int index, int ordinal, StrataCudaProbe* out);  // cuda_probe_kernels.cpp
}

namespace {

struct Fail {
    std::string what;
};

void ck(cudaError_t e, const char* what) {
    if (e != cudaSuccess) throw Fail{std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")"};
}
void ckb(cublasStatus_t s, const char* what) {
    if (s != CUBLAS_STATUS_SUCCESS) throw Fail{std::string(what) + ": " + cublasGetStatusName(s)};
}

// Median of `reps` timings (ms) of `body`, after `warm` untimed runs.
template <class F>
double time_ms(cudaStream_t s, int warm, int reps, F&& body) {
    for (int i = 0; i < warm; ++i) body();
    strata::cuda::CudaEvent a, b;
    ck(a.create(cudaEventDefault), "cudaEventCreate");
    ck(b.create(cudaEventDefault), "cudaEventCreate");
    std::vector<float> t;
    for (int i = 0; i < reps; ++i) {
        ck(cudaEventRecord(a.get(), s), "cudaEventRecord");
        body();
        ck(cudaEventRecord(b.get(), s), "cudaEventRecord");
        ck(cudaEventSynchronize(b.get()), "cudaEventSynchronize");
        float ms = 0;
        ck(cudaEventElapsedTime(&ms, a.get(), b.get()), "cudaEventElapsedTime");
        t.push_back(ms);
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

}  // namespace

extern "C" __attribute__((visibility("default"))) int strata_cuda_probe(int index, StrataCudaProbe* out, char* error,
                                                                         int error_len) {
    auto set_error = [&](const std::string& m) {
        if (error && error_len > 0) std::snprintf(error, static_cast<size_t>(error_len), "%s", m.c_str());
        return 1;
    };
    try {
        const strata::cuda::Detection d = strata::cuda::detect_gpus();
        if (index < 0 || static_cast<size_t>(index) >= d.ordinals.size())
            return set_error("cuda" + std::to_string(index) + " does not exist (" + d.reason + ")");
        const strata::DeviceInfo& info = d.devices[static_cast<size_t>(index)];
        *out = StrataCudaProbe{};
        std::snprintf(out->name, sizeof out->name, "%s", info.name.c_str());
        out->nominal_gbs = info.memory_bandwidth_gbs;
        out->nominal_tflops = info.matmul_tflops;
        ck(cudaSetDevice(d.ordinals[static_cast<size_t>(index)]), "cudaSetDevice");
        size_t free_b = 0, total_b = 0;
        ck(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
        // Released on every exit, a throw included (which used to leak the stream): the buffers
        // below first, then the stream, in reverse declaration order.
        strata::cuda::CudaStream stream;
        ck(stream.create(cudaStreamDefault), "cudaStreamCreate");
        const cudaStream_t s = stream.get();

        // Bandwidth: two buffers of up to 2 GiB (far beyond any cache).
        const size_t bytes = std::min<size_t>(2ull << 30, free_b / 5) / 256 * 256;
        strata::cuda::DeviceMemory a, b, sink;
        ck(a.create(bytes), "cudaMalloc");
        ck(b.create(bytes), "cudaMalloc");
        ck(sink.create(1 << 20), "cudaMalloc");
        ck(strata::cuk::launch_fill_random_f16(a.get(), static_cast<int64_t>(bytes / 2), 1u, s), "fill");
        ck(strata::cuk::launch_fill_random_f16(b.get(), static_cast<int64_t>(bytes / 2), 2u, s), "fill");
        const double copy_ms = time_ms(s, 2, 10, [&] { ck(cudaMemcpyAsync(b.get(), a.get(), bytes, cudaMemcpyDeviceToDevice, s), "copy"); });
        out->copy_gbs = 2.0 * static_cast<double>(bytes) / (copy_ms * 1e-3) / 1e9;
        const double read_ms = time_ms(s, 2, 10, [&] {
            ck(strata::cuk::launch_read_probe(a.get(), bytes, sink.as<float>(), s), "read probe");
        });
        out->read_gbs = static_cast<double>(bytes) / (read_ms * 1e-3) / 1e9;
        a.reset();
        b.reset();

        // GEMM: 8192³, F16 inputs, F32 output and accumulation.
        {
            const int n = 8192;
            strata::cuda::DeviceMemory ga, gb, gc, gws;
            ck(ga.create(static_cast<size_t>(n) * n * 2), "cudaMalloc");
            ck(gb.create(static_cast<size_t>(n) * n * 2), "cudaMalloc");
            ck(gc.create(static_cast<size_t>(n) * n * 4), "cudaMalloc");
            ck(gws.create(32u << 20), "cudaMalloc");
            ck(strata::cuk::launch_fill_random_f16(ga.get(), static_cast<int64_t>(n) * n, 3u, s), "fill");
            ck(strata::cuk::launch_fill_random_f16(gb.get(), static_cast<int64_t>(n) * n, 4u, s), "fill");
            strata::cuda::CublasHandle handle;  // destroyed before the buffers above
            {
                cublasHandle_t created = nullptr;
                ckb(cublasCreate(&created), "cublasCreate");
                handle.reset(created);
            }
            const cublasHandle_t h = handle.get();
            cublasSetStream(h, s);
            cublasSetWorkspace(h, gws.get(), 32u << 20);
            const float one = 1.0f, zero = 0.0f;
            const double gemm_ms = time_ms(s, 3, 10, [&] {
                ckb(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, n, n, n, &one, ga.get(), CUDA_R_16F, n, gb.get(), CUDA_R_16F, n,
                                 &zero, gc.get(), CUDA_R_32F, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                    "cublasGemmEx");
            });
            out->gemm_f16_tflops = 2.0 * n * static_cast<double>(n) * n / (gemm_ms * 1e-3) / 1e12;
        }  // GEMM buffers freed before the kernel timings
        ck(cudaStreamSynchronize(s), "cudaStreamSynchronize");
        stream.reset();
        strata::cuda::probe_kernels(index, d.ordinals[static_cast<size_t>(index)], out);
        return 0;
    } catch (const Fail& f) {
        cudaGetLastError();
        return set_error(f.what);
    } catch (const std::exception& e) {
        return set_error(e.what());
    }
}
