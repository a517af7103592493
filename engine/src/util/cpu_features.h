// CPU feature detection (cpuid + xgetbv) and the instruction-set level the kernels dispatch on.
//
// Detection runs once (thread-safe static) and is pure afterwards. The environment variable
// STRATA_CPU_ISA caps the level the kernels use (for tests and benchmark comparisons): the
// kernels run at the highest level this machine supports that is not above the named one.
// "scalar" forces the portable C++ path, "avx2" forbids anything above AVX2 (no VNNI dot
// products), "avx2_vnni" allows them on 256-bit vectors, "avx512" allows 512-bit vectors,
// "avx512_vnni" and "avx512_bf16" their VNNI / BF16 dot products, "amx" the AMX int8 tiles
// (prefill of Q8_0 / Q4_0 weights only). An unknown name caps nothing.
#pragma once

#include <string>

namespace strata {

struct CpuFeatures {
    bool sse3 = false, ssse3 = false, sse41 = false, sse42 = false;
    bool avx = false, avx2 = false, fma = false, f16c = false, bmi2 = false;
    bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false, avx512vnni = false;
    bool avx512bf16 = false, avx512fp16 = false;
    bool avx_vnni = false;
    bool amx_tile = false, amx_int8 = false, amx_bf16 = false;
    bool os_avx = false, os_avx512 = false;  // the OS saves the YMM / ZMM state
    bool os_amx = false;  // the OS saves the tile state (XCR0 bits 17, 18)
    // Linux granted this process the tile data state (arch_prctl ARCH_REQ_XCOMP_PERM, asked once
    // by detection when the CPU and OS have AMX): without it the first tile instruction faults.
    bool amx_permitted = false;
};

// Kernel levels, ordered. A higher level implies every lower one can run, with one exception:
// avx512 (Skylake-X: AVX-512 without VNNI) does not imply avx2_vnni (Alder Lake: AVX-VNNI
// without AVX-512). Ask cpu_isa_has_vnni() rather than comparing with avx2_vnni.
// avx2_vnni: AVX2 plus 256-bit VNNI dot products (vpdpbusd), from AVX-VNNI (Alder Lake and
// later) or from AVX512-VNNI with AVX512VL (Ice Lake / Sapphire Rapids, Zen 4 and later).
// avx512: AVX2 plus AVX-512 F+BW+VL+DQ with OS ZMM support (512-bit float kernels).
// avx512_vnni: also AVX512-VNNI (512-bit integer dot products; implies avx2_vnni).
// avx512_bf16: also AVX512-BF16 (vdpbf16ps; Cooper Lake, Sapphire Rapids, Zen 4 and later).
// amx: also AMX-TILE + AMX-INT8 with the OS's tile state and the process's permission to use it
// (Sapphire Rapids and later Xeons). Only the prefill of Q8_0 / Q4_0 weights uses it
// (cpu_matmul_amx.cpp); everything else runs the avx512_bf16 kernels.
enum class CpuIsa { scalar = 0, avx2 = 1, avx2_vnni = 2, avx512 = 3, avx512_vnni = 4, avx512_bf16 = 5, amx = 6 };

// Features the CPU and OS report (independent of STRATA_CPU_ISA).
const CpuFeatures& cpu_features();
// Best level this machine can run: avx2 needs AVX2 + FMA + F16C with OS YMM support;
// avx2_vnni also AVX-VNNI, or AVX512-VNNI + AVX512VL with OS ZMM support; the avx512 levels
// and amx as described at CpuIsa.
CpuIsa cpu_isa_supported();
// Whether this machine can run kernels of level `isa` (not implied by isa <= supported: see
// CpuIsa on avx512 and avx2_vnni).
bool cpu_isa_runs(CpuIsa isa);
// Whether kernels at this level may use VNNI dot products (avx2_vnni, avx512_vnni and above).
inline bool cpu_isa_has_vnni(CpuIsa isa) { return isa == CpuIsa::avx2_vnni || isa >= CpuIsa::avx512_vnni; }
// Whether kernels at this level may use 512-bit vectors.
inline bool cpu_isa_has_avx512(CpuIsa isa) { return isa >= CpuIsa::avx512; }
// The level named as STRATA_CPU_ISA spells it ("avx512_vnni"); false for an unknown name.
bool cpu_isa_from_name(const char* name, CpuIsa& out);
// The level STRATA_CPU_ISA=`name` gives: the best this machine runs at or below the named
// level; an unknown, empty or null name caps nothing.
CpuIsa cpu_isa_for_cap_name(const char* name);
// Level the kernels use: cpu_isa_supported() capped by STRATA_CPU_ISA (read once at start-up,
// or after cpu_isa_refresh()).
CpuIsa cpu_isa();
// Re-reads STRATA_CPU_ISA and STRATA_CPU_BF16_DOTS from the environment. Not thread-safe
// against concurrent kernel calls.
void cpu_isa_refresh();
// For tests that run a body once per dispatch path: caps the level at `cap` (the best level this
// machine runs at or below it) and sets the BF16 switch, as the two variables would at start-up,
// without writing the environment. Tests must not setenv while the process has other threads:
// glibc's setenv can move the array a concurrent getenv walks (QtTest's watchdog thread reads
// QTEST_FUNCTION_TIMEOUT at every test function; that crashed tst_cpu_matmul in CI). Not
// thread-safe against concurrent kernel calls.
void cpu_isa_set_cap(CpuIsa cap);
void cpu_bf16_dots_set(bool on);
const char* cpu_isa_name(CpuIsa isa);
// True when the CPU has the VEX-encoded AVX-VNNI form (else, at avx2_vnni, the EVEX form).
bool cpu_has_avx_vnni();
// Whether BF16 weights run on AVX512-BF16 dot products (vdpbf16ps, which round the activations
// to BF16) where the level is avx512_bf16 or above. Off unless STRATA_CPU_BF16_DOTS=1: on this
// project's Intel Xeon (AMX class) vdpbf16ps retired about a quarter as many instructions per
// second as FMA (half the multiply-adds), so BF16 prefill lost 20-25% and decode, bound by
// memory, gained within noise (docs/benchmarks.md); CPUs where it pays (AMD Zen 4/5 are the
// candidates) are yet to be measured. Read with STRATA_CPU_ISA (at start-up, cpu_isa_refresh()).
bool cpu_bf16_dots();
// For the "cpu kernels" lines of bench and devices: at avx512_bf16 and above, which route BF16
// weights take ("; BF16 weights: vdpbf16ps (...)" or "; BF16 weights: F32 FMA (...)"); else "".
const char* cpu_bf16_note();
// STRATA_CPU_ISA's spelling of a level ("avx2_vnni"), for tests that cap to it.
const char* cpu_isa_env_name(CpuIsa isa);
// "avx2 fma f16c ..." for logs.
std::string cpu_features_string();

}  // namespace strata
