// DeviceMonitor: the GUI thread's picture of the devices — what they are, what the loaded model
// put where (its plan), what each holds now and how busy each stage is. Fed by the worker's
// signals; polls the worker about once a second while a model is loaded and the worker is idle
// (while it generates, the worker sends figures on its own).
//
// It also reads each NVIDIA GPU's live figures (load, memory used by every process, temperature,
// power) through its own GpuTelemetryReader, about once a second on the GUI thread, whenever the
// devices include a GPU: NVML answers in microseconds, so no thread is needed. When NVML is
// missing it stops polling and telemetryStatus() says why.
#pragma once

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QTimer>
#include <optional>

#include <memory>

#include "allocation/allocation.h"
#include "engine/worker_types.h"
#include "strata/gpu_telemetry.h"

namespace strata::app {

class EngineWorker;
class ModelState;

// The status bar's line about the devices, in words for people, and the engine's own account
// for the tooltip and the log. Without a GPU this is not an error: "No NVIDIA GPU found;
// running on the CPU", with why (no driver, no CUDA module) in `details` only.
struct DeviceSummary {
    QString text;
    QString details;
};
DeviceSummary describeDevices(const AppDevices& devices, const QString& gpuStatus);

class DeviceMonitor : public QObject {
    Q_OBJECT
public:
    // `model` (with a worker): what is loaded, followed as it changes (model() mirrors it for
    // the views).
    explicit DeviceMonitor(EngineWorker* worker, const ModelState* model = nullptr, QObject* parent = nullptr);

    const AppDevices& devices() const { return m_devices; }
    QString gpuStatus() const { return m_gpuStatus; }
    const std::optional<LoadedModel>& model() const { return m_model; }
    const EngineStats& stats() const { return m_stats; }
    // Share of the last interval the device's stages were busy (0..1), when known. Strata's own
    // measure; a GPU's hardware load, all processes included, is in telemetry().
    std::optional<double> utilisation(const QString& deviceId) const;
    // The GPU's latest live figures (ok() or with the reason there are none); nullopt for devices
    // that are not GPUs or before the first reading.
    std::optional<strata::GpuTelemetry> telemetry(const QString& deviceId) const;
    // "" while telemetry works (or no GPU is listed); else "telemetry unavailable: <why>".
    QString telemetryStatus() const { return m_telemetryStatus; }
    bool isPollingTelemetry() const { return m_telemetryTimer.isActive(); }

    // For views fed without a worker (screenshots, tests).
    void setDevices(const AppDevices& devices, const QString& gpuStatus);
    void setModel(const std::optional<LoadedModel>& model);
    void setStats(const EngineStats& stats);
    // The reader polled while GPUs are listed (default: libnvidia-ml.so.1, or the library named
    // by $STRATA_NVML_LIBRARY). nullptr: no live telemetry; setTelemetry() feeds figures instead.
    void setTelemetryReader(std::unique_ptr<strata::GpuTelemetryReader> reader);
    void setTelemetry(const QList<strata::GpuTelemetry>& telemetry);
    // Reads the GPUs now (what the timer does once a second).
    void pollTelemetry();
    int telemetryInterval() const { return m_telemetryTimer.interval(); }
    void setTelemetryInterval(int ms) { m_telemetryTimer.setInterval(ms); }

signals:
    void devicesChanged();
    void modelChanged();
    void statsChanged();
    void telemetryChanged();

private:
    void poll();
    void updateTelemetryPolling();

    EngineWorker* m_worker;
    AppDevices m_devices;
    QString m_gpuStatus;
    std::optional<LoadedModel> m_model;
    EngineStats m_stats;
    QHash<QString, double> m_busy;         // busy seconds per device at the last update
    QHash<QString, double> m_utilisation;
    QElapsedTimer m_sinceLast;
    QTimer m_pollTimer;
    std::unique_ptr<strata::GpuTelemetryReader> m_reader;
    QHash<QString, strata::GpuTelemetry> m_telemetry;
    QString m_telemetryStatus;
    QTimer m_telemetryTimer;
};

}  // namespace strata::app
