#include "runtime/expert_host.h"

namespace strata {

Status upload_experts(const LayerTensors& lt, WeightUploader& upload, MoeWeights& out) {
    STRATA_RETURN_IF_ERROR(upload(lt.router, out.router));
    if (lt.router_bias.data) STRATA_RETURN_IF_ERROR(upload(lt.router_bias, out.router_bias));
    if (lt.selection_bias.data) STRATA_RETURN_IF_ERROR(upload(lt.selection_bias, out.selection_bias));
    const size_t n = lt.exp_gate.size();
    out.gate.resize(n);
    out.up.resize(n);
    out.down.resize(n);
    for (size_t e = 0; e < n; ++e) {
        STRATA_RETURN_IF_ERROR(upload(lt.exp_gate[e], out.gate[e]));
        STRATA_RETURN_IF_ERROR(upload(lt.exp_up[e], out.up[e]));
        STRATA_RETURN_IF_ERROR(upload(lt.exp_down[e], out.down[e]));
    }
    // gpt-oss's expert biases: one vector per expert and projection.
    const size_t nb = lt.exp_gate_bias.size();
    out.gate_bias.resize(nb);
    out.up_bias.resize(nb);
    out.down_bias.resize(nb);
    for (size_t e = 0; e < nb; ++e) {
        STRATA_RETURN_IF_ERROR(upload(lt.exp_gate_bias[e], out.gate_bias[e]));
        STRATA_RETURN_IF_ERROR(upload(lt.exp_up_bias[e], out.up_bias[e]));
        STRATA_RETURN_IF_ERROR(upload(lt.exp_down_bias[e], out.down_bias[e]));
    }
    // The op's view, built once here rather than on every call (a layer per token).
    ExpertWeights& v = out.view;
    v = ExpertWeights{};
    for (size_t e = 0; e < n; ++e) {
        v.gate.push_back(out.gate[e].get());
        v.up.push_back(out.up[e].get());
        v.down.push_back(out.down[e].get());
    }
    for (size_t e = 0; e < nb; ++e) {
        v.gate_bias.push_back(out.gate_bias[e].get());
        v.up_bias.push_back(out.up_bias[e].get());
        v.down_bias.push_back(out.down_bias[e].get());
    }
    v.n_ff = n == 0 ? 0 : out.gate[0]->n_rows();
    return {};
}

ExpertHost::~ExpertHost() = default;

Result<std::unique_ptr<ExpertHost>> ExpertHost::create(Device& device, const HParams& hp, const ModelTensors& tensors,
                                                       const ModelFootprint& footprint, const std::vector<int>& layers,
                                                       int64_t n_batch,
                                                       const std::function<void(uint64_t, uint64_t)>& progress,
                                                       const std::atomic<bool>* cancel) {
    if (device.info().type != DeviceType::cpu)
        return Status(ErrorCode::internal, "experts of other devices' layers must sit in host memory, not on " + device.id());
    std::unique_ptr<ExpertHost> host(new ExpertHost(device, hp, n_batch));
    // Scratch first: the allocation most likely to fail before minutes of upload.
    host->layout_ = make_expert_scratch_layout(footprint, n_batch);
    auto scratch = device.allocate(host->layout_.total, MemoryUse::scratch);
    if (!scratch.ok()) return scratch.status();
    host->scratch_ = std::move(scratch).value();

    uint64_t total = 0;
    for (int il : layers)
        for (const HostTensor* t : tensors.layers.at(static_cast<size_t>(il)).experts()) total += t->n_bytes;
    WeightUploader upload(device, total, progress, cancel);
    for (int il : layers) {
        const LayerTensors& lt = tensors.layers.at(static_cast<size_t>(il));
        if (lt.exp_gate.empty()) return Status(ErrorCode::internal, "layer " + std::to_string(il) + " has no experts");
        STRATA_RETURN_IF_ERROR(upload_experts(lt, upload, host->layers_[il]));
    }
    host->weight_bytes_ = upload.device_bytes();
    return host;
}

Status ExpertHost::run(int64_t il, const float* x, int64_t n_tok, float* out) {
    auto it = layers_.find(il);
    if (it == layers_.end() || n_tok <= 0 || n_tok > n_batch_)
        return Status(ErrorCode::internal, "expert host asked for layer " + std::to_string(il) + " with " +
                                               std::to_string(n_tok) + " tokens");
    std::lock_guard<std::mutex> lock(mutex_);
    // x and out are host memory, as this device's is: the block reads and writes them directly.
    MoeBlockScratch s;
    s.logits = scratch_->as<float>(layout_.logits);
    s.ids = scratch_->as<int32_t>(layout_.ids);
    s.weights = scratch_->as<float>(layout_.weights);
    s.experts = MoeScratch{scratch_->as<float>(layout_.moe_x), scratch_->as<float>(layout_.gate),
                           scratch_->as<float>(layout_.up), scratch_->as<float>(layout_.moe_y)};
    auto st = moe_block_forward(device_.ops(), hp_, it->second, x, n_tok, s, out);
    if (!st.ok()) return st.with_context("experts of layer " + std::to_string(il) + " on " + device_.id());
    return device_.synchronize();
}

}  // namespace strata
