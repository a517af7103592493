// EngineWorker: owns the engine (through an EngineBackend) and runs every engine call on the
// thread it is moved to. The GUI talks to it only through queued slots and value-type signals;
// app code (App / main.cpp) owns the QThread.
//
// Requests that can take long (load, generate) carry a request id from newRequestId().
// requestCancel(id) (that request only) and cancelAll() (everything issued so far) may be called
// directly from any thread — they only touch atomics and a mutex — so Stop works while the
// worker is busy. A cancelled request that has not started yet finishes at once as cancelled.
//
// Answers are tagged with the conversation id the caller passed to generate() / complete(),
// so several callers share one worker and each keeps only its own tokens: the chat uses its
// conversations' ids (> 0), the API server negative ones (see ApiServer).
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>

#include "engine/worker_types.h"

namespace strata::app {

class EngineBackend;

class EngineWorker : public QObject {
    Q_OBJECT
public:
    explicit EngineWorker(std::unique_ptr<EngineBackend> backend, QObject* parent = nullptr);
    ~EngineWorker() override;

    // ---- thread-safe, callable directly from the GUI thread
    quint64 newRequestId();
    void requestCancel(quint64 requestId);
    void cancelAll();
    bool isBusy() const { return m_busy.load(); }

public slots:
    void describeDevices(const strata::app::DeviceSpecList& specs);
    void planModel(const QString& path, const strata::LoadOptions& options);
    void loadModel(quint64 requestId, const QString& path, const strata::LoadOptions& options);
    void unloadModel();
    // One chat turn: promptReady, then reasoningReceived / tokenReceived as the output streams,
    // then answerParsed (on success) and generationFinished.
    void generate(quint64 requestId, qint64 conversationId, const strata::app::ChatRequest& request,
                  const strata::GenerateParams& params);
    // Continues `prompt` as plain text (no chat template): the API's /v1/completions.
    void complete(quint64 requestId, qint64 conversationId, const QString& prompt, const strata::GenerateParams& params);
    // Queued form of cancelAll() (for connecting to a signal).
    void cancel() { cancelAll(); }
    void pollStats();

signals:
    void devicesDescribed(const strata::app::DeviceSpecList& specs, const strata::app::DeviceInfoList& devices,
                          const QString& gpuStatus);
    void planned(const QString& path, const strata::PlanReport& report);
    void planFailed(const QString& path, const QString& message);

    void loadStarted(const QString& path);
    void loadProgress(const QString& deviceId, quint64 done, quint64 total);
    void loaded(const strata::app::LoadedModel& model);
    void unloaded();

    void generationStarted(quint64 requestId, qint64 conversationId);
    // generate(): which template rendered the prompt, and a warning when a built-in format
    // stood in for the model's template.
    void promptReady(qint64 conversationId, const strata::app::PromptInfo& info);
    // The answer's text as it streams (generate(): its content only; complete(): everything).
    void tokenReceived(qint64 conversationId, const QString& text);
    // generate(): the model's reasoning as it streams, kept apart from the answer.
    void reasoningReceived(qint64 conversationId, const QString& text);
    // generate(): the whole output parsed, just before generationFinished (not on failure).
    void answerParsed(qint64 conversationId, const strata::app::ParsedAnswer& answer);
    // Why an answer failed; generationFinished (stop == error) follows for the same conversation.
    void generationFailed(qint64 conversationId, const QString& message);
    void generationFinished(qint64 conversationId, const strata::GenerateStats& stats);

    // what: "devices", "load"; message: for the user, names file/device/size. (A failed answer
    // is generationFailed: only its conversation's owner should show it.)
    void failed(const QString& what, const QString& message);
    void statsUpdated(const strata::app::EngineStats& stats);

private:
    // Arms the cancel flag for a request about to run; true when it was cancelled already.
    bool begin(quint64 requestId);
    void end();
    void emitStats();
    // The body of generate() and complete(): `run` calls the backend with the text callback.
    // The body of generate() and complete(): `run` calls the backend; it emits the streamed
    // text itself and returns the stats.
    using RunFn = std::function<strata::Result<strata::GenerateStats>()>;
    void runGeneration(quint64 requestId, qint64 conversationId, const RunFn& run);
    // Sends the stats to the device monitor when the last update is old enough.
    void maybeEmitStats();

    std::unique_ptr<EngineBackend> m_backend;
    std::atomic<bool> m_cancel{false};
    std::atomic<bool> m_busy{false};
    std::atomic<quint64> m_nextRequestId{1};
    std::mutex m_cancelMutex;      // guards the three below
    std::set<quint64> m_cancelled; // requests cancelled before they started
    quint64 m_cancelledUpTo = 0;   // cancelAll(): every request id <= this is cancelled
    quint64 m_running = 0;         // the request running now (0: none)
    QElapsedTimer m_statsClock;
};

}  // namespace strata::app
