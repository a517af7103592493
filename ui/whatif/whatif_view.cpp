#include "whatif/whatif_view.h"

#include <QAbstractItemView>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QGridLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QScrollArea>
#include <QScrollBar>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <functional>

#include "common/theme.h"

namespace strata::ui {

namespace {

struct LinkPreset {
    const char* text;
    strata::Link link;
};
// How cards of one configuration can be wired (the catalogue does not know); the GB/s are one
// copy's, as in resources/machines/*.json.
const LinkPreset kLinks[] = {
    {QT_TRANSLATE_NOOP("WhatIfView", "PCIe 4.0, no P2P (through the CPU, 25 GB/s)"), {strata::LinkKind::staged, 25, 10}},
    {QT_TRANSLATE_NOOP("WhatIfView", "PCIe P2P, same switch (25 GB/s)"), {strata::LinkKind::pcie_switch, 25, 5}},
    {QT_TRANSLATE_NOOP("WhatIfView", "PCIe P2P, host bridge (25 GB/s)"), {strata::LinkKind::host_bridge, 25, 8}},
    {QT_TRANSLATE_NOOP("WhatIfView", "NVLink bridge (56 GB/s)"), {strata::LinkKind::nvlink, 56.25, 3}},
    {QT_TRANSLATE_NOOP("WhatIfView", "NVLink / NVSwitch (450 GB/s)"), {strata::LinkKind::nvlink, 450, 2}},
};

const char* kQuants[] = {"Q4_K_M", "Q4_K_S", "Q5_K_M", "Q6_K", "Q8_0", "Q4_0", "Q3_K_M", "Q2_K", "F16", "BF16"};

QString fmt(const char* f, double v) { return QString::asprintf(f, v); }
QString gib(quint64 b) { return fmt("%.1f", double(b) / (1024.0 * 1024 * 1024)); }

QVariant linkData(const strata::Link& l) { return QVariantList{int(l.kind), l.gbs, l.latency_us}; }
strata::Link linkFrom(const QVariant& v) {
    const QVariantList l = v.toList();
    if (l.size() != 3) return {};
    return {strata::LinkKind(l[0].toInt()), l[1].toDouble(), l[2].toDouble()};
}

// Used and usable bytes of card `d` in a result's plan (a card the plan left empty: nothing used).
quint64 usedBytes(const strata::WhatIfResult& r, size_t d, quint64* capacity) {
    for (const strata::DeviceUse& u : r.plan.devices)
        if (u.device == int(d)) {
            *capacity = u.capacity;
            return u.total();
        }
    const strata::PlanDevice& dev = r.request.devices[d];
    *capacity = dev.info.free_memory - std::min<quint64>(dev.info.free_memory, dev.reserve_bytes);
    return 0;
}

}  // namespace

QString WhatIfView::formatTps(double v) { return v > 0 ? fmt(v < 10 ? "%.2f" : "%.1f", v) : QStringLiteral("–"); }
QString WhatIfView::formatUsd(double v) {
    if (!(v > 0)) return QStringLiteral("–");
    return v < 1 ? fmt("$%.3f", v) : v < 100 ? fmt("$%.2f", v) : fmt("$%.0f", v);
}
QString WhatIfView::formatCount(double v) {
    if (!(v > 0)) return QStringLiteral("–");
    return v >= 1e6 ? fmt("%.2fM", v / 1e6) : fmt("%.0f", v);
}

WhatIfView::WhatIfView(app::WhatIfService& service, QWidget* parent) : QWidget(parent), m_service(service) {
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    outer->addWidget(scroll);
    m_scroll = scroll;
    auto* page = new QWidget(scroll);
    scroll->setWidget(page);
    auto* v = new QVBoxLayout(page);
    v->setContentsMargins(24, 18, 24, 18);
    v->setSpacing(12);

    auto* title = new QLabel(tr("What-if"), page);
    title->setProperty("heading", true);
    v->addWidget(title);
    auto* intro = new QLabel(tr("Would a model fit on GPUs you do not have, how fast would it run, and what would a million "
                                "tokens cost? The planner plans it on cards from the GPU catalogue; nothing is loaded. "
                                "<b>Speeds are upper bounds</b>: memory bandwidth, FP16 throughput and link speeds, which "
                                "this engine's decode reached 12–60% of on an H100 (docs/benchmarks.md); so the costs per "
                                "million tokens are lower bounds."),
                             page);
    intro->setWordWrap(true);
    intro->setProperty("muted", true);
    intro->setObjectName(QStringLiteral("whatifUpperBounds"));
    v->addWidget(intro);

    // The two input cards side by side when the page is wide enough for both, else one above
    // the other (layoutInputs): a small window never scrolls sideways for them.
    m_inputs = new QBoxLayout(QBoxLayout::LeftToRight);
    m_inputs->setSpacing(12);
    m_configsCard = buildConfigs();
    m_modelCard = buildModel();
    m_inputs->addWidget(m_configsCard, 3);
    m_inputs->addWidget(m_modelCard, 2);
    v->addLayout(m_inputs);

    m_error = new QLabel(page);
    m_error->setObjectName(QStringLiteral("whatifError"));
    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->hide();
    v->addWidget(m_error);

    auto* results = new QFrame(page);
    results->setProperty("card", true);
    auto* rv = new QVBoxLayout(results);
    auto* rh = new QHBoxLayout;
    auto* rtitle = new QLabel(tr("Side by side"), results);
    rtitle->setProperty("subheading", true);
    rh->addWidget(rtitle);
    rh->addStretch(1);
    m_status = new QLabel(results);
    m_status->setProperty("muted", true);
    rh->addWidget(m_status);
    rv->addLayout(rh);
    m_modelLine = new QLabel(results);
    m_modelLine->setProperty("muted", true);
    m_modelLine->setWordWrap(true);
    rv->addWidget(m_modelLine);
    m_table = new QTableWidget(results);
    m_table->setObjectName(QStringLiteral("whatifTable"));
    m_table->setAccessibleName(tr("Configurations side by side"));
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionMode(QAbstractItemView::NoSelection);
    m_table->setFocusPolicy(Qt::NoFocus);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->verticalHeader()->setDefaultSectionSize(26);
    m_table->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_table->setSizeAdjustPolicy(QAbstractScrollArea::AdjustToContents);  // no box scrolling inside the page
    rv->addWidget(m_table);
    m_cheapest = new QLabel(results);
    m_cheapest->setObjectName(QStringLiteral("whatifCheapest"));
    m_cheapest->setWordWrap(true);
    rv->addWidget(m_cheapest);
    v->addWidget(results);
    v->addStretch(1);

    m_debounce.setSingleShot(true);
    m_debounce.setInterval(250);
    connect(&m_debounce, &QTimer::timeout, this, &WhatIfView::compute);
    connect(&m_service, &app::WhatIfService::reportReady, this, &WhatIfView::showReport);
    connect(&m_service, &app::WhatIfService::catalogueReady, this, &WhatIfView::fillGpus);
    connect(&m_service, &app::WhatIfService::catalogueFailed, this, [this](const QString& message) {
        m_error->setText(message);
        m_error->show();
    });
    if (m_service.gpuNames().isEmpty()) m_service.loadCatalogue();
    else fillGpus(m_service.gpuNames());
}

QWidget* WhatIfView::buildConfigs() {
    auto* card = new QFrame(this);
    card->setProperty("card", true);
    auto* g = new QGridLayout(card);
    auto* t = new QLabel(tr("Configurations"), card);
    t->setProperty("subheading", true);
    g->addWidget(t, 0, 0, 1, 4);
    const char* defaults[] = {"RTX 3090", "RTX 6000 Ada", "RTX 4090", "H100 SXM"};
    const int counts[] = {2, 1, 2, 1};
    for (int i = 0; i < app::kWhatIfMaxConfigs; ++i) {
        ConfigRow r;
        r.use = new QCheckBox(QString::number(i + 1), card);
        r.use->setChecked(i < 3);
        r.use->setToolTip(tr("Compare this configuration"));
        r.gpu = new QComboBox(card);
        r.gpu->setProperty("pending", QString::fromLatin1(defaults[i]));
        r.gpu->setAccessibleName(tr("GPU %1").arg(i + 1));
        // Both combo boxes may be narrower than their longest entry (elided), so the card fits
        // a small window; the open list shows the entries whole.
        r.gpu->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        r.gpu->setMinimumContentsLength(12);
        r.count = new QSpinBox(card);
        r.count->setRange(1, strata::kWhatIfMaxCards);
        r.count->setValue(counts[i]);
        r.count->setPrefix(QStringLiteral("× "));
        r.count->setAccessibleName(tr("Cards in configuration %1").arg(i + 1));
        r.link = new QComboBox(card);
        for (const LinkPreset& p : kLinks) r.link->addItem(tr(p.text), linkData(p.link));
        r.link->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        r.link->setMinimumContentsLength(16);
        r.link->view()->setMinimumWidth(r.link->view()->sizeHintForColumn(0) + 24);
        r.link->setAccessibleName(tr("Link in configuration %1").arg(i + 1));
        r.link->setToolTip(tr("How the cards of this configuration hand over to each other"));
        g->addWidget(r.use, i + 1, 0);
        g->addWidget(r.gpu, i + 1, 1);
        g->addWidget(r.count, i + 1, 2);
        g->addWidget(r.link, i + 1, 3);
        connect(r.use, &QCheckBox::toggled, this, &WhatIfView::scheduleCompute);
        connect(r.gpu, &QComboBox::currentIndexChanged, this, &WhatIfView::scheduleCompute);
        connect(r.count, &QSpinBox::valueChanged, this, &WhatIfView::scheduleCompute);
        connect(r.link, &QComboBox::currentIndexChanged, this, &WhatIfView::scheduleCompute);
        m_rows.append(r);
    }
    g->setColumnStretch(1, 2);
    g->setColumnStretch(3, 3);
    g->setRowStretch(app::kWhatIfMaxConfigs + 1, 1);
    return card;
}

QWidget* WhatIfView::buildModel() {
    auto* card = new QFrame(this);
    card->setProperty("card", true);
    auto* g = new QGridLayout(card);
    auto* t = new QLabel(tr("Model and use"), card);
    t->setProperty("subheading", true);
    g->addWidget(t, 0, 0, 1, 4);
    m_model = new QComboBox(card);
    m_model->addItem(tr("By size and type"), QString());
    m_model->setAccessibleName(tr("Model"));
    m_model->setToolTip(tr("A model of the library (only its header is read) or a llama-shaped model of a given size"));
    m_params = new QLineEdit(QStringLiteral("70B"), card);
    m_params->setAccessibleName(tr("Parameters"));
    m_params->setPlaceholderText(tr("70B, 8B, 1.5B…"));
    m_quant = new QComboBox(card);
    m_quant->setEditable(true);
    for (const char* q : kQuants) m_quant->addItem(QString::fromLatin1(q));
    m_quant->setAccessibleName(tr("Quantization"));
    m_ctx = new QSpinBox(card);
    m_ctx->setRange(256, 1 << 20);
    m_ctx->setSingleStep(1024);
    m_ctx->setValue(8192);
    m_ctx->setAccessibleName(tr("Context length"));
    m_users = new QSpinBox(card);
    m_users->setRange(1, 1024);
    m_users->setAccessibleName(tr("Users at once"));
    m_kwh = new QDoubleSpinBox(card);
    m_kwh->setRange(0, 10);
    m_kwh->setDecimals(3);
    m_kwh->setSingleStep(0.01);
    m_kwh->setValue(0.15);
    m_kwh->setPrefix(QStringLiteral("$"));
    m_kwh->setAccessibleName(tr("Electricity price per kWh"));
    m_years = new QDoubleSpinBox(card);
    m_years->setRange(0.25, 20);
    m_years->setValue(3);
    m_years->setAccessibleName(tr("Amortisation years"));
    m_hours = new QDoubleSpinBox(card);
    m_hours->setRange(0.5, 24);
    m_hours->setValue(24);
    m_hours->setAccessibleName(tr("Hours a day serving"));
    m_minTps = new QDoubleSpinBox(card);
    m_minTps->setRange(0, 100000);
    m_minTps->setAccessibleName(tr("Cheapest at least this fast"));
    m_minTps->setSuffix(tr(" tok/s"));

    int row = 1;
    auto add = [&](const QString& label, QWidget* a, const QString& label2 = {}, QWidget* b = nullptr) {
        g->addWidget(new QLabel(label, card), row, 0);
        g->addWidget(a, row, 1, 1, b ? 1 : 3);
        if (b) {
            g->addWidget(new QLabel(label2, card), row, 2);
            g->addWidget(b, row, 3);
        }
        ++row;
    };
    add(tr("Model"), m_model);
    add(tr("Parameters"), m_params, tr("Type"), m_quant);
    add(tr("Context"), m_ctx, tr("Users"), m_users);
    add(tr("Power $/kWh"), m_kwh, tr("Over years"), m_years);
    add(tr("Hours a day"), m_hours, tr("Cheapest at"), m_minTps);
    g->setRowStretch(row, 1);
    g->setColumnStretch(1, 1);
    g->setColumnStretch(3, 1);

    connect(m_model, &QComboBox::currentIndexChanged, this, [this] {
        updateModelControls();
        scheduleCompute();
    });
    connect(m_params, &QLineEdit::textChanged, this, &WhatIfView::scheduleCompute);
    connect(m_quant, &QComboBox::currentTextChanged, this, &WhatIfView::scheduleCompute);
    for (QSpinBox* s : {m_ctx, m_users}) connect(s, &QSpinBox::valueChanged, this, &WhatIfView::scheduleCompute);
    for (QDoubleSpinBox* s : {m_kwh, m_years, m_hours, m_minTps})
        connect(s, &QDoubleSpinBox::valueChanged, this, &WhatIfView::scheduleCompute);
    return card;
}

void WhatIfView::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    layoutInputs();
}

void WhatIfView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    layoutInputs();
}

void WhatIfView::layoutInputs() {
    // The page's width inside its margins, a vertical scroll bar's width kept free (it comes and
    // goes with the page's height; the choice must not flip with it).
    const QMargins margins = m_scroll->widget()->layout()->contentsMargins();
    const int width = m_scroll->width() - margins.left() - margins.right() - m_scroll->verticalScrollBar()->sizeHint().width();
    const int sideBySide = m_configsCard->sizeHint().width() + m_inputs->spacing() + m_modelCard->sizeHint().width();
    const bool wide = width >= sideBySide;
    const QBoxLayout::Direction direction = wide ? QBoxLayout::LeftToRight : QBoxLayout::TopToBottom;
    if (m_inputs->direction() == direction) return;
    m_inputs->setDirection(direction);
    m_inputs->setStretch(0, wide ? 3 : 0);
    m_inputs->setStretch(1, wide ? 2 : 0);
}

void WhatIfView::updateModelControls() {
    const bool bySize = m_model->currentData().toString().isEmpty();
    m_params->setEnabled(bySize);
    m_quant->setEnabled(bySize);
}

void WhatIfView::setModels(const QList<QPair<QString, QString>>& models, const QString& loadedPath) {
    const QString current = m_model->currentData().toString();
    m_filling = true;
    m_model->clear();
    m_model->addItem(tr("By size and type"), QString());
    for (const auto& [path, name] : models)
        m_model->addItem(path == loadedPath ? tr("%1 (loaded)").arg(name) : name, path);
    const QString pick = !current.isEmpty() ? current : loadedPath;
    const int i = pick.isEmpty() ? 0 : m_model->findData(pick);
    m_model->setCurrentIndex(std::max(0, i));
    m_filling = false;
    updateModelControls();
    if (m_model->currentData().toString() != current) scheduleCompute();
}

void WhatIfView::fillGpus(const QStringList& names) {
    m_filling = true;
    for (ConfigRow& r : m_rows) {
        const QString want = r.gpu->count() ? r.gpu->currentText() : r.gpu->property("pending").toString();
        r.gpu->clear();
        r.gpu->addItems(names);
        const int i = r.gpu->findText(want);
        r.gpu->setCurrentIndex(std::max(0, i));
    }
    m_filling = false;
    scheduleCompute();
}

app::WhatIfInputs WhatIfView::inputs() const {
    app::WhatIfInputs in;
    for (const ConfigRow& r : m_rows) {
        if (!r.use->isChecked()) continue;
        app::WhatIfConfigInput c;
        c.gpu = r.gpu->count() ? r.gpu->currentText() : r.gpu->property("pending").toString();
        c.count = r.count->value();
        c.link = linkFrom(r.link->currentData());
        in.configs.append(c);
    }
    in.modelPath = m_model->currentData().toString();
    if (in.modelPath.isEmpty()) {
        in.params = m_params->text();
        in.quant = m_quant->currentText();
    }
    in.options.n_ctx = m_ctx->value();
    in.options.users = m_users->value();
    in.options.kwh_price = m_kwh->value();
    in.options.years = m_years->value();
    in.options.hours_per_day = m_hours->value();
    in.minDecodeTps = m_minTps->value();
    return in;
}

void WhatIfView::setInputs(const app::WhatIfInputs& in) {
    m_filling = true;
    for (int i = 0; i < m_rows.size(); ++i) {
        ConfigRow& r = m_rows[i];
        r.use->setChecked(i < in.configs.size());
        if (i >= in.configs.size()) continue;
        const app::WhatIfConfigInput& c = in.configs[i];
        if (r.gpu->count()) {
            int k = r.gpu->findText(c.gpu);
            if (k < 0) {
                r.gpu->addItem(c.gpu);  // not in the catalogue: the computation will say so
                k = r.gpu->count() - 1;
            }
            r.gpu->setCurrentIndex(k);
        } else {
            r.gpu->setProperty("pending", c.gpu);
        }
        r.count->setValue(c.count);
        int k = -1;
        for (int j = 0; j < r.link->count(); ++j) {
            const strata::Link l = linkFrom(r.link->itemData(j));
            if (l.kind == c.link.kind && l.gbs == c.link.gbs && l.latency_us == c.link.latency_us) k = j;
        }
        if (k < 0) {
            r.link->addItem(tr("%1 at %2 GB/s").arg(QString::fromLatin1(strata::link_kind_description(c.link.kind))).arg(c.link.gbs),
                            linkData(c.link));
            k = r.link->count() - 1;
        }
        r.link->setCurrentIndex(k);
    }
    const int m = in.modelPath.isEmpty() ? 0 : m_model->findData(in.modelPath);
    if (m < 0) m_model->addItem(QFileInfo(in.modelPath).fileName(), in.modelPath);
    m_model->setCurrentIndex(m < 0 ? m_model->count() - 1 : m);
    m_params->setText(in.params);
    m_quant->setCurrentText(in.quant);
    m_ctx->setValue(int(std::clamp<int64_t>(in.options.n_ctx, m_ctx->minimum(), m_ctx->maximum())));
    m_users->setValue(in.options.users);
    m_kwh->setValue(in.options.kwh_price);
    m_years->setValue(in.options.years);
    m_hours->setValue(in.options.hours_per_day);
    m_minTps->setValue(in.minDecodeTps);
    m_filling = false;
    updateModelControls();
    scheduleCompute();
}

void WhatIfView::scheduleCompute() {
    if (!m_filling) m_debounce.start();
}

void WhatIfView::compute() {
    m_debounce.stop();
    m_status->setText(tr("Planning…"));
    m_service.run(inputs());
}

QString WhatIfView::errorText() const { return m_error->isHidden() ? QString() : m_error->text(); }
QString WhatIfView::cheapestText() const { return m_cheapest->text(); }

QString WhatIfView::cell(const QString& rowName, int config) const {
    for (int r = 0; r < m_table->rowCount(); ++r) {
        const QTableWidgetItem* h = m_table->verticalHeaderItem(r);
        if (h && h->text() == rowName) {
            const QTableWidgetItem* it = m_table->item(r, config);
            return it ? it->text() : QString();
        }
    }
    return {};
}

void WhatIfView::showReport(const app::WhatIfReport& report) {
    m_status->clear();
    const ThemeColors& colors = currentColors();
    if (!report.ok()) {
        m_error->setText(tr("Cannot compare: %1").arg(report.error));
        m_error->setStyleSheet(QStringLiteral("color: %1; font-weight: 600;").arg(colors.bad.name()));
        m_error->show();
        m_table->clear();
        m_table->setRowCount(0);
        m_table->setColumnCount(0);
        m_cheapest->clear();
        m_modelLine->clear();
        return;
    }
    m_error->hide();
    m_error->clear();
    const auto& results = report.results;
    m_modelLine->setText(tr("%1: %2 of weights, %3 layers")
                             .arg(report.model.contains(QLatin1Char('/')) ? QFileInfo(report.model).fileName() : report.model,
                                  QLocale().formattedDataSize(qint64(report.weightBytes), 1, QLocale::DataSizeIecFormat))
                             .arg(report.nLayer));

    struct Row {
        QString name;
        QString tip;
        std::function<QString(const strata::WhatIfResult&)> text;
    };
    size_t maxCards = 0;
    for (const auto& r : results) maxCards = std::max(maxCards, r.gpus.size());
    const int users = results.empty() ? 1 : results.front().request.n_seq;
    std::vector<Row> rows;
    rows.push_back({tr("Fits"), {}, [](const strata::WhatIfResult& r) { return r.fits ? tr("yes") : tr("NO"); }});
    for (size_t d = 0; d < maxCards; ++d)
        rows.push_back({tr("cuda%1 GiB used / usable").arg(d), tr("What the plan puts on this card, of what it can hold"),
                        [d](const strata::WhatIfResult& r) {
                            if (d >= r.gpus.size()) return QString();
                            quint64 cap = 0;
                            const quint64 used = usedBytes(r, d, &cap);
                            return gib(used) + QStringLiteral(" / ") + gib(cap) + (used > cap ? QStringLiteral("  ✗") : QString());
                        }});
    rows.push_back({tr("Decode tok/s (1 user)"), tr("An upper bound: weight bytes per token over each card's bandwidth, plus hand-offs"),
                    [](const strata::WhatIfResult& r) { return formatTps(r.decode_tps); }});
    rows.push_back({tr("Prefill tok/s"), tr("An upper bound: FLOPs per token over FP16 throughput"),
                    [](const strata::WhatIfResult& r) { return formatTps(r.prefill_tps); }});
    rows.push_back({users == 1 ? tr("Served tok/s (1 user)") : tr("Served tok/s (%1 users)").arg(users), {},
                    [](const strata::WhatIfResult& r) { return formatTps(r.served_tps); }});
    rows.push_back({tr("Slowest hand-off"), tr("Per token, between two cards' stages"), [](const strata::WhatIfResult& r) {
                        const strata::StageHandOff* worst = nullptr;
                        for (const strata::StageHandOff& h : r.plan.handoffs)
                            if (!worst || h.decode_seconds_per_token > worst->decode_seconds_per_token) worst = &h;
                        if (!worst || worst->decode_seconds_per_token <= 0) return QStringLiteral("–");
                        return fmt("%.3f ms", worst->decode_seconds_per_token * 1e3) + QStringLiteral(" (") +
                               QString::fromLatin1(strata::link_kind_name(worst->link.kind)) + QLatin1Char(')');
                    }});
    rows.push_back({tr("Power (board power) W"), tr("Every card at its board power: an upper bound"),
                    [](const strata::WhatIfResult& r) { return fmt("%.0f", r.power_w); }});
    rows.push_back({tr("Price to buy"), {}, [](const strata::WhatIfResult& r) { return formatUsd(r.purchase_usd); }});
    rows.push_back({tr("Cloud $/hour"), {}, [](const strata::WhatIfResult& r) { return formatUsd(r.cloud_usd_per_hour); }});
    rows.push_back({tr("Owned $/hour"), tr("The purchase spread over the years and hours, plus electricity"),
                    [](const strata::WhatIfResult& r) { return formatUsd(r.own_usd_per_hour); }});
    rows.push_back({tr("$/Mtok owned"), {}, [](const strata::WhatIfResult& r) { return formatUsd(r.own_usd_per_mtok); }});
    rows.push_back({tr("$/Mtok in a cloud"), {}, [](const strata::WhatIfResult& r) { return formatUsd(r.cloud_usd_per_mtok); }});
    rows.push_back({tr("Tokens per $ owned"), {}, [](const strata::WhatIfResult& r) { return formatCount(r.own_tokens_per_usd); }});
    rows.push_back({tr("Tokens per $ in a cloud"), {}, [](const strata::WhatIfResult& r) { return formatCount(r.cloud_tokens_per_usd); }});
    rows.push_back({tr("If one card fails"), tr("The plan on the remaining cards (the planner's recovery path)"),
                    [](const strata::WhatIfResult& r) {
                        if (r.failures.empty()) return tr("nothing left");
                        QStringList parts;
                        for (const strata::WhatIfFailure& f : r.failures) {
                            QString s = r.failures.size() > 1 ? tr("without %1: ").arg(QString::fromStdString(r.gpus[size_t(f.removed)].name))
                                                              : QString();
                            s += f.fits ? tr("fits, %1 tok/s").arg(formatTps(f.decode_tps)) : tr("does not fit");
                            parts.append(s);
                        }
                        return parts.join(QStringLiteral("; "));
                    }});

    m_table->clear();
    m_table->setColumnCount(int(results.size()));
    m_table->setRowCount(int(rows.size()));
    for (size_t c = 0; c < results.size(); ++c) {
        QString label = QString::fromStdString(results[c].label);
        if (int(c) == report.cheapest) label += QStringLiteral("  ★");
        m_table->setHorizontalHeaderItem(int(c), new QTableWidgetItem(label));
    }
    for (size_t r = 0; r < rows.size(); ++r) {
        auto* h = new QTableWidgetItem(rows[r].name);
        h->setToolTip(rows[r].tip);
        m_table->setVerticalHeaderItem(int(r), h);
        for (size_t c = 0; c < results.size(); ++c) {
            auto* it = new QTableWidgetItem(rows[r].text(results[c]));
            it->setTextAlignment(Qt::AlignCenter);
            if (r == 0) it->setForeground(results[c].fits ? colors.good : colors.bad);
            if (!results[c].fits && r == 0) {
                QStringList why;
                for (const std::string& s : results[c].plan.shortfalls) why.append(QString::fromStdString(s));
                it->setToolTip(why.join(QLatin1Char('\n')));
            }
            m_table->setItem(int(r), int(c), it);
        }
    }

    bool anyFits = false;
    for (const auto& r : results) anyFits = anyFits || r.fits;
    if (report.cheapest >= 0) {
        const strata::WhatIfResult& c = results[size_t(report.cheapest)];
        m_cheapest->setText(tr("★ Cheapest configuration that fits: <b>%1</b> at %2 per million tokens owned (%3 in a cloud), "
                               "%4 tok/s for one user.")
                                .arg(QString::fromStdString(c.label).toHtmlEscaped(), formatUsd(c.own_usd_per_mtok),
                                     formatUsd(c.cloud_usd_per_mtok), formatTps(c.decode_tps)));
    } else if (anyFits) {
        m_cheapest->setText(m_minTps->value() > 0 ? tr("No configuration that fits decodes %1 tok/s or more (predicted).").arg(formatTps(m_minTps->value()))
                                                   : tr("No configuration that fits has a price in the catalogue."));
    } else {
        m_cheapest->setText(tr("No configuration fits this model at this context and number of users."));
    }
}

}  // namespace strata::ui
