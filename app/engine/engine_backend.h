// EngineBackend: what the EngineWorker needs from the engine, as one interface, so the worker's
// threading, cancellation and signalling can be tested against a scripted fake as well as the
// real engine (StrataBackend).
//
// Threading: load, unload, plan and the device calls come from the worker's thread, one at a
// time, never while a generation runs (the worker waits for them). generate, recover, memory, stageTimings and generation() may be called from several generation threads
// at once: each generate call leases a sequence (KV slot) of the loaded model for its
// duration, so as many answers run at once as the model has slots (LoadOptions::n_seq); further
// calls wait in turn, and past a bounded queue fail with ErrorCode::busy.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "strata/chat.h"
#include "strata/bench.h"
#include "strata/bench_log.h"
#include "strata/chat_turn.h"
#include "strata/engine.h"

namespace strata::server {
class ModelSlot;
}

namespace strata::app {

struct BackendModel {
    strata::ModelInfo info;
    strata::PlanRequest request;
    strata::Plan plan;
    int64_t n_ctx = 0;
    std::string chat_format;
    int n_seq = 1;  // sequences (answers at once) the model was loaded with
};

class EngineBackend {
public:
    virtual ~EngineBackend() = default;

    virtual std::vector<strata::DeviceInfo> availableDevices() = 0;
    // What the devices named by `specs` are (ids, names, memory), without creating them.
    virtual strata::Result<std::vector<strata::DeviceInfo>> describeDevices(
        const std::vector<strata::DeviceSpec>& specs) = 0;
    virtual std::string gpuStatus() = 0;

    // Replaces the loaded model (the old one is unloaded first).
    virtual strata::Result<BackendModel> load(const std::string& path, const strata::LoadOptions& options,
                                              const strata::LoadProgressFn& progress,
                                              const std::atomic<bool>* cancel) = 0;
    virtual void unload() = 0;
    virtual bool hasModel() const = 0;

    // One chat turn (strata/chat_turn.h): renders the request with the model's (or its custom)
    // template, dropping the oldest turns when it does not fit, generates the answer on a leased
    // sequence — the one whose KV cache shares the longest prefix with this prompt, so a
    // conversation that returns reuses its cache (GenerateStats::n_reused) — and splits the
    // output into reasoning, answer and tool calls as it streams. Thread-safe (see above).
    virtual strata::Result<strata::ChatTurnResult> generate(const strata::ChatPromptRequest& request,
                                                            const strata::GenerateParams& params,
                                                            const strata::ChatTurnCallbacks& callbacks,
                                                            const std::atomic<bool>* cancel) = 0;
    // Counts loads and recoveries: a generation that fails with ErrorCode::device_failure
    // passes the value it read before it started to recover(), so that when several fail at
    // once the model is recovered once. Thread-safe.
    virtual uint64_t generation() const = 0;
    // After a device failure: waits for running generations to return, then re-plans the model
    // on the remaining devices and reloads it (strata::Model::recover). When the model was
    // recovered (or reloaded) since `seenGeneration` already, only returns what is loaded.
    // The returned model carries the new plan. Thread-safe.
    virtual strata::Result<BackendModel> recover(uint64_t seenGeneration) = 0;

    virtual std::vector<strata::DeviceMemory> memory() const = 0;
    virtual std::vector<strata::StageTiming> stageTimings() const = 0;

    // Where the app's API server gets the loaded model from, request by request (the same model
    // and sequences as generate()); the backend owns it and it lives as long as the backend.
    // load(), unload() and recover() take the model back from the server's requests (cancelling
    // them) before they touch it. Null: this backend has no model a server could use.
    virtual strata::server::ModelSlot* modelSource() { return nullptr; }

    // strata::run_bench on a leased sequence of the loaded model (waits for a free one, like an
    // answer). Thread-safe. The default: unsupported (backends without a real model).
    virtual strata::Result<strata::BenchResult> bench(const strata::BenchOptions& options, const std::atomic<bool>* cancel) {
        (void)options;
        (void)cancel;
        return strata::Status(strata::ErrorCode::unsupported, "this engine backend cannot run benchmarks");
    }

    // How `devices` are linked on this machine (strata::Engine::links_between): empty without a
    // GPU, and for backends without a machine.
    virtual strata::LinkMatrix linksBetween(const std::vector<strata::DeviceInfo>& devices) {
        (void)devices;
        return {};
    }
    // strata::Engine::measure_links(true): times the GPU links and stores them. Waits for the
    // answers running now to end, and holds new ones meanwhile (they would disturb the timing).
    // The default: unsupported.
    virtual strata::Result<strata::LinkProbeReport> measureLinks() {
        return strata::Status(strata::ErrorCode::unsupported, "this engine backend cannot measure links");
    }

    // The bench log's record of `result` (strata/bench_log.h: make_bench_record on the loaded
    // model, source "app"), for the worker to append. Thread-safe. Default: unsupported.
    virtual strata::Result<strata::BenchRecord> benchRecord(const strata::BenchResult& result,
                                                           const strata::BenchOptions& options) {
        (void)result;
        (void)options;
        return strata::Status(strata::ErrorCode::unsupported, "this engine backend keeps no bench records");
    }
};

// The real engine: a strata::Engine, the loaded Model and a SequencePool of its sequences.
std::unique_ptr<EngineBackend> makeStrataBackend();

}  // namespace strata::app
