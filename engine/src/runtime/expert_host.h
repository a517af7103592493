// ExpertHost: the experts of MoE layers whose attention runs on another device (usually the
// CPU holding the experts of layers that sit on GPUs; PlanRequest::experts). Holds each such
// layer's router and experts and the working memory to run them, on one host-memory (CPU)
// device.
//
// Threading: run() may be called from several pipeline stage threads (one per GPU stage); calls
// are serialized by a mutex, since a Device is driven by one thread at a time. Created on the
// loading thread; must outlive the stages that call it.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "backend/device.h"
#include "model/llama_layer.h"
#include "model/model_tensors.h"
#include "plan/memory_estimate.h"
#include "runtime/weight_uploader.h"

namespace strata {

class ExpertHost {
public:
    // Uploads the router and experts of `layers` to `device` (a CPU device: its memory is the
    // host's) and allocates make_expert_scratch_layout(footprint, n_batch).
    // progress: (bytes uploaded, total); cancel: checked between tensors.
    static Result<std::unique_ptr<ExpertHost>> create(Device& device, const HParams& hp, const ModelTensors& tensors,
                                                      const ModelFootprint& footprint, const std::vector<int>& layers,
                                                      int64_t n_batch,
                                                      const std::function<void(uint64_t, uint64_t)>& progress,
                                                      const std::atomic<bool>* cancel);
    ~ExpertHost();

    Device& device() const { return device_; }
    bool holds(int64_t il) const { return layers_.count(il) != 0; }
    uint64_t weight_bytes() const { return weight_bytes_; }

    // out = layer il's MoE FFN of x. x, out: (n_tok, n_embd) in host memory; n_tok ≤ n_batch.
    Status run(int64_t il, const float* x, int64_t n_tok, float* out);

private:
    ExpertHost(Device& device, const HParams& hp, int64_t n_batch) : device_(device), hp_(hp), n_batch_(n_batch) {}

    Device& device_;
    HParams hp_;
    int64_t n_batch_;
    std::map<int64_t, MoeWeights> layers_;
    ExpertScratchLayout layout_;
    std::unique_ptr<Buffer> scratch_;
    uint64_t weight_bytes_ = 0;
    std::mutex mutex_;
};

// Uploads layer tensors' router and experts into `out` on `device` (shared by Stage and
// ExpertHost). `upload` does the per-tensor work (progress, cancel, accounting).
Status upload_experts(const LayerTensors& lt, WeightUploader& upload, MoeWeights& out);

}  // namespace strata
