#include "devices/device_monitor.h"

#include <QLocale>

#include <algorithm>

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
    m_pollTimer.setInterval(1000);
    connect(&m_pollTimer, &QTimer::timeout, this, &DeviceMonitor::poll);
    m_reader = std::make_unique<strata::GpuTelemetryReader>();  // honours $STRATA_NVML_LIBRARY
    m_telemetryTimer.setInterval(1000);
    connect(&m_telemetryTimer, &QTimer::timeout, this, &DeviceMonitor::pollTelemetry);
    if (!worker) return;
    // Loaded, unloaded, or re-planned onto the remaining devices after a device failure.
    if (model)
        connect(model, &ModelState::modelChanged, this, [this, model] {
            setModel(model->loaded());
            if (model->isLoaded()) m_pollTimer.start();
            else m_pollTimer.stop();
        });
    connect(worker, &EngineWorker::statsUpdated, this, &DeviceMonitor::setStats);
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

void DeviceMonitor::setTelemetryReader(std::unique_ptr<strata::GpuTelemetryReader> reader) {
    m_reader = std::move(reader);
    m_telemetryStatus.clear();
    updateTelemetryPolling();
}

void DeviceMonitor::setTelemetry(const QList<strata::GpuTelemetry>& telemetry) {
    m_telemetry.clear();
    for (const strata::GpuTelemetry& t : telemetry) m_telemetry.insert(QString::fromStdString(t.device_id), t);
    emit telemetryChanged();
}

void DeviceMonitor::updateTelemetryPolling() {
    const bool anyGpu = std::any_of(m_devices.cbegin(), m_devices.cend(),
                                    [](const AppDevice& d) { return d.info.type == strata::DeviceType::cuda; });
    if (!anyGpu && !m_telemetry.isEmpty()) setTelemetry({});
    if (!m_reader || !anyGpu) {
        m_telemetryTimer.stop();
        return;
    }
    pollTelemetry();  // figures at once, not a second later
}

void DeviceMonitor::pollTelemetry() {
    if (!m_reader) return;
    std::vector<strata::DeviceInfo> gpus;
    for (const AppDevice& d : m_devices)
        if (d.info.type == strata::DeviceType::cuda) gpus.push_back(d.info);
    const std::vector<strata::GpuTelemetry> read = m_reader->read(gpus);
    const strata::Status opened = m_reader->open();  // tried once by read(); this only recalls it
    if (!opened.ok()) {
        // No NVML (no driver, or one too old): it will not appear while we run.
        m_telemetryTimer.stop();
        m_telemetryStatus = QString::fromStdString(opened.message());
    } else if (!gpus.empty() && !m_telemetryTimer.isActive()) {
        m_telemetryTimer.start();
    }
    setTelemetry(QList<strata::GpuTelemetry>(read.begin(), read.end()));
}

void DeviceMonitor::setModel(const std::optional<LoadedModel>& model) {
    m_model = model;
    m_busy.clear();
    m_utilisation.clear();
    if (!model) m_stats = {};
    emit modelChanged();
}

void DeviceMonitor::setStats(const EngineStats& stats) {
    const double wall = m_sinceLast.isValid() ? m_sinceLast.restart() / 1000.0 : 0.0;
    if (!m_sinceLast.isValid()) m_sinceLast.start();
    QHash<QString, double> busy;
    for (const strata::StageTiming& t : stats.timings) busy[QString::fromStdString(t.device_id)] += t.busy_seconds;
    for (auto it = busy.cbegin(); it != busy.cend(); ++it) {
        const double before = m_busy.value(it.key(), 0.0);
        if (wall > 0.05 && it.value() >= before) m_utilisation[it.key()] = std::clamp((it.value() - before) / wall, 0.0, 1.0);
    }
    m_busy = busy;
    m_stats = stats;
    emit statsChanged();
}

}  // namespace strata::app
