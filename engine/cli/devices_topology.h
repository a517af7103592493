// strata-cli devices' topology section (devices_topology.cpp).
#pragma once

#include <vector>

#include "strata/device_info.h"

namespace strata::cli {

// Prints the NVML topology of this machine's GPUs (`cuda_gpus`: CUDA's view, to name them
// cudaN; may be empty): a link matrix, each GPU's PCIe/NVLink/NUMA/clocks and the planner's link
// speeds. One line when NVML is unavailable; nothing when NVML sees no GPU.
void print_gpu_topology(const std::vector<DeviceInfo>& cuda_gpus);

}  // namespace strata::cli
