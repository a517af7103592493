#include "backend/cuda/cuda_graph.h"

namespace strata::cuda {

uint64_t hash_signature(const std::vector<uint64_t>& sig) {
    uint64_t h = 1469598103934665603ull;
    for (uint64_t v : sig) {
        h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
        h *= 1099511628211ull;
    }
    return h;
}

GraphCache::Entry& GraphCache::lookup(const std::vector<uint64_t>& sig) {
    const uint64_t h = hash_signature(sig);
    ++clock_;
    auto it = entries_.find(h);
    if (it != entries_.end()) {
        if (it->second.sig == sig) {
            it->second.last_use = clock_;
            return it->second;
        }
        // A hash collision: the newer list takes the slot.
        if (it->second.exec) cudaGraphExecDestroy(it->second.exec);
        entries_.erase(it);
    }
    if (entries_.size() >= capacity_) {
        auto oldest = entries_.begin();
        for (auto e = entries_.begin(); e != entries_.end(); ++e)
            if (e->second.last_use < oldest->second.last_use) oldest = e;
        if (oldest->second.exec) cudaGraphExecDestroy(oldest->second.exec);
        entries_.erase(oldest);
    }
    Entry& e = entries_[h];
    e.sig = sig;
    e.last_use = clock_;
    return e;
}

void GraphCache::clear() {
    for (auto& [h, e] : entries_)
        if (e.exec) cudaGraphExecDestroy(e.exec);
    entries_.clear();
}

}  // namespace strata::cuda
