// LaunchProfile: per-launch GPU time for STRATA_CUDA_PROFILE=1 (a diagnostic, not a benchmark).
//
// A profiled segment is launched eagerly (never as a graph): the stream is first held by a host
// gate, every launch item is enqueued with a timing event after it, then the gate opens, so the
// GPU runs the items back to back as it would from a graph and the CPU's launch time stays out
// of the numbers. collect() waits for the stream and adds each item's time to a row keyed by
// its label (item_label() in cuda_fusion.h). report() is the table, largest total first.
//
// Threading: used only by its CudaDevice, under the device lock.
#pragma once

#include <cuda_runtime_api.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backend/cuda/cuda_resources.h"

namespace strata::cuda {

class LaunchProfile {
public:
    LaunchProfile() = default;
    LaunchProfile(const LaunchProfile&) = delete;
    LaunchProfile& operator=(const LaunchProfile&) = delete;

    // Holds `stream` until collect() and records the segment's start.
    cudaError_t begin(cudaStream_t stream);
    // Records the end of the item just enqueued (the start of the next).
    cudaError_t mark(cudaStream_t stream, std::string label);
    // Opens the gate, waits for the stream and accumulates. Call once after every begin(),
    // also when enqueueing failed (the gate must open).
    cudaError_t collect(cudaStream_t stream);
    std::string report() const;

private:
    struct Row {
        double total_us = 0;
        long calls = 0;
    };
    static void CUDART_CB gate_wait(void* self);
    cudaError_t event(size_t i, cudaEvent_t& ev);

    std::atomic<bool> open_{true};
    std::vector<CudaEvent> events_;     // pool: [0] segment start, [i] end of item i
    std::vector<std::string> labels_;   // labels of this segment's items
    std::map<std::string, Row> rows_;
    double segment_us_ = 0;
    long segments_ = 0;
};

}  // namespace strata::cuda
