// EngineWorker: owns the engine (through an EngineBackend). Device queries, loads and unloads
// run on the thread it is moved to, in the order they were asked for; every answer (a chat
// turn) runs on a generation thread of its own, on a sequence (KV slot) leased from the loaded
// model, so as many answers stream at once as the model was loaded with slots
// (LoadOptions::n_seq). The API server's requests do not come through here: they borrow the
// loaded model from modelSource() and run on the server's threads, on the same sequences.
// App code (App / main.cpp) owns the QThread.
//
// Calls: the request*() methods are typed and may be called from any thread; each queues its
// work on the worker's thread, so an answer asked for after a load runs on the loaded model.
// A load or unload waits for the answers already running to end.
//
// Requests carry an id from newRequestId(), and every signal about an answer carries its
// request id: each caller (every chat) keeps the ids it issued and ignores the
// rest. requestCancel(id) (that request only) and cancelAll() (everything issued so far) only
// touch atomics and a mutex: call them from any thread. A cancelled request that has not
// started yet finishes at once as cancelled.
//
// Signals about answers are emitted on generation threads; connect with a receiver context (a
// queued connection) to get them on the GUI thread.
//
// A device failure during an answer: the worker has the backend re-plan the model on the
// remaining devices and reload it (EngineBackend::recover), emits recovered() with the new
// layout, and goes on with the answer from where it stopped.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QThreadPool>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "engine/worker_types.h"
#include "perf/bench_run.h"
#include "strata/bench.h"

namespace strata::server {
class ModelSlot;
}

namespace strata::app {

class EngineBackend;
struct BackendModel;

class EngineWorker : public QObject {
    Q_OBJECT
public:
    explicit EngineWorker(std::unique_ptr<EngineBackend> backend, QObject* parent = nullptr);
    ~EngineWorker() override;

    // ---- thread-safe, callable directly from any thread
    quint64 newRequestId();
    void requestCancel(quint64 requestId);
    void cancelAll();
    // Whether a load or an answer is running.
    bool isBusy() const { return m_active.load() > 0; }
    // Blocks until every answer running now has ended (shutdown: after cancelAll()).
    void waitForAnswers() { m_generations.waitForDone(); }
    // The loaded model as the API server borrows it, request by request (EngineBackend::
    // modelSource; null for a backend without one). Fixed for the worker's life; thread-safe.
    // A device failure met by an API request has the worker re-plan the model as a chat
    // answer's does: recovered() follows with request id 0.
    strata::server::ModelSlot* modelSource() const { return m_source; }

    // ---- typed requests, callable from any thread: queued onto the worker's thread
    void requestDevices(const strata::app::DeviceSpecList& specs);
    void requestLoad(quint64 requestId, const QString& path, const strata::LoadOptions& options);
    void requestUnload();
    // One chat turn: promptReady, then reasoningReceived / tokenReceived as the output streams,
    // then answerParsed (on success) and generationFinished, all with `requestId`.
    void requestChat(quint64 requestId, const strata::app::ChatRequest& request, const strata::GenerateParams& params);
    void requestStats();
    // A benchmark of the loaded model (strata::run_bench on a leased sequence): benchFinished or
    // benchFailed with `requestId`. Runs on the worker's thread (a load waits for it);
    // requestCancel(requestId) stops it between runs.
    void requestBench(quint64 requestId, const strata::BenchOptions& options);
    // Times this machine's GPU links and stores them (EngineBackend::measureLinks): linksMeasured
    // or linksMeasureFailed with `requestId`, then linksDescribed with the new matrix. Waits for
    // the answers running now; seconds per GPU pair.
    void requestMeasureLinks(quint64 requestId);

    // ---- the bodies of the requests above; run on the worker's thread
    void describeDevices(const strata::app::DeviceSpecList& specs);
    void loadModel(quint64 requestId, const QString& path, const strata::LoadOptions& options);
    void unloadModel();
    void generate(quint64 requestId, const strata::app::ChatRequest& request, const strata::GenerateParams& params);
    void pollStats();
    // After an API request met a device failure: re-plans the model on the remaining devices
    // (once, when no answer has yet; see EngineBackend::recover) and emits recovered(0, ...), or
    // failed("recover", ...).
    void recoverServedModel(uint64_t seenGeneration, const QString& failure);
    void runBench(quint64 requestId, const strata::BenchOptions& options);
    void measureLinks(quint64 requestId);

signals:
    void devicesDescribed(const strata::app::DeviceSpecList& specs, const strata::app::DeviceInfoList& devices,
                          const QString& gpuStatus);
    // How the devices of the last devicesDescribed are linked (EngineBackend::linksBetween; empty
    // without GPUs), after each devicesDescribed and after a link measurement.
    void linksDescribed(const strata::LinkMatrix& links);
    void linksMeasured(quint64 requestId, const strata::LinkProbeReport& report);
    void linksMeasureFailed(quint64 requestId, const QString& message);

    void loadStarted(const QString& path);
    void loadProgress(const QString& deviceId, quint64 done, quint64 total);
    void loaded(const strata::app::LoadedModel& model);
    void unloaded();

    // generate(): which template rendered the prompt, and a warning when a built-in format
    // stood in for the model's template.
    void promptReady(quint64 requestId, const strata::app::PromptInfo& info);
    // The answer's content as it streams.
    void tokenReceived(quint64 requestId, const QString& text);
    // generate(): the model's reasoning as it streams, kept apart from the answer.
    void reasoningReceived(quint64 requestId, const QString& text);
    // generate(): the whole output parsed, just before generationFinished (not on failure).
    void answerParsed(quint64 requestId, const strata::app::ParsedAnswer& answer);
    // Why an answer failed (`code` for callers that map it: ErrorCode::busy when every slot is
    // taken and the queue is full); generationFinished (stop == error) follows.
    void generationFailed(quint64 requestId, strata::ErrorCode code, const QString& message);
    void generationFinished(quint64 requestId, const strata::GenerateStats& stats);
    // An answer began to run on its generation thread (generationFinished follows, always).
    void generationStarted(quint64 requestId);
    // A device failed during the answer `requestId` (0: an API request's); the model was
    // re-planned and reloaded on the remaining devices (`model` has the new plan) and the
    // answer goes on. `failure` says what failed.
    void recovered(quint64 requestId, const QString& failure, const strata::app::LoadedModel& model);

    // what: "devices", "load", "recover" (after an API request's device failure); message: for the user, names file/device/size. (A failed answer
    // is generationFailed: only its owner should show it.)
    void failed(const QString& what, const QString& message);
    void statsUpdated(const strata::app::EngineStats& stats);
    // The bench's figures (tests, prefill and decode tok/s); the rest of the run is the caller's.
    void benchFinished(quint64 requestId, const strata::app::BenchRun& run);
    void benchFailed(quint64 requestId, const QString& message);

private:
    struct Job {
        quint64 requestId = 0;
        ChatRequest request;
        strata::GenerateParams params;
        std::shared_ptr<std::atomic<bool>> cancel;
    };
    // Registers a request about to run and returns its cancel flag; null when it was cancelled
    // already.
    std::shared_ptr<std::atomic<bool>> begin(quint64 requestId);
    void end(quint64 requestId);
    void start(Job job);
    // On a generation thread: the answer, recovering from device failures.
    void run(Job job);
    // One try of the answer; `streamed`/`streamedTokens` grow with what it streams.
    strata::Result<strata::GenerateStats> attempt(const Job& job, QString& streamed, int& streamedTokens);
    LoadedModel toLoadedModel(const BackendModel& m) const;
    void emitStats();
    // Sends the stats to the device monitor when the last update is old enough.
    void maybeEmitStats();

    std::unique_ptr<EngineBackend> m_backend;
    strata::server::ModelSlot* m_source = nullptr;  // m_backend's
    std::atomic<int> m_active{0};  // loads and answers running
    std::atomic<quint64> m_nextRequestId{1};
    std::mutex m_cancelMutex;      // guards the three below
    std::set<quint64> m_cancelled; // requests cancelled before they started
    quint64 m_cancelledUpTo = 0;   // cancelAll(): every request id <= this is cancelled
    std::map<quint64, std::shared_ptr<std::atomic<bool>>> m_running;  // requests running now
    QString m_loadedPath;          // set on the worker's thread while no answer runs
    std::vector<strata::DeviceInfo> m_describedDevices;  // the last devicesDescribed's (worker's thread)
    std::mutex m_statsMutex;
    QElapsedTimer m_statsClock;
    // Generation threads; after m_backend so that it is destroyed (and waited for) first.
    QThreadPool m_generations;
};

}  // namespace strata::app
