// DeviceMonitor: the GUI thread's picture of the devices — what they are, what the loaded model
// put where (its plan), what each holds now and how busy each stage is. Fed by the worker's
// signals; polls the worker about once a second while a model is loaded and the worker is idle
// (while it generates, the worker sends figures on its own).
//
// It also has each NVIDIA GPU's live figures (load, memory used by every process, temperature,
// power, throttling) read by a TelemetrySampler on the monitor thread (a QThread it owns), once a
// second, ten times a second while answers are being generated, whenever the devices include a
// GPU. The GUI thread never calls NVML: it only takes each posted sample, keeps the latest per
// GPU and appends it to the history. When NVML is missing the sampler stops and
// telemetryStatus() says why.
//
// The history (TelemetryHistory: an hour, downsampled) has this one owner: GPU figures from the
// samples, Strata's stage busy %, transfer time and tokens/s from the worker's stats. Views read
// history() on the GUI thread and redraw on historyChanged().
#pragma once

#include <QHash>
#include <QObject>
#include <QSet>
#include <QThread>
#include <QTimer>
#include <optional>

#include <memory>

#include "allocation/allocation.h"
#include "devices/telemetry_history.h"
#include "devices/telemetry_sampler.h"
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

// One finished answer's figures, for the performance view.
struct AnswerFigures {
    qint64 atMs = 0;                 // when it finished
    double ttftSeconds = 0;
    double promptTokensPerSecond = 0;
    double decodeTokensPerSecond = 0;
    int generated = 0;
};

class DeviceMonitor : public QObject {
    Q_OBJECT
public:
    static constexpr int kGeneratingIntervalMs = 100;  // 10 Hz while answers run
    static constexpr int kKeptAnswers = 200;

    // `model` (with a worker): what is loaded, followed as it changes (model() mirrors it for
    // the views).
    explicit DeviceMonitor(EngineWorker* worker, const ModelState* model = nullptr, QObject* parent = nullptr);
    ~DeviceMonitor() override;  // stops the monitor thread

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
    // Whether the sampler is asked to read (GPUs listed, a reader set, NVML not known missing).
    bool isPollingTelemetry() const { return m_polling; }
    const TelemetryHistory& history() const { return m_history; }
    // Answers running now (generation started, not finished), and the last kKeptAnswers ended.
    int runningAnswers() const { return int(m_running.size()); }
    const QList<AnswerFigures>& answers() const { return m_answers; }

    // For views fed without a worker (screenshots, tests).
    void setDevices(const AppDevices& devices, const QString& gpuStatus);
    // How the devices are linked, [i][j] from devices()[i] to devices()[j] (a simulated
    // machine's profile; empty: not known). The topology view draws it.
    void setLinks(const strata::LinkMatrix& links);
    const strata::LinkMatrix& links() const { return m_links; }
    // "" on this machine; the profile's name when the devices are a simulated machine's.
    void setSimulatedMachine(const QString& name) { m_simulated = name; }
    QString simulatedMachine() const { return m_simulated; }
    void setModel(const std::optional<LoadedModel>& model);
    void setStats(const EngineStats& stats);
    // The same at a given time (ms since the epoch, increasing): screenshots replay a history.
    void recordStats(const EngineStats& stats, qint64 atMs);
    // The reader polled on the monitor thread while GPUs are listed (default: libnvidia-ml.so.1,
    // or the library named by $STRATA_NVML_LIBRARY). nullptr: no live telemetry; setTelemetry()
    // or recordSample() feed figures instead.
    void setTelemetryReader(std::unique_ptr<strata::GpuTelemetryReader> reader);
    // Any read function (tests): called on the monitor thread only. An empty one: no sampling.
    void setTelemetryReadFunction(TelemetryReadFn read);
    // The latest figures, without history (no time attached).
    void setTelemetry(const QList<strata::GpuTelemetry>& telemetry);
    // A sample as the sampler posts it: latest figures and history.
    void recordSample(const strata::app::TelemetrySample& sample);
    void recordAnswer(const AnswerFigures& answer);
    // Asks the monitor thread for a reading now (it arrives as telemetryChanged).
    void pollTelemetry();
    // The sampling interval now: the idle one, or kGeneratingIntervalMs while answers run.
    int telemetryInterval() const;
    // The idle interval (the settings' telemetry interval, 1 s by default).
    void setTelemetryInterval(int ms);
    // Whether answers are being generated (followed from the worker; tests and screenshots set it).
    void setGenerating(bool generating);
    bool isGenerating() const { return m_generating; }

signals:
    void devicesChanged();
    void linksChanged();
    void modelChanged();
    void statsChanged();
    void telemetryChanged();
    void historyChanged();
    void answersChanged();
    void generatingChanged(bool generating);

private:
    void poll();
    void updateTelemetryPolling();
    void startSampler(TelemetryReadFn read);
    void stopSampler();
    void applyInterval();

    EngineWorker* m_worker;
    AppDevices m_devices;
    QString m_gpuStatus;
    strata::LinkMatrix m_links;
    QString m_simulated;
    std::optional<LoadedModel> m_model;
    EngineStats m_stats;
    QHash<QString, double> m_busy;         // busy seconds per device at the last update
    QHash<QString, double> m_transfer;     // transfer seconds per device at the last update
    quint64 m_tokens = 0;                  // tokens through the first stage at the last update
    qint64 m_lastStatsMs = 0;
    QHash<QString, double> m_utilisation;
    QTimer m_pollTimer;
    QHash<QString, strata::GpuTelemetry> m_telemetry;
    QString m_telemetryStatus;
    TelemetryHistory m_history;
    QList<AnswerFigures> m_answers;
    QSet<quint64> m_running;
    bool m_generating = false;
    int m_idleIntervalMs = 1000;
    bool m_polling = false;
    QThread m_thread;                      // the monitor thread
    TelemetrySampler* m_sampler = nullptr; // lives on m_thread; deleted there when it ends
};

}  // namespace strata::app
