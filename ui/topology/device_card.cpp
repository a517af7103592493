#include "topology/device_card.h"

#include <QGridLayout>
#include <QLabel>
#include <QLocale>
#include <QRegularExpression>
#include <QVBoxLayout>

#include "allocation/fit_bar.h"
#include "common/history_chart.h"
#include "common/icons.h"
#include "common/theme.h"
#include "topology/meter_bar.h"

namespace strata::ui {

namespace {
QString bytes(quint64 n) { return QLocale().formattedDataSize(qint64(n), 1, QLocale::DataSizeIecFormat); }
QString gib(quint64 n) { return QLocale().toString(double(n) / double(1ull << 30), 'f', 1); }

QLabel* figureLabel(QWidget* parent) {
    auto* l = new QLabel(parent);
    l->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    QFont f = l->font();
    f.setWeight(QFont::DemiBold);
    l->setFont(f);
    return l;
}
}  // namespace

DeviceCard::DeviceCard(const app::AppDevice& device, const QColor& color, QWidget* parent)
    : QFrame(parent), m_id(QString::fromStdString(device.info.id)), m_color(color), m_totalBytes(device.info.total_memory) {
    setObjectName(QStringLiteral("deviceCard"));
    const ThemeColors& c = currentColors();
    setStyleSheet(QStringLiteral("#deviceCard { background: %1; border: 1px solid %2; border-radius: 10px; }")
                      .arg(c.surface.name(), c.border.name()));
    setFixedWidth(300);  // lines below are laid out for this width (no wrapping)
    auto* l = new QVBoxLayout(this);
    l->setContentsMargins(14, 10, 14, 12);
    l->setSpacing(6);
    auto* strip = new QFrame(this);  // the device's colour, as in the layer strip
    strip->setFixedHeight(4);
    strip->setStyleSheet(QStringLiteral("background: %1; border-radius: 2px;").arg(color.name()));
    l->addWidget(strip);
    auto* head = new QHBoxLayout();
    auto* chip = new QLabel(this);
    chip->setPixmap(iconPixmap(QStringLiteral("chip"), color, 20, devicePixelRatioF()));
    auto* id = new QLabel(QStringLiteral("<b>%1</b>").arg(m_id), this);
    auto* kind = new QLabel(device.info.type == strata::DeviceType::cuda ? tr("GPU") : (device.info.is_virtual ? tr("virtual CPU") : tr("CPU")), this);
    kind->setProperty("muted", true);
    head->addWidget(chip);
    head->addWidget(id);
    head->addStretch(1);
    head->addWidget(kind);
    l->addLayout(head);
    const QString fullName = QString::fromStdString(device.info.name);
    auto* name = new QLabel(fontMetrics().elidedText(fullName, Qt::ElideRight, 270), this);
    name->setToolTip(fullName);
    name->setProperty("muted", true);
    l->addWidget(name);
    m_memory = new FitBar(this);
    m_memoryText = new QLabel(this);
    m_memoryText->setProperty("muted", true);
    m_layers = new QLabel(this);
    m_experts = new QLabel(this);
    m_experts->setWordWrap(true);
    m_experts->setVisible(false);
    m_util = new QLabel(this);
    m_busy = new QLabel(this);
    m_busy->setProperty("muted", true);
    l->addSpacing(4);
    l->addWidget(m_memory);
    l->addWidget(m_memoryText);
    l->addWidget(m_layers);
    l->addWidget(m_experts);
    l->addWidget(m_util);
    l->addWidget(m_busy);
    m_memory->setValues({0, 0, 0, device.info.free_memory});
    m_memoryText->setText(tr("%1 free of %2 at start").arg(bytes(device.info.free_memory), bytes(device.info.total_memory)));
    m_util->setToolTip(tr("Share of the last second this device's Strata stage was working (Strata's own measure)."));

    // Live: the whole GPU now, every process included (NVML), apart from Strata's figures above.
    m_live = new QFrame(this);
    m_live->setObjectName(QStringLiteral("liveSection"));
    m_live->setStyleSheet(QStringLiteral("#liveSection { border: none; border-top: 1px solid %1; }").arg(c.border.name()));
    auto* ll = new QGridLayout(m_live);
    ll->setContentsMargins(0, 10, 0, 0);
    ll->setHorizontalSpacing(10);
    ll->setVerticalSpacing(6);
    ll->setColumnStretch(1, 1);
    m_liveCaption = new QLabel(m_live);
    m_liveCaption->setTextFormat(Qt::RichText);
    m_liveCaption->setText(QStringLiteral("<span style=\"color:%1\">●</span>&nbsp; <span style=\"color:%2; font-size:11px; "
                                          "font-weight:600; letter-spacing:0.6px\">%3</span>")
                               .arg(c.good.name(), c.mutedText.name(), tr("LIVE · WHOLE GPU, ALL PROCESSES")));
    ll->addWidget(m_liveCaption, 0, 0, 1, 3);
    m_loadName = new QLabel(tr("GPU load"), m_live);
    m_loadName->setProperty("muted", true);
    m_loadName->setToolTip(tr("Share of the last sample period in which a kernel ran on this GPU, for any process."));
    m_loadBar = new MeterBar(color, m_live);
    m_loadValue = figureLabel(m_live);
    m_vramName = new QLabel(tr("Memory"), m_live);
    m_vramName->setProperty("muted", true);
    m_vramName->setToolTip(tr("Memory in use on this GPU by every process and the driver — not only Strata's."));
    m_vramBar = new MeterBar(color, m_live);
    m_vramValue = figureLabel(m_live);
    m_sensors = new QLabel(m_live);
    m_sensors->setTextFormat(Qt::RichText);
    ll->addWidget(m_loadName, 1, 0);
    ll->addWidget(m_loadBar, 1, 1);
    ll->addWidget(m_loadValue, 1, 2);
    ll->addWidget(m_vramName, 2, 0);
    ll->addWidget(m_vramBar, 2, 1);
    ll->addWidget(m_vramValue, 2, 2);
    ll->addWidget(m_sensors, 3, 0, 1, 3);
    // Throttling or ECC errors, only when NVML reports them.
    m_health = new QLabel(m_live);
    m_health->setObjectName(QStringLiteral("healthWarning"));
    m_health->setWordWrap(true);
    m_health->setStyleSheet(QStringLiteral("color: %1; font-weight: 600;").arg(c.warning.name()));
    m_health->setVisible(false);
    ll->addWidget(m_health, 4, 0, 1, 3);
    // The last five minutes, two by two.
    m_charts = new QWidget(m_live);
    auto* cl = new QGridLayout(m_charts);
    cl->setContentsMargins(0, 4, 0, 0);
    cl->setHorizontalSpacing(10);
    cl->setVerticalSpacing(2);
    const struct {
        app::TelemetryMetric metric;
        const char* unit;
    } kCharts[] = {{app::TelemetryMetric::load, "%"},
                   {app::TelemetryMetric::memoryUsed, "GiB"},
                   {app::TelemetryMetric::power, "W"},
                   {app::TelemetryMetric::temperature, "°C"}};
    int i = 0;
    for (const auto& k : kCharts) {
        ChartSlot slot{k.metric, new QLabel(m_charts), new HistoryChart(QString::fromUtf8(k.unit), true, m_charts)};
        slot.caption->setProperty("muted", true);
        QFont f = slot.caption->font();
        f.setPointSizeF(f.pointSizeF() * 0.85);
        slot.caption->setFont(f);
        slot.chart->setFixedHeight(40);
        slot.chart->setMinimumWidth(100);
        cl->addWidget(slot.caption, (i / 2) * 2, i % 2);
        cl->addWidget(slot.chart, (i / 2) * 2 + 1, i % 2);
        m_chartSlots.append(slot);
        ++i;
    }
    m_charts->setVisible(false);
    ll->addWidget(m_charts, 5, 0, 1, 3);
    l->addSpacing(2);
    l->addWidget(m_live);
    m_live->setVisible(false);
}

void DeviceCard::setTelemetry(const strata::GpuTelemetry* t) {
    const bool any = t && t->ok() &&
                     (t->utilisation_percent || t->memory_used_bytes || t->temperature_c || t->power_watts);
    m_live->setVisible(any);
    if (!any) {
        // Only a GPU has live figures; a GPU without them says why on hover.
        QString why;
        if (t && !t->ok()) why = QString::fromStdString(t->error).remove(QStringLiteral("telemetry unavailable: "));
        else if (t) why = tr("NVML reports none of load, memory, temperature or power for this GPU");
        setToolTip(why.isEmpty() ? QString() : tr("No live telemetry: %1").arg(why));
        return;
    }
    setToolTip(QString());
    const ThemeColors& c = currentColors();
    const QLocale loc;
    const bool load = t->utilisation_percent.has_value();
    m_loadName->setVisible(load);
    m_loadBar->setVisible(load);
    m_loadValue->setVisible(load);
    if (load) {
        m_loadBar->setShare(*t->utilisation_percent / 100.0);
        m_loadValue->setText(QStringLiteral("%1%").arg(*t->utilisation_percent));
    }
    const bool vram = t->memory_used_bytes && t->memory_total_bytes && *t->memory_total_bytes > 0;
    m_vramName->setVisible(vram);
    m_vramBar->setVisible(vram);
    m_vramValue->setVisible(vram);
    if (vram) {
        const double share = double(*t->memory_used_bytes) / double(*t->memory_total_bytes);
        m_vramBar->setShare(share);
        m_vramBar->setColor(share > 0.97 ? c.warning : m_color);
        m_vramValue->setText(tr("%1 / %2 GiB").arg(gib(*t->memory_used_bytes), gib(*t->memory_total_bytes)));
    }
    QStringList sensors;
    const QString item = QStringLiteral("<span style=\"color:%1\">%2</span>&nbsp;<b style=\"color:%3\">%4</b>");
    if (t->temperature_c)
        sensors << item.arg(c.mutedText.name(), tr("Temperature"), (*t->temperature_c >= 85 ? c.warning : c.text).name(),
                            tr("%1 °C").arg(*t->temperature_c));
    if (t->power_watts)
        sensors << item.arg(c.mutedText.name(), tr("Power"), c.text.name(), tr("%1 W").arg(loc.toString(*t->power_watts, 'f', 0)));
    m_sensors->setText(sensors.join(QStringLiteral("&nbsp;&nbsp;&nbsp;&nbsp;")));
    m_sensors->setVisible(!sensors.isEmpty());
    const QString health = QString::fromStdString(strata::gpu_health_warning(*t));
    m_health->setText(health.isEmpty() ? QString() : QStringLiteral("⚠ ") + health);
    m_health->setVisible(!health.isEmpty());
    QString tip = tr("Read through NVML, matched by %1.").arg(QString::fromStdString(t->matched_by));
    for (const std::string& m : t->missing) tip += QStringLiteral("\n") + tr("Not reported: %1").arg(QString::fromStdString(m));
    m_live->setToolTip(tip);
}

void DeviceCard::setHistory(const app::TelemetryHistory& history, qint64 nowMs) {
    const qint64 since = nowMs - 5 * 60 * 1000;
    bool any = false;
    const QLocale loc;
    for (const ChartSlot& slot : m_chartSlots) {
        const QList<app::HistoryPoint> points = history.points(m_id, slot.metric, since);
        const app::MetricSeries* series = history.series(m_id, slot.metric);
        QString name, now;
        switch (slot.metric) {
            case app::TelemetryMetric::load:
                name = tr("Load");
                slot.chart->setYRange(0, 100);
                if (series) now = QStringLiteral("%1%").arg(qRound(series->last()));
                break;
            case app::TelemetryMetric::memoryUsed: {
                name = tr("Memory");
                if (m_totalBytes > 0) slot.chart->setYRange(0, double(m_totalBytes) / double(1ull << 30));
                if (series) now = tr("%1 GiB").arg(loc.toString(series->last(), 'f', 1));
                break;
            }
            case app::TelemetryMetric::power:
                name = tr("Power");
                if (series) now = tr("%1 W").arg(loc.toString(series->last(), 'f', 0));
                break;
            case app::TelemetryMetric::temperature:
                name = tr("Temperature");
                slot.chart->setYRange(20, 100);
                if (series) now = tr("%1 °C").arg(loc.toString(series->last(), 'f', 0));
                break;
            default: break;
        }
        slot.caption->setText(now.isEmpty() ? name : QStringLiteral("%1 · %2").arg(name, now));
        slot.chart->setLine({name, m_color, points}, nowMs);
        any = any || points.size() >= 2;
    }
    // Five minutes of history, each point the mean of its bucket with min..max shaded.
    m_charts->setToolTip(tr("The last five minutes (line: mean; band: min to max)"));
    m_charts->setVisible(any);
}

bool DeviceCard::hasCharts() const { return m_charts->isVisibleTo(this); }

HistoryChart* DeviceCard::chart(app::TelemetryMetric metric) const {
    for (const ChartSlot& slot : m_chartSlots)
        if (slot.metric == metric) return slot.chart;
    return nullptr;
}

QString DeviceCard::healthText() const { return m_health->isVisibleTo(this) ? m_health->text() : QString(); }

void DeviceCard::setExperts(const QString& line, bool host) {
    m_experts->setText(line);
    m_experts->setVisible(!line.isEmpty());
    // The host's line is what it is for; under a GPU's layers it is a note.
    m_experts->setProperty("muted", !host);
    m_experts->setStyleSheet(host ? QStringLiteral("font-weight: 600;") : QString());
}

void DeviceCard::setUse(const std::vector<strata::StagePlan>& stages, const strata::DeviceMemory* memory,
                        const strata::DeviceUse* planned, const std::vector<strata::StageTiming>& timings,
                        std::optional<double> utilisation, bool modelLoaded) {
    if (memory && memory->capacity > 0) {
        m_memory->setValues({memory->weights, memory->kv_cache, memory->scratch, memory->capacity});
        m_memoryText->setText(tr("Strata uses %1 of %2\n%3 weights · %4 KV cache")
                                  .arg(bytes(memory->weights + memory->kv_cache + memory->scratch), bytes(memory->capacity),
                                       bytes(memory->weights), bytes(memory->kv_cache)));
    } else if (planned) {
        m_memory->setValues({planned->weight_bytes, planned->kv_bytes, planned->scratch_bytes, planned->capacity});
        m_memoryText->setText(tr("Strata plans %1 of %2").arg(bytes(planned->total()), bytes(planned->capacity)));
    }
    QStringList parts;
    for (const strata::StagePlan& s : stages) {
        QString t = s.layer_end - s.layer_begin == 1 ? tr("layer %1").arg(s.layer_begin)
                                                     : tr("layers %1–%2").arg(s.layer_begin).arg(s.layer_end - 1);
        t = QStringLiteral("<b>%1</b>").arg(t);
        // The roles on their own line: "layers 0–79 + embedding + output head" outgrows a card.
        QStringList roles;
        if (s.has_embedding) roles << tr("token embedding");
        if (s.has_output) roles << tr("output head");
        if (!roles.isEmpty()) t += QStringLiteral("<br>+ ") + roles.join(QStringLiteral(", "));
        parts.append(t);
    }
    const bool expertsOnly = parts.isEmpty() && modelLoaded && !m_experts->text().isEmpty();
    if (parts.isEmpty()) m_layers->setText(modelLoaded ? (expertsOnly ? tr("No layers of its own") : tr("Not used by this model"))
                                                       : tr("No model loaded"));
    else m_layers->setText(parts.join(QStringLiteral("<br>")));
    m_layers->setProperty("muted", parts.isEmpty());
    if (!modelLoaded) setExperts(QString(), false);
    if (utilisation) {
        m_util->setText(tr("Stage busy now %1%").arg(qRound(*utilisation * 100)));
        m_util->setVisible(true);
    } else {
        m_util->setVisible(false);
    }
    double busy = 0, idle = 0;
    quint64 tokens = 0;
    for (const strata::StageTiming& t : timings) {
        busy += t.busy_seconds;
        idle += t.idle_seconds;
        tokens += t.tokens;
    }
    if (!timings.empty())
        m_busy->setText(tr("Stage busy %1 s, idle %2 s\n%3 tokens through this stage")
                            .arg(QLocale().toString(busy, 'f', 2), QLocale().toString(idle, 'f', 2), QLocale().toString(tokens)));
    m_busy->setVisible(!timings.empty());
}

QString DeviceCard::layersText() const {
    QString t = m_layers->text();
    t.replace(QStringLiteral("<br>"), QStringLiteral("\n"));
    t.remove(QStringLiteral("<b>")).remove(QStringLiteral("</b>"));
    return t;
}
QString DeviceCard::busyText() const { return m_busy->text(); }
QString DeviceCard::expertsText() const { return m_experts->isHidden() ? QString() : m_experts->text(); }
QString DeviceCard::memoryText() const { return m_memoryText->text(); }
QString DeviceCard::utilisationText() const { return m_util->isVisibleTo(this) ? m_util->text() : QString(); }
bool DeviceCard::hasLiveFigures() const { return m_live->isVisibleTo(this); }

QString DeviceCard::liveText() const {
    if (!hasLiveFigures()) return {};
    QStringList lines;
    if (m_loadValue->isVisibleTo(this)) lines << m_loadName->text() + QLatin1Char(' ') + m_loadValue->text();
    if (m_vramValue->isVisibleTo(this)) lines << m_vramName->text() + QLatin1Char(' ') + m_vramValue->text();
    if (m_sensors->isVisibleTo(this)) {
        QString s = m_sensors->text();
        s.replace(QStringLiteral("&nbsp;&nbsp;&nbsp;&nbsp;"), QStringLiteral(" · ")).replace(QStringLiteral("&nbsp;"), QStringLiteral(" "));
        s.remove(QRegularExpression(QStringLiteral("<[^>]*>")));
        lines << s;
    }
    return lines.join(QLatin1Char('\n'));
}

}  // namespace strata::ui
