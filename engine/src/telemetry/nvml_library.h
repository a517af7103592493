// nvml::Library: libnvidia-ml opened (dlopen) and its entry points looked up, once per owner —
// the one loader the telemetry reader (gpu_telemetry.cpp) and the topology reader
// (gpu_topology.cpp) share. It says in a structured way what it could not do (the library did
// not load: dlerror()'s text; which entry points it lacks, by name) and leaves the wording of
// the error to its owner, whose messages differ ("telemetry unavailable: …", "topology
// unavailable: …").
//
// Ownership and threading: not a singleton. Each owner holds its own Library (a telemetry
// reader for its lifetime, a topology read for the duration of the read) and uses it from one
// thread at a time. NVML counts nvmlInit/nvmlShutdown pairs, so owners side by side in one
// process are fine. The destructor shuts NVML down when init() succeeded, then closes the
// library.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "telemetry/nvml_api.h"

namespace strata::nvml {

// Every entry point Strata calls; null where the library lacks it (an older driver).
struct EntryPoints {
    // Required by every reader (Library::missing_required names the absent ones).
    InitFn init = nullptr;                  // nvmlInit_v2
    ShutdownFn shutdown = nullptr;          // nvmlShutdown
    DeviceGetCountFn get_count = nullptr;   // nvmlDeviceGetCount_v2
    DeviceGetHandleByIndexFn by_index = nullptr;  // nvmlDeviceGetHandleByIndex_v2

    ErrorStringFn error_string = nullptr;  // nvmlErrorString (without it errors go by code name)

    // Telemetry (gpu_telemetry.cpp: it requires the four figures, the rest are optional).
    DeviceGetHandleByPciBusIdFn by_pci = nullptr;              // nvmlDeviceGetHandleByPciBusId_v2
    DeviceGetUtilizationRatesFn get_utilization = nullptr;     // nvmlDeviceGetUtilizationRates
    DeviceGetMemoryInfoFn get_memory = nullptr;                // nvmlDeviceGetMemoryInfo
    DeviceGetTemperatureFn get_temperature = nullptr;          // nvmlDeviceGetTemperature
    DeviceGetPowerUsageFn get_power = nullptr;                 // nvmlDeviceGetPowerUsage
    DeviceGetThrottleReasonsFn get_throttle = nullptr;         // nvmlDeviceGetCurrentClocksThrottleReasons
    DeviceGetTotalEccErrorsFn get_ecc = nullptr;               // nvmlDeviceGetTotalEccErrors

    // Topology (gpu_topology.cpp: every one optional).
    SystemGetDriverVersionFn driver_version = nullptr;         // nvmlSystemGetDriverVersion
    DeviceGetNameFn get_name = nullptr;                        // nvmlDeviceGetName
    DeviceGetPciInfoFn get_pci = nullptr;                      // nvmlDeviceGetPciInfo_v3
    DeviceGetUintFn pcie_gen = nullptr;                        // nvmlDeviceGetCurrPcieLinkGeneration
    DeviceGetUintFn pcie_width = nullptr;                      // nvmlDeviceGetCurrPcieLinkWidth
    DeviceGetUintFn pcie_gen_max = nullptr;                    // nvmlDeviceGetMaxPcieLinkGeneration
    DeviceGetUintFn pcie_width_max = nullptr;                  // nvmlDeviceGetMaxPcieLinkWidth
    DeviceGetUintFn numa_node = nullptr;                       // nvmlDeviceGetNumaNodeId
    DeviceGetCpuAffinityFn cpu_affinity = nullptr;             // nvmlDeviceGetCpuAffinity
    DeviceGetClockFn clock = nullptr;                          // nvmlDeviceGetClockInfo
    DeviceGetClockFn clock_max = nullptr;                      // nvmlDeviceGetMaxClockInfo
    DeviceGetNvLinkUintFn nvlink_state = nullptr;              // nvmlDeviceGetNvLinkState
    DeviceGetNvLinkUintFn nvlink_version = nullptr;            // nvmlDeviceGetNvLinkVersion
    DeviceGetNvLinkRemotePciFn nvlink_remote_pci = nullptr;    // nvmlDeviceGetNvLinkRemotePciInfo_v2
    DeviceGetCommonAncestorFn common_ancestor = nullptr;       // nvmlDeviceGetTopologyCommonAncestor
    DeviceGetP2PStatusFn p2p_status = nullptr;                 // nvmlDeviceGetP2PStatus
};

class Library {
public:
    // Opens `path` (RTLD_NOW | RTLD_LOCAL) and looks up every entry point. Never throws for a
    // missing library or symbol: see loaded(), load_error(), missing*().
    explicit Library(std::string path);
    ~Library();
    Library(const Library&) = delete;
    Library& operator=(const Library&) = delete;

    const std::string& path() const { return path_; }
    // The library loaded; when not, dlerror()'s text (without the path, which it often repeats).
    bool loaded() const { return handle_ != nullptr; }
    const std::string& load_error() const { return load_error_; }

    // The entry points (all null when the library did not load).
    const EntryPoints& fn() const { return fn_; }

    // The names among `symbols` this library lacks, in the order given (every one when it did
    // not load). An owner lists what it cannot work without.
    std::vector<std::string> missing(std::initializer_list<const char*> symbols) const;
    // The absent ones of the four every reader requires, in EntryPoints' order.
    std::vector<std::string> missing_required() const;
    // Every absent entry point that is not required (what an older driver lacks).
    std::vector<std::string> missing_optional() const;

    // nvmlInit_v2 (at most one successful call counts: later calls return success). When it
    // succeeds the destructor calls nvmlShutdown. Call only when missing_required() is empty.
    Return init();
    bool initialised() const { return initialised_; }

    // "Driver Not Loaded (NVML_ERROR_DRIVER_NOT_LOADED)": the library's words and the code's name.
    std::string words(Return r) const;

private:
    template <class Fn>
    void resolve(Fn& slot, const char* symbol, bool required);

    std::string path_;
    void* handle_ = nullptr;
    std::string load_error_;
    EntryPoints fn_;
    bool initialised_ = false;
    // Every symbol looked up: name, found, required.
    struct Lookup {
        const char* name;
        bool found;
        bool required;
    };
    std::vector<Lookup> lookups_;
};

}  // namespace strata::nvml
