// Streaming-read bandwidth of this machine's memory, measured: the ceiling decode speed is
// judged against (decode reads every weight byte once per token).
#pragma once

#include <cstddef>

namespace strata {

// Reads a buffer much larger than the last-level cache with n_threads threads (0: all
// hardware threads), `passes` times, and returns the median GB/s (1e9 bytes per second).
// Takes about a second with the defaults. Thread-safe; allocates `bytes` (0: 256 MiB).
double measure_read_bandwidth_gbs(int n_threads = 0, size_t bytes = 0, int passes = 7);

}  // namespace strata
