// A stand-in libnvidia-ml for the telemetry tests: the NVML entry points GpuTelemetryReader
// uses, answering with canned, seeded, non-zero figures, plus a few fake_nvml_* functions a
// test reaches through dlopen/dlsym of the same file to reset the figures, make calls fail and
// make a GPU vanish. State is process-wide (like the real library's); tests reset it per case.
// Every exported function holds one mutex while it touches the state: a test changes it on its
// own thread while the app's telemetry sampler reads it on the monitor thread (tst_device_card),
// which would otherwise be a data race.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "fake_nvml.h"
#include "telemetry/nvml_api.h"

namespace {

namespace nvml = strata::nvml;

constexpr int kMaxDevices = 4;
constexpr const char* kFunctions[] = {"nvmlInit_v2", "nvmlDeviceGetCount_v2", "nvmlDeviceGetHandleByIndex_v2",
                                      "nvmlDeviceGetHandleByPciBusId_v2", "nvmlDeviceGetUtilizationRates",
                                      "nvmlDeviceGetMemoryInfo", "nvmlDeviceGetTemperature", "nvmlDeviceGetPowerUsage",
                                      "nvmlDeviceGetCurrentClocksThrottleReasons", "nvmlDeviceGetTotalEccErrors",
                                      "nvmlDeviceGetCurrPcieLinkGeneration", "nvmlDeviceGetNumaNodeId",
                                      "nvmlDeviceGetNvLinkState", "nvmlDeviceGetTopologyCommonAncestor",
                                      "nvmlDeviceGetP2PStatus", "nvmlDeviceGetCpuAffinity"};
constexpr int kNFunctions = int(sizeof kFunctions / sizeof kFunctions[0]);

constexpr unsigned kLinks = 6;  // this fake's NVLink count per GPU (NVML_NVLINK_MAX_LINKS is 18)

constexpr int kSwitch = 100;  // an NVLink's remote end: an NVSwitch (bus 00000000:C0:00.0)

struct NvLink {
    bool active = false;
    unsigned version = 0;
    int remote = -1;  // fake device index, or kSwitch
};

struct Device {
    FakeNvmlValues values;
    bool present = true;
    // Topology (a 4-GPU box after a reset; see fake_nvml_reset).
    unsigned gen = 1, width = 16, gen_max = 4, width_max = 16;
    unsigned numa = 0;
    unsigned long affinity = 0;
    unsigned sm = 1410, sm_max = 1980, mem = 1593, mem_max = 2619;
    NvLink links[kLinks];
};

struct State {
    Device devices[kMaxDevices];
    int n_devices = 0;
    int refs = 0;  // nvmlInit_v2 minus nvmlShutdown
    int inits = 0, shutdowns = 0;
    nvml::Return fail[kNFunctions][kMaxDevices] = {};  // per function and device: the code to return
    int ancestor[kMaxDevices][kMaxDevices] = {};       // nvmlGpuTopologyLevel_t
    int p2p[kMaxDevices][kMaxDevices] = {};            // nvmlGpuP2PStatus_t, read and write alike
    bool reset_once = false;
};
State g;
std::mutex g_mutex;  // guards g; taken by every exported function, never by the helpers below

#define FAKE_NVML_LOCKED const std::lock_guard<std::mutex> fake_nvml_lock(g_mutex)

int function_index(const char* name) {
    for (int i = 0; i < kNFunctions; ++i)
        if (std::strcmp(kFunctions[i], name) == 0) return i;
    return -1;
}

// The configured failure of function `f` for device `d` (init and count: any device).
nvml::Return failure(const char* f, int d = 0) {
    const int i = function_index(f);
    return i < 0 ? nvml::kSuccess : g.fail[i][d];
}

Device* device_of(nvml::Device h) {
    for (Device& d : g.devices)
        if (reinterpret_cast<nvml::Device>(&d) == h) return &d;
    return nullptr;
}

int index_of(const Device* d) { return int(d - g.devices); }

// Parses "domain:bus:device.function" or "bus:device.function" (hex) as NVML does.
bool parse_bus_id(const char* text, unsigned out[4]) {
    char tail = 0;
    if (std::sscanf(text, "%x:%x:%x.%x%c", &out[0], &out[1], &out[2], &out[3], &tail) == 4) return true;
    out[0] = 0;
    return std::sscanf(text, "%x:%x.%x%c", &out[1], &out[2], &out[3], &tail) == 3;
}

// Common checks of a device call: initialised, a known handle, present, no injected failure.
nvml::Return check(const char* f, nvml::Device h, Device*& d) {
    if (g.refs <= 0) return nvml::kErrorUninitialized;
    d = device_of(h);
    if (!d || index_of(d) >= g.n_devices) return nvml::kErrorInvalidArgument;
    if (!d->present) return nvml::kErrorGpuIsLost;
    return failure(f, index_of(d));
}

}  // namespace

extern "C" {

// ---- test controls ---------------------------------------------------------------------------

namespace {
void reset_locked(unsigned seed, int n_devices) {
    g = State{};
    g.n_devices = n_devices < 0 ? 0 : n_devices > kMaxDevices ? kMaxDevices : n_devices;
    static const unsigned kBus[kMaxDevices] = {0x18, 0x3b, 0x86, 0xaf};
    unsigned x = seed * 2654435761u + 12345u;
    auto next = [&x] {
        x = x * 1664525u + 1013904223u;
        return x >> 8;
    };
    for (int i = 0; i < kMaxDevices; ++i) {
        FakeNvmlValues& v = g.devices[i].values;
        v.utilisation = 1 + next() % 99;                                        // 1..99 %
        v.memory_total = (16ull + next() % 65) << 30;                             // 16..80 GiB
        v.memory_used = 1 + (next() * 4099ull) % (v.memory_total - 1);           // not page-aligned
        v.temperature = 30 + next() % 55;                                         // 30..84 °C
        v.power_mw = 20000 + (next() % 400) * 1000 + 1 + next() % 999;           // never whole watts
        std::snprintf(v.bus_id, sizeof v.bus_id, "00000000:%02X:00.0", kBus[i]);  // NVML's own spelling
    }
    g.reset_once = true;
    // The 4-GPU box: NVLink pairs 0-1 (4 links of NVLink 4.0) and 2-3 (2 active links of 3.0,
    // a third down); every other pair meets at the host bridge; 1 and 2 have no P2P (chipset);
    // GPU 3 sits in a PCIe 3.0 x8 slot; GPUs 2 and 3 on NUMA node 1.
    auto link = [](int a, int b, unsigned n, unsigned version) {
        for (unsigned l = 0; l < n; ++l) {
            g.devices[a].links[l] = {true, version, b};
            g.devices[b].links[l] = {true, version, a};
        }
    };
    link(0, 1, 4, 6);
    link(2, 3, 2, 4);
    g.devices[2].links[2].remote = 3;  // present but down
    for (int a = 0; a < kMaxDevices; ++a) {
        g.devices[a].numa = a < 2 ? 0 : 1;
        g.devices[a].affinity = a < 2 ? 0xFFFFul : 0xFFFF0000ul;
        for (int b = 0; b < kMaxDevices; ++b) g.ancestor[a][b] = a == b ? 0 : 30;
    }
    g.devices[3].gen_max = 3;
    g.devices[3].width = g.devices[3].width_max = 8;
    g.ancestor[0][1] = g.ancestor[1][0] = 10;
    g.ancestor[2][3] = g.ancestor[3][2] = 20;
    g.p2p[1][2] = g.p2p[2][1] = nvml::kP2PStatusChipsetNotSupported;
}
}  // namespace

FAKE_NVML_EXPORT void fake_nvml_reset(unsigned seed, int n_devices) {
    FAKE_NVML_LOCKED;
    reset_locked(seed, n_devices);
}

// Device `device`'s first n_links NVLink links go to an NVSwitch (the rest down), of `version`.
FAKE_NVML_EXPORT void fake_nvml_set_nvswitch(int device, unsigned n_links, unsigned version) {
    FAKE_NVML_LOCKED;
    if (device < 0 || device >= kMaxDevices) return;
    for (unsigned l = 0; l < kLinks; ++l) g.devices[device].links[l] = {l < n_links, version, kSwitch};
}

FAKE_NVML_EXPORT void fake_nvml_set_pair(int a, int b, int ancestor, int p2p_status) {
    FAKE_NVML_LOCKED;
    if (a < 0 || b < 0 || a >= kMaxDevices || b >= kMaxDevices) return;
    g.ancestor[a][b] = g.ancestor[b][a] = ancestor;
    g.p2p[a][b] = g.p2p[b][a] = p2p_status;
}

FAKE_NVML_EXPORT int fake_nvml_values(int device, FakeNvmlValues* out) {
    FAKE_NVML_LOCKED;
    if (device < 0 || device >= kMaxDevices || !out) return 0;
    *out = g.devices[device].values;
    return 1;
}

FAKE_NVML_EXPORT void fake_nvml_fail(const char* function, int device, int code) {
    FAKE_NVML_LOCKED;
    const int f = function_index(function);
    if (f < 0) return;
    for (int d = 0; d < kMaxDevices; ++d)
        if (device < 0 || d == device) g.fail[f][d] = code;
}

FAKE_NVML_EXPORT void fake_nvml_remove(int device) {
    FAKE_NVML_LOCKED;
    if (device >= 0 && device < kMaxDevices) g.devices[device].present = false;
}

FAKE_NVML_EXPORT void fake_nvml_set_health(int device, unsigned long long throttle_reasons,
                                           unsigned long long ecc_uncorrected) {
    FAKE_NVML_LOCKED;
    if (device < 0 || device >= kMaxDevices) return;
    g.devices[device].values.throttle_reasons = throttle_reasons;
    g.devices[device].values.ecc_uncorrected = ecc_uncorrected;
}

FAKE_NVML_EXPORT void fake_nvml_calls(int* inits, int* shutdowns) {
    FAKE_NVML_LOCKED;
    *inits = g.inits;
    *shutdowns = g.shutdowns;
}

// ---- the NVML entry points -------------------------------------------------------------------

FAKE_NVML_EXPORT nvml::Return nvmlInit_v2() {
    FAKE_NVML_LOCKED;
    // A process no test controls (strata-cli under a test): $FAKE_NVML_DEVICES GPUs, seed 1.
    if (!g.reset_once) {
        const char* n = std::getenv("FAKE_NVML_DEVICES");
        reset_locked(1, n ? std::atoi(n) : 0);
    }
    if (const nvml::Return r = failure("nvmlInit_v2")) return r;
    ++g.refs;
    ++g.inits;
    return nvml::kSuccess;
}

FAKE_NVML_EXPORT nvml::Return nvmlShutdown() {
    FAKE_NVML_LOCKED;
    if (g.refs <= 0) return nvml::kErrorUninitialized;
    --g.refs;
    ++g.shutdowns;
    return nvml::kSuccess;
}

FAKE_NVML_EXPORT const char* nvmlErrorString(nvml::Return r) {
    FAKE_NVML_LOCKED;
    switch (r) {
        case nvml::kSuccess: return "Success";
        case nvml::kErrorUninitialized: return "Uninitialized";
        case nvml::kErrorInvalidArgument: return "Invalid Argument";
        case nvml::kErrorNotSupported: return "Not Supported";
        case nvml::kErrorNoPermission: return "Insufficient Permissions";
        case nvml::kErrorNotFound: return "Not Found";
        case nvml::kErrorDriverNotLoaded: return "Driver Not Loaded";
        case nvml::kErrorGpuIsLost: return "GPU is lost";
        default: return "Unknown Error";
    }
}

FAKE_NVML_EXPORT nvml::Return nvmlDeviceGetCount_v2(unsigned int* count) {
    FAKE_NVML_LOCKED;
    if (g.refs <= 0) return nvml::kErrorUninitialized;
    if (!count) return nvml::kErrorInvalidArgument;
    if (const nvml::Return r = failure("nvmlDeviceGetCount_v2")) return r;
    *count = unsigned(g.n_devices);
    return nvml::kSuccess;
}

FAKE_NVML_EXPORT nvml::Return nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvml::Device* out) {
    FAKE_NVML_LOCKED;
    if (g.refs <= 0) return nvml::kErrorUninitialized;
    if (!out || index >= unsigned(g.n_devices)) return nvml::kErrorInvalidArgument;
    if (!g.devices[index].present) return nvml::kErrorGpuIsLost;
    if (const nvml::Return r = failure("nvmlDeviceGetHandleByIndex_v2", int(index))) return r;
    *out = reinterpret_cast<nvml::Device>(&g.devices[index]);
    return nvml::kSuccess;
}

FAKE_NVML_EXPORT nvml::Return nvmlDeviceGetHandleByPciBusId_v2(const char* bus_id, nvml::Device* out) {
    FAKE_NVML_LOCKED;
    if (g.refs <= 0) return nvml::kErrorUninitialized;
    unsigned want[4];
    if (!bus_id || !out || !parse_bus_id(bus_id, want)) return nvml::kErrorInvalidArgument;
    for (int i = 0; i < g.n_devices; ++i) {
        unsigned have[4];
        if (!parse_bus_id(g.devices[i].values.bus_id, have) || std::memcmp(want, have, sizeof want) != 0) continue;
        if (!g.devices[i].present) return nvml::kErrorNotFound;
        if (const nvml::Return r = failure("nvmlDeviceGetHandleByPciBusId_v2", i)) return r;
        *out = reinterpret_cast<nvml::Device>(&g.devices[i]);
        return nvml::kSuccess;
    }
    return nvml::kErrorNotFound;
}

FAKE_NVML_EXPORT nvml::Return nvmlDeviceGetUtilizationRates(nvml::Device h, nvml::Utilization* out) {
    FAKE_NVML_LOCKED;
    Device* d = nullptr;
    if (const nvml::Return r = check("nvmlDeviceGetUtilizationRates", h, d)) return r;
    out->gpu = d->values.utilisation;
    out->memory = d->values.utilisation / 2 + 1;
    return nvml::kSuccess;
}

FAKE_NVML_EXPORT nvml::Return nvmlDeviceGetMemoryInfo(nvml::Device h, nvml::Memory* out) {
    FAKE_NVML_LOCKED;
    Device* d = nullptr;
    if (const nvml::Return r = check("nvmlDeviceGetMemoryInfo", h, d)) return r;
    out->total = d->values.memory_total;
    out->used = d->values.memory_used;
    out->free = d->values.memory_total - d->values.memory_used;
    return nvml::kSuccess;
}

FAKE_NVML_EXPORT nvml::Return nvmlDeviceGetTemperature(nvml::Device h, int sensor, unsigned int* out) {
    FAKE_NVML_LOCKED;
    Device* d = nullptr;
    if (const nvml::Return r = check("nvmlDeviceGetTemperature", h, d)) return r;
    if (sensor != nvml::kTemperatureGpu) return nvml::kErrorInvalidArgument;
    *out = d->values.temperature;
    return nvml::kSuccess;
}

FAKE_NVML_EXPORT nvml::Return nvmlDeviceGetPowerUsage(nvml::Device h, unsigned int* out) {
    FAKE_NVML_LOCKED;
    Device* d = nullptr;
    if (const nvml::Return r = check("nvmlDeviceGetPowerUsage", h, d)) return r;
    *out = d->values.power_mw;
    return nvml::kSuccess;
}

FAKE_NVML_EXPORT nvml::Return nvmlDeviceGetCurrentClocksThrottleReasons(nvml::Device h, unsigned long long* out) {
    FAKE_NVML_LOCKED;
    Device* d = nullptr;
    if (const nvml::Return r = check("nvmlDeviceGetCurrentClocksThrottleReasons", h, d)) return r;
    *out = d->values.throttle_reasons;
    return nvml::kSuccess;
}

FAKE_NVML_EXPORT nvml::Return nvmlDeviceGetTotalEccErrors(nvml::Device h, int error_type, int counter_type,
                                                          unsigned long long* out) {
    FAKE_NVML_LOCKED;
    Device* d = nullptr;
    if (const nvml::Return r = check("nvmlDeviceGetTotalEccErrors", h, d)) return r;
    if (error_type != nvml::kMemoryErrorUncorrected || counter_type != nvml::kVolatileEcc) return nvml::kErrorInvalidArgument;
    *out = d->values.ecc_uncorrected;
    return nvml::kSuccess;
}

// ---- topology (left out of the "old driver" build, FAKE_NVML_NO_TOPOLOGY) ---------------------
#ifndef FAKE_NVML_NO_TOPOLOGY

namespace {
void fill_pci(const Device& d, nvml::PciInfo* out) {
    *out = nvml::PciInfo{};
    std::snprintf(out->bus_id, sizeof out->bus_id, "%s", d.values.bus_id);
    std::snprintf(out->bus_id_legacy, sizeof out->bus_id_legacy, "%s", d.values.bus_id + 4);
}
}  // namespace

FAKE_NVML_EXPORT nvml::Return nvmlSystemGetDriverVersion(char* out, unsigned int length) {
    FAKE_NVML_LOCKED;
    if (g.refs <= 0) return nvml::kErrorUninitialized;
    if (!out || length < 16) return nvml::kErrorInvalidArgument;
    std::snprintf(out, length, "%s", "575.51.03");
    return nvml::kSuccess;
}

FAKE_NVML_EXPORT nvml::Return nvmlDeviceGetName(nvml::Device h, char* out, unsigned int length) {
    FAKE_NVML_LOCKED;
    Device* d = nullptr;
    if (const nvml::Return r = check("nvmlDeviceGetName", h, d)) return r;
    std::snprintf(out, length, "Fake GPU %d", index_of(d));
    return nvml::kSuccess;
}

FAKE_NVML_EXPORT nvml::Return nvmlDeviceGetPciInfo_v3(nvml::Device h, nvml::PciInfo* out) {
    FAKE_NVML_LOCKED;
    Device* d = nullptr;
    if (const nvml::Return r = check("nvmlDeviceGetPciInfo_v3", h, d)) return r;
    fill_pci(*d, out);
    return nvml::kSuccess;
}

#define FAKE_NVML_UINT(fn, field)                                        \
    FAKE_NVML_EXPORT nvml::Return fn(nvml::Device h, unsigned int* out) { \
        FAKE_NVML_LOCKED;                                                \
        Device* d = nullptr;                                             \
        if (const nvml::Return r = check(#fn, h, d)) return r;           \
        *out = d->field;                                                 \
        return nvml::kSuccess;                                           \
    }
// One failure switch (the generation's name) covers the four PCIe figures.
FAKE_NVML_EXPORT nvml::Return nvmlDeviceGetCurrPcieLinkGeneration(nvml::Device h, unsigned int* out) {
    FAKE_NVML_LOCKED;
    Device* d = nullptr;
    if (const nvml::Return r = check("nvmlDeviceGetCurrPcieLinkGeneration", h, d)) return r;
    *out = d->gen;
    return nvml::kSuccess;
}
FAKE_NVML_UINT(nvmlDeviceGetCurrPcieLinkWidth, width)
FAKE_NVML_UINT(nvmlDeviceGetMaxPcieLinkGeneration, gen_max)
FAKE_NVML_UINT(nvmlDeviceGetMaxPcieLinkWidth, width_max)
FAKE_NVML_UINT(nvmlDeviceGetNumaNodeId, numa)
#undef FAKE_NVML_UINT

FAKE_NVML_EXPORT nvml::Return nvmlDeviceGetCpuAffinity(nvml::Device h, unsigned int words, unsigned long* out) {
    FAKE_NVML_LOCKED;
    Device* d = nullptr;
    if (const nvml::Return r = check("nvmlDeviceGetCpuAffinity", h, d)) return r;
    if (words == 0 || !out) return nvml::kErrorInvalidArgument;
    for (unsigned i = 0; i < words; ++i) out[i] = 0;
    out[0] = d->affinity;
    return nvml::kSuccess;
}

FAKE_NVML_EXPORT nvml::Return nvmlDeviceGetClockInfo(nvml::Device h, int type, unsigned int* out) {
    FAKE_NVML_LOCKED;
    Device* d = nullptr;
    if (const nvml::Return r = check("nvmlDeviceGetClockInfo", h, d)) return r;
    if (type != nvml::kClockSm && type != nvml::kClockMem) return nvml::kErrorInvalidArgument;
    *out = type == nvml::kClockSm ? d->sm : d->mem;
    return nvml::kSuccess;
}

FAKE_NVML_EXPORT nvml::Return nvmlDeviceGetMaxClockInfo(nvml::Device h, int type, unsigned int* out) {
    FAKE_NVML_LOCKED;
    Device* d = nullptr;
    if (const nvml::Return r = check("nvmlDeviceGetMaxClockInfo", h, d)) return r;
    if (type != nvml::kClockSm && type != nvml::kClockMem) return nvml::kErrorInvalidArgument;
    *out = type == nvml::kClockSm ? d->sm_max : d->mem_max;
    return nvml::kSuccess;
}

FAKE_NVML_EXPORT nvml::Return nvmlDeviceGetNvLinkState(nvml::Device h, unsigned int link, unsigned int* out) {
    FAKE_NVML_LOCKED;
    Device* d = nullptr;
    if (const nvml::Return r = check("nvmlDeviceGetNvLinkState", h, d)) return r;
    if (link >= kLinks) return nvml::kErrorInvalidArgument;
    if (d->links[0].remote < 0) return nvml::kErrorNotSupported;  // a board without NVLink
    *out = d->links[link].active ? nvml::kFeatureEnabled : 0;
    return nvml::kSuccess;
}

FAKE_NVML_EXPORT nvml::Return nvmlDeviceGetNvLinkVersion(nvml::Device h, unsigned int link, unsigned int* out) {
    FAKE_NVML_LOCKED;
    Device* d = nullptr;
    if (const nvml::Return r = check("nvmlDeviceGetNvLinkVersion", h, d)) return r;
    if (link >= kLinks || !d->links[link].active) return nvml::kErrorInvalidArgument;
    *out = d->links[link].version;
    return nvml::kSuccess;
}

FAKE_NVML_EXPORT nvml::Return nvmlDeviceGetNvLinkRemotePciInfo_v2(nvml::Device h, unsigned int link, nvml::PciInfo* out) {
    FAKE_NVML_LOCKED;
    Device* d = nullptr;
    if (const nvml::Return r = check("nvmlDeviceGetNvLinkRemotePciInfo_v2", h, d)) return r;
    if (link >= kLinks || d->links[link].remote < 0) return nvml::kErrorInvalidArgument;
    if (d->links[link].remote == kSwitch) {
        *out = nvml::PciInfo{};
        std::snprintf(out->bus_id, sizeof out->bus_id, "%s", "00000000:C0:00.0");
        return nvml::kSuccess;
    }
    fill_pci(g.devices[d->links[link].remote], out);
    return nvml::kSuccess;
}

FAKE_NVML_EXPORT nvml::Return nvmlDeviceGetTopologyCommonAncestor(nvml::Device a, nvml::Device b, int* out) {
    FAKE_NVML_LOCKED;
    Device *da = nullptr, *db = nullptr;
    if (const nvml::Return r = check("nvmlDeviceGetTopologyCommonAncestor", a, da)) return r;
    if (const nvml::Return r = check("nvmlDeviceGetTopologyCommonAncestor", b, db)) return r;
    *out = g.ancestor[index_of(da)][index_of(db)];
    return nvml::kSuccess;
}

FAKE_NVML_EXPORT nvml::Return nvmlDeviceGetP2PStatus(nvml::Device a, nvml::Device b, int cap, int* out) {
    FAKE_NVML_LOCKED;
    Device *da = nullptr, *db = nullptr;
    if (const nvml::Return r = check("nvmlDeviceGetP2PStatus", a, da)) return r;
    if (const nvml::Return r = check("nvmlDeviceGetP2PStatus", b, db)) return r;
    if (cap == nvml::kP2PCapsNvLink) {  // ok when an active link joins them, directly or at a switch
        bool joined = false;
        for (const NvLink& l : da->links)
            joined |= l.active && (l.remote == index_of(db) || (l.remote == kSwitch && db->links[0].active && db->links[0].remote == kSwitch));
        *out = joined ? nvml::kP2PStatusOk : nvml::kP2PStatusNotSupported;
        return nvml::kSuccess;
    }
    if (cap != nvml::kP2PCapsRead && cap != nvml::kP2PCapsWrite) return nvml::kErrorInvalidArgument;
    *out = g.p2p[index_of(da)][index_of(db)];
    return nvml::kSuccess;
}

#endif  // FAKE_NVML_NO_TOPOLOGY

}  // extern "C"
