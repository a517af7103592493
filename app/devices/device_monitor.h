// DeviceMonitor: the GUI thread's picture of the devices — what they are, what the loaded model
// put where (its plan), what each holds now and how busy each stage is. Fed by the worker's
// signals; polls the worker about once a second while a model is loaded and the worker is idle
// (while it generates, the worker sends figures on its own).
#pragma once

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QTimer>
#include <optional>

#include "allocation/allocation.h"
#include "engine/worker_types.h"

namespace strata::app {

class EngineWorker;

class DeviceMonitor : public QObject {
    Q_OBJECT
public:
    explicit DeviceMonitor(EngineWorker* worker, QObject* parent = nullptr);

    const AppDevices& devices() const { return m_devices; }
    QString gpuStatus() const { return m_gpuStatus; }
    const std::optional<LoadedModel>& model() const { return m_model; }
    const EngineStats& stats() const { return m_stats; }
    // Share of the last interval the device's stages were busy (0..1), when known.
    std::optional<double> utilisation(const QString& deviceId) const;

    // For views fed without a worker (screenshots, tests).
    void setDevices(const AppDevices& devices, const QString& gpuStatus);
    void setModel(const std::optional<LoadedModel>& model);
    void setStats(const EngineStats& stats);

signals:
    void devicesChanged();
    void modelChanged();
    void statsChanged();

private:
    void poll();

    EngineWorker* m_worker;
    AppDevices m_devices;
    QString m_gpuStatus;
    std::optional<LoadedModel> m_model;
    EngineStats m_stats;
    QHash<QString, double> m_busy;         // busy seconds per device at the last update
    QHash<QString, double> m_utilisation;
    QElapsedTimer m_sinceLast;
    QTimer m_pollTimer;
};

}  // namespace strata::app
