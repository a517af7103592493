// CPU feature detection (cpuid + xgetbv) and the instruction-set level the kernels dispatch on.
//
// Detection runs once (thread-safe static) and is pure afterwards. The environment variable
// STRATA_CPU_ISA caps the level the kernels use: "scalar" forces the portable C++ path,
// "avx2" forbids anything above AVX2 (for tests and benchmark comparisons).
#pragma once

#include <string>

namespace strata {

struct CpuFeatures {
    bool sse3 = false, ssse3 = false, sse41 = false, sse42 = false;
    bool avx = false, avx2 = false, fma = false, f16c = false, bmi2 = false;
    bool avx512f = false, avx512bw = false, avx512vl = false, avx512vnni = false;
    bool avx_vnni = false;
    bool os_avx = false, os_avx512 = false;  // the OS saves the YMM / ZMM state
};

// Kernel levels, ordered: a higher level implies every lower one can run.
enum class CpuIsa { scalar = 0, avx2 = 1 };

// Features the CPU and OS report (independent of STRATA_CPU_ISA).
const CpuFeatures& cpu_features();
// Best level this machine can run: avx2 needs AVX2 + FMA + F16C with OS YMM support.
CpuIsa cpu_isa_supported();
// Level the kernels use: cpu_isa_supported() capped by STRATA_CPU_ISA (read once at start-up,
// or after cpu_isa_refresh()).
CpuIsa cpu_isa();
// Re-reads STRATA_CPU_ISA; for tests that run a body once per dispatch path. Not thread-safe
// against concurrent kernel calls.
void cpu_isa_refresh();
const char* cpu_isa_name(CpuIsa isa);
// "avx2 fma f16c ..." for logs.
std::string cpu_features_string();

}  // namespace strata
