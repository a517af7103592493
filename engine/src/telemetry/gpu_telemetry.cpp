#include "strata/gpu_telemetry.h"

#include <cstdlib>
#include <dlfcn.h>

#include <algorithm>
#include <map>
#include <utility>

#include "telemetry/nvml_api.h"

namespace strata {

namespace nvml {

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

}  // namespace nvml

namespace {

constexpr const char* kPrefix = "telemetry unavailable: ";

struct DlClose {
    void operator()(void* h) const {
        if (h) dlclose(h);
    }
};

// A looked-up device: its handle and how it was matched, keyed by Strata device id.
struct Match {
    std::string pci_bus_id;  // what the entry was looked up by ("" = by index)
    nvml::Device handle = nullptr;
    std::string matched_by;
};

// "cuda3" → 3; -1 for anything else.
int cuda_index(const std::string& id) {
    if (id.rfind("cuda", 0) != 0 || id.size() == 4 || id.size() > 9) return -1;
    int n = 0;
    for (size_t i = 4; i < id.size(); ++i) {
        if (id[i] < '0' || id[i] > '9') return -1;
        n = n * 10 + (id[i] - '0');
    }
    return n;
}

}  // namespace

struct GpuTelemetryReader::Impl {
    std::string library;
    bool tried = false;
    Status opened;
    std::unique_ptr<void, DlClose> lib;
    bool initialised = false;
    unsigned n_devices = 0;
    std::map<std::string, Match> matches;

    nvml::InitFn init = nullptr;
    nvml::ShutdownFn shutdown = nullptr;
    nvml::ErrorStringFn error_string = nullptr;
    nvml::DeviceGetCountFn get_count = nullptr;
    nvml::DeviceGetHandleByIndexFn by_index = nullptr;
    nvml::DeviceGetHandleByPciBusIdFn by_pci = nullptr;  // optional: index matching without it
    nvml::DeviceGetUtilizationRatesFn get_utilization = nullptr;
    nvml::DeviceGetMemoryInfoFn get_memory = nullptr;
    nvml::DeviceGetTemperatureFn get_temperature = nullptr;
    nvml::DeviceGetPowerUsageFn get_power = nullptr;
    nvml::DeviceGetThrottleReasonsFn get_throttle = nullptr;  // optional
    nvml::DeviceGetTotalEccErrorsFn get_ecc = nullptr;        // optional

    ~Impl() {
        if (initialised && shutdown) shutdown();
    }

    // "Driver Not Loaded (NVML_ERROR_DRIVER_NOT_LOADED)"
    std::string words(nvml::Return r) const {
        const char* text = error_string ? error_string(r) : nullptr;
        const char* name = nvml::return_name(r);
        std::string out = text && *text ? text : "error";
        out += " (";
        out += name ? name : "NVML error " + std::to_string(r);
        out += ")";
        return out;
    }

    template <class Fn>
    bool resolve(Fn& fn, const char* symbol, std::string& missing) {
        fn = reinterpret_cast<Fn>(dlsym(lib.get(), symbol));
        if (!fn) missing += (missing.empty() ? "" : ", ") + std::string(symbol);
        return fn != nullptr;
    }

    Status open() {
        if (tried) return opened;
        tried = true;
        dlerror();
        lib.reset(dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL));
        if (!lib) {
            const char* err = dlerror();
            std::string why = err ? err : "dlopen failed";
            if (why.rfind(library + ": ", 0) == 0) why.erase(0, library.size() + 2);  // said already
            return opened = Status(ErrorCode::not_found, std::string(kPrefix) + "cannot load " + library +
                                                             ", which comes with the NVIDIA driver (" + why + ")");
        }
        std::string missing;
        resolve(init, "nvmlInit_v2", missing);
        resolve(shutdown, "nvmlShutdown", missing);
        resolve(get_count, "nvmlDeviceGetCount_v2", missing);
        resolve(by_index, "nvmlDeviceGetHandleByIndex_v2", missing);
        resolve(get_utilization, "nvmlDeviceGetUtilizationRates", missing);
        resolve(get_memory, "nvmlDeviceGetMemoryInfo", missing);
        resolve(get_temperature, "nvmlDeviceGetTemperature", missing);
        resolve(get_power, "nvmlDeviceGetPowerUsage", missing);
        error_string = reinterpret_cast<nvml::ErrorStringFn>(dlsym(lib.get(), "nvmlErrorString"));
        by_pci = reinterpret_cast<nvml::DeviceGetHandleByPciBusIdFn>(dlsym(lib.get(), "nvmlDeviceGetHandleByPciBusId_v2"));
        get_throttle = reinterpret_cast<nvml::DeviceGetThrottleReasonsFn>(
            dlsym(lib.get(), "nvmlDeviceGetCurrentClocksThrottleReasons"));
        get_ecc = reinterpret_cast<nvml::DeviceGetTotalEccErrorsFn>(dlsym(lib.get(), "nvmlDeviceGetTotalEccErrors"));
        if (!missing.empty()) {
            lib.reset();
            return opened = Status(ErrorCode::unsupported,
                                   std::string(kPrefix) + library + " lacks " + missing + " (driver too old, or not NVML)");
        }
        const nvml::Return r = init();
        if (r != nvml::kSuccess) {
            return opened = Status(r == nvml::kErrorDriverNotLoaded ? ErrorCode::not_found : ErrorCode::device_failure,
                                   std::string(kPrefix) + "nvmlInit failed: " + words(r));
        }
        initialised = true;
        unsigned n = 0;
        const nvml::Return c = get_count(&n);
        if (c != nvml::kSuccess)
            return opened = Status(ErrorCode::device_failure, std::string(kPrefix) + "nvmlDeviceGetCount failed: " + words(c));
        n_devices = n;
        return opened = Status::success();
    }

    // Finds (or recalls) the NVML handle of `info`; "" or the reason it cannot be found.
    std::string find(const DeviceInfo& info, Match& out) {
        auto it = matches.find(info.id);
        if (it != matches.end() && it->second.pci_bus_id == info.pci_bus_id) {
            out = it->second;
            return {};
        }
        Match m;
        m.pci_bus_id = info.pci_bus_id;
        if (!info.pci_bus_id.empty() && by_pci) {
            const nvml::Return r = by_pci(info.pci_bus_id.c_str(), &m.handle);
            if (r != nvml::kSuccess)
                return info.id + ": no NVML device at PCI bus id " + info.pci_bus_id + ": " + words(r);
            m.matched_by = "PCI bus id " + info.pci_bus_id;
        } else {
            const int index = cuda_index(info.id);
            if (index < 0) return info.id + ": not an NVIDIA GPU id";
            const nvml::Return r = by_index(static_cast<unsigned>(index), &m.handle);
            if (r != nvml::kSuccess)
                return info.id + ": no NVML device " + std::to_string(index) + " (NVML sees " + std::to_string(n_devices) +
                       "): " + words(r);
            m.matched_by = "NVML index " + std::to_string(index) +
                           (info.pci_bus_id.empty() ? " (no PCI bus id)" : " (this NVML cannot look up PCI bus ids)");
        }
        matches[info.id] = m;
        out = m;
        return {};
    }

    GpuTelemetry read_one(const DeviceInfo& info) {
        GpuTelemetry t;
        t.device_id = info.id;
        Match m;
        if (std::string why = find(info, m); !why.empty()) {
            t.error = kPrefix + why;
            return t;
        }
        t.matched_by = m.matched_by;
        // A GPU that fell off the bus fails every call: then the device is gone, not one figure.
        nvml::Return lost = nvml::kSuccess, first = nvml::kSuccess;
        auto note = [&](const char* what, nvml::Return r) {
            if (r == nvml::kErrorGpuIsLost) lost = r;
            if (first == nvml::kSuccess) first = r;
            t.missing.push_back(std::string(what) + ": " + words(r));
        };
        nvml::Utilization u{};
        if (const nvml::Return r = get_utilization(m.handle, &u); r == nvml::kSuccess)
            t.utilisation_percent = std::min(u.gpu, 100u);
        else
            note("utilisation", r);
        nvml::Memory mem{};
        if (const nvml::Return r = get_memory(m.handle, &mem); r == nvml::kSuccess) {
            t.memory_used_bytes = mem.used;
            t.memory_total_bytes = mem.total;
        } else {
            note("memory", r);
        }
        unsigned temp = 0;
        if (const nvml::Return r = get_temperature(m.handle, nvml::kTemperatureGpu, &temp); r == nvml::kSuccess)
            t.temperature_c = static_cast<int>(temp);
        else
            note("temperature", r);
        unsigned milliwatts = 0;
        if (const nvml::Return r = get_power(m.handle, &milliwatts); r == nvml::kSuccess)
            t.power_watts = milliwatts / 1000.0;
        else
            note("power", r);
        if (lost == nvml::kSuccess && t.missing.size() == 4) lost = first;  // nothing could be read
        // Health, where the driver has it: a board without ECC memory says Not Supported, which
        // is no news (left out of `missing`).
        unsigned long long reasons = 0;
        if (get_throttle && lost == nvml::kSuccess) {
            if (const nvml::Return r = get_throttle(m.handle, &reasons); r == nvml::kSuccess)
                t.throttle_reasons = reasons;
            else if (r != nvml::kErrorNotSupported)
                t.missing.push_back("throttle reasons: " + words(r));
        }
        unsigned long long ecc = 0;
        if (get_ecc && lost == nvml::kSuccess) {
            if (const nvml::Return r = get_ecc(m.handle, nvml::kMemoryErrorUncorrected, nvml::kVolatileEcc, &ecc);
                r == nvml::kSuccess)
                t.ecc_uncorrected = ecc;
            else if (r != nvml::kErrorNotSupported)
                t.missing.push_back("ECC errors: " + words(r));
        }
        if (lost != nvml::kSuccess) {
            matches.erase(info.id);  // looked up afresh next time
            GpuTelemetry gone;
            gone.device_id = info.id;
            gone.matched_by = t.matched_by;
            gone.error = kPrefix + info.id + ": " + words(lost);
            return gone;
        }
        return t;
    }
};

std::string gpu_health_warning(const GpuTelemetry& t) {
    std::string out;
    const uint64_t slow = t.throttle_reasons.value_or(0) & kThrottleSlowdowns;
    if (slow) {
        static const std::pair<uint64_t, const char*> kNames[] = {
            {kThrottleHwThermal, "thermal (hardware)"}, {kThrottleSwThermal, "thermal"},
            {kThrottleHwPowerBrake, "power brake"},     {kThrottleHwSlowdown, "hardware slowdown"},
            {kThrottleSwPowerCap, "power cap"}};
        out = "throttled: ";
        bool first = true;
        for (const auto& [bit, name] : kNames)
            if (slow & bit) {
                out += (first ? "" : ", ") + std::string(name);
                first = false;
            }
    }
    if (t.ecc_uncorrected.value_or(0) > 0) {
        if (!out.empty()) out += " · ";
        const uint64_t n = *t.ecc_uncorrected;
        out += std::to_string(n) + (n == 1 ? " uncorrected ECC error" : " uncorrected ECC errors");
    }
    return out;
}

std::string GpuTelemetryReader::default_library() {
    const char* env = std::getenv("STRATA_NVML_LIBRARY");
    return env && *env ? env : kDefaultLibrary;
}

GpuTelemetryReader::GpuTelemetryReader(std::string library) : impl_(std::make_unique<Impl>()) {
    impl_->library = std::move(library);
}

GpuTelemetryReader::~GpuTelemetryReader() = default;

Status GpuTelemetryReader::open() {
    try {
        return impl_->open();
    } catch (const std::exception& e) {
        return Status(ErrorCode::internal, std::string(kPrefix) + e.what());
    }
}

unsigned GpuTelemetryReader::device_count() { return open().ok() ? impl_->n_devices : 0; }

std::vector<GpuTelemetry> GpuTelemetryReader::read(const std::vector<DeviceInfo>& devices) {
    std::vector<GpuTelemetry> out;
    try {
        const Status s = open();
        for (const DeviceInfo& d : devices) {
            if (d.type != DeviceType::cuda) continue;
            if (!s.ok()) {
                GpuTelemetry t;
                t.device_id = d.id;
                t.error = s.message();
                out.push_back(std::move(t));
                continue;
            }
            out.push_back(impl_->read_one(d));
        }
    } catch (...) {
        out.clear();  // only allocation can throw here: no half list
    }
    return out;
}

}  // namespace strata
