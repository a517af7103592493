// FakeBackend: a scripted EngineBackend for tests of the worker, the chat controller and the
// views — streams given pieces of text with a delay, reports load progress, records what it was
// asked, and honours the cancel flag between pieces like the engine does.
#pragma once

#include <QThread>
#include <chrono>
#include <mutex>
#include <thread>

#include "engine/engine_backend.h"

namespace strata::test {

struct FakeScript {
    std::vector<strata::DeviceInfo> devices;
    std::vector<std::string> pieces{"Hello", ",", " world", "!"};
    int pieceDelayMs = 0;
    int loadSteps = 4;
    int loadStepDelayMs = 0;
    std::string failLoad;        // non-empty: load() fails with this message
    std::string failGenerate;    // non-empty: generate() fails with this message
};

struct FakeRecord {
    std::mutex mutex;
    std::vector<std::vector<strata::ChatMessage>> prompts;
    std::vector<std::string> rawPrompts;  // complete() calls
    std::vector<strata::GenerateParams> params;
    std::vector<strata::LoadOptions> loads;
    int generated = 0;  // pieces sent in total
};

class FakeBackend final : public app::EngineBackend {
public:
    FakeBackend(FakeScript script, std::shared_ptr<FakeRecord> record)
        : m_script(std::move(script)), m_record(std::move(record)) {
        if (m_script.devices.empty()) {
            strata::DeviceInfo cpu;
            cpu.id = "cpu";
            cpu.name = "Fake CPU";
            cpu.total_memory = cpu.free_memory = 8ull << 30;
            m_script.devices.push_back(cpu);
        }
    }

    std::vector<strata::DeviceInfo> availableDevices() override { return m_script.devices; }
    strata::Result<std::vector<strata::DeviceInfo>> describeDevices(const std::vector<strata::DeviceSpec>& specs) override {
        std::vector<strata::DeviceInfo> out;
        for (size_t i = 0; i < specs.size(); ++i) {
            strata::DeviceInfo d = m_script.devices.front();
            d.id = i == 0 ? "cpu" : "cpu" + std::to_string(i);
            if (specs[i].memory_cap) d.total_memory = d.free_memory = specs[i].memory_cap;
            d.is_virtual = specs[i].memory_cap != 0;
            out.push_back(d);
        }
        return out;
    }
    std::string gpuStatus() override { return "no CUDA devices found: fake"; }
    strata::Result<strata::PlanReport> plan(const std::string& path, const strata::LoadOptions&) override {
        return strata::Status(strata::ErrorCode::unsupported, path + ": the fake backend does not plan");
    }
    strata::Result<app::BackendModel> load(const std::string& path, const strata::LoadOptions& options,
                                           const strata::LoadProgressFn& progress, const std::atomic<bool>* cancel) override {
        {
            std::lock_guard lock(m_record->mutex);
            m_record->loads.push_back(options);
        }
        m_loaded = false;
        for (int i = 1; i <= m_script.loadSteps; ++i) {
            if (cancel && cancel->load()) return strata::Status(strata::ErrorCode::cancelled, "load cancelled");
            std::this_thread::sleep_for(std::chrono::milliseconds(m_script.loadStepDelayMs));
            if (progress) progress({"cpu", uint64_t(i) * 1000, uint64_t(m_script.loadSteps) * 1000});
        }
        if (!m_script.failLoad.empty()) return strata::Status(strata::ErrorCode::out_of_memory, m_script.failLoad);
        m_loaded = true;
        app::BackendModel m;
        m.info.path = path;
        m.info.name = "fake";
        m.info.n_layer = 2;
        m.n_ctx = 512;
        m.chat_format = "plain";
        strata::StagePlan stage;
        stage.device = 0;
        stage.device_id = "cpu";
        stage.layer_end = 2;
        stage.has_embedding = stage.has_output = true;
        m.plan.fits = true;
        m.plan.stages.push_back(stage);
        return m;
    }
    void unload() override { m_loaded = false; }
    bool hasModel() const override { return m_loaded; }
    strata::Result<strata::GenerateStats> generate(const std::vector<strata::ChatMessage>& messages,
                                                   const strata::GenerateParams& params,
                                                   const strata::TextCallback& onText, const std::atomic<bool>* cancel) override {
        {
            std::lock_guard lock(m_record->mutex);
            m_record->prompts.push_back(messages);
            m_record->params.push_back(params);
        }
        size_t promptBytes = 0;
        for (const strata::ChatMessage& m : messages) promptBytes += m.content.size();
        return stream(params, int(promptBytes), onText, cancel);
    }
    strata::Result<strata::GenerateStats> complete(const std::string& prompt, const strata::GenerateParams& params,
                                                   const strata::TextCallback& onText, const std::atomic<bool>* cancel) override {
        {
            std::lock_guard lock(m_record->mutex);
            m_record->rawPrompts.push_back(prompt);
            m_record->params.push_back(params);
        }
        return stream(params, int(prompt.size()), onText, cancel);
    }
    std::vector<strata::DeviceMemory> memory() const override { return {}; }
    std::vector<strata::StageTiming> stageTimings() const override { return {}; }

private:
    // Streams the script's pieces, one "token" each, up to params.max_tokens; the prompt counts
    // one token per byte of its text.
    strata::Result<strata::GenerateStats> stream(const strata::GenerateParams& params, int promptTokens,
                                                 const strata::TextCallback& onText, const std::atomic<bool>* cancel) {
        if (!m_script.failGenerate.empty()) return strata::Status(strata::ErrorCode::device_failure, m_script.failGenerate);
        strata::GenerateStats s;
        s.n_prompt = promptTokens;
        s.stop = strata::StopReason::eos;
        const auto t0 = std::chrono::steady_clock::now();
        for (const std::string& piece : m_script.pieces) {
            if (s.n_generated >= params.max_tokens) {
                s.stop = strata::StopReason::max_tokens;
                break;
            }
            if (cancel && cancel->load()) {
                s.stop = strata::StopReason::cancelled;
                return s;
            }
            if (m_script.pieceDelayMs) std::this_thread::sleep_for(std::chrono::milliseconds(m_script.pieceDelayMs));
            onText(piece);
            if (s.n_generated == 0)
                s.time_to_first_token = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            ++s.n_generated;
            std::lock_guard lock(m_record->mutex);
            ++m_record->generated;
        }
        s.generate_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return s;
    }

    FakeScript m_script;
    std::shared_ptr<FakeRecord> m_record;
    bool m_loaded = false;
};

}  // namespace strata::test
