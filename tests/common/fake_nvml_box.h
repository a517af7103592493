// The fake libnvidia-ml's 4-GPU box (tests/engine/fake_nvml.cpp, after fake_nvml_reset) as the
// engine's device list would describe it: the GPUs by the bus ids CUDA reports for them, and the
// host CPU. Shared by the tests that read the fake's topology (tst_gpu_topology, tst_link_store).
#pragma once

#include <vector>

#include "strata/device_info.h"

namespace strata::test {

// The fake's GPUs 0..3, as CUDA spells their PCI bus ids (NVML spells them "00000000:18:00.0").
inline constexpr const char* kFakeNvmlBus[] = {"0000:18:00.0", "0000:3b:00.0", "0000:86:00.0", "0000:af:00.0"};

// A CUDA device at `bus_id` ("" = none known).
inline DeviceInfo fakeNvmlGpu(const char* id, const char* bus_id, const char* name = "") {
    DeviceInfo d;
    d.id = id;
    d.name = name;
    d.type = DeviceType::cuda;
    d.pci_bus_id = bus_id;
    return d;
}

// The host CPU ("cpu").
inline DeviceInfo fakeNvmlHost(const char* name = "") {
    DeviceInfo d;
    d.id = "cpu";
    d.name = name;
    d.type = DeviceType::cpu;
    return d;
}

// The whole box as CUDA lists it: cuda0..cuda3 named as the fake's nvmlDeviceGetName names them
// ("Fake GPU 0"...), in NVML's order, then the CPU.
inline std::vector<DeviceInfo> fakeNvmlMachine(const char* host_name = "") {
    return {fakeNvmlGpu("cuda0", kFakeNvmlBus[0], "Fake GPU 0"), fakeNvmlGpu("cuda1", kFakeNvmlBus[1], "Fake GPU 1"),
            fakeNvmlGpu("cuda2", kFakeNvmlBus[2], "Fake GPU 2"), fakeNvmlGpu("cuda3", kFakeNvmlBus[3], "Fake GPU 3"),
            fakeNvmlHost(host_name)};
}

}  // namespace strata::test
