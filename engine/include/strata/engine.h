// The engine's public API: find devices, plan, load a model across devices, and generate.
//
//   Engine engine;                                   // finds the CPU and any CUDA GPUs
//   auto model = engine.load("model.gguf", options); // plans, refuses before allocating if it
//                                                    // cannot fit, uploads weights per stage
//   auto seq = (*model)->create_sequence();          // one conversation's KV cache slot
//   (*seq)->generate(prompt_tokens, params, on_text, &cancel);
//
// Ownership: a Model must be destroyed before the Engine that loaded it, and a Sequence before
// its Model.
// Threading: Engine methods are called from one thread at a time. A Model may be used from
// several threads at once as long as each Sequence is used by one thread at a time; sequences
// generating concurrently are batched: each step runs the next token of every one of them (and
// chunks of waiting prompts) through the layers together (runtime/batch_scheduler.h), and with
// a multi-stage split, batches overlap across stages.
// Nothing here throws; failures come back as Status / Result.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "strata/chat_prompt.h"
#include "strata/device_info.h"
#include "strata/link_probe.h"
#include "strata/model_info.h"
#include "strata/plan.h"
#include "strata/sampling.h"
#include "strata/status.h"

namespace strata {

class DeviceRegistry;
class Model;

struct LoadOptions {
    std::vector<DeviceSpec> devices;           // empty: every GPU, then the CPU
    std::vector<std::string> disabled;         // device ids never to use ("cuda1")
    std::map<std::string, uint64_t> reserve;   // per device id: bytes kept free
    uint64_t gpu_reserve = 512ull << 20;       // default reserve on GPUs (driver, other apps)
    uint64_t cpu_reserve = 0;                  // default reserve on CPU devices
    SplitMode mode = SplitMode::fewest;
    std::vector<double> ratios;                // SplitMode::ratios: one per device in `devices` order
    std::string embedding_device;              // pin token embedding ("" = first stage)
    std::string output_device;                 // pin output head ("" = last stage)
    int64_t n_ctx = 0;                         // 0: the model's trained context, at most 4096
    int64_t n_batch = 512;
    // Sequences that can be served at once (each has its own KV cache; sequences generating at
    // the same time share each step). 0: automatic, the most up to kAutoSequences whose plan fits.
    int n_seq = 1;
    static constexpr int kAutoSequences = 4;
    KvCacheType kv_type = KvCacheType::f16;
    int n_threads = 0;                         // CPU threads (0: all)
    // MoE models: where experts go (PlanRequest::experts). expert_device "" = the first CPU device.
    ExpertMode expert_mode = ExpertMode::automatic;
    int n_cpu_moe = 0;                         // ExpertMode::first_n
    std::string expert_device;
    // Engine::plan/load calibrate the predicted speed from this machine's bench log
    // (strata/calibration.h) unless this is false or STRATA_NO_CALIBRATION=1.
    bool calibrate = true;
};

// Load progress for one device: bytes of weights uploaded so far.
struct LoadProgress {
    std::string device_id;
    uint64_t bytes_done = 0;
    uint64_t bytes_total = 0;
};
using LoadProgressFn = std::function<void(const LoadProgress&)>;

// A plan computed for a file without loading it (strata-cli plan, the app's fit preview).
struct PlanReport {
    ModelInfo info;
    PlanRequest request;
    Plan plan;
};

// What the planner needs to know about a model file (layer sizes, hyperparameters), read from
// its header without loading weights or touching any device. Thread-safe; for callers that
// plan on their own thread with make_plan() (the app's live fit preview, for models added in
// an earlier run). A caller that also wants the ModelInfo reads both at once with
// inspect_model_file() (strata/model_info.h).
Result<ModelFootprint> read_model_footprint(const std::string& path);

// Plans on devices described rather than found — a simulated machine (strata/machine_profile.h:
// simulate_machine) — with the links between them, as Engine::plan plans on real ones (the same
// options, automatic sequences included). options.devices must be empty. Thread-safe.
Result<PlanReport> plan_on_devices(const ModelFootprint& footprint, const std::vector<DeviceInfo>& devices,
                                   const LinkMatrix& links, const LoadOptions& options);

class Engine {
public:
    Engine();
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    std::vector<DeviceInfo> available_devices() const;
    const std::string& gpu_status() const;  // "1 CUDA device" / "no CUDA devices found: <why>"

    // What the devices `specs` name would be (ids, names, memory; "cpu", "cpu1", ... for
    // repeated CPU items), without creating them. Empty specs: the default devices.
    Result<std::vector<DeviceInfo>> describe_devices(const std::vector<DeviceSpec>& specs, int n_threads = 0) const;

    // Plans `path` on the devices `options` names, reading only the file's header.
    Result<PlanReport> plan(const std::string& path, const LoadOptions& options);
    // Plans a footprint read elsewhere (the hub reads a remote file's header with range
    // requests) exactly as plan() plans a file with that footprint. PlanReport::info is empty.
    Result<PlanReport> plan_footprint(const ModelFootprint& footprint, const LoadOptions& options);

    // Plans, then loads. Refuses (ErrorCode::out_of_memory, with the plan's shortfalls and
    // suggestions in the message) before allocating anything when the plan does not fit.
    // `cancel` may be set from another thread to abandon the load between tensors.
    Result<std::unique_ptr<Model>> load(const std::string& path, const LoadOptions& options,
                                        const LoadProgressFn& progress = {},
                                        const std::atomic<bool>* cancel = nullptr);

    // How `devices` (described on this machine, in this order) are linked, [i][j] from devices[i]
    // to devices[j]: the GPUs' NVML topology with this machine's stored link measurements over
    // it, as plans on them see it. Empty without a GPU among them (nothing is loaded then).
    LinkMatrix links_between(const std::vector<DeviceInfo>& devices);

    // Times this machine's GPU links (strata/link_probe.h) and, when `save`, stores them where
    // later plans on these GPUs find them. Seconds per GPU pair; run it off the GUI thread and
    // not while a model on these GPUs answers. Errors: not_found (no GPUs, with gpu_status()),
    // unsupported (a CUDA module without the probe), device_failure (the probe failed, with the
    // CUDA error), io (the measurements could not be stored; nothing else is lost).
    Result<LinkProbeReport> measure_links(bool save);

private:
    std::unique_ptr<DeviceRegistry> registry_;
    // The GPUs' NVML topology, read once on the first plan over a GPU (it does not change while
    // the program runs; nvmlInit can take a while), shared by every plan after it.
    std::unique_ptr<struct EngineTopologyCache> topology_;
};

// Streaming text callback: receives complete UTF-8 pieces as they are generated.
using TextCallback = std::function<void(std::string_view text)>;
// Observes the raw logits (n_vocab floats) of each generated token before sampling.
using LogitsCallback = std::function<void(const float* logits, int64_t n_vocab)>;

// One conversation's state: its tokens and KV cache slot. Use from one thread at a time.
class Sequence {
public:
    virtual ~Sequence() = default;

    // Tokens whose KV entries are computed (the conversation so far).
    virtual const std::vector<int32_t>& tokens() const = 0;

    // Makes `prompt` the sequence's content (reusing the KV cache of the longest common prefix
    // with what it holds), then samples up to params.max_tokens tokens, streaming text.
    // Stops on EOS, a stop string, the token limit, a full context or `cancel`.
    virtual Result<GenerateStats> generate(const std::vector<int32_t>& prompt, const GenerateParams& params,
                                           const TextCallback& on_text, const std::atomic<bool>* cancel = nullptr,
                                           const LogitsCallback& on_logits = {}) = 0;

    // Evaluates tokens appended to the sequence; fills `logits` with the last one's (n_vocab).
    virtual Status eval(const std::vector<int32_t>& tokens, std::vector<float>* logits) = 0;
    // The same, filling `logits` with every one of these tokens' (tokens.size() × n_vocab, in
    // order): what perplexity needs. The output head runs once per token, so this is slower
    // than eval() by that much.
    virtual Status eval_all(const std::vector<int32_t>& tokens, std::vector<float>* logits) = 0;

    // Drops everything after the first n tokens (edit / regenerate).
    virtual void truncate(size_t n) = 0;
};

struct DeviceMemory {
    std::string device_id;
    uint64_t weights = 0, kv_cache = 0, scratch = 0, capacity = 0;
};

struct StageTiming {
    std::string device_id;
    int layer_begin = 0, layer_end = 0;
    double busy_seconds = 0, idle_seconds = 0;
    uint64_t tokens = 0, batches = 0;
    uint64_t transfer_bytes = 0;
    double transfer_seconds = 0;
    std::string transport;
};

class Model {
public:
    virtual ~Model() = default;

    virtual const ModelInfo& info() const = 0;
    virtual const PlanRequest& plan_request() const = 0;
    virtual const Plan& plan() const = 0;
    virtual int64_t n_ctx() const = 0;
    virtual int64_t n_vocab() const = 0;

    // add_bos: BOS first where the model's tokenizer adds one (its add_bos_token; Qwen's do not).
    virtual std::vector<int32_t> tokenize(std::string_view text, bool add_bos, bool parse_special = false) const = 0;
    virtual std::string detokenize(const std::vector<int32_t>& tokens) const = 0;
    virtual std::string token_text(int32_t token) const = 0;
    virtual int32_t bos_token() const = 0;
    virtual int32_t eos_token() const = 0;

    // The conversation as this model's prompt (strata/chat_prompt.h): its own chat template
    // (compiled once at load), a custom one, or a built-in format with a warning. Fails only when
    // a custom template cannot be rendered (its error says where) — the user asked for it.
    // Thread-safe.
    virtual Result<ChatPrompt> chat_prompt(const ChatPromptRequest& request) const = 0;
    // What chat_prompt uses when no custom template is given: "the model's template", or the
    // built-in format and why.
    virtual std::string chat_template_summary() const = 0;

    // A new sequence with its own KV slot; fails when all n_seq slots are taken.
    virtual Result<std::unique_ptr<Sequence>> create_sequence() = 0;

    // What each device holds now (real allocations), and per-stage timings since the last reset.
    // Safe to call while sequences generate on other threads (not during recover()).
    virtual std::vector<DeviceMemory> memory() const = 0;
    virtual std::vector<StageTiming> stage_timings() const = 0;
    virtual void reset_timings() = 0;

    // After a device failure: plans again without the failed devices and reloads onto the rest.
    // Existing sequences keep their tokens and re-process them on their next use. It rebuilds
    // the pipeline and its scheduler: call it only while no sequence is generating or
    // evaluating on any thread (the app holds its generations back with a lock).
    virtual Status recover() = 0;
};

}  // namespace strata
