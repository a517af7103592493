#include "runtime/loaded_model.h"

#include <algorithm>
#include <cstdlib>

#include "model/model_inspection.h"
#include "plan/memory_estimate.h"
#include "plan/model_footprint.h"
#include "runtime/sequence_impl.h"
#include "tokenizer/vocab_loader.h"

namespace strata {

Result<LoadInputs> read_load_inputs(const std::string& path) {
    LoadInputs in;
    auto file = gguf::GgufFile::open(path);
    if (!file.ok()) return file.status();
    in.file = std::move(file).value();
    // Everything below reads the one mapping opened above.
    auto info = read_model_info(*in.file);
    if (!info.ok()) return info.status();
    in.info = std::move(info).value();
    auto hp = read_hparams(*in.file);
    if (!hp.ok()) return hp.status();
    in.hp = std::move(hp).value();
    auto tensors = collect_model_tensors(*in.file, in.hp);
    if (!tensors.ok()) return tensors.status();
    in.tensors = std::move(tensors).value();
    in.hp.n_vocab = in.tensors.token_embd.n_rows;
    auto vocab = load_vocab(*in.file);
    if (!vocab.ok()) return vocab.status();
    in.vocab = std::move(vocab).value();
    if (in.vocab->n_tokens() != in.hp.n_vocab) {
        return Status(ErrorCode::corrupt, path + ": the vocabulary has " + std::to_string(in.vocab->n_tokens()) +
                                              " tokens but token_embd.weight has " + std::to_string(in.hp.n_vocab) + " rows");
    }
    auto footprint = model_footprint(*in.file);
    if (!footprint.ok()) return footprint.status();
    in.footprint = std::move(footprint).value();
    return in;
}

Result<PlanRequest> make_plan_request(const ModelFootprint& footprint, const std::vector<DeviceInfo>& devices,
                                      const LoadOptions& options, int64_t n_ctx) {
    PlanRequest req;
    req.model = footprint;
    req.n_ctx = n_ctx;
    req.n_batch = options.n_batch;
    req.n_seq = options.n_seq;
    req.kv_type = options.kv_type;
    req.mode = options.mode;
    if (!options.ratios.empty()) {
        if (options.ratios.size() != devices.size()) {
            return Status(ErrorCode::invalid_argument,
                          "--split gives " + std::to_string(options.ratios.size()) + " ratios for " +
                              std::to_string(devices.size()) + " devices; give one per device, in device order");
        }
        req.mode = SplitMode::ratios;
    }
    auto index_of = [&](const std::string& id, const char* what) -> Result<int> {
        for (size_t i = 0; i < devices.size(); ++i)
            if (devices[i].id == id) return static_cast<int>(i);
        return Status(ErrorCode::invalid_argument, std::string(what) + " device '" + id + "' is not among the devices");
    };
    for (const std::string& id : options.disabled) {
        auto i = index_of(id, "disabled");
        if (!i.ok()) return i.status();
    }
    for (size_t i = 0; i < devices.size(); ++i) {
        PlanDevice d;
        d.info = devices[i];
        d.enabled = std::find(options.disabled.begin(), options.disabled.end(), devices[i].id) == options.disabled.end();
        auto r = options.reserve.find(devices[i].id);
        d.reserve_bytes = r != options.reserve.end() ? r->second
                          : devices[i].type == DeviceType::cuda ? options.gpu_reserve
                                                                : options.cpu_reserve;
        d.ratio = options.ratios.empty() ? 0.0 : options.ratios[i];
        req.devices.push_back(std::move(d));
    }
    if (!options.embedding_device.empty()) {
        auto i = index_of(options.embedding_device, "embedding");
        if (!i.ok()) return i.status();
        req.embedding_device = *i;
    }
    if (!options.output_device.empty()) {
        auto i = index_of(options.output_device, "output");
        if (!i.ok()) return i.status();
        req.output_device = *i;
    }
    req.experts.mode = options.expert_mode;
    apply_cuda_moe_switch(req);
    req.experts.n_host_layers = options.n_cpu_moe;
    if (!options.expert_device.empty()) {
        auto i = index_of(options.expert_device, "expert");
        if (!i.ok()) return i.status();
        req.experts.host = *i;
    }
    return req;
}

LoadedModel::LoadedModel(LoadInputs inputs, DeviceRegistry& registry, std::vector<std::unique_ptr<Device>> devices,
                         PlanRequest request, Plan plan, RuntimeConfig config)
    : in_(std::move(inputs)), prompter_(in_.vocab, in_.info.chat_template), registry_(registry), devices_(std::move(devices)), request_(std::move(request)),
      plan_(std::move(plan)), config_(config), slot_used_(static_cast<size_t>(config.n_seq), false) {}

LoadedModel::~LoadedModel() {
    scheduler_.reset();
    pipeline_.reset();  // stages free their buffers and weights before the devices go
    expert_host_.reset();
}

Status LoadedModel::build(const LoadProgressFn& progress, const std::atomic<bool>* cancel) {
    scheduler_.reset();
    pipeline_.reset();
    expert_host_.reset();
    // Experts placed away from their layer's device all go to one host device (the planner's
    // rule); it is loaded first, as the stages that call it need it.
    std::vector<int> hosted;
    int host_device = -1;
    for (const StagePlan& sp : plan_.stages) {
        for (int il = sp.layer_begin; il < sp.layer_end && !plan_.expert_device.empty(); ++il) {
            const int d = plan_.expert_device.at(static_cast<size_t>(il));
            if (d == sp.device) continue;
            if (host_device >= 0 && d != host_device)
                return Status(ErrorCode::internal, "the plan places experts on more than one other device");
            host_device = d;
            hosted.push_back(il);
        }
    }
    if (host_device >= 0) {
        Device& dev = *devices_.at(static_cast<size_t>(host_device));
        std::function<void(uint64_t, uint64_t)> on_upload;
        if (progress) on_upload = [&, id = dev.id()](uint64_t done, uint64_t total) { progress({id, done, total}); };
        auto host = ExpertHost::create(dev, in_.hp, in_.tensors, in_.footprint, hosted, config_.n_batch, on_upload, cancel);
        if (!host.ok()) return host.status().with_context("loading " + std::to_string(hosted.size()) + " layers' experts on " + dev.id());
        expert_host_ = std::move(host).value();
    }
    std::vector<std::unique_ptr<Stage>> stages;
    for (const StagePlan& sp : plan_.stages) {
        Device& dev = *devices_.at(static_cast<size_t>(sp.device));
        UploadProgress on_upload;
        if (progress) {
            on_upload = [&, id = dev.id()](uint64_t done, uint64_t total) { progress({id, done, total}); };
        }
        auto stage = Stage::create(dev, in_.hp, in_.tensors, in_.footprint, sp, config_, on_upload, cancel,
                                   expert_host_.get());
        if (!stage.ok()) return stage.status().with_context("loading layers " + std::to_string(sp.layer_begin) +
                                                            "-" + std::to_string(sp.layer_end - 1) + " on " + dev.id());
        stages.push_back(std::move(stage).value());
    }
    std::vector<std::unique_ptr<Transport>> transports;
    for (size_t i = 0; i + 1 < stages.size(); ++i)
        transports.push_back(registry_.transport(stages[i]->device(), stages[i + 1]->device()));
    pipeline_ = std::make_unique<Pipeline>(std::move(stages), std::move(transports));
    scheduler_ = std::make_unique<BatchScheduler>(*pipeline_, config_.n_seq, config_.n_batch);
    return {};
}

bool LoadedModel::kv_keeps_history() const {
    for (int il = 0; il < in_.footprint.n_layer; ++il)
        if (kv_layer_rows(in_.footprint, il, config_.n_ctx, config_.n_batch) < config_.n_ctx) return false;
    return true;
}

std::vector<int32_t> LoadedModel::tokenize(std::string_view text, bool add_bos, bool parse_special) const {
    // BOS only where the model's tokenizer adds one (add_bos_token): Qwen's GGUFs name a BOS
    // (<|endoftext|>) but do not prepend it, as its own tokenizer and llama.cpp do not.
    return in_.vocab->encode(text, add_bos && in_.vocab->add_bos(), parse_special);
}

std::string LoadedModel::detokenize(const std::vector<int32_t>& tokens) const { return in_.vocab->decode(tokens); }

std::string LoadedModel::token_text(int32_t token) const {
    if (token < 0 || token >= in_.vocab->n_tokens()) return {};
    return in_.vocab->token_text(token);
}

Result<std::unique_ptr<Sequence>> LoadedModel::create_sequence() {
    std::lock_guard<std::mutex> lock(slots_mutex_);
    for (size_t i = 0; i < slot_used_.size(); ++i) {
        if (!slot_used_[i]) {
            slot_used_[i] = true;
            return std::unique_ptr<Sequence>(new SequenceImpl(*this, static_cast<int>(i)));
        }
    }
    return Status(ErrorCode::out_of_memory, "all " + std::to_string(slot_used_.size()) +
                                                " sequence slots are in use (load the model with more parallel sequences)");
}

void LoadedModel::release_slot(int slot) {
    std::lock_guard<std::mutex> lock(slots_mutex_);
    slot_used_[static_cast<size_t>(slot)] = false;
}

Result<int64_t> LoadedModel::run_tokens(int slot, const int32_t* tokens, int64_t n_tok, int64_t pos0, float* logits,
                                        bool all_rows) {
    if (!scheduler_) return Status(ErrorCode::device_failure, "the model is not loaded on any device (recover() failed)");
    return scheduler_->run(slot, tokens, n_tok, pos0, logits, all_rows);
}

void LoadedModel::begin_generation(int slot) {
    if (scheduler_) scheduler_->begin_generation(slot);
}

void LoadedModel::end_generation(int slot) {
    if (scheduler_) scheduler_->end_generation(slot);
}

std::vector<DeviceMemory> LoadedModel::memory() const {
    std::vector<DeviceMemory> out;
    for (const auto& d : devices_) {
        DeviceMemory m;
        m.device_id = d->id();
        m.weights = d->allocated(MemoryUse::weights);
        m.kv_cache = d->allocated(MemoryUse::kv_cache);
        m.scratch = d->allocated(MemoryUse::scratch);
        m.capacity = d->capacity();
        out.push_back(m);
    }
    return out;
}

std::vector<StageTiming> LoadedModel::stage_timings() const {
    std::vector<StageTiming> out;
    if (!pipeline_) return out;
    for (const StageStats& s : pipeline_->stats()) {
        out.push_back({s.device_id, s.layer_begin, s.layer_end, s.busy_seconds, s.idle_seconds, s.tokens, s.batches,
                       s.transfer_bytes, s.transfer_seconds, s.transport});
    }
    return out;
}

void LoadedModel::reset_timings() {
    if (pipeline_) pipeline_->reset_stats();
}

Status LoadedModel::recover() {
    std::vector<std::string> failed;
    for (const auto& d : devices_)
        if (d->failed()) failed.push_back(d->id());
    if (failed.empty() && pipeline_) return {};
    scheduler_.reset();
    pipeline_.reset();  // frees every stage's memory on the surviving devices
    ++epoch_;
    for (size_t i = 0; i < request_.devices.size(); ++i) {
        PlanDevice& pd = request_.devices[i];
        if (std::find(failed.begin(), failed.end(), pd.info.id) != failed.end()) pd.enabled = false;
        const Device& dev = *devices_[i];
        pd.info.free_memory = dev.capacity() - std::min(dev.capacity(), dev.allocated_total());
    }
    // A pin to a failed device is dropped rather than making recovery impossible.
    if (request_.embedding_device >= 0 && !request_.devices[static_cast<size_t>(request_.embedding_device)].enabled)
        request_.embedding_device = -1;
    if (request_.output_device >= 0 && !request_.devices[static_cast<size_t>(request_.output_device)].enabled)
        request_.output_device = -1;
    Plan plan = make_plan(request_);
    if (!plan.fits) {
        std::string why = "after the failure of " + failed.front() + ", the model no longer fits on the remaining devices";
        for (const auto& s : plan.shortfalls) why += "; " + s;
        return Status(ErrorCode::out_of_memory, why);
    }
    plan_ = std::move(plan);
    return build({}, nullptr);
}

}  // namespace strata
