// `strata-cli selftest --probe` (selftest_probe.cpp): the CUDA module's measured ceilings of
// each GPU — copy and read bandwidth, cuBLAS F16 GEMM peak — and its kernels timed alone.
#pragma once

namespace strata::cli {

// Prints a readable line and a machine-readable "PROBE" line per GPU; 0 on success.
int run_selftest_probe(int n_cuda_devices);

}  // namespace strata::cli
