#include "allocation/device_row.h"

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QSlider>
#include <QToolButton>

#include "common/icons.h"
#include "common/theme.h"

namespace strata::ui {

namespace {
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
QString bytes(quint64 n) { return QLocale().formattedDataSize(qint64(n), 1, QLocale::DataSizeIecFormat); }
}  // namespace

DeviceRow::DeviceRow(const app::AppDevice& device, const QColor& color, QWidget* parent)
    : QFrame(parent), m_key(QString::fromStdString(device.info.id)), m_defaultReserve(app::defaultReserve(device.info)) {
    setObjectName(QStringLiteral("deviceRow"));
    setStyleSheet(QStringLiteral("#deviceRow { border: 1px solid %1; border-radius: 8px; background: %2; }")
                      .arg(currentColors().border.name(), currentColors().surface.name()));
    auto* grid = new QGridLayout(this);
    grid->setContentsMargins(10, 8, 6, 8);
    grid->setHorizontalSpacing(8);
    grid->setVerticalSpacing(4);

    m_enabled = new QCheckBox(this);
    m_enabled->setToolTip(tr("Use this device"));
    auto* swatch = new QLabel(this);
    swatch->setFixedSize(10, 10);
    swatch->setStyleSheet(QStringLiteral("background: %1; border-radius: 5px;").arg(color.name()));
    auto* name = new QLabel(QString::fromStdString(device.info.name), this);
    name->setProperty("subheading", true);
    name->setToolTip(QString::fromStdString(device.info.name + (device.info.note.empty() ? "" : "\n" + device.info.note)));
    name->setMinimumWidth(40);
    name->setWordWrap(true);
    const QString id = QString::fromStdString(device.info.id) + (device.info.is_virtual ? tr(" (virtual)") : QString());
    auto* memory = new QLabel(tr("%1 · %2 free of %3").arg(id, bytes(device.info.free_memory), bytes(device.info.total_memory)), this);
    memory->setProperty("muted", true);

    m_up = new QToolButton(this);
    m_up->setIcon(icon(QStringLiteral("up"), currentColors().mutedText));
    m_up->setToolTip(tr("Higher priority"));
    m_down = new QToolButton(this);
    m_down->setIcon(icon(QStringLiteral("down"), currentColors().mutedText));
    m_down->setToolTip(tr("Lower priority"));

    auto* reserveLabel = new QLabel(tr("Keep free"), this);
    reserveLabel->setProperty("muted", true);
    m_reserve = new QDoubleSpinBox(this);
    m_reserve->setRange(0, double(device.info.total_memory) / kGiB);
    m_reserve->setDecimals(2);
    m_reserve->setSingleStep(0.25);
    m_reserve->setSuffix(QStringLiteral(" GiB"));
    m_reserve->setToolTip(tr("Memory the plan leaves free on this device (driver, other programs)"));

    m_ratioRow = new QWidget(this);
    auto* rr = new QHBoxLayout(m_ratioRow);
    rr->setContentsMargins(0, 0, 0, 0);
    auto* ratioText = new QLabel(tr("Share"), m_ratioRow);
    ratioText->setProperty("muted", true);
    m_ratio = new QSlider(Qt::Horizontal, m_ratioRow);
    m_ratio->setRange(0, 100);
    m_ratio->setToolTip(tr("Relative share of the layers this device gets"));
    m_ratioLabel = new QLabel(m_ratioRow);
    m_ratioLabel->setMinimumWidth(28);
    m_ratioLabel->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    rr->addWidget(ratioText);
    rr->addWidget(m_ratio, 1);
    rr->addWidget(m_ratioLabel);

    auto* top = new QHBoxLayout();
    top->setSpacing(8);
    top->addWidget(swatch);
    top->addWidget(name, 1);
    grid->addWidget(m_enabled, 0, 0, Qt::AlignTop);
    grid->addLayout(top, 0, 1);
    grid->addWidget(m_up, 0, 2);
    grid->addWidget(m_down, 0, 3);
    auto* second = new QHBoxLayout();
    second->setSpacing(6);
    second->addWidget(memory, 1);
    second->addWidget(reserveLabel);
    second->addWidget(m_reserve);
    grid->addLayout(second, 1, 1, 1, 3);
    grid->addWidget(m_ratioRow, 2, 1, 1, 3);
    grid->setColumnStretch(1, 1);

    auto emitChanged = [this] {
        if (!m_loading) emit changed();
    };
    connect(m_enabled, &QCheckBox::toggled, this, emitChanged);
    connect(m_reserve, &QDoubleSpinBox::valueChanged, this, emitChanged);
    connect(m_ratio, &QSlider::valueChanged, this, [this, emitChanged](int v) {
        m_ratioLabel->setText(QString::number(v));
        emitChanged();
    });
    connect(m_up, &QToolButton::clicked, this, &DeviceRow::moveUp);
    connect(m_down, &QToolButton::clicked, this, &DeviceRow::moveDown);
}

void DeviceRow::setAllocation(const app::DeviceAllocation& a, bool showRatio, bool first, bool last) {
    m_loading = true;
    m_enabled->setChecked(a.enabled);
    m_reserve->setValue(double(a.reserve.value_or(m_defaultReserve)) / kGiB);
    m_ratio->setValue(qBound(0, qRound(a.ratio * 50.0), 100));  // ratio 1 = the middle
    m_ratioLabel->setText(QString::number(m_ratio->value()));
    m_ratioRow->setVisible(showRatio);
    m_up->setEnabled(!first);
    m_down->setEnabled(!last);
    m_loading = false;
}

app::DeviceAllocation DeviceRow::allocation() const {
    app::DeviceAllocation a;
    a.key = m_key;
    a.enabled = m_enabled->isChecked();
    const quint64 reserve = quint64(std::llround(m_reserve->value() * kGiB));
    // Keep "default" when the box still shows the default (to the box's precision).
    if (std::llabs(qint64(reserve) - qint64(m_defaultReserve)) > qint64(0.005 * kGiB)) a.reserve = reserve;
    a.ratio = m_ratio->value() / 50.0;
    return a;
}

}  // namespace strata::ui
