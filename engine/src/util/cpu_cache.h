// The size of this machine's last-level CPU cache, for telling bench runs whose weights the cache
// holds (their decode is not bound by memory bandwidth) from the others (strata/calibration.h).
#pragma once

#include <cstdint>
#include <unistd.h>

namespace strata {

// L3 if the C library knows it, else L2; 0 when unknown. Any thread.
inline uint64_t cpu_last_level_cache_bytes() {
    for (int name : {_SC_LEVEL3_CACHE_SIZE, _SC_LEVEL2_CACHE_SIZE}) {
        const long v = ::sysconf(name);
        if (v > 0) return static_cast<uint64_t>(v);
    }
    return 0;
}

}  // namespace strata
