#include "strata/gpu_telemetry.h"

#include <cstdlib>

#include <algorithm>
#include <map>
#include <utility>

#include "telemetry/nvml_library.h"

namespace strata {

namespace {

constexpr const char* kPrefix = "telemetry unavailable: ";

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
    std::unique_ptr<nvml::Library> lib;  // opened on first use, kept (NVML initialised) until destruction
    unsigned n_devices = 0;
    std::map<std::string, Match> matches;

    const nvml::EntryPoints& fn() const { return lib->fn(); }
    std::string words(nvml::Return r) const { return lib->words(r); }

    Status open() {
        if (tried) return opened;
        tried = true;
        lib = std::make_unique<nvml::Library>(library);
        if (!lib->loaded())
            return opened = Status(ErrorCode::not_found, std::string(kPrefix) + "cannot load " + library +
                                                             ", which comes with the NVIDIA driver (" + lib->load_error() + ")");
        // The reader needs the four figures besides what every NVML user needs; the by-bus-id
        // lookup, throttle reasons and ECC errors are optional.
        const std::vector<std::string> missing =
            lib->missing({"nvmlInit_v2", "nvmlShutdown", "nvmlDeviceGetCount_v2", "nvmlDeviceGetHandleByIndex_v2",
                          "nvmlDeviceGetUtilizationRates", "nvmlDeviceGetMemoryInfo", "nvmlDeviceGetTemperature",
                          "nvmlDeviceGetPowerUsage"});
        if (!missing.empty()) {
            std::string names;
            for (const std::string& m : missing) names += (names.empty() ? "" : ", ") + m;
            lib.reset();
            return opened = Status(ErrorCode::unsupported,
                                   std::string(kPrefix) + library + " lacks " + names + " (driver too old, or not NVML)");
        }
        const nvml::Return r = lib->init();
        if (r != nvml::kSuccess) {
            return opened = Status(r == nvml::kErrorDriverNotLoaded ? ErrorCode::not_found : ErrorCode::device_failure,
                                   std::string(kPrefix) + "nvmlInit failed: " + words(r));
        }
        unsigned n = 0;
        const nvml::Return c = fn().get_count(&n);
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
        if (!info.pci_bus_id.empty() && fn().by_pci) {
            const nvml::Return r = fn().by_pci(info.pci_bus_id.c_str(), &m.handle);
            if (r != nvml::kSuccess)
                return info.id + ": no NVML device at PCI bus id " + info.pci_bus_id + ": " + words(r);
            m.matched_by = "PCI bus id " + info.pci_bus_id;
        } else {
            const int index = cuda_index(info.id);
            if (index < 0) return info.id + ": not an NVIDIA GPU id";
            const nvml::Return r = fn().by_index(static_cast<unsigned>(index), &m.handle);
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
        if (const nvml::Return r = fn().get_utilization(m.handle, &u); r == nvml::kSuccess)
            t.utilisation_percent = std::min(u.gpu, 100u);
        else
            note("utilisation", r);
        nvml::Memory mem{};
        if (const nvml::Return r = fn().get_memory(m.handle, &mem); r == nvml::kSuccess) {
            t.memory_used_bytes = mem.used;
            t.memory_total_bytes = mem.total;
        } else {
            note("memory", r);
        }
        unsigned temp = 0;
        if (const nvml::Return r = fn().get_temperature(m.handle, nvml::kTemperatureGpu, &temp); r == nvml::kSuccess)
            t.temperature_c = static_cast<int>(temp);
        else
            note("temperature", r);
        unsigned milliwatts = 0;
        if (const nvml::Return r = fn().get_power(m.handle, &milliwatts); r == nvml::kSuccess)
            t.power_watts = milliwatts / 1000.0;
        else
            note("power", r);
        if (lost == nvml::kSuccess && t.missing.size() == 4) lost = first;  // nothing could be read
        // Health, where the driver has it: a board without ECC memory says Not Supported, which
        // is no news (left out of `missing`).
        unsigned long long reasons = 0;
        if (fn().get_throttle && lost == nvml::kSuccess) {
            if (const nvml::Return r = fn().get_throttle(m.handle, &reasons); r == nvml::kSuccess)
                t.throttle_reasons = reasons;
            else if (r != nvml::kErrorNotSupported)
                t.missing.push_back("throttle reasons: " + words(r));
        }
        unsigned long long ecc = 0;
        if (fn().get_ecc && lost == nvml::kSuccess) {
            if (const nvml::Return r = fn().get_ecc(m.handle, nvml::kMemoryErrorUncorrected, nvml::kVolatileEcc, &ecc);
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
