#include "devices/link_probe_service.h"

#include <QLocale>

#include "devices/device_monitor.h"
#include "engine/engine_worker.h"

namespace strata::app {

namespace {

bool hasGpu(const AppDevices& devices) {
    for (const AppDevice& d : devices)
        if (d.info.type == strata::DeviceType::cuda) return true;
    return false;
}

// "Measured 6 directions; the slowest: cuda0 → cuda1 (staged through host memory), 11.8 GB/s.
// Stored in FILE: plans on these GPUs now use the measured speeds."
QString describe(const strata::LinkProbeReport& r) {
    const strata::ProbedLink* slowest = nullptr;
    for (const strata::ProbedLink& l : r.links)
        if (!slowest || l.gbs < slowest->gbs) slowest = &l;
    QString text = r.links.size() == 1 ? LinkProbeService::tr("Measured 1 direction")
                                        : LinkProbeService::tr("Measured %1 directions").arg(r.links.size());
    if (slowest) {
        const QString path = slowest->path == "peer"     ? LinkProbeService::tr("peer copy")
                             : slowest->path == "staged" ? LinkProbeService::tr("staged through host memory")
                                                         : LinkProbeService::tr("host memory");
        text += LinkProbeService::tr("; the slowest: %1 → %2 (%3), %4 GB/s")
                    .arg(QString::fromStdString(slowest->from), QString::fromStdString(slowest->to), path,
                         QLocale().toString(slowest->gbs, 'f', 1));
    }
    text += QLatin1Char('.');
    if (!r.stored_at.empty())
        text += LinkProbeService::tr(" Stored in %1: plans on these GPUs now use the measured speeds.")
                    .arg(QString::fromStdString(r.stored_at));
    if (r.unnamed) text += LinkProbeService::tr(" A GPU without a PCI bus id: its links are shown but not stored.");
    return text;
}

}  // namespace

LinkProbeService::LinkProbeService(EngineWorker& worker, DeviceMonitor& monitor, bool simulated, QObject* parent)
    : QObject(parent), m_worker(worker), m_monitor(monitor), m_simulated(simulated) {
    connect(&worker, &EngineWorker::linksDescribed, this, [this](const strata::LinkMatrix& links) {
        if (!m_simulated) m_monitor.setLinks(links);  // a simulated machine keeps its profile's
    });
    connect(&worker, &EngineWorker::linksMeasured, this, [this](quint64 id, const strata::LinkProbeReport& report) {
        if (id != m_requestId) return;
        m_requestId = 0;
        m_lastResult = describe(report);
        emit stateChanged();
    });
    connect(&worker, &EngineWorker::linksMeasureFailed, this, [this](quint64 id, const QString& message) {
        if (id != m_requestId) return;
        m_requestId = 0;
        m_lastResult = tr("Measuring the links failed: %1").arg(message);
        emit stateChanged();
    });
    connect(&monitor, &DeviceMonitor::devicesChanged, this, &LinkProbeService::stateChanged);
}

bool LinkProbeService::hasGpus() const { return hasGpu(m_monitor.devices()); }

bool LinkProbeService::canMeasure(QString* why) const {
    QString reason;
    if (m_simulated)
        reason = tr("A simulated machine's links come from its profile; only real GPUs can be measured.");
    else if (!hasGpu(m_monitor.devices()))
        reason = tr("Measuring links needs NVIDIA GPUs; none was found (%1).").arg(m_monitor.gpuStatus());
    else if (isMeasuring())
        reason = tr("A measurement is running.");
    if (why) *why = reason;
    return reason.isEmpty();
}

bool LinkProbeService::measure() {
    if (!canMeasure()) return false;
    m_requestId = m_worker.newRequestId();
    m_worker.requestMeasureLinks(m_requestId);
    emit stateChanged();
    return true;
}

}  // namespace strata::app
