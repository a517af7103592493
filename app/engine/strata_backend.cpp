// StrataBackend: EngineBackend on the real engine. The loaded model's sequences are shared by
// concurrent requests through a strata::SequencePool; a shared mutex lets generations run
// together while load, unload and recover() have the model to themselves.
#include <mutex>
#include <shared_mutex>

#include "engine/engine_backend.h"
#include "strata/sequence_pool.h"

namespace strata::app {

namespace {

// Set while this thread runs generate()/complete() and so holds the model's shared lock: the
// stats the worker reads from inside the text callback (memory(), stageTimings()) must not
// take the lock again (a shared_mutex is not recursive).
thread_local bool t_holdsModel = false;

// A shared hold on the model for one generation, marking this thread as holding it.
class GenerationHold {
public:
    explicit GenerationHold(std::shared_mutex& m) : m_lock(m) { t_holdsModel = true; }
    ~GenerationHold() { t_holdsModel = false; }
    GenerationHold(const GenerationHold&) = delete;
    GenerationHold& operator=(const GenerationHold&) = delete;

private:
    std::shared_lock<std::shared_mutex> m_lock;
};

class StrataBackend final : public EngineBackend {
public:
    ~StrataBackend() override { unload(); }

    std::vector<strata::DeviceInfo> availableDevices() override { return m_engine.available_devices(); }

    strata::Result<std::vector<strata::DeviceInfo>> describeDevices(
        const std::vector<strata::DeviceSpec>& specs) override {
        return m_engine.describe_devices(specs);
    }

    std::string gpuStatus() override { return m_engine.gpu_status(); }

    strata::Result<BackendModel> load(const std::string& path, const strata::LoadOptions& options,
                                      const strata::LoadProgressFn& progress,
                                      const std::atomic<bool>* cancel) override {
        unload();
        std::unique_lock lock(m_mutex);
        auto model = m_engine.load(path, options, progress, cancel);
        if (!model.ok()) return model.status();
        auto pool = strata::SequencePool::create(**model);
        if (!pool.ok()) return pool.status();
        m_model = std::move(model).value();
        m_pool = std::move(pool).value();
        ++m_generation;
        return describe();
    }

    void unload() override {
        std::unique_lock lock(m_mutex);
        m_pool.reset();  // the pool (its sequences) must go before its Model
        m_model.reset();
        ++m_generation;
    }

    bool hasModel() const override {
        std::shared_lock lock(m_mutex);
        return m_model != nullptr;
    }

    strata::Result<strata::ChatTurnResult> generate(const strata::ChatPromptRequest& request,
                                                    const strata::GenerateParams& params,
                                                    const strata::ChatTurnCallbacks& callbacks,
                                                    const std::atomic<bool>* cancel) override {
        GenerationHold hold(m_mutex);
        if (auto st = requireModel(); !st.ok()) return st;
        // The rendered prompt is the hint that finds the conversation's sequence again
        // (run_chat_turn renders it once more; rendering is cheap next to a prefill).
        std::vector<int32_t> hint;
        if (auto prompt = m_model->chat_prompt(request); prompt.ok()) hint = std::move(prompt->tokens);
        auto lease = m_pool->acquire(hint, cancel);
        if (!lease.ok()) return lease.status();
        return strata::run_chat_turn(*m_model, **lease, request, params, callbacks, cancel);
    }

    strata::Result<strata::GenerateStats> complete(const std::string& prompt, const strata::GenerateParams& params,
                                                   const strata::TextCallback& onText,
                                                   const std::atomic<bool>* cancel) override {
        GenerationHold hold(m_mutex);
        if (auto st = requireModel(); !st.ok()) return st;
        // Special-token text ("<|im_start|>") is read as those tokens, as llama-server does, so
        // a client can write a chat template of its own.
        const std::vector<int32_t> tokens = m_model->tokenize(prompt, true, true);
        if (static_cast<int64_t>(tokens.size()) >= m_model->n_ctx())
            return strata::Status(strata::ErrorCode::invalid_argument,
                                  "the prompt is " + std::to_string(tokens.size()) + " tokens; the model's context is " +
                                      std::to_string(m_model->n_ctx()));
        auto lease = m_pool->acquire(tokens, cancel);
        if (!lease.ok()) return lease.status();
        return (*lease)->generate(tokens, params, onText, cancel);
    }

    strata::Result<strata::BenchResult> bench(const strata::BenchOptions& options, const std::atomic<bool>* cancel) override {
        GenerationHold hold(m_mutex);
        if (auto st = requireModel(); !st.ok()) return st;
        auto lease = m_pool->acquire({}, cancel);
        if (!lease.ok()) return lease.status();
        return strata::run_bench(*m_model, **lease, options, cancel);
    }

    uint64_t generation() const override { return m_generation.load(); }

    strata::Result<BackendModel> recover(uint64_t seenGeneration) override {
        std::unique_lock lock(m_mutex);  // waits for the generations still running to return
        if (auto st = requireModel(); !st.ok()) return st;
        if (m_generation.load() == seenGeneration) {
            if (auto st = m_model->recover(); !st.ok()) return st;
            ++m_generation;
        }
        return describe();
    }

    std::vector<strata::DeviceMemory> memory() const override {
        std::shared_lock lock(m_mutex, std::defer_lock);
        if (!t_holdsModel) lock.lock();
        return m_model ? m_model->memory() : std::vector<strata::DeviceMemory>{};
    }

    std::vector<strata::StageTiming> stageTimings() const override {
        std::shared_lock lock(m_mutex, std::defer_lock);
        if (!t_holdsModel) lock.lock();
        return m_model ? m_model->stage_timings() : std::vector<strata::StageTiming>{};
    }

private:
    strata::Status requireModel() const {
        if (!m_model) return strata::Status(strata::ErrorCode::invalid_argument,
                                            "no model is loaded: load one from the library, or choose one in the "
                                            "conversation settings");
        return {};
    }

    // Holds m_mutex.
    BackendModel describe() const {
        BackendModel out;
        out.info = m_model->info();
        out.request = m_model->plan_request();
        out.plan = m_model->plan();
        out.n_ctx = m_model->n_ctx();
        out.chat_format = m_model->chat_template_summary();
        out.n_seq = m_pool ? m_pool->size() : 0;
        return out;
    }

    strata::Engine m_engine;
    // Shared by running generations; exclusive for load, unload and recover.
    mutable std::shared_mutex m_mutex;
    std::unique_ptr<strata::Model> m_model;
    std::unique_ptr<strata::SequencePool> m_pool;
    std::atomic<uint64_t> m_generation{0};
};

}  // namespace

std::unique_ptr<EngineBackend> makeStrataBackend() { return std::make_unique<StrataBackend>(); }

}  // namespace strata::app
