// DeviceCard: one device in the topology view — name, Strata's memory on it (weights / KV cache /
// scratch of what it may use), which layers run there, where a MoE model's experts are (the
// expert host's layers, or "experts on cpu" under a GPU's layers) and how busy its stage is; and for a GPU
// with live telemetry, a "Live" section with what the whole card is doing now, every process
// included: load, memory in use, temperature, power.
#pragma once

#include <QFrame>
#include <optional>

#include "allocation/allocation.h"
#include "engine/worker_types.h"
#include "strata/gpu_telemetry.h"

class QFrame;
class QLabel;

namespace strata::ui {

class FitBar;
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

private:
    QString m_id;
    QColor m_color;
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
};

}  // namespace strata::ui
