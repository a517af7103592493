#include "util/cpu_features.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define STRATA_X86 1
#endif
#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
#define STRATA_LINUX_X86_64 1
#endif

namespace strata {
namespace {

#if STRATA_X86
void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}
uint64_t xgetbv0() {
    uint32_t lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (static_cast<uint64_t>(hi) << 32) | lo;
}

// Asks Linux for the AMX tile data state (XFEATURE_XTILEDATA = 18) for this process; the kernel
// enables it lazily per process, and a tile instruction without it raises SIGILL. Granted once,
// it holds for every thread of the process, existing and future.
bool request_amx_permission() {
#if STRATA_LINUX_X86_64
    constexpr long kArchReqXcompPerm = 0x1023;
    constexpr long kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
    return false;
#endif
}
#endif

CpuFeatures detect() {
    CpuFeatures f;
#if STRATA_X86
    uint32_t r[4];
    cpuid(0, 0, r);
    const uint32_t max_leaf = r[0];
    if (max_leaf < 1) return f;
    cpuid(1, 0, r);
    const uint32_t ecx1 = r[2];
    f.sse3 = ecx1 & (1u << 0);
    f.ssse3 = ecx1 & (1u << 9);
    f.fma = ecx1 & (1u << 12);
    f.sse41 = ecx1 & (1u << 19);
    f.sse42 = ecx1 & (1u << 20);
    f.avx = ecx1 & (1u << 28);
    f.f16c = ecx1 & (1u << 29);
    const bool osxsave = ecx1 & (1u << 27);
    if (osxsave) {
        const uint64_t xcr0 = xgetbv0();
        f.os_avx = (xcr0 & 0x6) == 0x6;             // XMM and YMM state
        f.os_avx512 = (xcr0 & 0xe6) == 0xe6;        // plus opmask, ZMM_Hi256, Hi16_ZMM
        f.os_amx = (xcr0 & 0x60000) == 0x60000;     // XTILECFG and XTILEDATA
    }
    if (max_leaf >= 7) {
        cpuid(7, 0, r);
        f.avx2 = r[1] & (1u << 5);
        f.bmi2 = r[1] & (1u << 8);
        f.avx512f = r[1] & (1u << 16);
        f.avx512dq = r[1] & (1u << 17);
        f.avx512bw = r[1] & (1u << 30);
        f.avx512vl = r[1] & (1u << 31);
        f.avx512vnni = r[2] & (1u << 11);
        f.avx512fp16 = r[3] & (1u << 23);
        f.amx_bf16 = r[3] & (1u << 22);
        f.amx_tile = r[3] & (1u << 24);
        f.amx_int8 = r[3] & (1u << 25);
        const uint32_t max_sub = r[0];
        if (max_sub >= 1) {
            cpuid(7, 1, r);
            f.avx_vnni = r[0] & (1u << 4);
            f.avx512bf16 = r[0] & (1u << 5);
        }
    }
    if (f.amx_tile && f.amx_int8 && f.os_amx) f.amx_permitted = request_amx_permission();
#endif
    return f;
}

constexpr CpuIsa kLevels[] = {CpuIsa::scalar, CpuIsa::avx2, CpuIsa::avx2_vnni, CpuIsa::avx512,
                               CpuIsa::avx512_vnni, CpuIsa::avx512_bf16, CpuIsa::amx};
constexpr const char* kEnvNames[] = {"scalar", "avx2", "avx2_vnni", "avx512", "avx512_vnni", "avx512_bf16", "amx"};

// The highest level this machine runs that is not above the cap.
CpuIsa best_up_to(CpuIsa cap) {
    CpuIsa best = CpuIsa::scalar;
    for (CpuIsa l : kLevels)
        if (l <= cap && cpu_isa_runs(l)) best = l;
    return best;
}

CpuIsa read_isa() { return cpu_isa_for_cap_name(std::getenv("STRATA_CPU_ISA")); }

std::atomic<int>& isa_slot() {
    static std::atomic<int> slot{static_cast<int>(read_isa())};
    return slot;
}

bool read_bf16_dots() {
    const char* env = std::getenv("STRATA_CPU_BF16_DOTS");
    return env && std::strcmp(env, "1") == 0;
}

std::atomic<bool>& bf16_dots_slot() {
    static std::atomic<bool> slot{read_bf16_dots()};
    return slot;
}

}  // namespace

const CpuFeatures& cpu_features() {
    static const CpuFeatures f = detect();
    return f;
}

bool cpu_isa_runs(CpuIsa isa) {
    const CpuFeatures& f = cpu_features();
    const bool avx2 = f.avx2 && f.fma && f.f16c && f.os_avx;
    const bool avx512 = avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.os_avx512;
    switch (isa) {
        case CpuIsa::scalar: return true;
        case CpuIsa::avx2: return avx2;
        case CpuIsa::avx2_vnni: return avx2 && (f.avx_vnni || (f.avx512vnni && f.avx512vl && f.os_avx512));
        case CpuIsa::avx512: return avx512;
        case CpuIsa::avx512_vnni: return avx512 && f.avx512vnni;
        case CpuIsa::avx512_bf16: return avx512 && f.avx512vnni && f.avx512bf16;
        case CpuIsa::amx:
            return avx512 && f.avx512vnni && f.avx512bf16 && f.amx_tile && f.amx_int8 && f.os_amx && f.amx_permitted;
    }
    return false;
}

CpuIsa cpu_isa_supported() { return best_up_to(CpuIsa::amx); }

bool cpu_isa_from_name(const char* name, CpuIsa& out) {
    for (size_t i = 0; i < std::size(kLevels); ++i) {
        if (std::strcmp(name, kEnvNames[i]) == 0) {
            out = kLevels[i];
            return true;
        }
    }
    return false;
}

CpuIsa cpu_isa_for_cap_name(const char* name) {
    CpuIsa cap = CpuIsa::amx;
    if (name && *name) cpu_isa_from_name(name, cap);  // unknown names cap nothing
    return best_up_to(cap);
}

const char* cpu_isa_env_name(CpuIsa isa) { return kEnvNames[static_cast<int>(isa)]; }

bool cpu_has_avx_vnni() { return cpu_features().avx_vnni; }

CpuIsa cpu_isa() { return static_cast<CpuIsa>(isa_slot().load(std::memory_order_relaxed)); }

void cpu_isa_refresh() {
    isa_slot().store(static_cast<int>(read_isa()), std::memory_order_relaxed);
    bf16_dots_slot().store(read_bf16_dots(), std::memory_order_relaxed);
}

void cpu_isa_set_cap(CpuIsa cap) { isa_slot().store(static_cast<int>(best_up_to(cap)), std::memory_order_relaxed); }

void cpu_bf16_dots_set(bool on) { bf16_dots_slot().store(on, std::memory_order_relaxed); }

bool cpu_bf16_dots() { return bf16_dots_slot().load(std::memory_order_relaxed); }

const char* cpu_bf16_note() {
    if (cpu_isa() < CpuIsa::avx512_bf16) return "";
    return cpu_bf16_dots() ? "; BF16 weights: vdpbf16ps (STRATA_CPU_BF16_DOTS=1)"
                           : "; BF16 weights: F32 FMA (STRATA_CPU_BF16_DOTS=1 for vdpbf16ps)";
}

const char* cpu_isa_name(CpuIsa isa) {
    switch (isa) {
        case CpuIsa::avx2: return "avx2+fma+f16c";
        case CpuIsa::avx2_vnni: return cpu_has_avx_vnni() ? "avx2+fma+f16c+avx-vnni" : "avx2+fma+f16c+avx512-vnni";
        case CpuIsa::avx512: return "avx512f+bw+vl+dq";
        case CpuIsa::avx512_vnni: return "avx512f+bw+vl+dq+vnni";
        case CpuIsa::avx512_bf16: return "avx512f+bw+vl+dq+vnni+bf16";
        case CpuIsa::amx: return "avx512f+bw+vl+dq+vnni+bf16+amx-int8";
        case CpuIsa::scalar: return "scalar";
    }
    return "?";
}

std::string cpu_features_string() {
    const CpuFeatures& f = cpu_features();
    std::string s;
    auto add = [&](bool on, const char* name) {
        if (!on) return;
        if (!s.empty()) s += ' ';
        s += name;
    };
    add(f.ssse3, "ssse3");
    add(f.sse42, "sse4.2");
    add(f.avx && f.os_avx, "avx");
    add(f.avx2, "avx2");
    add(f.fma, "fma");
    add(f.f16c, "f16c");
    add(f.avx512f && f.os_avx512, "avx512f");
    add(f.avx512bw && f.os_avx512, "avx512bw");
    add(f.avx512vl && f.os_avx512, "avx512vl");
    add(f.avx512dq && f.os_avx512, "avx512dq");
    add(f.avx512vnni && f.os_avx512, "avx512vnni");
    add(f.avx512bf16 && f.os_avx512, "avx512bf16");
    add(f.avx512fp16 && f.os_avx512, "avx512fp16");
    add(f.avx_vnni, "avxvnni");
    add(f.amx_tile && f.os_amx, "amx-tile");
    add(f.amx_int8 && f.os_amx, "amx-int8");
    add(f.amx_bf16 && f.os_amx, "amx-bf16");
    return s.empty() ? "none" : s;
}

}  // namespace strata
