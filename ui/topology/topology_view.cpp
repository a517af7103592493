#include "topology/topology_view.h"

#include <QDateTime>

#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>

#include "allocation/expert_hosting.h"
#include "common/flow_layout.h"
#include "common/theme.h"
#include "devices/device_monitor.h"
#include "devices/link_probe_service.h"
#include "topology/device_card.h"
#include "topology/layer_strip.h"
#include "topology/link_matrix.h"
#include "topology/stage_activity.h"

namespace strata::ui {

namespace {
QString bytes(quint64 n) { return QLocale().formattedDataSize(qint64(n), 1, QLocale::DataSizeIecFormat); }

// The request's index of a device id (-1 when the plan does not list it).
int requestIndex(const strata::PlanRequest& r, const QString& id) {
    for (size_t i = 0; i < r.devices.size(); ++i)
        if (QString::fromStdString(r.devices[i].info.id) == id) return int(i);
    return -1;
}

// Hidden-state bytes per token between a layer on a GPU and its experts on the host, both ways
// (the planner counts these hand-offs in transfer_bytes_per_token beside the stage links).
quint64 expertTrafficPerToken(const strata::PlanRequest& r, const strata::Plan& plan, int host) {
    if (host < 0) return 0;
    quint64 sum = 0;
    for (int il : app::expertLayersHostedOn(plan, host))
        for (const strata::StagePlan& s : plan.stages)
            if (il >= s.layer_begin && il < s.layer_end && size_t(s.device) < r.devices.size() &&
                r.devices[size_t(s.device)].info.type != strata::DeviceType::cpu)
                sum += 2 * quint64(r.model.n_embd) * 4;
    return sum;
}
}  // namespace

TopologyView::TopologyView(app::DeviceMonitor& monitor, QWidget* parent) : QWidget(parent), m_monitor(monitor) {
    // One scroll area for the whole page: a small window scrolls the page, not a box inside it.
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto* page = new QWidget(scroll);
    page->setObjectName(QStringLiteral("topologyPage"));
    outer->addWidget(scroll);
    auto* layout = new QVBoxLayout(page);
    layout->setContentsMargins(24, 20, 24, 20);
    layout->setSpacing(14);
    auto* title = new QLabel(tr("Topology"), page);
    title->setProperty("heading", true);
    m_summary = new QLabel(page);
    m_summary->setProperty("muted", true);
    m_summary->setWordWrap(true);
    layout->addWidget(title);
    layout->addWidget(m_summary);

    // Measure links: times the GPUs' links; the matrix below then shows the measured speeds.
    m_probeRow = new QWidget(page);
    auto* probeLayout = new QHBoxLayout(m_probeRow);
    probeLayout->setContentsMargins(0, 0, 0, 0);
    m_measureLinks = new QPushButton(tr("Measure links"), m_probeRow);
    m_measureLinks->setAccessibleName(tr("Measure the links between the GPUs"));
    m_probeStatus = new QLabel(m_probeRow);
    m_probeStatus->setProperty("muted", true);
    m_probeStatus->setWordWrap(true);
    m_probeStatus->setTextInteractionFlags(Qt::TextSelectableByMouse);
    probeLayout->addWidget(m_measureLinks, 0, Qt::AlignTop);
    probeLayout->addWidget(m_probeStatus, 1);
    m_probeRow->hide();
    layout->addWidget(m_probeRow);
    connect(m_measureLinks, &QPushButton::clicked, this, [this] {
        if (m_probe) m_probe->measure();
    });

    auto* stripCard = new QFrame(page);
    stripCard->setProperty("card", true);
    auto* sl = new QVBoxLayout(stripCard);
    sl->setContentsMargins(16, 14, 16, 12);
    auto* stripTitle = new QLabel(tr("Where the layers live"), stripCard);
    stripTitle->setProperty("subheading", true);
    m_strip = new LayerStrip(stripCard);
    m_stripLegend = new QLabel(stripCard);
    m_stripLegend->setTextFormat(Qt::RichText);
    m_stripLegend->setWordWrap(true);
    sl->addWidget(stripTitle);
    sl->addWidget(m_strip);
    sl->addWidget(m_stripLegend);
    m_stripCard = stripCard;
    layout->addWidget(stripCard);

    // The cards flow: as many in a row as the width holds, then the next row, so a narrow window
    // never scrolls sideways for them. Each card after the first comes with the link that leads
    // to it, so a new row starts with its arrow.
    m_cardRow = new FlowLayout(nullptr, 16, 12);
    m_linkMatrix = new LinkMatrixView(page);
    layout->addWidget(m_linkMatrix);
    layout->addLayout(m_cardRow);
    m_activity = new StageActivity(page);
    layout->addWidget(m_activity);
    m_hint = new QLabel(page);
    m_hint->setProperty("muted", true);
    m_hint->setWordWrap(true);
    layout->addWidget(m_hint);
    layout->addStretch(1);
    scroll->setWidget(page);

    connect(&m_monitor, &app::DeviceMonitor::devicesChanged, this, &TopologyView::rebuild);
    connect(&m_monitor, &app::DeviceMonitor::modelChanged, this, &TopologyView::rebuild);
    connect(&m_monitor, &app::DeviceMonitor::linksChanged, this, &TopologyView::rebuild);
    connect(&m_monitor, &app::DeviceMonitor::statsChanged, this, &TopologyView::refreshStats);
    connect(&m_monitor, &app::DeviceMonitor::telemetryChanged, this, &TopologyView::refreshTelemetry);
    // Samples come ten times a second while generating: redraw the charts at most four.
    m_historyTimer.setSingleShot(true);
    m_historyTimer.setInterval(250);
    connect(&m_historyTimer, &QTimer::timeout, this, &TopologyView::refreshHistory);
    connect(&m_monitor, &app::DeviceMonitor::historyChanged, this, [this] {
        if (!m_historyTimer.isActive()) m_historyTimer.start();
    });
    rebuild();
}

void TopologyView::setLinkProbe(app::LinkProbeService* probe) {
    if (m_probe) disconnect(m_probe, nullptr, this, nullptr);
    m_probe = probe;
    if (probe) connect(probe, &app::LinkProbeService::stateChanged, this, &TopologyView::refreshLinkProbe);
    refreshLinkProbe();
}

void TopologyView::refreshLinkProbe() {
    // Without a GPU there is nothing to measure, and the summary above already says why.
    m_probeRow->setVisible(m_probe && m_probe->hasGpus());
    if (!m_probe) return;
    QString why;
    const bool can = m_probe->canMeasure(&why);
    m_measureLinks->setEnabled(can);
    m_measureLinks->setText(m_probe->isMeasuring() ? tr("Measuring…") : tr("Measure links"));
    m_measureLinks->setToolTip(can ? tr("Times host ↔ GPU and every GPU pair (a few seconds per pair) and stores "
                                        "the speeds for later plans; answers wait meanwhile")
                                   : why);
    if (m_probe->isMeasuring())
        m_probeStatus->setText(tr("Timing 64 MiB and 4 KiB copies between every pair; answers wait until it ends."));
    else if (!m_probe->lastResult().isEmpty())
        m_probeStatus->setText(m_probe->lastResult());
    else
        m_probeStatus->setText(can ? tr("How fast do your GPUs really exchange data? The planner uses nominal "
                                        "speeds until they are measured.")
                                   : why);
}

void TopologyView::refreshHistory() {
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (DeviceCard* card : m_cards) card->setHistory(m_monitor.history(), now);
}

void TopologyView::rebuild() {
    while (QLayoutItem* item = m_cardRow->takeAt(0)) {
        delete item->widget();  // a step: its link and card
        delete item;
    }
    m_cards.clear();
    m_links.clear();

    const auto& model = m_monitor.model();
    const app::AppDevices& devices = m_monitor.devices();
    const QList<QColor>& palette = currentColors().devicePalette;
    QHash<QString, QColor> colorOf;
    for (int i = 0; i < devices.size(); ++i)
        colorOf.insert(QString::fromStdString(devices[i].info.id), palette[i % palette.size()]);

    // Devices in pipeline order, then a MoE model's expert host when it runs no layers, then the
    // unused ones.
    QStringList order;
    if (model)
        for (const strata::StagePlan& s : model->plan.stages)
            if (!order.contains(QString::fromStdString(s.device_id))) order.append(QString::fromStdString(s.device_id));
    const int host = model ? app::expertHostDevice(model->plan) : -1;
    const QString hostId = host >= 0 && size_t(host) < model->request.devices.size()
                               ? QString::fromStdString(model->request.devices[size_t(host)].info.id)
                               : QString();
    const quint64 expertTraffic = model ? expertTrafficPerToken(model->request, model->plan, host) : 0;
    const int nUsed = model ? int(std::count_if(order.begin(), order.end(), [&](const QString& id) {
        for (const strata::StagePlan& s : model->plan.stages)
            if (QString::fromStdString(s.device_id) == id) return true;
        return false;
    })) : 0;
    const bool hostApart = !hostId.isEmpty() && !order.contains(hostId);
    if (hostApart) order.append(hostId);
    for (const app::AppDevice& d : devices)
        if (!order.contains(QString::fromStdString(d.info.id))) order.append(QString::fromStdString(d.info.id));
    for (int i = 0; i < order.size(); ++i) {
        app::AppDevice device;
        bool found = false;
        for (const app::AppDevice& d : devices)
            if (QString::fromStdString(d.info.id) == order[i]) device = d, found = true;
        if (!found && model) {  // a device of the plan the monitor does not list (ids from --devices order)
            for (const strata::PlanDevice& pd : model->request.devices)
                if (QString::fromStdString(pd.info.id) == order[i]) device.info = pd.info, found = true;
        }
        if (!found) continue;
        if (!colorOf.contains(order[i])) colorOf.insert(order[i], palette[i % palette.size()]);
        // The link leading to this card: a stage hand-off or the experts' traffic; none between
        // cards the model does not use (the flow's spacing parts them).
        QString linkText;
        if (i > 0 && i < nUsed) {
            const quint64 stageBytes = model->plan.transfer_bytes_per_token - qMin(expertTraffic, model->plan.transfer_bytes_per_token);
            const quint64 perToken = stageBytes / quint64(qMax(1, nUsed - 1));
            QString transport;
            for (const strata::StageTiming& t : m_monitor.stats().timings)
                if (QString::fromStdString(t.device_id) == order[i] && !t.transport.empty()) transport = QString::fromStdString(t.transport);
            linkText = QStringLiteral("<span style=\"font-size:20px\">→</span><br>%1<br>%2/token")
                           .arg(transport.isEmpty() ? tr("hidden state") : transport, bytes(perToken));
        } else if (i > 0 && hostApart && i == nUsed) {
            // Every stage hands its routed rows to the host and takes the sums back.
            linkText = QStringLiteral("<span style=\"font-size:20px\">⇄</span><br>%1<br>%2")
                           .arg(tr("experts"), expertTraffic > 0 ? tr("%1/token").arg(bytes(expertTraffic)) : tr("shared memory"));
        }
        auto* step = new QWidget(this);
        auto* stepRow = new QHBoxLayout(step);
        stepRow->setContentsMargins(0, 0, 0, 0);
        stepRow->setSpacing(16);
        auto* card = new DeviceCard(device, colorOf.value(order[i]), step);
        if (!linkText.isEmpty()) {
            auto* link = new QLabel(linkText, step);
            link->setAlignment(Qt::AlignCenter);
            link->setWordWrap(true);
            link->setFixedWidth(96);
            link->setProperty("muted", true);
            stepRow->addWidget(link, 0, Qt::AlignVCenter);
            m_links.append(link);
        }
        stepRow->addWidget(card, 0, Qt::AlignTop);
        m_cardRow->addWidget(step);
        m_cards.append(card);
    }

    if (model) {
        m_strip->setPlan(int(model->info.n_layer), model->plan.stages, colorOf);
        QHash<int, QString> expertHosts;
        if (host >= 0)
            for (int il : app::expertLayersHostedOn(model->plan, host)) expertHosts.insert(il, hostId);
        m_strip->setExpertHosts(expertHosts);
        QStringList legend;
        for (const QString& id : order.mid(0, nUsed))
            legend.append(QStringLiteral("<span style=\"color:%1\">■</span>&nbsp;%2").arg(colorOf.value(id).name(), id));
        if (!expertHosts.isEmpty())
            legend.append(QStringLiteral("<span style=\"color:%1\">▂</span>&nbsp;%2")
                              .arg(colorOf.value(hostId).name(), tr("experts on %1").arg(hostId)));
        m_stripLegend->setText(legend.join(QStringLiteral("&nbsp;&nbsp;&nbsp;")));
        const QString experts = model->info.n_expert > 1 ? tr(" (%1 experts, %2 per token)")
                                                               .arg(model->info.n_expert)
                                                               .arg(model->info.n_expert_used)
                                                         : QString();
        m_summary->setText(tr("%1 · %2 layers%3 in %4 on %5 · context %6 tokens · chat format %7")
                               .arg(QString::fromStdString(model->info.name))
                               .arg(model->info.n_layer)
                               .arg(experts)
                               .arg(model->plan.stages.size() == 1 ? tr("1 stage")
                                                                   : tr("%1 stages").arg(model->plan.stages.size()))
                               .arg(order.mid(0, nUsed).join(QStringLiteral(" → ")))
                               .arg(QLocale().toString(model->nCtx))
                               .arg(model->chatFormat));
        m_hint->setText(tr("Tokens flow left to right: each stage runs its layers, then hands the hidden state "
                           "to the next device."));
    } else {
        m_strip->setPlan(0, {}, {});
        m_strip->setExpertHosts({});
        m_stripLegend->clear();
        m_summary->setText(m_monitor.gpuStatus().isEmpty() ? tr("No model loaded.")
                                                           : tr("No model loaded · %1").arg(m_monitor.gpuStatus()));
        m_hint->setText(tr("Load a model from the library to see which device runs which layers."));
    }
    // The links, when known: the monitor's devices in its order; a loaded plan's hand-offs
    // (request indices) mapped onto that order by id.
    const strata::LinkMatrix& links = m_monitor.links();
    m_linkMatrix->setVisible(!links.empty());
    if (!links.empty()) {
        QStringList ids;
        for (const app::AppDevice& d : devices) ids.append(QString::fromStdString(d.info.id));
        std::vector<strata::StageHandOff> handoffs;
        if (model)
            for (strata::StageHandOff h : model->plan.handoffs) {
                h.from = int(ids.indexOf(QString::fromStdString(h.from_id)));
                h.to = int(ids.indexOf(QString::fromStdString(h.to_id)));
                if (h.from >= 0 && h.to >= 0) handoffs.push_back(h);
            }
        m_linkMatrix->setLinks(ids, links, handoffs);
    }
    if (!m_monitor.simulatedMachine().isEmpty()) {
        m_summary->setText(tr("Simulated machine: %1 · %2 devices").arg(m_monitor.simulatedMachine()).arg(devices.size()));
        m_hint->setText(tr("A simulated machine can plan but not run models: the Allocate page shows where a model "
                           "would go and what each hand-off between the cards costs."));
    }
    m_stripCard->setVisible(model.has_value());
    m_activity->setVisible(model.has_value());
    m_colors = colorOf;
    refreshStats();
    refreshTelemetry();
    refreshHistory();
}

void TopologyView::refreshTelemetry() {
    for (DeviceCard* card : m_cards) {
        const std::optional<strata::GpuTelemetry> t = m_monitor.telemetry(card->deviceId());
        card->setTelemetry(t ? &*t : nullptr);
    }
}

void TopologyView::refreshStats() {
    const auto& model = m_monitor.model();
    const QList<strata::StageTiming>& all = m_monitor.stats().timings;
    m_activity->setTimings(std::vector<strata::StageTiming>(all.begin(), all.end()), m_colors);
    for (DeviceCard* card : m_cards) {
        const std::string id = card->deviceId().toStdString();
        std::vector<strata::StagePlan> stages;
        std::vector<strata::StageTiming> timings;
        const strata::DeviceMemory* memory = nullptr;
        const strata::DeviceUse* planned = nullptr;
        if (model) {
            for (const strata::StagePlan& s : model->plan.stages)
                if (s.device_id == id) stages.push_back(s);
            for (const strata::DeviceUse& u : model->plan.devices)
                if (u.device_id == id) planned = &u;
        }
        for (const strata::DeviceMemory& m : m_monitor.stats().memory)
            if (m.device_id == id) memory = &m;
        if (model) {
            const int index = requestIndex(model->request, card->deviceId());
            card->setExperts(index >= 0 ? app::expertPlacementLine(model->request, model->plan, index) : QString(),
                             index >= 0 && index == app::expertHostDevice(model->plan));
        }
        for (const strata::StageTiming& t : m_monitor.stats().timings)
            if (t.device_id == id) timings.push_back(t);
        card->setUse(stages, memory, planned, timings, m_monitor.utilisation(card->deviceId()), model.has_value());
    }
}

QStringList TopologyView::linkTexts() const {
    QStringList out;
    for (QLabel* l : m_links) out.append(l->text());
    return out;
}

}  // namespace strata::ui
