// The host-memory Transport: memcpy between CPU buffers, or staging through host memory between
// devices that have no direct path. The registry's fallback when the CUDA module offers no
// faster one (peer copy, NCCL). In backend/ beside the interface it implements, so the registry
// does not reach up into runtime/ for it.
#pragma once

#include <memory>

#include "backend/device.h"

namespace strata {

// One per pipeline edge; used by the one stage thread that sends over that edge.
std::unique_ptr<Transport> make_host_transport();

}  // namespace strata
