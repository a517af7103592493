// CPU feature detection (cpuid + xgetbv) and the instruction-set level the kernels dispatch on.
//
// Detection runs once (thread-safe static) and is pure afterwards. The environment variable
// STRATA_CPU_ISA caps the level the kernels use: "scalar" forces the portable C++ path,
// "avx2" forbids anything above AVX2 (no VNNI dot products), "avx2_vnni" allows them (for tests
// and benchmark comparisons).
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
// avx2_vnni: AVX2 plus 256-bit VNNI dot products (vpdpbusd), from AVX-VNNI (Alder Lake and
// later) or from AVX512-VNNI with AVX512VL (Ice Lake / Sapphire Rapids, Zen 4 and later).
enum class CpuIsa { scalar = 0, avx2 = 1, avx2_vnni = 2 };

// Features the CPU and OS report (independent of STRATA_CPU_ISA).
const CpuFeatures& cpu_features();
// Best level this machine can run: avx2 needs AVX2 + FMA + F16C with OS YMM support;
// avx2_vnni also AVX-VNNI, or AVX512-VNNI + AVX512VL with OS ZMM support.
CpuIsa cpu_isa_supported();
// Level the kernels use: cpu_isa_supported() capped by STRATA_CPU_ISA (read once at start-up,
// or after cpu_isa_refresh()).
CpuIsa cpu_isa();
// Re-reads STRATA_CPU_ISA; for tests that run a body once per dispatch path. Not thread-safe
// against concurrent kernel calls.
void cpu_isa_refresh();
const char* cpu_isa_name(CpuIsa isa);
// True when the CPU has the VEX-encoded AVX-VNNI form (else, at avx2_vnni, the EVEX form).
bool cpu_has_avx_vnni();
// "avx2 fma f16c ..." for logs.
std::string cpu_features_string();

}  // namespace strata
