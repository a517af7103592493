#include "engine/engine_worker.h"

#include <QElapsedTimer>
#include <QRunnable>
#include <exception>

#include "engine/engine_backend.h"
#include "strata/server/model_source.h"

namespace strata::app {

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

template <class T>
QList<T> toQList(const std::vector<T>& v) {
    return QList<T>(v.begin(), v.end());
}

strata::GenerateStats cancelledStats() {
    strata::GenerateStats s;
    s.stop = strata::StopReason::cancelled;
    return s;
}

constexpr qint64 kStatsIntervalMs = 500;
// Device failures one answer recovers from before it gives up (each loses a device).
constexpr int kMaxRecoveries = 2;
// Generation threads: enough for every slot (at most 64, Settings ▸ Parallel answers) and the
// SequencePool's bounded wait queue (64 by default), so that past it requests are refused with
// ErrorCode::busy rather than queueing here unseen. Idle threads end after 30 s.
constexpr int kMaxGenerationThreads = 64 + 64 + 8;

}  // namespace

EngineWorker::EngineWorker(std::unique_ptr<EngineBackend> backend, QObject* parent)
    : QObject(parent), m_backend(std::move(backend)), m_source(m_backend->modelSource()) {
    m_statsClock.start();
    m_generations.setMaxThreadCount(kMaxGenerationThreads);
    // Called on an API connection's thread, which still holds the model: the recovery (which
    // takes the model back from every request) runs later, on the worker's thread.
    if (m_source)
        m_source->set_on_device_failure([this](const strata::Status& failure) {
            const uint64_t seen = m_backend->generation();
            const QString what = qs(failure.message());
            QMetaObject::invokeMethod(this, [this, seen, what] { recoverServedModel(seen, what); }, Qt::QueuedConnection);
        });
}

EngineWorker::~EngineWorker() {
    if (m_source) m_source->set_on_device_failure(nullptr);
    cancelAll();
    m_generations.waitForDone();
}

quint64 EngineWorker::newRequestId() { return m_nextRequestId.fetch_add(1); }

void EngineWorker::requestCancel(quint64 requestId) {
    std::lock_guard lock(m_cancelMutex);
    if (auto it = m_running.find(requestId); it != m_running.end()) it->second->store(true);
    else m_cancelled.insert(requestId);  // not started yet (or already done: then never used)
}

void EngineWorker::cancelAll() {
    std::lock_guard lock(m_cancelMutex);
    m_cancelledUpTo = m_nextRequestId.load() - 1;
    for (auto& [id, flag] : m_running) flag->store(true);
}

std::shared_ptr<std::atomic<bool>> EngineWorker::begin(quint64 requestId) {
    std::lock_guard lock(m_cancelMutex);
    const bool cancelled = requestId <= m_cancelledUpTo || m_cancelled.erase(requestId) > 0;
    if (cancelled) return nullptr;
    auto flag = std::make_shared<std::atomic<bool>>(false);
    m_running[requestId] = flag;
    ++m_active;
    return flag;
}

void EngineWorker::end(quint64 requestId) {
    std::lock_guard lock(m_cancelMutex);
    if (m_running.erase(requestId) > 0) --m_active;
}

// ---- typed requests

void EngineWorker::requestDevices(const DeviceSpecList& specs) {
    QMetaObject::invokeMethod(this, [this, specs] { describeDevices(specs); }, Qt::QueuedConnection);
}

void EngineWorker::requestLoad(quint64 requestId, const QString& path, const strata::LoadOptions& options) {
    QMetaObject::invokeMethod(this, [this, requestId, path, options] { loadModel(requestId, path, options); },
                              Qt::QueuedConnection);
}

void EngineWorker::requestUnload() {
    QMetaObject::invokeMethod(this, [this] { unloadModel(); }, Qt::QueuedConnection);
}

void EngineWorker::requestChat(quint64 requestId, const ChatRequest& request, const strata::GenerateParams& params) {
    QMetaObject::invokeMethod(this, [this, requestId, request, params] { generate(requestId, request, params); },
                              Qt::QueuedConnection);
}

void EngineWorker::requestStats() {
    QMetaObject::invokeMethod(this, [this] { pollStats(); }, Qt::QueuedConnection);
}

void EngineWorker::requestBench(quint64 requestId, const strata::BenchOptions& options) {
    QMetaObject::invokeMethod(this, [this, requestId, options] { runBench(requestId, options); }, Qt::QueuedConnection);
}

void EngineWorker::requestMeasureLinks(quint64 requestId) {
    QMetaObject::invokeMethod(this, [this, requestId] { measureLinks(requestId); }, Qt::QueuedConnection);
}

void EngineWorker::measureLinks(quint64 requestId) {
    try {
        auto report = m_backend->measureLinks();
        if (!report.ok()) {
            emit linksMeasureFailed(requestId, qs(report.status().message()));
            return;
        }
        emit linksMeasured(requestId, *report);
        emit linksDescribed(m_backend->linksBetween(m_describedDevices));
    } catch (const std::exception& e) {
        emit linksMeasureFailed(requestId, QString::fromUtf8(e.what()));
    }
}

void EngineWorker::runBench(quint64 requestId, const strata::BenchOptions& options) {
    const auto cancel = begin(requestId);
    if (!cancel) {
        emit benchFailed(requestId, tr("The benchmark was cancelled."));
        return;
    }
    try {
        auto r = m_backend->bench(options, cancel.get());
        end(requestId);
        if (!r.ok()) {
            emit benchFailed(requestId, qs(r.status().message()));
            return;
        }
        BenchRun run;
        run.prefillTokensPerSecond = r->prefill_tokens_per_second();
        run.decodeTokensPerSecond = r->decode_tokens_per_second();
        for (const strata::BenchTest& t : r->tests) run.tests.append({qs(t.name), t.tokens_per_second});
        // The engine's bench log gets every run, the app's too (strata/bench_log.h): the planner
        // calibrates from it. Not stored there is a note, not a failed bench.
        if (auto record = m_backend->benchRecord(*r, options); record.ok()) {
            run.recordId = qs(record->id);
            if (const strata::Status s = strata::append_bench_record(*record, strata::bench_log_path()); !s.ok())
                qWarning("bench log: %s", s.message().c_str());
        }
        emit benchFinished(requestId, run);
        emitStats();
    } catch (const std::exception& e) {
        end(requestId);
        emit benchFailed(requestId, QString::fromUtf8(e.what()));
    }
}

// ---- on the worker's thread

void EngineWorker::describeDevices(const DeviceSpecList& specs) {
    try {
        std::vector<strata::DeviceInfo> devices;
        if (specs.isEmpty()) {
            devices = m_backend->availableDevices();
        } else {
            auto d = m_backend->describeDevices(std::vector<strata::DeviceSpec>(specs.begin(), specs.end()));
            if (!d.ok()) {
                emit failed(QStringLiteral("devices"), qs(d.status().message()));
                return;
            }
            devices = std::move(d).value();
        }
        emit devicesDescribed(specs, toQList(devices), qs(m_backend->gpuStatus()));
        m_describedDevices = devices;
        emit linksDescribed(m_backend->linksBetween(devices));
    } catch (const std::exception& e) {
        emit failed(QStringLiteral("devices"), QString::fromUtf8(e.what()));
    }
}

LoadedModel EngineWorker::toLoadedModel(const BackendModel& r) const {
    LoadedModel m;
    m.path = m_loadedPath;
    m.info = r.info;
    m.request = r.request;
    m.plan = r.plan;
    m.nCtx = r.n_ctx;
    m.nSeq = r.n_seq;
    m.chatFormat = qs(r.chat_format);
    return m;
}

void EngineWorker::loadModel(quint64 requestId, const QString& path, const strata::LoadOptions& options) {
    m_generations.waitForDone();  // the answers asked for before this load end on the old model
    const auto cancel = begin(requestId);
    if (!cancel) {
        emit failed(QStringLiteral("load"), tr("Loading %1 was cancelled.").arg(path));
        return;
    }
    emit loadStarted(path);
    QElapsedTimer clock;
    clock.start();
    try {
        auto progress = [this](const strata::LoadProgress& p) {
            emit loadProgress(qs(p.device_id), p.bytes_done, p.bytes_total);
        };
        m_loadedPath.clear();
        auto r = m_backend->load(path.toStdString(), options, progress, cancel.get());
        end(requestId);
        if (!r.ok()) {
            emit failed(QStringLiteral("load"), qs(r.status().message()));
            return;
        }
        m_loadedPath = path;
        LoadedModel m = toLoadedModel(*r);
        m.loadSeconds = clock.elapsed() / 1000.0;
        emit loaded(m);
        emitStats();
    } catch (const std::exception& e) {
        end(requestId);
        emit failed(QStringLiteral("load"), QString::fromUtf8(e.what()));
    }
}

void EngineWorker::recoverServedModel(uint64_t seenGeneration, const QString& failure) {
    auto rec = m_backend->recover(seenGeneration);  // once, however many requests met the failure
    if (!rec.ok()) {
        emit failed(QStringLiteral("recover"),
                    tr("A device failed during an API request (%1); recovering on the remaining devices failed: %2")
                        .arg(failure, qs(rec.status().message())));
        return;
    }
    emit recovered(0, failure, toLoadedModel(*rec));
    emitStats();
}

void EngineWorker::unloadModel() {
    m_generations.waitForDone();
    m_backend->unload();
    m_loadedPath.clear();
    emit unloaded();
    emit statsUpdated({});
}

void EngineWorker::generate(quint64 requestId, const ChatRequest& request, const strata::GenerateParams& params) {
    Job job;
    job.requestId = requestId;
    job.request = request;
    job.params = params;
    start(std::move(job));
}

void EngineWorker::start(Job job) {
    job.cancel = begin(job.requestId);
    if (!job.cancel) {
        emit generationFinished(job.requestId, cancelledStats());
        return;
    }
    m_generations.start([this, job = std::move(job)]() mutable {
        const quint64 id = job.requestId;
        emit generationStarted(id);
        // A generation thread catches what it throws: the answer fails, the app goes on.
        try {
            run(std::move(job));
        } catch (const std::exception& e) {
            strata::GenerateStats s;
            s.stop = strata::StopReason::error;
            end(id);
            emit generationFailed(id, strata::ErrorCode::internal, QString::fromUtf8(e.what()));
            emit generationFinished(id, s);
        }
    });
}

namespace {

strata::ChatPromptRequest toPromptRequest(const ChatRequest& request) {
    strata::ChatPromptRequest out;
    out.messages.reserve(size_t(request.turns.size()));
    for (const ChatTurn& t : request.turns) {
        strata::ChatMessage m;
        m.role = roleName(t.role).toStdString();
        m.content = t.content.toStdString();
        m.reasoning = t.reasoning.toStdString();
        for (const ChatToolCall& c : t.toolCalls)
            m.tool_calls.push_back({c.id.toStdString(), c.name.toStdString(), c.arguments.toStdString()});
        m.tool_call_id = t.toolCallId.toStdString();
        m.name = t.name.toStdString();
        out.messages.push_back(std::move(m));
    }
    // The API parsed both already; a value that does not parse here is left out, not guessed at.
    if (!request.toolsJson.isEmpty()) {
        auto tools = nlohmann::ordered_json::parse(request.toolsJson.toStdString(), nullptr, false);
        if (tools.is_array() && !tools.empty()) out.tools = std::move(tools);
    }
    if (!request.extraVarsJson.isEmpty()) {
        auto vars = nlohmann::ordered_json::parse(request.extraVarsJson.toStdString(), nullptr, false);
        if (vars.is_object()) out.extra_vars = std::move(vars);
    }
    out.custom_template = request.customTemplate.toStdString();
    out.assistant_prefix = request.continueFrom.toStdString();
    return out;
}

ParsedAnswer toParsedAnswer(const strata::ChatTurnResult& r) {
    ParsedAnswer a;
    a.reasoning = qs(r.output.reasoning);
    a.content = qs(r.output.content);
    for (const strata::ToolCall& c : r.output.calls) a.toolCalls.append({qs(c.id), qs(c.name), qs(c.arguments)});
    for (const strata::ToolCallProblem& p : r.output.problems) a.problems.append(qs(p.message));
    a.droppedTurns = r.dropped_turns;
    return a;
}

}  // namespace

strata::Result<strata::GenerateStats> EngineWorker::attempt(const Job& job, QString& streamed, int& streamedTokens) {
    const quint64 id = job.requestId;
    strata::ChatTurnCallbacks callbacks;
    callbacks.on_prompt = [&](const strata::ChatPrompt& prompt, const strata::OutputFormats& formats) {
        PromptInfo info;
        info.templateName = qs(prompt.template_name);
        info.warning = qs(prompt.warning);
        info.formats = formats;
        emit promptReady(id, info);
    };
    callbacks.on_delta = [&](const strata::OutputDelta& d) {
        const QString text = QString::fromUtf8(d.text.data(), qsizetype(d.text.size()));
        ++streamedTokens;
        // Harmony tool-call bodies are not text for anyone to read: answerParsed has the calls.
        if (d.channel == strata::OutputChannel::content) {
            streamed += text;
            emit tokenReceived(id, text);
        } else if (d.channel == strata::OutputChannel::reasoning) {
            emit reasoningReceived(id, text);
        }
        maybeEmitStats();
    };
    auto r = m_backend->generate(toPromptRequest(job.request), job.params, callbacks, job.cancel.get());
    if (!r.ok()) return r.status();
    if (r->stats.stop != strata::StopReason::cancelled) emit answerParsed(id, toParsedAnswer(*r));
    return r->stats;
}

void EngineWorker::run(Job job) {
    const quint64 id = job.requestId;
    auto fail = [&](strata::ErrorCode code, const QString& message) {
        strata::GenerateStats s;
        s.stop = strata::StopReason::error;
        end(id);
        emit generationFailed(id, code, message);
        emit generationFinished(id, s);
    };
    int streamedTokens = 0;  // tokens streamed by earlier tries
    for (int recoveries = 0;; ++recoveries) {
        const uint64_t generation = m_backend->generation();
        int triedTokens = 0;
        QString triedText;
        auto r = attempt(job, triedText, triedTokens);
        if (r.ok()) {
            end(id);
            strata::GenerateStats stats = *r;
            stats.n_generated += streamedTokens;
            emit generationFinished(id, stats);
            emitStats();
            return;
        }
        streamedTokens += triedTokens;
        const strata::Status& st = r.status();
        if (st.code() == strata::ErrorCode::cancelled) {
            end(id);
            emit generationFinished(id, cancelledStats());
            return;
        }
        if (st.code() != strata::ErrorCode::device_failure || recoveries >= kMaxRecoveries) {
            fail(st.code(), qs(st.message()));
            return;
        }
        // A device failed: re-plan on the rest, then go on from what was streamed.
        auto rec = m_backend->recover(generation);
        if (!rec.ok()) {
            fail(st.code(), tr("%1; recovering on the remaining devices failed: %2")
                                .arg(qs(st.message()), qs(rec.status().message())));
            return;
        }
        emit recovered(id, qs(st.message()), toLoadedModel(*rec));
        emitStats();
        job.request.continueFrom += triedText;
        job.params.max_tokens -= triedTokens;
        if (job.params.max_tokens <= 0) {
            end(id);
            strata::GenerateStats s;
            s.stop = strata::StopReason::max_tokens;
            s.n_generated = streamedTokens;
            emit generationFinished(id, s);
            return;
        }
    }
}

void EngineWorker::maybeEmitStats() {
    {
        std::lock_guard lock(m_statsMutex);
        if (m_statsClock.elapsed() < kStatsIntervalMs) return;
    }
    emitStats();
}

void EngineWorker::pollStats() { emitStats(); }

void EngineWorker::emitStats() {
    {
        std::lock_guard lock(m_statsMutex);
        m_statsClock.restart();
    }
    EngineStats s;
    s.memory = toQList(m_backend->memory());
    s.timings = toQList(m_backend->stageTimings());
    emit statsUpdated(s);
}

}  // namespace strata::app
