// LayerStrip: the model's layers left to right (embedding, blocks, output head), each cell
// coloured by the device whose stage runs it; a MoE layer whose experts sit on another device
// (the expert host) has a lower band in that device's colour.
#pragma once

#include <QColor>
#include <QWidget>

#include "strata/plan.h"

namespace strata::ui {

class LayerStrip : public QWidget {
    Q_OBJECT
public:
    explicit LayerStrip(QWidget* parent = nullptr);

    // `colorOf` maps device ids to colours (the same as the device cards use).
    void setPlan(int nLayer, const std::vector<strata::StagePlan>& stages, const QHash<QString, QColor>& colorOf);
    QString deviceOfLayer(int layer) const;
    // Layers whose experts sit on another device than the layer's stage, with that device's id
    // (empty for dense models and for experts beside their layers).
    void setExpertHosts(const QHash<int, QString>& hostOfLayer);
    QString expertDeviceOfLayer(int layer) const { return m_expertHosts.value(layer); }

    QSize sizeHint() const override { return {600, 64}; }
    QSize minimumSizeHint() const override { return {200, 64}; }

protected:
    void paintEvent(QPaintEvent* e) override;

private:
    int m_nLayer = 0;
    std::vector<strata::StagePlan> m_stages;
    QHash<QString, QColor> m_colors;
    QHash<int, QString> m_expertHosts;
};

}  // namespace strata::ui
