// GpuTelemetryReader: what NVIDIA GPUs are doing now — utilisation, memory in use by every
// process, temperature, power — read through NVML (libnvidia-ml, part of the NVIDIA driver).
//
//   GpuTelemetryReader reader;                          // nothing is loaded yet
//   for (const GpuTelemetry& t : reader.read(engine.available_devices()))
//       if (t.ok()) use(t.utilisation_percent, t.memory_used_bytes, ...);
//       else        show(t.error);                      // "telemetry unavailable: <why>"
//
// The library is dlopen()ed on first use (the engine never links it), so one build runs with and
// without the driver. Every failure — no library, a library without the functions, nvmlInit
// failing, a GPU that fell off the bus — becomes a message starting "telemetry unavailable: ";
// nothing throws or aborts.
//
// Matching: a CUDA device with DeviceInfo::pci_bus_id is found by that id (CUDA and NVML may
// number GPUs differently: CUDA_DEVICE_ORDER, CUDA_VISIBLE_DEVICES). Without one (or with an
// NVML too old to look up by bus id), "cudaN" is taken to be NVML's device N — a best effort.
//
// Ownership and threads: one reader per owner (the app's device monitor, one CLI command),
// used from one thread at a time; it is not thread-safe. Readers are independent: each calls
// nvmlInit once and nvmlShutdown when destroyed (NVML counts these), so several may coexist.
// Reading takes microseconds to a few milliseconds per GPU: cheap enough for a GUI thread
// polling once a second.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "strata/device_info.h"
#include "strata/status.h"

namespace strata {

// One GPU's figures at the moment of reading. Each figure is unset when this GPU or driver
// does not report it (`missing` says why); all are unset when error is not empty.
struct GpuTelemetry {
    std::string device_id;    // the Strata device it belongs to ("cuda0")
    std::string error;        // "" when read; else "telemetry unavailable: <why>"
    std::string matched_by;   // "PCI bus id 0000:3b:00.0" or "NVML index 0 (no PCI bus id)"
    std::optional<unsigned> utilisation_percent;  // 0..100: share of the last sample period (1/6 s
                                                  // to 1 s) in which a kernel ran, any process
    std::optional<uint64_t> memory_used_bytes;    // device memory in use by all processes (+ driver)
    std::optional<uint64_t> memory_total_bytes;   // the GPU's memory
    std::optional<int> temperature_c;             // GPU die
    std::optional<double> power_watts;            // board power draw (NVML reports milliwatts)
    std::optional<uint64_t> throttle_reasons;     // NVML's clock throttle reason bits (kThrottle*)
    std::optional<uint64_t> ecc_uncorrected;      // uncorrected ECC errors since the driver loaded
    std::vector<std::string> missing;             // "power: Not Supported (NVML_ERROR_NOT_SUPPORTED)"

    bool ok() const { return error.empty(); }
};

// NVML's clock throttle reasons (nvmlClocksThrottleReason*), the bits of throttle_reasons.
inline constexpr uint64_t kThrottleGpuIdle = 0x1;
inline constexpr uint64_t kThrottleApplicationsClocks = 0x2;
inline constexpr uint64_t kThrottleSwPowerCap = 0x4;
inline constexpr uint64_t kThrottleHwSlowdown = 0x8;
inline constexpr uint64_t kThrottleSyncBoost = 0x10;
inline constexpr uint64_t kThrottleSwThermal = 0x20;
inline constexpr uint64_t kThrottleHwThermal = 0x40;
inline constexpr uint64_t kThrottleHwPowerBrake = 0x80;
inline constexpr uint64_t kThrottleDisplayClocks = 0x100;
// The reasons that slow a working GPU down (idle, settings and sync boost are not warnings).
inline constexpr uint64_t kThrottleSlowdowns =
    kThrottleSwPowerCap | kThrottleHwSlowdown | kThrottleSwThermal | kThrottleHwThermal | kThrottleHwPowerBrake;

// In words, for a warning: "" when the GPU is neither slowed down nor reporting uncorrected ECC
// errors; else e.g. "throttled: thermal (hardware), power cap · 2 uncorrected ECC errors".
std::string gpu_health_warning(const GpuTelemetry& t);

class GpuTelemetryReader {
public:
    static constexpr const char* kDefaultLibrary = "libnvidia-ml.so.1";
    // $STRATA_NVML_LIBRARY when set (another NVML, or a fake), else kDefaultLibrary.
    static std::string default_library();

    // `library`: the NVML shared library to dlopen (a file name searched the usual way, or a
    // path; tests pass a fake). Loads nothing until open() or read().
    explicit GpuTelemetryReader(std::string library = default_library());
    ~GpuTelemetryReader();  // nvmlShutdown (when nvmlInit succeeded), then dlclose
    GpuTelemetryReader(const GpuTelemetryReader&) = delete;
    GpuTelemetryReader& operator=(const GpuTelemetryReader&) = delete;

    // Loads the library and initialises NVML. Tried once: later calls return the first outcome
    // (a missing driver does not appear while the program runs). Error messages start with
    // "telemetry unavailable: ".
    Status open();
    // NVML's device count after a successful open() (0 otherwise).
    unsigned device_count();

    // Current figures for each CUDA device in `devices`, in that order (other devices are
    // skipped). Opens on first use; when NVML is unavailable every entry carries that error.
    // A device that fails (lost, not found) gets its own error and is looked up afresh next time.
    // Never throws (should memory run out, the list comes back empty).
    std::vector<GpuTelemetry> read(const std::vector<DeviceInfo>& devices);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace strata
