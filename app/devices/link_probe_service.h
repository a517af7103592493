// LinkProbeService: "Measure links" — times this machine's GPU links on the worker's thread
// (EngineWorker::requestMeasureLinks → strata::Engine::measure_links), which stores them for later
// plans, and keeps DeviceMonitor's link matrix up to date with how the devices are linked (the
// NVML topology with the stored measurements over it), so the Topology view draws this machine's
// links as it draws a simulated machine's.
//
// The one owner of the probe in flight (one at a time). Lives on the GUI thread; the App owns it.
#pragma once

#include <QObject>
#include <QString>

namespace strata::app {

class DeviceMonitor;
class EngineWorker;

class LinkProbeService : public QObject {
    Q_OBJECT
public:
    // `simulated`: the devices are a simulated machine's (strata --simulate): they keep the
    // profile's links and cannot be measured.
    LinkProbeService(EngineWorker& worker, DeviceMonitor& monitor, bool simulated, QObject* parent = nullptr);

    // Whether measure() would start, and if not, why ("" when it would): a simulated machine,
    // no GPU, or a measurement already running.
    bool canMeasure(QString* why = nullptr) const;
    bool isMeasuring() const { return m_requestId != 0; }
    // Whether there is anything a measurement could be about: GPUs (simulated ones included,
    // which canMeasure() then refuses with the reason). A view hides the control otherwise.
    bool hasGpus() const;
    // Starts a measurement; false (nothing started) when canMeasure() is false.
    bool measure();
    // The last measurement's outcome in words ("" before the first): the slowest link and where
    // the measurements were stored, or why it failed.
    QString lastResult() const { return m_lastResult; }

signals:
    // Started, finished or failed (lastResult() says which), or the devices changed so that
    // canMeasure() may have: a view re-reads the state.
    void stateChanged();

private:
    EngineWorker& m_worker;
    DeviceMonitor& m_monitor;
    bool m_simulated;
    quint64 m_requestId = 0;  // the measurement in flight; 0 = none
    QString m_lastResult;
};

}  // namespace strata::app
