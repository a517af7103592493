#include "devices/device_monitor.h"

#include <QDateTime>
#include <QLocale>

#include <algorithm>
#include <limits>

#include "engine/engine_worker.h"
#include "engine/model_state.h"

namespace strata::app {

DeviceSummary describeDevices(const AppDevices& devices, const QString& gpuStatus) {
    DeviceSummary out;
    if (devices.isEmpty()) {
        out.text = QObject::tr("Looking for devices…");
        return out;
    }
    QStringList gpus, cpus, lines;
    for (const AppDevice& d : devices) {
        const QString id = QString::fromStdString(d.info.id);
        (d.info.type == strata::DeviceType::cuda ? gpus : cpus) << id;
        lines << QStringLiteral("%1: %2, %3 free")
                     .arg(id, QString::fromStdString(d.info.name),
                          QLocale().formattedDataSize(qint64(d.info.free_memory), 1, QLocale::DataSizeIecFormat));
    }
    if (gpus.isEmpty())
        out.text = QObject::tr("No NVIDIA GPU found; running on the CPU");
    else if (cpus.isEmpty())
        out.text = QObject::tr("Running on %1").arg(gpus.join(QStringLiteral(", ")));
    else
        out.text = QObject::tr("Running on %1 and the CPU").arg(gpus.join(QStringLiteral(", ")));
    if (!gpuStatus.isEmpty()) lines.prepend(QObject::tr("CUDA: %1").arg(gpuStatus));
    out.details = lines.join(QLatin1Char('\n'));
    return out;
}

DeviceMonitor::DeviceMonitor(EngineWorker* worker, const ModelState* model, QObject* parent)
    : QObject(parent), m_worker(worker) {
    qRegisterMetaType<strata::app::TelemetrySample>();
    qRegisterMetaType<strata::app::DeviceInfoList>("strata::app::DeviceInfoList");
    m_pollTimer.setInterval(1000);
    connect(&m_pollTimer, &QTimer::timeout, this, &DeviceMonitor::poll);
    m_thread.setObjectName(QStringLiteral("strata-monitor"));
    // honours $STRATA_NVML_LIBRARY; nothing is loaded until the first reading
    startSampler(nvmlReadFunction(std::make_unique<strata::GpuTelemetryReader>()));
    if (!worker) return;
    // Loaded, unloaded, or re-planned onto the remaining devices after a device failure.
    if (model)
        connect(model, &ModelState::modelChanged, this, [this, model] {
            setModel(model->loaded());
            if (model->isLoaded()) m_pollTimer.start();
            else m_pollTimer.stop();
        });
    connect(worker, &EngineWorker::statsUpdated, this, &DeviceMonitor::setStats);
    // Answers running: sample ten times a second until the last one ends.
    connect(worker, &EngineWorker::generationStarted, this, [this](quint64 id) {
        m_running.insert(id);
        setGenerating(true);
    });
    connect(worker, &EngineWorker::generationFinished, this, [this](quint64 id, const strata::GenerateStats& s) {
        if (m_running.remove(id) && s.stop != strata::StopReason::error && s.stop != strata::StopReason::cancelled) {
            AnswerFigures a;
            a.atMs = QDateTime::currentMSecsSinceEpoch();
            a.ttftSeconds = s.time_to_first_token;
            a.promptTokensPerSecond = s.prompt_tps();
            a.decodeTokensPerSecond = s.generate_tps();
            a.generated = s.n_generated;
            recordAnswer(a);
        }
        setGenerating(!m_running.isEmpty());
    });
}

DeviceMonitor::~DeviceMonitor() { stopSampler(); }

void DeviceMonitor::stopSampler() {
    if (!m_sampler) return;
    m_thread.quit();
    m_thread.wait();  // the sampler is deleted on its thread as it ends (finished → deleteLater)
    m_sampler = nullptr;
}

void DeviceMonitor::startSampler(TelemetryReadFn read) {
    stopSampler();
    if (!read) return;
    m_sampler = new TelemetrySampler(std::move(read));
    m_sampler->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_sampler, &QObject::deleteLater);
    connect(m_sampler, &TelemetrySampler::sampled, this, &DeviceMonitor::recordSample);
    m_thread.start();
    applyInterval();
}

void DeviceMonitor::poll() {
    if (m_worker && !m_worker->isBusy()) m_worker->requestStats();
}

std::optional<double> DeviceMonitor::utilisation(const QString& deviceId) const {
    auto it = m_utilisation.constFind(deviceId);
    if (it == m_utilisation.constEnd()) return std::nullopt;
    return *it;
}

std::optional<strata::GpuTelemetry> DeviceMonitor::telemetry(const QString& deviceId) const {
    auto it = m_telemetry.constFind(deviceId);
    if (it == m_telemetry.constEnd()) return std::nullopt;
    return *it;
}

void DeviceMonitor::setDevices(const AppDevices& devices, const QString& gpuStatus) {
    m_devices = devices;
    m_gpuStatus = gpuStatus;
    emit devicesChanged();
    updateTelemetryPolling();
}

void DeviceMonitor::setLinks(const strata::LinkMatrix& links) {
    m_links = links;
    emit linksChanged();
}

void DeviceMonitor::setTelemetryReader(std::unique_ptr<strata::GpuTelemetryReader> reader) {
    setTelemetryReadFunction(reader ? nvmlReadFunction(std::move(reader)) : TelemetryReadFn());
}

void DeviceMonitor::setTelemetryReadFunction(TelemetryReadFn read) {
    m_telemetryStatus.clear();
    startSampler(std::move(read));
    updateTelemetryPolling();
}

void DeviceMonitor::setTelemetry(const QList<strata::GpuTelemetry>& telemetry) {
    m_telemetry.clear();
    for (const strata::GpuTelemetry& t : telemetry) m_telemetry.insert(QString::fromStdString(t.device_id), t);
    emit telemetryChanged();
}

void DeviceMonitor::recordSample(const TelemetrySample& sample) {
    if (!sample.status.isEmpty()) {
        // No NVML (no driver, or one too old): it will not appear while we run.
        m_telemetryStatus = sample.status;
        m_polling = false;
    }
    for (const strata::GpuTelemetry& t : sample.readings) {
        if (!t.ok() || sample.atMs <= 0) continue;
        const QString id = QString::fromStdString(t.device_id);
        if (t.utilisation_percent) m_history.add(id, TelemetryMetric::load, sample.atMs, *t.utilisation_percent);
        if (t.memory_used_bytes)
            m_history.add(id, TelemetryMetric::memoryUsed, sample.atMs, double(*t.memory_used_bytes) / double(1ull << 30));
        if (t.power_watts) m_history.add(id, TelemetryMetric::power, sample.atMs, *t.power_watts);
        if (t.temperature_c) m_history.add(id, TelemetryMetric::temperature, sample.atMs, *t.temperature_c);
    }
    setTelemetry(sample.readings);
    emit historyChanged();
}

void DeviceMonitor::recordAnswer(const AnswerFigures& answer) {
    m_answers.append(answer);
    if (m_answers.size() > kKeptAnswers) m_answers.remove(0, m_answers.size() - kKeptAnswers);
    emit answersChanged();
}

void DeviceMonitor::updateTelemetryPolling() {
    DeviceInfoList gpus;
    for (const AppDevice& d : m_devices)
        if (d.info.type == strata::DeviceType::cuda) gpus.append(d.info);
    if (gpus.isEmpty() && !m_telemetry.isEmpty()) setTelemetry({});
    m_polling = m_sampler && !gpus.isEmpty() && m_telemetryStatus.isEmpty();
    if (!m_sampler) return;
    TelemetrySampler* s = m_sampler;
    // Typed, queued onto the monitor thread: it reads at once when there are GPUs.
    QMetaObject::invokeMethod(s, [s, gpus] { s->setGpus(gpus); }, Qt::QueuedConnection);
}

void DeviceMonitor::pollTelemetry() {
    if (!m_sampler) return;
    TelemetrySampler* s = m_sampler;
    QMetaObject::invokeMethod(s, [s] { s->sampleNow(); }, Qt::QueuedConnection);
}

int DeviceMonitor::telemetryInterval() const { return m_generating ? std::min(kGeneratingIntervalMs, m_idleIntervalMs) : m_idleIntervalMs; }

void DeviceMonitor::setTelemetryInterval(int ms) {
    m_idleIntervalMs = std::max(ms, 1);
    applyInterval();
}

void DeviceMonitor::setGenerating(bool generating) {
    if (generating == m_generating) return;
    m_generating = generating;
    applyInterval();
    emit generatingChanged(generating);
}

void DeviceMonitor::applyInterval() {
    if (!m_sampler) return;
    TelemetrySampler* s = m_sampler;
    const int ms = telemetryInterval();
    QMetaObject::invokeMethod(s, [s, ms] { s->setInterval(ms); }, Qt::QueuedConnection);
}

void DeviceMonitor::setModel(const std::optional<LoadedModel>& model) {
    m_model = model;
    m_busy.clear();
    m_transfer.clear();
    m_tokens = 0;
    m_lastStatsMs = 0;
    m_utilisation.clear();
    if (!model) m_stats = {};
    emit modelChanged();
}

void DeviceMonitor::setStats(const EngineStats& stats) { recordStats(stats, QDateTime::currentMSecsSinceEpoch()); }

void DeviceMonitor::recordStats(const EngineStats& stats, qint64 atMs) {
    const double wall = m_lastStatsMs > 0 ? (atMs - m_lastStatsMs) / 1000.0 : 0.0;
    m_lastStatsMs = atMs;
    QHash<QString, double> busy, transfer;
    quint64 tokens = 0;
    int firstLayer = std::numeric_limits<int>::max();
    for (const strata::StageTiming& t : stats.timings) {
        const QString id = QString::fromStdString(t.device_id);
        busy[id] += t.busy_seconds;
        transfer[id] += t.transfer_seconds;
        if (t.layer_begin < firstLayer) {  // every token passes the first stage once
            firstLayer = t.layer_begin;
            tokens = t.tokens;
        }
    }
    const bool counted = wall > 0.05;
    for (auto it = busy.cbegin(); it != busy.cend(); ++it) {
        const double before = m_busy.value(it.key(), 0.0);
        if (counted && it.value() >= before) {
            m_utilisation[it.key()] = std::clamp((it.value() - before) / wall, 0.0, 1.0);
            m_history.add(it.key(), TelemetryMetric::stageBusy, atMs, 100.0 * m_utilisation[it.key()]);
            const double sent = transfer.value(it.key()) - m_transfer.value(it.key(), 0.0);
            if (sent >= 0) m_history.add(it.key(), TelemetryMetric::transferMs, atMs, 1000.0 * sent / wall);
        }
    }
    if (counted && !stats.timings.isEmpty() && tokens >= m_tokens)
        m_history.add(QString(), TelemetryMetric::tokensPerSecond, atMs, double(tokens - m_tokens) / wall);
    m_busy = busy;
    m_transfer = transfer;
    m_tokens = tokens;
    m_stats = stats;
    emit statsChanged();
    if (counted) emit historyChanged();
}

}  // namespace strata::app
