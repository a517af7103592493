// GraphCache: instantiated CUDA graphs of recorded op lists, keyed by the list's signature
// (cuda_op.h). A signature seen a second time is captured and instantiated; later launches with
// that signature replay the graph. Owned by one CudaDevice and used under its lock. Capacity is
// far above the segments of one step, so an evicted graph is never one still running.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace strata::cuda {

class GraphCache {
public:
    struct Entry {
        std::vector<uint64_t> sig;
        int seen = 0;                    // flushes with this signature so far
        cudaGraphExec_t exec = nullptr;  // once captured
        bool broken = false;             // capture failed: always run eagerly
        uint64_t last_use = 0;
    };

    explicit GraphCache(size_t capacity = 128) : capacity_(capacity) {}
    ~GraphCache() { clear(); }
    GraphCache(const GraphCache&) = delete;
    GraphCache& operator=(const GraphCache&) = delete;

    // The entry for `sig` (new, with seen = 0, when absent; evicting the least recently used).
    Entry& lookup(const std::vector<uint64_t>& sig);
    void clear();

    uint64_t replays = 0, captures = 0, eager = 0;

private:
    size_t capacity_;
    uint64_t clock_ = 0;
    std::unordered_map<uint64_t, Entry> entries_;
};

uint64_t hash_signature(const std::vector<uint64_t>& sig);

}  // namespace strata::cuda
