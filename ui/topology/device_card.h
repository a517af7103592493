// DeviceCard: one device in the topology view — name, memory in use (weights / KV cache /
// scratch of what it has), utilisation when known, which layers run there and how long its
// stage has been busy.
#pragma once

#include <QFrame>
#include <optional>

#include "allocation/allocation.h"
#include "engine/worker_types.h"

class QLabel;

namespace strata::ui {

class FitBar;

class DeviceCard : public QFrame {
    Q_OBJECT
public:
    DeviceCard(const app::AppDevice& device, const QColor& color, QWidget* parent = nullptr);

    QString deviceId() const { return m_id; }
    // `stages` and `memory` of this device (empty when the model does not use it).
    void setUse(const std::vector<strata::StagePlan>& stages, const strata::DeviceMemory* memory,
                const strata::DeviceUse* planned, const std::vector<strata::StageTiming>& timings,
                std::optional<double> utilisation, bool modelLoaded);
    QString layersText() const;  // plain text, one line per stage plus its roles
    QString busyText() const;

private:
    QString m_id;
    QColor m_color;
    QLabel* m_memoryText;
    FitBar* m_memory;
    QLabel* m_layers;
    QLabel* m_util;
    QLabel* m_busy;
};

}  // namespace strata::ui
