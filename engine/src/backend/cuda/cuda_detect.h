// Finding the GPUs this build can drive. Never throws, never aborts: with no driver or no GPU
// the list is empty and `reason` says why in words.
#pragma once

#include <string>
#include <vector>

#include "strata/device_info.h"

namespace strata::cuda {

struct Detection {
    std::vector<int> ordinals;        // CUDA device numbers of cuda0, cuda1, ...
    std::vector<DeviceInfo> devices;  // same order
    std::string reason;               // when devices is empty (or some GPUs were skipped)
};

Detection detect_gpus();

// Name, memory and speed figures of CUDA device `ordinal`, as cuda<index>. Creates the
// device's context (needed for its free memory).
bool describe_gpu(int index, int ordinal, DeviceInfo& info, std::string& error);

// The CUDA architectures this module was compiled for ("90", "80;86;89;90").
const char* compiled_architectures();

}  // namespace strata::cuda
