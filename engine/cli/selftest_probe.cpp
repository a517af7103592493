// selftest --probe: loads the CUDA module the way the registry does and calls its exported
// probe (strata-cli itself never links CUDA). Prints a readable line and a machine-readable
// "PROBE" line per GPU (tests/gpu/device_check.sh parses the latter).
#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "backend/cuda/cuda_probe_abi.h"
#include "cuda_module.h"
#include "selftest_probe.h"

namespace strata::cli {

int run_selftest_probe(int n_cuda_devices) {
    std::string tried;
    void* h = open_cuda_module(tried);
    if (!h) {
        std::printf("cannot load the CUDA module%s%s\n", tried.empty() ? "" : ": ", tried.c_str());
        return 1;
    }
    auto probe = reinterpret_cast<StrataCudaProbeFn>(dlsym(h, STRATA_CUDA_PROBE_ENTRY));
    if (!probe) {
        std::printf("the CUDA module has no %s\n", STRATA_CUDA_PROBE_ENTRY);
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < n_cuda_devices; ++i) {
        StrataCudaProbe p{};
        char err[512] = {};
        if (probe(i, &p, err, sizeof err) != 0) {
            std::printf("cuda%d: probe failed: %s\n", i, err);
            rc = 1;
            continue;
        }
        std::printf("cuda%d %s: device-to-device copy %.0f GB/s (read + write), streaming read %.0f GB/s, "
                    "cuBLAS F16 GEMM (F32 accumulate) %.1f TFLOP/s; nominal %.0f GB/s, %.0f TFLOP/s\n",
                    i, p.name, p.copy_gbs, p.read_gbs, p.gemm_f16_tflops, p.nominal_gbs, p.nominal_tflops);
        std::printf("PROBE cuda%d copy_gbs=%.1f read_gbs=%.1f gemm_tflops=%.2f nominal_gbs=%.1f nominal_tflops=%.1f\n", i,
                    p.copy_gbs, p.read_gbs, p.gemm_f16_tflops, p.nominal_gbs, p.nominal_tflops);
        // This backend's kernels on 7B-sized matrices, against those ceilings.
        const double bw = std::max(p.copy_gbs, p.read_gbs);
        for (int k = 0; k < p.n_kernels && k < static_cast<int>(sizeof p.kernels / sizeof p.kernels[0]); ++k) {
            const StrataCudaKernelTiming& t = p.kernels[k];
            // Matvecs and the tile dequantization are memory-bound; the prefill matmuls are not.
            const bool decode = std::strstr(t.what, "n_tok=1") != nullptr || std::strncmp(t.what, "dequant", 7) == 0;
            std::printf("  %-46s %9.1f us %8.0f GB/s %8.1f TFLOP/s  (%.0f%% of %s)\n", t.what, t.us, t.gbs, t.tflops,
                        decode ? (bw > 0 ? 100 * t.gbs / bw : 0) : (p.gemm_f16_tflops > 0 ? 100 * t.tflops / p.gemm_f16_tflops : 0),
                        decode ? "memory bandwidth" : "the cuBLAS F16 peak");
        }
    }
    return rc;  // the module stays loaded (as in the registry)
}

}  // namespace strata::cli
