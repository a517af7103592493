// LoadedModel: the Model implementation — the mapped file, vocabulary, devices, and the
// pipeline of stages built from a plan. Sequences borrow KV slots from it and must be destroyed
// before it.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "backend/device.h"
#include "backend/registry.h"
#include "gguf/gguf_file.h"
#include "model/hparams.h"
#include "model/model_tensors.h"
#include "runtime/batch_scheduler.h"
#include "runtime/chat_prompter.h"
#include "runtime/expert_host.h"
#include "runtime/pipeline.h"
#include "strata/engine.h"
#include "tokenizer/vocab.h"

namespace strata {

struct LoadInputs {
    std::unique_ptr<gguf::GgufFile> file;
    ModelInfo info;
    HParams hp;
    ModelTensors tensors;
    ModelFootprint footprint;
    std::shared_ptr<const Vocab> vocab;
};

// Opens and reads everything a load needs from the file at `path` (mapping, info, hparams,
// tensor directory, vocabulary, footprint) and checks that the vocabulary and the token
// embedding agree. Errors name the file.
Result<LoadInputs> read_load_inputs(const std::string& path);

class LoadedModel final : public Model {
public:
    LoadedModel(LoadInputs inputs, DeviceRegistry& registry, std::vector<std::unique_ptr<Device>> devices,
                PlanRequest request, Plan plan, RuntimeConfig config);
    ~LoadedModel() override;

    // Builds stages and the pipeline per plan_ (called by Engine::load and by recover()).
    Status build(const LoadProgressFn& progress, const std::atomic<bool>* cancel);

    const ModelInfo& info() const override { return in_.info; }
    const PlanRequest& plan_request() const override { return request_; }
    const Plan& plan() const override { return plan_; }
    int64_t n_ctx() const override { return config_.n_ctx; }
    int64_t n_vocab() const override { return in_.tensors.token_embd.n_rows; }
    std::vector<int32_t> tokenize(std::string_view text, bool add_bos, bool parse_special) const override;
    Result<ChatPrompt> chat_prompt(const ChatPromptRequest& request) const override { return prompter_.prompt(request); }
    std::string chat_template_summary() const override { return prompter_.summary(); }
    std::string detokenize(const std::vector<int32_t>& tokens) const override;
    std::string token_text(int32_t token) const override;
    int32_t bos_token() const override { return in_.vocab->bos(); }
    int32_t eos_token() const override { return in_.vocab->eos(); }
    Result<std::unique_ptr<Sequence>> create_sequence() override;
    std::vector<DeviceMemory> memory() const override;
    std::vector<StageTiming> stage_timings() const override;
    void reset_timings() override;
    Status recover() override;

    // For sequences.
    const std::shared_ptr<const Vocab>& vocab() const { return in_.vocab; }
    int64_t n_batch() const { return config_.n_batch; }
    // True when every layer's cache holds the whole context. Sliding-window layers hold a ring
    // (backend/device.h KvView): a sequence that truncates more than a batch below the highest
    // position it wrote must then process its tokens again from the start.
    bool kv_keeps_history() const;
    uint64_t epoch() const { return epoch_; }
    // Runs a prefix of n_tok tokens of the sequence in `slot` in the scheduler's next step with
    // room, batched with other sequences' tokens (runtime/batch_scheduler.h); returns how many
    // ran. `logits` is written once the last of them ran.
    Result<int64_t> run_tokens(int slot, const int32_t* tokens, int64_t n_tok, int64_t pos0, float* logits,
                               bool all_rows = false);
    // A sequence generating: steps wait briefly for its next token (BatchScheduler).
    void begin_generation(int slot);
    void end_generation(int slot);
    // The scheduler's step statistics since load (tests and benchmarks).
    BatchScheduler::Stats batch_stats() const { return scheduler_ ? scheduler_->stats() : BatchScheduler::Stats{}; }
    void release_slot(int slot);

private:
    LoadInputs in_;
    ChatPrompter prompter_;  // the model's chat template, compiled once
    DeviceRegistry& registry_;
    std::vector<std::unique_ptr<Device>> devices_;
    PlanRequest request_;
    Plan plan_;
    RuntimeConfig config_;
    std::unique_ptr<ExpertHost> expert_host_;  // MoE experts of layers on other devices (or null)
    std::unique_ptr<Pipeline> pipeline_;
    std::unique_ptr<BatchScheduler> scheduler_;  // over pipeline_; destroyed before it
    std::mutex slots_mutex_;
    std::vector<bool> slot_used_;
    uint64_t epoch_ = 0;  // bumps when recover() rebuilds the pipeline (KV caches are gone)
};

// Builds the planner's request from devices and options (shared by Engine::plan and load).
// `devices` in priority order, with free_memory filled in.
Result<PlanRequest> make_plan_request(const ModelFootprint& footprint, const std::vector<DeviceInfo>& devices,
                                      const LoadOptions& options, int64_t n_ctx);

}  // namespace strata
