#include "engine/engine_worker.h"

#include <QElapsedTimer>
#include <exception>

#include "engine/engine_backend.h"

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

}  // namespace

EngineWorker::EngineWorker(std::unique_ptr<EngineBackend> backend, QObject* parent)
    : QObject(parent), m_backend(std::move(backend)) {
    m_statsClock.start();
}

EngineWorker::~EngineWorker() = default;

quint64 EngineWorker::newRequestId() { return m_nextRequestId.fetch_add(1); }

void EngineWorker::requestCancel(quint64 requestId) {
    std::lock_guard lock(m_cancelMutex);
    if (m_running == requestId) m_cancel.store(true);
    else m_cancelled.insert(requestId);  // not started yet (or already done: then never used)
}

void EngineWorker::cancelAll() {
    std::lock_guard lock(m_cancelMutex);
    m_cancelledUpTo = m_nextRequestId.load() - 1;
    if (m_running != 0) m_cancel.store(true);
}

bool EngineWorker::begin(quint64 requestId) {
    std::lock_guard lock(m_cancelMutex);
    m_running = requestId;
    const bool cancelled = requestId <= m_cancelledUpTo || m_cancelled.erase(requestId) > 0;
    m_cancel.store(cancelled);
    m_busy.store(true);
    return cancelled;
}

void EngineWorker::end() {
    std::lock_guard lock(m_cancelMutex);
    m_running = 0;
    m_busy.store(false);
}

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
    } catch (const std::exception& e) {
        emit failed(QStringLiteral("devices"), QString::fromUtf8(e.what()));
    }
}

void EngineWorker::planModel(const QString& path, const strata::LoadOptions& options) {
    try {
        auto r = m_backend->plan(path.toStdString(), options);
        if (r.ok()) emit planned(path, *r);
        else emit planFailed(path, qs(r.status().message()));
    } catch (const std::exception& e) {
        emit planFailed(path, QString::fromUtf8(e.what()));
    }
}

void EngineWorker::loadModel(quint64 requestId, const QString& path, const strata::LoadOptions& options) {
    if (begin(requestId)) {
        end();
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
        auto r = m_backend->load(path.toStdString(), options, progress, &m_cancel);
        end();
        if (!r.ok()) {
            emit failed(QStringLiteral("load"), qs(r.status().message()));
            return;
        }
        LoadedModel m;
        m.path = path;
        m.info = r->info;
        m.request = r->request;
        m.plan = r->plan;
        m.nCtx = r->n_ctx;
        m.chatFormat = qs(r->chat_format);
        m.loadSeconds = clock.elapsed() / 1000.0;
        emit loaded(m);
        emitStats();
    } catch (const std::exception& e) {
        end();
        emit failed(QStringLiteral("load"), QString::fromUtf8(e.what()));
    }
}

void EngineWorker::unloadModel() {
    m_backend->unload();
    emit unloaded();
    emit statsUpdated({});
}

namespace {

strata::ChatPromptRequest toPromptRequest(const ChatRequest& request) {
    strata::ChatPromptRequest out;
    out.messages.reserve(size_t(request.turns.size()));
    for (const ChatTurn& t : request.turns) {
        strata::ChatMessage m{roleName(t.role).toStdString(), t.content.toStdString()};
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

void EngineWorker::generate(quint64 requestId, qint64 conversationId, const ChatRequest& request,
                            const strata::GenerateParams& params) {
    runGeneration(requestId, conversationId, [&]() -> strata::Result<strata::GenerateStats> {
        strata::ChatTurnCallbacks callbacks;
        callbacks.on_prompt = [&](const strata::ChatPrompt& prompt, const strata::OutputFormats& formats) {
            PromptInfo info;
            info.templateName = qs(prompt.template_name);
            info.warning = qs(prompt.warning);
            info.formats = formats;
            emit promptReady(conversationId, info);
        };
        callbacks.on_delta = [&](const strata::OutputDelta& d) {
            const QString text = QString::fromUtf8(d.text.data(), qsizetype(d.text.size()));
            // Harmony tool-call bodies are not text for anyone to read: answerParsed has the calls.
            if (d.channel == strata::OutputChannel::content) emit tokenReceived(conversationId, text);
            else if (d.channel == strata::OutputChannel::reasoning) emit reasoningReceived(conversationId, text);
            maybeEmitStats();
        };
        auto r = m_backend->generate(toPromptRequest(request), params, callbacks, &m_cancel);
        if (!r.ok()) return r.status();
        if (r->stats.stop != strata::StopReason::cancelled) emit answerParsed(conversationId, toParsedAnswer(*r));
        return r->stats;
    });
}

void EngineWorker::complete(quint64 requestId, qint64 conversationId, const QString& prompt,
                            const strata::GenerateParams& params) {
    runGeneration(requestId, conversationId, [&]() {
        return m_backend->complete(prompt.toStdString(), params, [&](std::string_view text) {
            emit tokenReceived(conversationId, QString::fromUtf8(text.data(), qsizetype(text.size())));
            maybeEmitStats();
        }, &m_cancel);
    });
}

void EngineWorker::maybeEmitStats() {
    if (m_statsClock.elapsed() >= kStatsIntervalMs) emitStats();
}

void EngineWorker::runGeneration(quint64 requestId, qint64 conversationId, const RunFn& run) {
    if (begin(requestId)) {
        end();
        emit generationFinished(conversationId, cancelledStats());
        return;
    }
    emit generationStarted(requestId, conversationId);
    auto fail = [&](const QString& message) {
        strata::GenerateStats s;
        s.stop = strata::StopReason::error;
        emit generationFailed(conversationId, message);
        emit generationFinished(conversationId, s);
    };
    try {
        auto r = run();
        end();
        if (!r.ok()) {
            if (r.status().code() == strata::ErrorCode::cancelled) {
                emit generationFinished(conversationId, cancelledStats());
                return;
            }
            fail(qs(r.status().message()));
            return;
        }
        emit generationFinished(conversationId, *r);
        emitStats();
    } catch (const std::exception& e) {
        end();
        fail(QString::fromUtf8(e.what()));
    }
}

void EngineWorker::pollStats() { emitStats(); }

void EngineWorker::emitStats() {
    m_statsClock.restart();
    EngineStats s;
    s.memory = toQList(m_backend->memory());
    s.timings = toQList(m_backend->stageTimings());
    emit statsUpdated(s);
}

}  // namespace strata::app
