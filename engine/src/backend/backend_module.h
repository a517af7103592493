// BackendModule: the interface a separately built backend (the CUDA module,
// libstrata_cuda.so) exports, so one build of Strata runs on machines with and without the
// NVIDIA driver: the engine dlopen()s the module at run time and falls back to CPU devices when
// the module, the driver or a GPU is missing.
//
// The module is built from this source tree with the same compiler, so C++ types may cross the
// boundary. It exports one C function, kBackendModuleEntry, returning a new BackendModule the
// caller owns. Methods are called from one thread at a time (the registry's owner).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/device.h"

namespace strata {

class BackendModule {
public:
    virtual ~BackendModule() = default;
    virtual const char* name() const = 0;  // "cuda"
    // Devices this module can drive now (empty when there is no driver or GPU).
    virtual std::vector<DeviceInfo> devices() = 0;
    // When devices() is empty: why, in words ("no NVIDIA driver is installed (cudaErrorInsufficientDriver)").
    virtual std::string unavailable_reason() = 0;
    // Creates device `index` (as listed by devices()); memory_cap 0 = all free memory.
    virtual Result<std::unique_ptr<Device>> create_device(int index, uint64_t memory_cap, int fail_after_ops) = 0;
    // A direct transport between two of this module's devices (peer copy, NCCL), or nullptr
    // when none applies (the registry then stages through host memory).
    virtual std::unique_ptr<Transport> create_transport(Device& src, Device& dst) = 0;
};

using BackendModuleEntry = BackendModule* (*)();
inline constexpr const char* kBackendModuleEntry = "strata_backend_module_create";

}  // namespace strata
