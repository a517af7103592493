// DeviceRegistry: finds the devices of this machine (the CPU, and CUDA GPUs through the
// dynamically loaded CUDA module) and creates Device objects from DeviceSpecs.
//
// Owned by the Engine (no global registry). Not thread-safe; the owner serialises calls.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/backend_module.h"
#include "backend/device.h"

namespace strata {

class DeviceRegistry {
public:
    // Loads the CUDA module when it can be found (next to the executable, in ../lib/strata, or
    // at $STRATA_CUDA_MODULE); STRATA_NO_CUDA=1 skips it.
    DeviceRegistry();
    ~DeviceRegistry();

    // Every device that could be used: CUDA GPUs first, then the CPU.
    std::vector<DeviceInfo> available() const;
    // One line on GPU availability: "2 CUDA devices" or "no CUDA devices found: <why>".
    const std::string& gpu_status() const { return gpu_status_; }

    // The specs users get when they name none: every GPU, then the CPU (CPU alone without GPUs).
    std::vector<DeviceSpec> default_specs() const;

    // Creates devices; ids are "cpu", "cpu1", "cpu2"... for repeated CPU items and "cudaN".
    Result<std::vector<std::unique_ptr<Device>>> create(const std::vector<DeviceSpec>& specs,
                                                        int default_cpu_threads = 0);
    // What create() would make, without creating anything (for planning from a file's header).
    Result<std::vector<DeviceInfo>> describe(const std::vector<DeviceSpec>& specs, int default_cpu_threads = 0) const;

    // An exported C function of the loaded CUDA module (its probes: link timing, selftest), or
    // nullptr when no module is loaded or it lacks `name`.
    void* module_symbol(const char* name) const;

    // Fastest transport from src to dst (peer/NCCL from the module, else host copy/staging).
    std::unique_ptr<Transport> transport(Device& src, Device& dst);

private:
    // Fills the CPU's speed figures for the planner's predictions: streaming-read bandwidth,
    // measured once per registry (~0.1 s), and a matrix-throughput estimate from the ISA.
    void fill_cpu_speed(DeviceInfo& info) const;

    void* module_handle_ = nullptr;
    mutable double cpu_bandwidth_gbs_ = 0;  // 0 until first measured
    std::unique_ptr<BackendModule> cuda_;
    std::vector<DeviceInfo> cuda_devices_;
    std::string gpu_status_;
};

}  // namespace strata
