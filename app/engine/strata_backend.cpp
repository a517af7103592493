// StrataBackend: EngineBackend on the real engine. The loaded model's sequences are shared by
// concurrent requests through a strata::SequencePool; a shared mutex lets generations run
// together while load, unload and recover() have the model to themselves. The API server's
// requests hold the model through a ModelSlot instead (they run on the server's threads, not
// through generate()): load, unload and recover retire it first, which cancels them.
#include <mutex>
#include <shared_mutex>

#include <QFileInfo>

#include "engine/engine_backend.h"
#include "strata/sequence_pool.h"
#include "strata/server/model_source.h"

namespace strata::app {

namespace {

// Set while this thread runs generate() and so holds the model's shared lock: the
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
        m_modelId = modelIdOf(path);
        m_served.publish(*m_model, *m_pool, m_modelId);
        ++m_generation;
        return describe();
    }

    void unload() override {
        m_served.retire();  // the server's requests end before the model goes
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
        // The rendered prompt's tokens find the conversation's sequence again.
        auto turn = strata::prepare_chat_turn(*m_model, request, params.max_tokens);
        if (!turn.ok()) return turn.status();
        auto lease = m_pool->acquire(turn->prompt.tokens, cancel);
        if (!lease.ok()) return lease.status();
        return strata::run_chat_turn(**lease, *turn, params, callbacks, cancel);
    }

    strata::Result<strata::BenchResult> bench(const strata::BenchOptions& options, const std::atomic<bool>* cancel) override {
        GenerationHold hold(m_mutex);
        if (auto st = requireModel(); !st.ok()) return st;
        auto lease = m_pool->acquire({}, cancel);
        if (!lease.ok()) return lease.status();
        return strata::run_bench(*m_model, **lease, options, cancel);
    }

    strata::LinkMatrix linksBetween(const std::vector<strata::DeviceInfo>& devices) override {
        return m_engine.links_between(devices);
    }

    strata::Result<strata::LinkProbeReport> measureLinks() override {
        std::unique_lock lock(m_mutex);  // waits for the answers running now; holds new ones
        return m_engine.measure_links(/*save=*/true);
    }

    strata::Result<strata::BenchRecord> benchRecord(const strata::BenchResult& result,
                                                   const strata::BenchOptions& options) override {
        std::shared_lock lock(m_mutex);
        if (auto st = requireModel(); !st.ok()) return st;
        return strata::make_bench_record(*m_model, result, options, m_engine.available_devices(), "", "app");
    }

    uint64_t generation() const override { return m_generation.load(); }

    strata::Result<BackendModel> recover(uint64_t seenGeneration) override {
        std::unique_lock lock(m_mutex);  // waits for the generations still running to return
        if (auto st = requireModel(); !st.ok()) return st;
        if (m_generation.load() == seenGeneration) {
            m_served.retire();  // the server's requests too: the model is rebuilt under them
            if (auto st = m_model->recover(); !st.ok()) return st;  // the server gets 503 from now on
            m_served.publish(*m_model, *m_pool, m_modelId);
            ++m_generation;
        }
        return describe();
    }

    strata::server::ModelSlot* modelSource() override { return &m_served; }

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

    // The API's name for a model: its file name without .gguf ("qwen3-8b-q4_k_m").
    static std::string modelIdOf(const std::string& path) {
        QString id = QFileInfo(QString::fromStdString(path)).fileName();
        if (id.endsWith(QLatin1String(".gguf"), Qt::CaseInsensitive)) id.chop(5);
        return id.toStdString();
    }

    strata::Engine m_engine;
    // Shared by running generations; exclusive for load, unload and recover.
    mutable std::shared_mutex m_mutex;
    std::unique_ptr<strata::Model> m_model;
    std::unique_ptr<strata::SequencePool> m_pool;
    std::string m_modelId;                  // set with m_model
    // Lends m_model and m_pool to the API server's requests; declared after them, so it is
    // destroyed (retired) first.
    strata::server::ModelSlot m_served;
    std::atomic<uint64_t> m_generation{0};
};

}  // namespace

std::unique_ptr<EngineBackend> makeStrataBackend() { return std::make_unique<StrataBackend>(); }

}  // namespace strata::app
