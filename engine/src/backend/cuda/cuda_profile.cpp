#include "backend/cuda/cuda_profile.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <thread>

namespace strata::cuda {

void CUDART_CB LaunchProfile::gate_wait(void* self) {
    // Runs on CUDA's callback thread; may not call CUDA. Spins until collect() opens the gate.
    auto* p = static_cast<LaunchProfile*>(self);
    while (!p->open_.load(std::memory_order_acquire)) std::this_thread::yield();
}

cudaError_t LaunchProfile::event(size_t i, cudaEvent_t& ev) {
    while (events_.size() <= i) {
        CudaEvent e;
        const cudaError_t err = e.create(cudaEventDefault);  // timed
        if (err != cudaSuccess) return err;
        events_.push_back(std::move(e));
    }
    ev = events_[i].get();
    return cudaSuccess;
}

cudaError_t LaunchProfile::begin(cudaStream_t stream) {
    labels_.clear();
    open_.store(false, std::memory_order_release);
    cudaError_t e = cudaLaunchHostFunc(stream, &LaunchProfile::gate_wait, this);
    if (e != cudaSuccess) {
        open_.store(true);
        return e;
    }
    cudaEvent_t ev = nullptr;
    if ((e = event(0, ev)) != cudaSuccess) return e;
    return cudaEventRecord(ev, stream);
}

cudaError_t LaunchProfile::mark(cudaStream_t stream, std::string label) {
    labels_.push_back(std::move(label));
    cudaEvent_t ev = nullptr;
    const cudaError_t e = event(labels_.size(), ev);
    if (e != cudaSuccess) return e;
    return cudaEventRecord(ev, stream);
}

cudaError_t LaunchProfile::collect(cudaStream_t stream) {
    open_.store(true, std::memory_order_release);
    cudaError_t e = cudaStreamSynchronize(stream);
    if (e != cudaSuccess) return e;
    float total = 0;
    for (size_t i = 0; i < labels_.size(); ++i) {
        float ms = 0;
        if ((e = cudaEventElapsedTime(&ms, events_[i].get(), events_[i + 1].get())) != cudaSuccess) return e;
        Row& r = rows_[labels_[i]];
        r.total_us += 1000.0 * ms;
        ++r.calls;
        total += ms;
    }
    segment_us_ += 1000.0 * total;
    ++segments_;
    labels_.clear();
    return cudaSuccess;
}

std::string LaunchProfile::report() const {
    std::vector<std::pair<std::string, Row>> v(rows_.begin(), rows_.end());
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second.total_us > b.second.total_us; });
    std::string out;
    char line[320];
    std::snprintf(line, sizeof line, "launch profile: %ld segments, %.1f ms of GPU time\n", segments_, segment_us_ / 1000);
    out += line;
    out += "   total ms  share   calls   avg us  launch\n";
    for (const auto& [label, r] : v) {
        std::snprintf(line, sizeof line, "%11.2f %5.1f%% %7ld %8.2f  %s\n", r.total_us / 1000,
                      segment_us_ > 0 ? 100.0 * r.total_us / segment_us_ : 0.0, r.calls, r.total_us / r.calls,
                      label.c_str());
        out += line;
    }
    return out;
}

}  // namespace strata::cuda
