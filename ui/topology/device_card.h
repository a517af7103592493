// DeviceCard: one device in the topology view — name, Strata's memory on it (weights / KV cache /
// scratch of what it may use), which layers run there, where a MoE model's experts are (the
// expert host's layers, or "experts on cpu" under a GPU's layers) and how busy its stage is; and for a GPU
// with live telemetry, a "Live" section with what the whole card is doing now, every process
// included: load, memory in use, temperature, power, each with a small chart of the last five
// minutes from the monitor's history, and a warning line when NVML reports throttling or
// uncorrected ECC errors.
#pragma once

#include <QFrame>
#include <optional>

#include "allocation/allocation.h"
#include "devices/telemetry_history.h"
#include "engine/worker_types.h"
#include "strata/gpu_telemetry.h"

class QFrame;
class QLabel;

namespace strata::ui {

class FitBar;
class HistoryChart;
class MeterBar;

class DeviceCard : public QFrame {
    Q_OBJECT
public:
    DeviceCard(const app::AppDevice& device, const QColor& color, QWidget* parent = nullptr);

    QString deviceId() const { return m_id; }
    // `stages` and `memory` of this device (empty when the model does not use it).
    void setUse(const std::vector<strata::StagePlan>& stages, const strata::DeviceMemory* memory,
                const strata::DeviceUse* planned, const std::vector<strata::StageTiming>& timings,
                std::optional<double> utilisation, bool modelLoaded);
    // The GPU's live figures; nullptr or a reading with an error hides the Live section (the
    // card's tooltip then says why there are none).
    void setTelemetry(const strata::GpuTelemetry* telemetry);
    // The last five minutes of this GPU's figures (the charts show once there are two points).
    void setHistory(const app::TelemetryHistory& history, qint64 nowMs);
    // This device's part in the expert placement (app::expertPlacementLine); "" = none. Set
    // before setUse: a device that holds experts but runs no layers is not "not used".
    void setExperts(const QString& line, bool host);
    QString layersText() const;  // plain text, one line per stage plus its roles
    QString busyText() const;
    QString expertsText() const;      // "" when hidden
    QString memoryText() const;       // Strata's own allocation
    QString utilisationText() const;  // Strata's stage busy share ("" when hidden)
    bool hasLiveFigures() const;
    QString liveText() const;         // plain text of the Live section, one line per figure
    QString healthText() const;       // the throttling / ECC warning ("" when none is shown)
    bool hasCharts() const;
    // The chart of load, memoryUsed, power or temperature (nullptr for other metrics).
    HistoryChart* chart(app::TelemetryMetric metric) const;

private:
    QString m_id;
    QColor m_color;
    quint64 m_totalBytes;  // the device's memory: the memory chart's top
    QLabel* m_memoryText;
    FitBar* m_memory;
    QLabel* m_layers;
    QLabel* m_experts;
    QLabel* m_util;
    QLabel* m_busy;
    QFrame* m_live;
    QLabel* m_liveCaption;
    QLabel* m_loadName;
    MeterBar* m_loadBar;
    QLabel* m_loadValue;
    QLabel* m_vramName;
    MeterBar* m_vramBar;
    QLabel* m_vramValue;
    QLabel* m_sensors;
    QLabel* m_health;
    QWidget* m_charts;
    struct ChartSlot {
        app::TelemetryMetric metric;
        QLabel* caption;
        HistoryChart* chart;
    };
    QList<ChartSlot> m_chartSlots;
};

}  // namespace strata::ui
