// StrataBackend: EngineBackend on the real engine.
#include "engine/engine_backend.h"

namespace strata::app {

namespace {

class StrataBackend final : public EngineBackend {
public:
    ~StrataBackend() override { unload(); }

    std::vector<strata::DeviceInfo> availableDevices() override { return m_engine.available_devices(); }

    strata::Result<std::vector<strata::DeviceInfo>> describeDevices(
        const std::vector<strata::DeviceSpec>& specs) override {
        return m_engine.describe_devices(specs);
    }

    std::string gpuStatus() override { return m_engine.gpu_status(); }

    strata::Result<strata::PlanReport> plan(const std::string& path, const strata::LoadOptions& options) override {
        return m_engine.plan(path, options);
    }

    strata::Result<BackendModel> load(const std::string& path, const strata::LoadOptions& options,
                                      const strata::LoadProgressFn& progress,
                                      const std::atomic<bool>* cancel) override {
        unload();
        auto model = m_engine.load(path, options, progress, cancel);
        if (!model.ok()) return model.status();
        m_model = std::move(model).value();
        BackendModel out;
        out.info = m_model->info();
        out.request = m_model->plan_request();
        out.plan = m_model->plan();
        out.n_ctx = m_model->n_ctx();
        out.chat_format = m_model->chat_template_summary();
        return out;
    }

    void unload() override {
        m_sequence.reset();  // a Sequence must go before its Model
        m_model.reset();
    }

    bool hasModel() const override { return m_model != nullptr; }

    strata::Result<strata::ChatTurnResult> generate(const strata::ChatPromptRequest& request,
                                                    const strata::GenerateParams& params,
                                                    const strata::ChatTurnCallbacks& callbacks,
                                                    const std::atomic<bool>* cancel) override {
        if (auto st = ensureSequence(); !st.ok()) return st;
        return strata::run_chat_turn(*m_model, *m_sequence, request, params, callbacks, cancel);
    }

    strata::Result<strata::GenerateStats> complete(const std::string& prompt, const strata::GenerateParams& params,
                                                   const strata::TextCallback& onText,
                                                   const std::atomic<bool>* cancel) override {
        if (auto st = ensureSequence(); !st.ok()) return st;
        // Special-token text ("<|im_start|>") is read as those tokens, as llama-server does, so
        // a client can write a chat template of its own.
        const std::vector<int32_t> tokens = m_model->tokenize(prompt, true, true);
        if (static_cast<int64_t>(tokens.size()) >= m_model->n_ctx())
            return strata::Status(strata::ErrorCode::invalid_argument,
                                  "the prompt is " + std::to_string(tokens.size()) + " tokens; the model's context is " +
                                      std::to_string(m_model->n_ctx()));
        return m_sequence->generate(tokens, params, onText, cancel);
    }

    std::vector<strata::DeviceMemory> memory() const override {
        return m_model ? m_model->memory() : std::vector<strata::DeviceMemory>{};
    }

    std::vector<strata::StageTiming> stageTimings() const override {
        return m_model ? m_model->stage_timings() : std::vector<strata::StageTiming>{};
    }

private:
    strata::Status ensureSequence() {
        if (!m_model) return strata::Status(strata::ErrorCode::invalid_argument,
                                                "no model is loaded: load one from the library, or choose one in the "
                                                "conversation settings");
        if (!m_sequence) {
            auto seq = m_model->create_sequence();
            if (!seq.ok()) return seq.status();
            m_sequence = std::move(seq).value();
        }
        return {};
    }

    strata::Engine m_engine;
    std::unique_ptr<strata::Model> m_model;
    std::unique_ptr<strata::Sequence> m_sequence;
};

}  // namespace

std::unique_ptr<EngineBackend> makeStrataBackend() { return std::make_unique<StrataBackend>(); }

}  // namespace strata::app
