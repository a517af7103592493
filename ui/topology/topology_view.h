// TopologyView: the machine as the loaded model sees it — the layer strip (which device runs
// which layers), device cards in pipeline order with the links between stages (transport,
// bytes per token), memory in use, utilisation and per-stage busy time, and each GPU's live
// figures (load, memory of all processes, temperature, power) with charts of the last five
// minutes and throttling/ECC warnings; when the links between the devices are known (a
// simulated machine's profile), a matrix of them. Fed by DeviceMonitor.
#pragma once

#include <QColor>
#include <QHash>
#include <QTimer>
#include <QWidget>

class QLabel;
class QPushButton;

namespace strata::app {
class DeviceMonitor;
class LinkProbeService;
}

namespace strata::ui {

class DeviceCard;
class FlowLayout;
class LayerStrip;
class LinkMatrixView;
class StageActivity;

class TopologyView : public QWidget {
    Q_OBJECT
public:
    explicit TopologyView(app::DeviceMonitor& monitor, QWidget* parent = nullptr);

    QList<DeviceCard*> cards() const { return m_cards; }
    LayerStrip* layerStrip() const { return m_strip; }
    StageActivity* activity() const { return m_activity; }
    LinkMatrixView* linkMatrix() const { return m_linkMatrix; }  // shown when the links are known
    QStringList linkTexts() const;
    // Rebuilds the cards (after a theme change: they are styled with the theme's colours).
    void refresh() { rebuild(); }
    // "Measure links" (hidden until set; screenshots and tests without an App leave it unset).
    void setLinkProbe(app::LinkProbeService* probe);
    QPushButton* measureLinksButton() const { return m_measureLinks; }
    QLabel* linkProbeStatus() const { return m_probeStatus; }

private:
    void rebuild();
    void refreshStats();
    void refreshTelemetry();
    void refreshHistory();

    void refreshLinkProbe();

    app::DeviceMonitor& m_monitor;
    app::LinkProbeService* m_probe = nullptr;
    QWidget* m_probeRow;
    QPushButton* m_measureLinks;
    QLabel* m_probeStatus;
    QLabel* m_summary;
    QWidget* m_stripCard;
    LayerStrip* m_strip;
    QLabel* m_stripLegend;
    FlowLayout* m_cardRow;  // one item per device: the link leading to it and its card
    StageActivity* m_activity;
    LinkMatrixView* m_linkMatrix;
    QHash<QString, QColor> m_colors;
    QList<DeviceCard*> m_cards;
    QList<QLabel*> m_links;
    QLabel* m_hint;
    QTimer m_historyTimer;  // coalesces historyChanged into one redraw
};

}  // namespace strata::ui
