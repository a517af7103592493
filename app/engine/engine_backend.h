// EngineBackend: what the EngineWorker needs from the engine, as one interface, so the worker's
// threading, cancellation and signalling can be tested against a scripted fake as well as the
// real engine (StrataBackend). Called only from the worker's thread, one call at a time, except
// where a method says otherwise.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "strata/chat.h"
#include "strata/chat_turn.h"
#include "strata/engine.h"

namespace strata::app {

struct BackendModel {
    strata::ModelInfo info;
    strata::PlanRequest request;
    strata::Plan plan;
    int64_t n_ctx = 0;
    std::string chat_format;
};

class EngineBackend {
public:
    virtual ~EngineBackend() = default;

    virtual std::vector<strata::DeviceInfo> availableDevices() = 0;
    // What the devices named by `specs` are (ids, names, memory), without creating them.
    virtual strata::Result<std::vector<strata::DeviceInfo>> describeDevices(
        const std::vector<strata::DeviceSpec>& specs) = 0;
    virtual std::string gpuStatus() = 0;

    virtual strata::Result<strata::PlanReport> plan(const std::string& path, const strata::LoadOptions& options) = 0;

    // Replaces the loaded model (the old one is unloaded first).
    virtual strata::Result<BackendModel> load(const std::string& path, const strata::LoadOptions& options,
                                              const strata::LoadProgressFn& progress,
                                              const std::atomic<bool>* cancel) = 0;
    virtual void unload() = 0;
    virtual bool hasModel() const = 0;

    // One chat turn (strata/chat_turn.h): renders the request with the model's (or its custom)
    // template, dropping the oldest turns when it does not fit, generates the answer reusing the
    // KV cache of the longest common prefix with the previous call, and splits the output into
    // reasoning, answer and tool calls as it streams.
    virtual strata::Result<strata::ChatTurnResult> generate(const strata::ChatPromptRequest& request,
                                                            const strata::GenerateParams& params,
                                                            const strata::ChatTurnCallbacks& callbacks,
                                                            const std::atomic<bool>* cancel) = 0;
    // Continues `prompt` as it is (no chat template, no chat stop strings), also reusing the
    // KV cache of a common prefix.
    virtual strata::Result<strata::GenerateStats> complete(const std::string& prompt, const strata::GenerateParams& params,
                                                           const strata::TextCallback& onText,
                                                           const std::atomic<bool>* cancel) = 0;

    virtual std::vector<strata::DeviceMemory> memory() const = 0;
    virtual std::vector<strata::StageTiming> stageTimings() const = 0;
};

// The real engine: a strata::Engine, the loaded Model and one Sequence.
std::unique_ptr<EngineBackend> makeStrataBackend();

}  // namespace strata::app
