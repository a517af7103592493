#include "telemetry/nvml_library.h"

#include <dlfcn.h>

#include <string_view>

namespace strata::nvml {

const char* return_name(Return r) {
    switch (r) {
        case 0: return "NVML_SUCCESS";
        case 1: return "NVML_ERROR_UNINITIALIZED";
        case 2: return "NVML_ERROR_INVALID_ARGUMENT";
        case 3: return "NVML_ERROR_NOT_SUPPORTED";
        case 4: return "NVML_ERROR_NO_PERMISSION";
        case 5: return "NVML_ERROR_ALREADY_INITIALIZED";
        case 6: return "NVML_ERROR_NOT_FOUND";
        case 7: return "NVML_ERROR_INSUFFICIENT_SIZE";
        case 8: return "NVML_ERROR_INSUFFICIENT_POWER";
        case 9: return "NVML_ERROR_DRIVER_NOT_LOADED";
        case 10: return "NVML_ERROR_TIMEOUT";
        case 11: return "NVML_ERROR_IRQ_ISSUE";
        case 12: return "NVML_ERROR_LIBRARY_NOT_FOUND";
        case 13: return "NVML_ERROR_FUNCTION_NOT_FOUND";
        case 14: return "NVML_ERROR_CORRUPTED_INFOROM";
        case 15: return "NVML_ERROR_GPU_IS_LOST";
        case 16: return "NVML_ERROR_RESET_REQUIRED";
        case 17: return "NVML_ERROR_OPERATING_SYSTEM";
        case 999: return "NVML_ERROR_UNKNOWN";
        default: return nullptr;
    }
}

template <class Fn>
void Library::resolve(Fn& slot, const char* symbol, bool required) {
    slot = handle_ ? reinterpret_cast<Fn>(dlsym(handle_, symbol)) : nullptr;
    lookups_.push_back({symbol, slot != nullptr, required});
}

Library::Library(std::string path) : path_(std::move(path)) {
    dlerror();
    handle_ = dlopen(path_.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_) {
        const char* err = dlerror();
        load_error_ = err ? err : "dlopen failed";
        if (load_error_.rfind(path_ + ": ", 0) == 0) load_error_.erase(0, path_.size() + 2);  // said by the owner
    }
    EntryPoints& f = fn_;
    resolve(f.init, "nvmlInit_v2", true);
    resolve(f.shutdown, "nvmlShutdown", true);
    resolve(f.get_count, "nvmlDeviceGetCount_v2", true);
    resolve(f.by_index, "nvmlDeviceGetHandleByIndex_v2", true);
    resolve(f.error_string, "nvmlErrorString", false);
    resolve(f.by_pci, "nvmlDeviceGetHandleByPciBusId_v2", false);
    resolve(f.get_utilization, "nvmlDeviceGetUtilizationRates", false);
    resolve(f.get_memory, "nvmlDeviceGetMemoryInfo", false);
    resolve(f.get_temperature, "nvmlDeviceGetTemperature", false);
    resolve(f.get_power, "nvmlDeviceGetPowerUsage", false);
    resolve(f.get_throttle, "nvmlDeviceGetCurrentClocksThrottleReasons", false);
    resolve(f.get_ecc, "nvmlDeviceGetTotalEccErrors", false);
    resolve(f.driver_version, "nvmlSystemGetDriverVersion", false);
    resolve(f.get_name, "nvmlDeviceGetName", false);
    resolve(f.get_pci, "nvmlDeviceGetPciInfo_v3", false);
    resolve(f.pcie_gen, "nvmlDeviceGetCurrPcieLinkGeneration", false);
    resolve(f.pcie_width, "nvmlDeviceGetCurrPcieLinkWidth", false);
    resolve(f.pcie_gen_max, "nvmlDeviceGetMaxPcieLinkGeneration", false);
    resolve(f.pcie_width_max, "nvmlDeviceGetMaxPcieLinkWidth", false);
    resolve(f.numa_node, "nvmlDeviceGetNumaNodeId", false);
    resolve(f.cpu_affinity, "nvmlDeviceGetCpuAffinity", false);
    resolve(f.clock, "nvmlDeviceGetClockInfo", false);
    resolve(f.clock_max, "nvmlDeviceGetMaxClockInfo", false);
    resolve(f.nvlink_state, "nvmlDeviceGetNvLinkState", false);
    resolve(f.nvlink_version, "nvmlDeviceGetNvLinkVersion", false);
    resolve(f.nvlink_remote_pci, "nvmlDeviceGetNvLinkRemotePciInfo_v2", false);
    resolve(f.common_ancestor, "nvmlDeviceGetTopologyCommonAncestor", false);
    resolve(f.p2p_status, "nvmlDeviceGetP2PStatus", false);
}

Library::~Library() {
    if (initialised_ && fn_.shutdown) fn_.shutdown();
    if (handle_) dlclose(handle_);
}

std::vector<std::string> Library::missing(std::initializer_list<const char*> symbols) const {
    std::vector<std::string> out;
    for (const char* s : symbols) {
        bool found = false;
        for (const Lookup& l : lookups_)
            if (std::string_view(l.name) == s) found = l.found;
        if (!found) out.emplace_back(s);
    }
    return out;
}

std::vector<std::string> Library::missing_required() const {
    std::vector<std::string> out;
    for (const Lookup& l : lookups_)
        if (l.required && !l.found) out.emplace_back(l.name);
    return out;
}

std::vector<std::string> Library::missing_optional() const {
    std::vector<std::string> out;
    for (const Lookup& l : lookups_)
        if (!l.required && !l.found) out.emplace_back(l.name);
    return out;
}

Return Library::init() {
    if (initialised_) return kSuccess;
    if (!fn_.init) return kErrorFunctionNotFound;
    const Return r = fn_.init();
    initialised_ = r == kSuccess;
    return r;
}

std::string Library::words(Return r) const {
    const char* text = fn_.error_string ? fn_.error_string(r) : nullptr;
    const char* name = return_name(r);
    std::string out = text && *text ? text : "error";
    out += " (";
    out += name ? name : "NVML error " + std::to_string(r);
    return out + ")";
}

}  // namespace strata::nvml
