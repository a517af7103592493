#include "backend/device.h"

namespace strata {

const char* memory_use_name(MemoryUse use) {
    switch (use) {
        case MemoryUse::weights: return "weights";
        case MemoryUse::kv_cache: return "KV cache";
        case MemoryUse::scratch: return "scratch";
    }
    return "?";
}

uint64_t Device::allocated_total() const {
    uint64_t total = 0;
    for (int u = 0; u < kMemoryUseCount; ++u) total += allocated(static_cast<MemoryUse>(u));
    return total;
}

}  // namespace strata
