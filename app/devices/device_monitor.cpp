#include "devices/device_monitor.h"

#include "engine/engine_worker.h"

namespace strata::app {

DeviceMonitor::DeviceMonitor(EngineWorker* worker, QObject* parent) : QObject(parent), m_worker(worker) {
    m_pollTimer.setInterval(1000);
    connect(&m_pollTimer, &QTimer::timeout, this, &DeviceMonitor::poll);
    if (!worker) return;
    connect(worker, &EngineWorker::loaded, this, [this](const LoadedModel& m) {
        setModel(m);
        m_pollTimer.start();
    });
    connect(worker, &EngineWorker::unloaded, this, [this] {
        m_pollTimer.stop();
        setModel(std::nullopt);
    });
    connect(worker, &EngineWorker::statsUpdated, this, &DeviceMonitor::setStats);
}

void DeviceMonitor::poll() {
    if (m_worker && !m_worker->isBusy()) QMetaObject::invokeMethod(m_worker, "pollStats", Qt::QueuedConnection);
}

std::optional<double> DeviceMonitor::utilisation(const QString& deviceId) const {
    auto it = m_utilisation.constFind(deviceId);
    if (it == m_utilisation.constEnd()) return std::nullopt;
    return *it;
}

void DeviceMonitor::setDevices(const AppDevices& devices, const QString& gpuStatus) {
    m_devices = devices;
    m_gpuStatus = gpuStatus;
    emit devicesChanged();
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
