#include "topology/device_card.h"

#include <QLabel>
#include <QLocale>
#include <QVBoxLayout>

#include "allocation/fit_bar.h"
#include "common/icons.h"
#include "common/theme.h"

namespace strata::ui {

namespace {
QString bytes(quint64 n) { return QLocale().formattedDataSize(qint64(n), 1, QLocale::DataSizeIecFormat); }
}  // namespace

DeviceCard::DeviceCard(const app::AppDevice& device, const QColor& color, QWidget* parent)
    : QFrame(parent), m_id(QString::fromStdString(device.info.id)), m_color(color) {
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
    m_util = new QLabel(this);
    m_busy = new QLabel(this);
    m_busy->setProperty("muted", true);
    l->addSpacing(4);
    l->addWidget(m_memory);
    l->addWidget(m_memoryText);
    l->addWidget(m_layers);
    l->addWidget(m_util);
    l->addWidget(m_busy);
    m_memory->setValues({0, 0, 0, device.info.free_memory});
    m_memoryText->setText(tr("%1 free of %2").arg(bytes(device.info.free_memory), bytes(device.info.total_memory)));
}

void DeviceCard::setUse(const std::vector<strata::StagePlan>& stages, const strata::DeviceMemory* memory,
                        const strata::DeviceUse* planned, const std::vector<strata::StageTiming>& timings,
                        std::optional<double> utilisation, bool modelLoaded) {
    if (memory && memory->capacity > 0) {
        m_memory->setValues({memory->weights, memory->kv_cache, memory->scratch, memory->capacity});
        m_memoryText->setText(tr("%1 used of %2\n%3 weights · %4 KV cache")
                                  .arg(bytes(memory->weights + memory->kv_cache + memory->scratch), bytes(memory->capacity),
                                       bytes(memory->weights), bytes(memory->kv_cache)));
    } else if (planned) {
        m_memory->setValues({planned->weight_bytes, planned->kv_bytes, planned->scratch_bytes, planned->capacity});
        m_memoryText->setText(tr("%1 planned of %2").arg(bytes(planned->total()), bytes(planned->capacity)));
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
    if (parts.isEmpty()) m_layers->setText(modelLoaded ? tr("Not used by this model") : tr("No model loaded"));
    else m_layers->setText(parts.join(QStringLiteral("<br>")));
    m_layers->setProperty("muted", parts.isEmpty());
    if (utilisation) {
        m_util->setText(tr("Utilisation %1%").arg(qRound(*utilisation * 100)));
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

}  // namespace strata::ui
