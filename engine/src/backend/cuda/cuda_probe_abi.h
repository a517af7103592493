// The CUDA module's measurement probe, exported as a plain C function so strata-cli (which does
// not link CUDA) can call it through dlsym: `strata-cli selftest --probe` and
// tests/gpu/device_check.sh use it for the denominators of their percentages.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

// One timed kernel configuration of this backend (matvec or prefill matmul on one weight shape).
struct StrataCudaKernelTiming {
    char what[64];    // "matvec Q4_K 11008x4096 n_tok=1" (weights from memory; "... L2-warm": one copy)
    double us;        // per call, median of batches (launch gaps included)
    double gbs;       // weight bytes read per second
    double tflops;    // 2 * rows * cols * n_tok per second
};

struct StrataCudaProbe {
    char name[128];
    double copy_gbs;         // cudaMemcpy device → device, (bytes read + bytes written) / s
    double read_gbs;         // a streaming read kernel (16-byte loads), bytes read / s
    double gemm_f16_tflops;  // cublasGemmEx F16 × F16 → F32 (F32 accumulate), 8192³, random data
    double nominal_gbs;      // from memory clock × bus width
    double nominal_tflops;   // from SM clock × SMs × tensor-core rate
    int n_kernels;
    struct StrataCudaKernelTiming kernels[40];
};

// index: the N of cudaN. Returns 0 on success; else writes a message to error.
typedef int (*StrataCudaProbeFn)(int index, struct StrataCudaProbe* out, char* error, int error_len);

#ifdef __cplusplus
}
#endif

#define STRATA_CUDA_PROBE_ENTRY "strata_cuda_probe"
