// The CUDA module's link probe, exported as a plain C function so strata-cli (which does not
// link CUDA) can call it through dlsym: `strata-cli probe links` times host ↔ device and every
// device ↔ device pair and stores the result (strata/link_store.h).
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

// One timed direction. Devices are Strata's cudaN numbers; -1 is pinned host memory.
struct StrataCudaLinkTiming {
    int from, to;
    int peer;           // device pairs: 1 = cudaMemcpyPeerAsync with peer access enabled; 0 = staged
                        // through pinned host memory (device → host, then host → device)
    double gbs;         // one direction, 64 MiB copies, GB/s (1e9 bytes/s) of the whole path
    double bidir_gbs;   // this direction and its reverse at once, the sum, GB/s
    double latency_us;  // one 4 KiB copy (staged: both hops), issued and waited for, µs
};

// Fills up to `capacity` timings (host → each GPU, each GPU → host, every ordered GPU pair) and
// sets *n_out. Returns 0 on success; else writes a message to error.
typedef int (*StrataCudaLinkProbeFn)(struct StrataCudaLinkTiming* out, int capacity, int* n_out, char* error,
                                     int error_len);

#ifdef __cplusplus
}
#endif

#define STRATA_CUDA_LINK_PROBE_ENTRY "strata_cuda_probe_links"
