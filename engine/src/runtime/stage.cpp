#include "runtime/stage.h"

#include <cmath>

namespace strata {

namespace {
TensorType kv_element_type(KvCacheType t) {
    return t == KvCacheType::f32 ? TensorType::F32 : t == KvCacheType::f16 ? TensorType::F16 : TensorType::Q8_0;
}
}  // namespace

// Moves a MoE layer's normed input to the expert host and the experts' output back: directly
// when the stage's device is host memory too (a CPU device), else through host staging rows.
class Stage::HostedExperts final : public RemoteExperts {
public:
    HostedExperts(Stage& stage, ExpertHost& host) : stage_(stage), host_(host) {}

    Status run(int64_t il, const float* x, int64_t n_tok, float* out) override {
        Device& dev = stage_.device_;
        if (dev.info().type == DeviceType::cpu) return host_.run(il, x, n_tok, out);
        const size_t bytes = static_cast<size_t>(n_tok * stage_.hp_.n_embd) * 4;
        in_.resize(static_cast<size_t>(n_tok * stage_.hp_.n_embd));
        out_.resize(in_.size());
        const Buffer& scratch = *stage_.scratch_;
        const auto offset_of = [&](const float* p) {
            return static_cast<uint64_t>(reinterpret_cast<const char*>(p) - static_cast<const char*>(scratch.data()));
        };
        STRATA_RETURN_IF_ERROR(dev.copy_to_host(in_.data(), scratch, offset_of(x), bytes));
        STRATA_RETURN_IF_ERROR(host_.run(il, in_.data(), n_tok, out_.data()));
        return dev.copy_from_host(*stage_.scratch_, offset_of(out), out_.data(), bytes);
    }

private:
    Stage& stage_;
    ExpertHost& host_;
    std::vector<float> in_, out_;  // staging rows in host memory
};

Stage::Stage(Device& device, const HParams& hp, const StagePlan& plan, const RuntimeConfig& config)
    : device_(device), hp_(hp), plan_(plan), config_(config) {}

Stage::~Stage() = default;

Result<std::unique_ptr<Stage>> Stage::create(Device& device, const HParams& hp, const ModelTensors& tensors,
                                             const ModelFootprint& footprint, const StagePlan& plan,
                                             const RuntimeConfig& config, const UploadProgress& progress,
                                             const std::atomic<bool>* cancel, ExpertHost* expert_host) {
    std::unique_ptr<Stage> st(new Stage(device, hp, plan, config));
    // A MoE layer's experts are uploaded here unless the host holds them (a leading dense
    // layer of a MoE model has none).
    auto local_experts = [&](int il) { return hp.is_moe_layer(il) && !(expert_host && expert_host->holds(il)); };
    if (hp.is_moe()) {
        for (int il = plan.layer_begin; il < plan.layer_end; ++il) {
            if (hp.is_moe_layer(il) && !local_experts(il) && !expert_host)
                return Status(ErrorCode::internal, "layer " + std::to_string(il) + "'s experts have no device");
        }
        if (expert_host) st->hosted_ = std::make_unique<HostedExperts>(*st, *expert_host);
    }
    st->n_vocab_ = tensors.token_embd.n_rows;
    if (config.kv_type == KvCacheType::q8_0 && hp.head_dim % 32 != 0) {
        return Status(ErrorCode::invalid_argument, "a q8_0 KV cache needs a head size that is a multiple of 32 (this model's is " +
                                                       std::to_string(hp.head_dim) + "); use f16");
    }

    // Bytes to upload, for progress.
    // Every layer holds its own copy of the RoPE factors (a few hundred bytes), so a layer's
    // weights are self-contained and the footprint counts them per layer.
    const HostTensor& rope_factors = tensors.rope_factors(config.n_ctx, hp.n_ctx_orig);
    uint64_t total = 0;
    for (int il = plan.layer_begin; il < plan.layer_end; ++il) {
        for (const HostTensor* t : tensors.layers[static_cast<size_t>(il)].all(local_experts(il))) total += t->n_bytes;
        total += rope_factors.n_bytes;
    }
    if (plan.has_embedding) total += tensors.token_embd.n_bytes;
    if (plan.has_output) total += tensors.output_norm.n_bytes + tensors.output.n_bytes;
    WeightUploader upload(device, total, progress, cancel);

    // KV cache and scratch first: they are the allocations most likely to fail, and failing
    // before minutes of weight upload is the point of planning.
    const int n_local = plan.layer_end - plan.layer_begin;
    const uint64_t kv_bytes = kv_cache_bytes(footprint, plan.layer_begin, n_local, config.n_ctx, config.n_batch,
                                             config.n_seq, config.kv_type);
    // Each layer's rows (a sliding-window layer keeps a ring) and where its caches start.
    const uint64_t row_bytes = tensor_row_bytes(kv_element_type(config.kv_type), hp.n_embd_kv());
    uint64_t at = 0;
    for (int il = plan.layer_begin; il < plan.layer_end; ++il) {
        const int64_t rows = kv_layer_rows(footprint, il, config.n_ctx, config.n_batch);
        st->kv_rows_.push_back(rows);
        st->kv_offset_.push_back(at);
        at += 2 * static_cast<uint64_t>(config.n_seq) * static_cast<uint64_t>(rows) * row_bytes;
    }
    if (at != kv_bytes) return Status(ErrorCode::internal, "KV cache layout does not match its estimate");
    if (kv_bytes > 0) {
        auto kv = device.allocate(kv_bytes, MemoryUse::kv_cache);
        if (!kv.ok()) return kv.status();
        st->kv_ = std::move(kv).value();
    }
    ScratchParams sp;
    sp.n_batch = config.n_batch;
    sp.n_ctx = config.n_ctx;
    sp.n_seq = config.n_seq;
    sp.first_stage = plan.has_embedding;
    sp.last_stage = plan.has_output;
    sp.device_type = device.info().type;
    sp.n_threads = std::max(1, device.info().n_threads);
    st->layout_ = make_scratch_layout(footprint, sp);
    auto scratch = device.allocate(st->layout_.total, MemoryUse::scratch);
    if (!scratch.ok()) return scratch.status();
    st->scratch_ = std::move(scratch).value();

    if (plan.has_embedding) STRATA_RETURN_IF_ERROR(upload(tensors.token_embd, st->token_embd_));
    for (int il = plan.layer_begin; il < plan.layer_end; ++il) {
        const LayerTensors& lt = tensors.layers[static_cast<size_t>(il)];
        LayerWeights lw;
        std::unique_ptr<DeviceWeight>* dsts[] = {&lw.attn_norm, &lw.wq, &lw.wk, &lw.wv, &lw.wo, &lw.bq, &lw.bk,
                                                 &lw.bv, &lw.bo, &lw.sinks, &lw.q_norm, &lw.k_norm, &lw.ffn_norm,
                                                 &lw.w_gate, &lw.w_up, &lw.w_down, &lw.post_attn_norm,
                                                 &lw.post_ffn_norm, &lw.shexp_gate, &lw.shexp_up, &lw.shexp_down};
        const HostTensor* srcs[] = {&lt.attn_norm, &lt.wq, &lt.wk, &lt.wv, &lt.wo, &lt.bq, &lt.bk, &lt.bv, &lt.bo,
                                    &lt.sinks, &lt.q_norm, &lt.k_norm, &lt.ffn_norm, &lt.w_gate, &lt.w_up, &lt.w_down,
                                    &lt.post_attn_norm, &lt.post_ffn_norm, &lt.shexp_gate, &lt.shexp_up, &lt.shexp_down};
        for (size_t i = 0; i < std::size(srcs); ++i) {
            if (srcs[i]->data) STRATA_RETURN_IF_ERROR(upload(*srcs[i], *dsts[i]));
        }
        if (rope_factors.data) STRATA_RETURN_IF_ERROR(upload(rope_factors, lw.rope_factors));
        if (local_experts(il)) {
            lw.moe = std::make_unique<MoeWeights>();
            STRATA_RETURN_IF_ERROR(upload_experts(lt, upload, *lw.moe));
        }
        st->layers_.push_back(std::move(lw));
    }
    if (plan.has_output) {
        STRATA_RETURN_IF_ERROR(upload(tensors.output_norm, st->output_norm_));
        STRATA_RETURN_IF_ERROR(upload(tensors.output, st->output_));
    }
    st->weight_bytes_ = upload.device_bytes();
    return st;
}

uint64_t Stage::hidden_offset(int lane) const {
    return layout_.hidden + static_cast<uint64_t>(lane) * static_cast<uint64_t>(config_.n_batch) *
                                static_cast<uint64_t>(hp_.n_embd) * 4;
}

uint64_t Stage::hidden_bytes(int64_t n_tok) const { return static_cast<uint64_t>(n_tok * hp_.n_embd) * 4; }

uint64_t Stage::kv_bytes() const { return kv_ ? kv_->size() : 0; }
uint64_t Stage::scratch_bytes() const { return scratch_ ? scratch_->size() : 0; }

KvView Stage::kv_view(int local_layer, int slot) const {
    // Layout: [layer][slot][K | V][rows of that layer][row]
    const uint64_t row = tensor_row_bytes(kv_element_type(config_.kv_type), hp_.n_embd_kv());
    const int64_t rows = kv_rows_[static_cast<size_t>(local_layer)];
    const uint64_t one = row * static_cast<uint64_t>(rows);
    const uint64_t base = kv_offset_[static_cast<size_t>(local_layer)] + static_cast<uint64_t>(slot) * 2 * one;
    KvView v;
    v.k = kv_->as<char>(base);
    v.v = kv_->as<char>(base + one);
    v.type = config_.kv_type;
    v.n_ctx = config_.n_ctx;
    v.n_embd_kv = hp_.n_embd_kv();
    v.n_rows = rows;
    return v;
}

Status Stage::run(const Batch& batch) {
    const int64_t n_tok = batch.n_tok();
    const auto n_seg = static_cast<int64_t>(batch.segments.size());
    if (n_tok <= 0 || n_tok > config_.n_batch || batch.lane < 0 || batch.lane >= config_.n_seq || n_seg > config_.n_seq ||
        (batch.all_rows && n_seg != 1)) {
        return Status(ErrorCode::internal, "stage run with a bad batch (" + std::to_string(n_tok) + " tokens in " +
                                               std::to_string(n_seg) + " sequences, lane " + std::to_string(batch.lane) + ")");
    }
    for (const BatchSegment& seg : batch.segments)
        if (seg.slot < 0 || seg.slot >= config_.n_seq || seg.n_tok <= 0)
            return Status(ErrorCode::internal, "stage run with a bad sequence slot " + std::to_string(seg.slot));
    DeviceOps& ops = device_.ops();
    float* x = scratch_->as<float>(hidden_offset(batch.lane));  // (n_tok, n_embd)
    if (plan_.has_embedding) {
        STRATA_RETURN_IF_ERROR(
            device_.copy_from_host(*scratch_, layout_.tokens, batch.tokens, static_cast<size_t>(n_tok) * 4));
        STRATA_RETURN_IF_ERROR(ops.embed(*token_embd_, scratch_->as<int32_t>(layout_.tokens), n_tok, x));
        if (hp_.embd_scale != 0.0f) STRATA_RETURN_IF_ERROR(ops.scale(x, hp_.embd_scale, n_tok * hp_.n_embd));
    }
    const LayerScratch ls{scratch_->as<float>(layout_.cur),  scratch_->as<float>(layout_.q),
                          scratch_->as<float>(layout_.k),    scratch_->as<float>(layout_.v),
                          scratch_->as<float>(layout_.attn), scratch_->as<float>(layout_.gate),
                          scratch_->as<float>(layout_.up),   scratch_->as<float>(layout_.attn_scores),
                          scratch_->as<float>(layout_.ffn_out),
                          MoeBlockScratch{scratch_->as<float>(layout_.moe_logits), scratch_->as<int32_t>(layout_.moe_ids),
                                          scratch_->as<float>(layout_.moe_weights),
                                          MoeScratch{scratch_->as<float>(layout_.moe_x), scratch_->as<float>(layout_.gate),
                                                     scratch_->as<float>(layout_.up), scratch_->as<float>(layout_.moe_y)}}};
    std::vector<SequenceRows> rows(batch.segments.size());
    for (int il = 0; il < n_layers(); ++il) {
        for (size_t i = 0; i < rows.size(); ++i) {
            const BatchSegment& seg = batch.segments[i];
            rows[i] = SequenceRows{kv_view(il, seg.slot), seg.pos0, seg.n_tok};
        }
        auto st = llama_layer_forward(ops, hp_, plan_.layer_begin + il, layers_[static_cast<size_t>(il)], rows, x, ls,
                                      hosted_.get());
        if (!st.ok()) return st.with_context("layer " + std::to_string(plan_.layer_begin + il) + " on " + device_.id());
    }
    if (plan_.has_output) STRATA_RETURN_IF_ERROR(write_logits(batch, x, ls.cur));
    return device_.synchronize();
}

Status Stage::write_logits(const Batch& batch, const float* x, float* normed) {
    DeviceOps& ops = device_.ops();
    const int64_t n_embd = hp_.n_embd;
    float* device_logits = scratch_->as<float>(layout_.logits);
    auto soft_cap = [&](float* dst, int64_t n_rows) {  // Gemma 2: on the host
        if (hp_.final_softcap <= 0.0f) return;
        const float c = hp_.final_softcap;
        for (int64_t i = 0; i < n_rows * n_vocab_; ++i) dst[i] = c * std::tanh(dst[i] / c);
    };
    if (batch.all_rows) {  // every row's logits, one output-head row at a time (the region holds n_seq rows)
        const BatchSegment& seg = batch.segments.front();
        if (!seg.logits) return {};
        for (int64_t t = 0; t < seg.n_tok; ++t) {
            STRATA_RETURN_IF_ERROR(ops.rms_norm(x + t * n_embd, *output_norm_, hp_.rms_eps, 1, n_embd, normed));
            STRATA_RETURN_IF_ERROR(ops.matmul(*output_, normed, 1, device_logits));
            float* dst = seg.logits + t * n_vocab_;
            STRATA_RETURN_IF_ERROR(device_.copy_to_host(dst, *scratch_, layout_.logits, static_cast<size_t>(n_vocab_) * 4));
            soft_cap(dst, 1);
        }
        return {};
    }
    // The last row of each sequence that wants logits, gathered and normed, then one matmul of
    // the output head for all of them (its weights are read once per step).
    int64_t n_out = 0, row = 0;
    for (const BatchSegment& seg : batch.segments) {
        row += seg.n_tok;
        if (!seg.logits) continue;
        STRATA_RETURN_IF_ERROR(
            ops.rms_norm(x + (row - 1) * n_embd, *output_norm_, hp_.rms_eps, 1, n_embd, normed + n_out * n_embd));
        ++n_out;
    }
    if (n_out == 0) return {};
    STRATA_RETURN_IF_ERROR(ops.matmul(*output_, normed, n_out, device_logits));
    int64_t i = 0;
    for (const BatchSegment& seg : batch.segments) {
        if (!seg.logits) continue;
        const uint64_t offset = layout_.logits + static_cast<uint64_t>(i++ * n_vocab_) * 4;
        STRATA_RETURN_IF_ERROR(device_.copy_to_host(seg.logits, *scratch_, offset, static_cast<size_t>(n_vocab_) * 4));
        soft_cap(seg.logits, 1);
    }
    return {};
}

}  // namespace strata
