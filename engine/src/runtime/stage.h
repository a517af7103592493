// Stage: one device's share of a model — a contiguous range of layers, their weights, their KV
// cache for every sequence slot and the scratch memory to run them; optionally the token
// embedding (first stage) and the final norm + output head (last stage).
//
// Created on the loading thread; afterwards driven only by its pipeline stage thread. Buffers are
// sized from plan/memory_estimate.h, the same formulas the planner predicts with.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "backend/device.h"
#include "model/hparams.h"
#include "model/llama_layer.h"
#include "model/model_tensors.h"
#include "runtime/batch.h"
#include "plan/memory_estimate.h"
#include "runtime/expert_host.h"
#include "strata/plan.h"

namespace strata {

struct RuntimeConfig {
    int64_t n_ctx = 4096;
    int64_t n_batch = 512;
    int n_seq = 1;
    KvCacheType kv_type = KvCacheType::f16;
};

// Called after each uploaded tensor: (bytes uploaded so far on this stage, bytes in total).
using UploadProgress = std::function<void(uint64_t done, uint64_t total)>;

class Stage {
public:
    // MoE layers keep their experts here unless `expert_host` holds them (the plan's
    // expert_device says which; the host must outlive the stage).
    static Result<std::unique_ptr<Stage>> create(Device& device, const HParams& hp, const ModelTensors& tensors,
                                                 const ModelFootprint& footprint, const StagePlan& plan,
                                                 const RuntimeConfig& config, const UploadProgress& progress,
                                                 const std::atomic<bool>* cancel, ExpertHost* expert_host = nullptr);
    ~Stage();

    Device& device() const { return device_; }
    const StagePlan& plan() const { return plan_; }
    int n_layers() const { return plan_.layer_end - plan_.layer_begin; }

    // Runs this stage for a batch (runtime/batch.h): its rows may belong to several sequences at
    // different positions. The first stage reads batch.tokens (host); others read the lane's
    // hidden region (filled by the transport). The last stage writes each segment's logits
    // where it asks for them: its last row's (n_vocab floats), or with all_rows every row's,
    // one output-head row at a time (for perplexity, not generation).
    Status run(const Batch& batch);

    // The stage's input hidden state for a lane: (n_batch, n_embd) floats at this offset of scratch().
    const Buffer& scratch() const { return *scratch_; }
    Buffer& scratch() { return *scratch_; }
    uint64_t hidden_offset(int lane) const;
    uint64_t hidden_bytes(int64_t n_tok) const;

    // Bytes this stage allocated on its device, by use (for checking plan estimates).
    uint64_t weight_bytes() const { return weight_bytes_; }
    uint64_t kv_bytes() const;
    uint64_t scratch_bytes() const;

private:
    Stage(Device& device, const HParams& hp, const StagePlan& plan, const RuntimeConfig& config);
    KvView kv_view(int local_layer, int slot) const;
    // The last stage's output head for a batch whose final hidden states are x; `normed` is
    // scratch for n_seq rows of n_embd.
    Status write_logits(const Batch& batch, const float* x, float* normed);

    Device& device_;
    HParams hp_;
    StagePlan plan_;
    RuntimeConfig config_;
    ScratchLayout layout_;
    std::vector<LayerWeights> layers_;
    std::unique_ptr<DeviceWeight> token_embd_, output_norm_, output_;
    std::unique_ptr<Buffer> kv_;
    std::vector<int64_t> kv_rows_;     // (local layers) rows each layer's cache holds per sequence
    std::vector<uint64_t> kv_offset_;  // (local layers) byte offset of each layer's caches in kv_
    std::unique_ptr<Buffer> scratch_;
    class HostedExperts;                       // RemoteExperts through expert_host
    std::unique_ptr<HostedExperts> hosted_;    // null when every layer's experts are local
    uint64_t weight_bytes_ = 0;
    int64_t n_vocab_ = 0;
};

}  // namespace strata
