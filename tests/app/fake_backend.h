// FakeBackend: a scripted EngineBackend for tests of the worker, the chat controller and the
// views — streams given pieces of text with a delay, reports load progress, records what it was
// asked, and honours the cancel flag between pieces like the engine does. Like the real one,
// generate may run on several threads at once (up to `maxAnswers`, then busy); a scripted
// device failure is recovered from by recover() onto "cpu" alone.
#pragma once

#include <QThread>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "engine/engine_backend.h"

namespace strata::test {

struct FakeScript {
    std::vector<strata::DeviceInfo> devices;
    std::vector<std::string> pieces{"Hello", ",", " world", "!"};
    // Streamed before `pieces` as reasoning (a thinking model), one "token" each.
    std::vector<std::string> reasoningPieces;
    // With formats.tool_calls set, the streamed answer is parsed for tool calls as the engine
    // does (strata::parse_tool_calls).
    std::string templateWarning;  // non-empty: the prompt used a built-in format, saying why
    strata::OutputFormats formats;
    int pieceDelayMs = 0;
    int loadSteps = 4;
    int loadStepDelayMs = 0;
    std::string failLoad;        // non-empty: load() fails with this message
    std::string failGenerate;    // non-empty: generate() fails with this message
    // Answers at once; one more fails with ErrorCode::busy (the pool's full queue).
    int maxAnswers = 4;
    // >= 0: the first answer fails with a device failure of "cpu1" after this many pieces,
    // until recover() is called.
    int deviceFailureAfter = -1;
    // Answers whose last message's content equals this wait at their start (as for a free
    // sequence) until FakeRecord::release is set or they are cancelled; then they end there.
    std::string holdPrompt;
    // linksBetween() answers `links` whatever the devices; measureLinks() fails with
    // `failLinks` when set, else answers `linkReport`, and from then on linksBetween() answers
    // `measuredLinks`.
    strata::LinkMatrix links;
    strata::LinkMatrix measuredLinks;
    strata::LinkProbeReport linkReport;
    std::string failLinks;
};

struct FakeRecord {
    std::mutex mutex;
    std::vector<std::vector<strata::ChatMessage>> prompts;
    std::vector<strata::ChatPromptRequest> requests;
    std::vector<strata::GenerateParams> params;
    std::vector<strata::LoadOptions> loads;
    int generated = 0;  // pieces sent in total
    int recoveries = 0;
    std::atomic<int> running{0};     // answers running now
    std::atomic<int> maxRunning{0};  // the most that ran at once
    std::atomic<bool> release{false};
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
        ++m_generation;
        // A scripted device failure needs a second device to lose.
        if (m_script.deviceFailureAfter >= 0) return model(path, {"cpu", "cpu1"});
        return model(path, {"cpu"});
    }
    // The fake model on `devices`, one layer each.
    app::BackendModel model(const std::string& path, const std::vector<std::string>& devices) const {
        app::BackendModel m;
        m.info.path = path;
        m.info.name = "fake";
        m.info.n_layer = 2;
        m.n_ctx = 512;
        m.chat_format = "plain";
        m.n_seq = m_script.maxAnswers;
        m.plan.fits = true;
        for (size_t i = 0; i < devices.size(); ++i) {
            strata::StagePlan stage;
            stage.device = int(i);
            stage.device_id = devices[i];
            stage.layer_begin = int(i * 2 / devices.size());
            stage.layer_end = int((i + 1) * 2 / devices.size());
            stage.has_embedding = i == 0;
            stage.has_output = i + 1 == devices.size();
            m.plan.stages.push_back(stage);
        }
        return m;
    }
    void unload() override { m_loaded = false; }
    bool hasModel() const override { return m_loaded; }
    uint64_t generation() const override { return m_generation.load(); }
    strata::Result<app::BackendModel> recover(uint64_t seen) override {
        std::lock_guard lock(m_record->mutex);
        if (m_generation.load() == seen) {
            ++m_generation;
            ++m_record->recoveries;
            m_failed = true;  // cpu1 is gone: no more injected failures
        }
        return model("fake.gguf", {"cpu"});
    }
    strata::Result<strata::ChatTurnResult> generate(const strata::ChatPromptRequest& request,
                                                    const strata::GenerateParams& params,
                                                    const strata::ChatTurnCallbacks& callbacks,
                                                    const std::atomic<bool>* cancel) override {
        Slot slot(*this);
        if (!slot.ok) return strata::Status(strata::ErrorCode::busy, "all fake slots are answering");
        if (!m_script.holdPrompt.empty() && !request.messages.empty() &&
            request.messages.back().content == m_script.holdPrompt) {
            while (!m_record->release.load() && !(cancel && cancel->load()))
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            if (cancel && cancel->load()) return strata::Status(strata::ErrorCode::cancelled, "cancelled while waiting");
        }
        {
            std::lock_guard lock(m_record->mutex);
            m_record->prompts.push_back(request.messages);
            m_record->requests.push_back(request);
            m_record->params.push_back(params);
        }
        if (callbacks.on_prompt) {
            strata::ChatPrompt prompt;
            prompt.source = request.custom_template.empty() ? strata::ChatTemplateSource::model
                                                            : strata::ChatTemplateSource::custom;
            prompt.template_name = request.custom_template.empty() ? "the model's template" : "a custom template";
            if (!m_script.templateWarning.empty()) {
                prompt.source = strata::ChatTemplateSource::builtin;
                prompt.template_name = "built-in ChatML";
                prompt.warning = m_script.templateWarning;
            }
            callbacks.on_prompt(prompt, m_script.formats);
        }
        size_t promptBytes = 0;
        for (const strata::ChatMessage& m : request.messages) promptBytes += m.content.size();
        strata::ChatTurnResult result;
        result.formats = m_script.formats;
        auto emitAs = [&](strata::OutputChannel channel) {
            return [&, channel](std::string_view text) {
                std::string piece(text);
                if (channel == strata::OutputChannel::reasoning) result.output.reasoning += piece;
                else result.output.content += piece;
                if (callbacks.on_delta) callbacks.on_delta({channel, piece, {}});
            };
        };
        auto stats = stream(m_script.reasoningPieces, params, int(promptBytes), emitAs(strata::OutputChannel::reasoning),
                            cancel, 0);
        if (!stats.ok()) return stats.status();
        if (stats->stop != strata::StopReason::cancelled && stats->stop != strata::StopReason::max_tokens) {
            auto answer = stream(piecesAfter(request.assistant_prefix), params, int(promptBytes),
                                 emitAs(strata::OutputChannel::content), cancel, stats->n_generated);
            if (!answer.ok()) return answer.status();
            stats = answer;
        }
        result.stats = *stats;
        if (m_script.formats.tool_calls != strata::ToolCallFormat::none) {
            auto parsed = strata::parse_tool_calls(result.output.content, m_script.formats.tool_calls);
            if (!parsed.ok()) return parsed.status();
            result.output.content = parsed->content;
            result.output.calls = parsed->calls;
            result.output.problems = parsed->problems;
        }
        return result;
    }
    strata::LinkMatrix linksBetween(const std::vector<strata::DeviceInfo>&) override {
        return m_measured ? m_script.measuredLinks : m_script.links;
    }
    strata::Result<strata::LinkProbeReport> measureLinks() override {
        if (!m_script.failLinks.empty()) return strata::Status(strata::ErrorCode::device_failure, m_script.failLinks);
        m_measured = true;
        return m_script.linkReport;
    }
    std::vector<strata::DeviceMemory> memory() const override { return {}; }
    std::vector<strata::StageTiming> stageTimings() const override { return {}; }

private:
    // A running answer; `ok` is false past the script's maxAnswers.
    struct Slot {
        explicit Slot(FakeBackend& b) : backend(b) {
            const int now = ++b.m_record->running;
            int seen = b.m_record->maxRunning.load();
            while (now > seen && !b.m_record->maxRunning.compare_exchange_weak(seen, now)) {}
            ok = now <= b.m_script.maxAnswers;
        }
        ~Slot() { --backend.m_record->running; }
        FakeBackend& backend;
        bool ok = false;
    };

    // After a recovery the worker goes on from what was streamed (the assistant prefix): the
    // pieces after it, as the engine would continue. Otherwise all of them.
    std::vector<std::string> piecesAfter(const std::string& prefix) {
        {
            std::lock_guard lock(m_record->mutex);
            if (!m_failed || prefix.empty()) return m_script.pieces;
        }
        std::string seen;
        size_t i = 0;
        while (i < m_script.pieces.size() && prefix.starts_with(seen + m_script.pieces[i])) seen += m_script.pieces[i++];
        return {m_script.pieces.begin() + long(i), m_script.pieces.end()};
    }

    // Streams the script's pieces, one "token" each, up to params.max_tokens; the prompt counts
    // one token per byte of its text.
    // `already`: tokens generated before these pieces (reasoning before the answer).
    strata::Result<strata::GenerateStats> stream(const std::vector<std::string>& pieces, const strata::GenerateParams& params,
                                                 int promptTokens, const strata::TextCallback& onText,
                                                 const std::atomic<bool>* cancel, int already) {
        if (!m_script.failGenerate.empty()) return strata::Status(strata::ErrorCode::device_failure, m_script.failGenerate);
        strata::GenerateStats s;
        s.n_prompt = promptTokens;
        s.n_generated = already;
        s.stop = strata::StopReason::eos;
        const auto t0 = std::chrono::steady_clock::now();
        for (const std::string& piece : pieces) {
            if (s.n_generated >= params.max_tokens) {
                s.stop = strata::StopReason::max_tokens;
                break;
            }
            if (cancel && cancel->load()) {
                s.stop = strata::StopReason::cancelled;
                return s;
            }
            if (m_script.pieceDelayMs) std::this_thread::sleep_for(std::chrono::milliseconds(m_script.pieceDelayMs));
            if (m_script.deviceFailureAfter >= 0 && s.n_generated - already >= m_script.deviceFailureAfter) {
                std::lock_guard lock(m_record->mutex);
                if (!m_failed)
                    return strata::Status(strata::ErrorCode::device_failure, "cpu1 failed: injected device failure");
            }
            onText(piece);
            if (s.n_generated == already)
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
    std::atomic<bool> m_loaded{false};
    std::atomic<uint64_t> m_generation{0};
    bool m_measured = false;  // measureLinks() succeeded (the worker's thread only)
    bool m_failed = false;  // recover() ran: the failing device is gone (guarded by the record's mutex)
};

}  // namespace strata::test
