// TelemetrySampler: reads the GPUs' live figures on a thread of its own (the monitor thread),
// at an interval its owner sets (DeviceMonitor: 1 s, 0.1 s while the app generates), and posts
// each reading as a small value (TelemetrySample) to whoever listens.
//
// Threads: the sampler object lives on the monitor thread (DeviceMonitor moves it there and
// owns the QThread). Its slots are called through queued connections from DeviceMonitor's
// typed signals; `sampled` is emitted on the monitor thread and reaches the GUI thread queued.
// The read function is only ever called on the monitor thread: NVML can stall for
// milliseconds (or far longer on a sick GPU), never the GUI.
#pragma once

#include <QList>
#include <QMetaType>
#include <QObject>
#include <functional>
#include <memory>
#include <vector>

#include "engine/worker_types.h"
#include "strata/gpu_telemetry.h"

class QTimer;

namespace strata::app {

// One reading of every listed GPU.
struct TelemetrySample {
    qint64 atMs = 0;                      // when it was read, ms since the epoch
    QList<strata::GpuTelemetry> readings; // in the order of the devices asked about
    QString status;                       // "" while NVML works; else "telemetry unavailable: <why>"
};

// Reads the figures of `gpus` (CUDA devices only); called on the monitor thread. A status that
// is not "" means NVML will never work here: the sampler stops.
using TelemetryReadFn = std::function<TelemetrySample(const std::vector<strata::DeviceInfo>& gpus)>;

// The read function of a GpuTelemetryReader (owned by the returned function).
TelemetryReadFn nvmlReadFunction(std::unique_ptr<strata::GpuTelemetryReader> reader);

class TelemetrySampler : public QObject {
    Q_OBJECT
public:
    explicit TelemetrySampler(TelemetryReadFn read, QObject* parent = nullptr);

    // Slots (the monitor thread; queued from DeviceMonitor). setGpus starts sampling (one
    // reading at once) when there are GPUs and stops it when there are none.
    void setGpus(const strata::app::DeviceInfoList& gpus);
    void setInterval(int ms);
    void sampleNow();

signals:
    void sampled(const strata::app::TelemetrySample& sample);

private:
    TelemetryReadFn m_read;
    std::vector<strata::DeviceInfo> m_gpus;
    QTimer* m_timer;
    bool m_dead = false;  // NVML said it will never work
};

}  // namespace strata::app

Q_DECLARE_METATYPE(strata::GpuTelemetry)
Q_DECLARE_METATYPE(strata::app::TelemetrySample)
