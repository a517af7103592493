#include "allocation/allocation_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSpinBox>
#include <QVBoxLayout>

#include "allocation/device_row.h"
#include "allocation/fit_preview.h"
#include "allocation/fit_service.h"
#include "common/icons.h"
#include "common/theme.h"
#include "library/model_catalog.h"

namespace strata::ui {

namespace {

QFrame* card(const QString& title, QWidget* parent, QVBoxLayout** body) {
    auto* f = new QFrame(parent);
    f->setProperty("card", true);
    auto* l = new QVBoxLayout(f);
    l->setContentsMargins(16, 14, 16, 14);
    l->setSpacing(8);
    auto* t = new QLabel(title, f);
    t->setProperty("subheading", true);
    l->addWidget(t);
    *body = l;
    return f;
}

// A scroll area whose widget wraps text (height for width) lays it out for the viewport it had
// before its vertical scroll bar appeared, and keeps that width: a sideways scroll bar for a
// few pixels. Once the bar has come or gone, lay the widget out again for the viewport it has.
void refitWhenScrollBarToggles(QScrollArea* area) {
    QObject::connect(area->verticalScrollBar(), &QScrollBar::rangeChanged, area, [area] {
        QTimer::singleShot(0, area, [area] { area->setWidgetResizable(true); });
    });
}

QString modeHelp(strata::SplitMode m) {
    switch (m) {
        case strata::SplitMode::fewest:
            return QObject::tr("Fills devices in the order of the list (first = highest priority) and uses as few as "
                               "fit. Move a device up to prefer it.");
        case strata::SplitMode::even:
            return QObject::tr("Spreads layers over every enabled device in proportion to its free memory.");
        case strata::SplitMode::ratios:
            return QObject::tr("Gives each enabled device the share of layers set by its slider.");
    }
    return {};
}

QString expertHelp(strata::ExpertMode m) {
    switch (m) {
        case strata::ExpertMode::automatic:
            return QObject::tr("Every layer's attention and KV cache go to the devices first; experts sit beside "
                               "their layers where room is left, the rest in system memory, run by the CPU.");
        case strata::ExpertMode::cpu:
            return QObject::tr("Every layer's experts in system memory, run by the CPU; the other devices keep "
                               "attention and the KV cache.");
        case strata::ExpertMode::first_n:
            return QObject::tr("The experts of the first layers in system memory, run by the CPU; the rest beside "
                               "their layers.");
    }
    return {};
}

}  // namespace

AllocationPanel::AllocationPanel(app::FitService& fits, app::ModelCatalog& catalog, QWidget* parent)
    : QWidget(parent), m_fits(fits), m_catalog(catalog) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(24, 20, 24, 16);
    layout->setSpacing(14);

    auto* header = new QHBoxLayout();
    auto* titles = new QVBoxLayout();
    titles->setSpacing(2);
    auto* title = new QLabel(tr("Allocation"), this);
    title->setProperty("heading", true);
    auto* subtitle = new QLabel(tr("Where the model's layers, KV cache and scratch memory go"), this);
    subtitle->setProperty("muted", true);
    titles->addWidget(title);
    titles->addWidget(subtitle);
    header->addLayout(titles, 1);
    auto* modelLabel = new QLabel(tr("Model"), this);
    modelLabel->setProperty("muted", true);
    m_model = new QComboBox(this);
    m_model->setMinimumWidth(260);
    m_model->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    modelLabel->setBuddy(m_model);
    m_model->setAccessibleName(tr("Model to allocate"));
    header->addWidget(modelLabel);
    header->addWidget(m_model);
    layout->addLayout(header);

    auto* columns = new QHBoxLayout();
    columns->setSpacing(16);

    // ---- left: settings
    auto* leftScroll = new QScrollArea(this);
    leftScroll->setWidgetResizable(true);
    // Squeezed below its content (the window at its minimum size, large fonts) a column scrolls
    // sideways rather than cutting its controls off.
    leftScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    refitWhenScrollBarToggles(leftScroll);
    leftScroll->setMinimumWidth(440);
    leftScroll->setMaximumWidth(600);
    m_leftScroll = leftScroll;
    auto* left = new QWidget(leftScroll);
    auto* ll = new QVBoxLayout(left);
    ll->setContentsMargins(0, 0, 14, 0);
    ll->setSpacing(12);

    QVBoxLayout* body = nullptr;
    ll->addWidget(card(tr("Devices"), left, &body));
    m_rowLayout = new QVBoxLayout();
    m_rowLayout->setSpacing(6);
    body->addLayout(m_rowLayout);
    m_noDevices = new QLabel(tr("Looking for devices…"), left);
    m_noDevices->setProperty("muted", true);
    body->addWidget(m_noDevices);

    ll->addWidget(card(tr("Split and memory"), left, &body));
    m_mode = new QComboBox(left);
    m_mode->addItem(tr("Fewest devices (priority order)"), int(strata::SplitMode::fewest));
    m_mode->addItem(tr("Even (by free memory)"), int(strata::SplitMode::even));
    m_mode->addItem(tr("Manual shares"), int(strata::SplitMode::ratios));
    m_modeHelp = new QLabel(left);
    m_modeHelp->setWordWrap(true);
    m_modeHelp->setProperty("muted", true);
    auto* form = new QFormLayout();
    form->setHorizontalSpacing(12);
    form->setVerticalSpacing(8);
    m_ctx = new QSpinBox(left);
    m_ctx->setRange(0, int(kMaxContext));
    m_ctx->setAccessibleName(tr("Context length"));
    m_ctx->setSingleStep(1024);
    m_ctx->setSuffix(tr(" tokens"));
    m_ctx->setToolTip(tr("How much text (prompt + answer) the model can see at once"));
    m_useLongest = new QPushButton(tr("Longest that fits"), left);
    m_useLongest->setToolTip(tr("The longest context that fits these devices, up to the model's trained length"));
    // Past the trained length a model's answers degrade: the box stops there unless asked.
    m_beyond = new QCheckBox(tr("Allow beyond the trained length"), left);
    m_beyond->setToolTip(tr("Answers past the length the model was trained on usually turn into nonsense"));
    // The button under the box, beside the choice: one line of both would be wider than the
    // column at the window's minimum size.
    auto* ctxRow = new QHBoxLayout();
    ctxRow->addWidget(m_useLongest);
    ctxRow->addWidget(m_beyond, 1);
    m_kv = new QComboBox(left);
    m_kv->addItem(tr("f16 (default)"), int(strata::KvCacheType::f16));
    m_kv->addItem(tr("q8_0 (half the memory)"), int(strata::KvCacheType::q8_0));
    m_kv->addItem(tr("f32 (exact, twice f16)"), int(strata::KvCacheType::f32));
    m_batch = new QSpinBox(left);
    m_batch->setRange(1, 8192);
    m_batch->setSingleStep(64);
    m_batch->setToolTip(tr("Prompt tokens processed per step: more is faster to read long prompts, needs more scratch"));
    form->addRow(tr("Split"), m_mode);
    form->addRow(QString(), m_modeHelp);
    form->addRow(tr("Context length"), m_ctx);
    form->addRow(QString(), ctxRow);
    form->addRow(tr("KV cache"), m_kv);
    form->addRow(tr("Batch size"), m_batch);
    body->addLayout(form);

    // Mixture-of-experts models only: a layer's router and experts may sit on a CPU device while
    // its attention runs elsewhere (strata::ExpertPlacement).
    m_expertCard = card(tr("Experts"), left, &body);
    ll->addWidget(m_expertCard);
    m_expertMode = new QComboBox(m_expertCard);
    m_expertMode->addItem(tr("Automatic"), int(strata::ExpertMode::automatic));
    m_expertMode->addItem(tr("All on the CPU"), int(strata::ExpertMode::cpu));
    m_expertMode->addItem(tr("First layers on the CPU"), int(strata::ExpertMode::first_n));
    m_expertMode->setAccessibleName(tr("Expert placement"));
    m_expertMode->setToolTip(tr("Where this mixture-of-experts model's experts go"));
    m_expertHelp = new QLabel(m_expertCard);
    m_expertHelp->setWordWrap(true);
    m_expertHelp->setProperty("muted", true);
    m_expertLayers = new QSpinBox(m_expertCard);
    m_expertLayers->setRange(0, 0);
    m_expertLayers->setAccessibleName(tr("Layers whose experts go to the CPU"));
    m_expertLayers->setToolTip(tr("How many layers, from the first, keep their experts on the CPU"));
    m_expertHostLabel = new QLabel(tr("Held by"), m_expertCard);
    m_expertHost = new QComboBox(m_expertCard);
    m_expertHost->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);  // not wider than the column
    m_expertHost->setAccessibleName(tr("Device holding the experts"));
    m_expertHost->setToolTip(tr("The CPU device whose memory holds the experts (only CPUs run experts in this build)"));
    auto* expertForm = new QFormLayout();
    expertForm->setHorizontalSpacing(12);
    expertForm->setVerticalSpacing(8);
    expertForm->addRow(tr("Placement"), m_expertMode);
    expertForm->addRow(QString(), m_expertHelp);
    expertForm->addRow(tr("First layers"), m_expertLayers);
    expertForm->addRow(m_expertHostLabel, m_expertHost);
    body->addLayout(expertForm);
    m_expertCard->setVisible(false);
    ll->addStretch(1);
    leftScroll->setWidget(left);
    columns->addWidget(leftScroll, 0);

    // ---- right: preview
    auto* rightScroll = new QScrollArea(this);
    rightScroll->setWidgetResizable(true);
    rightScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    refitWhenScrollBarToggles(rightScroll);
    m_preview = new FitPreview(rightScroll);
    rightScroll->setWidget(m_preview);
    columns->addWidget(rightScroll, 1);
    layout->addLayout(columns, 1);

    auto* footer = new QHBoxLayout();
    m_reset = new QPushButton(tr("Reset to defaults"), this);
    m_apply = new QPushButton(icon(QStringLiteral("play"), Qt::white), tr("Apply and load"), this);
    m_apply->setProperty("primary", true);
    footer->addWidget(m_reset);
    footer->addStretch(1);
    footer->addWidget(m_apply);
    layout->addLayout(footer);

    m_saveTimer.setSingleShot(true);
    m_saveTimer.setInterval(300);
    connect(&m_saveTimer, &QTimer::timeout, this, [this] {
        if (!m_path.isEmpty()) emit settingsChanged(m_path, m_settings);
    });
    connect(m_model, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_syncing) modelChosen();
    });
    auto changed = [this] {
        if (!m_syncing) collect();
    };
    connect(m_mode, &QComboBox::currentIndexChanged, this, changed);
    connect(m_kv, &QComboBox::currentIndexChanged, this, changed);
    connect(m_ctx, &QSpinBox::valueChanged, this, changed);
    connect(m_batch, &QSpinBox::valueChanged, this, changed);
    connect(m_expertMode, &QComboBox::currentIndexChanged, this, changed);
    connect(m_expertLayers, &QSpinBox::valueChanged, this, changed);
    connect(m_expertHost, &QComboBox::currentIndexChanged, this, changed);
    connect(m_beyond, &QCheckBox::toggled, this, [this] {
        if (!m_syncing) updateContextRange();  // may clamp the value: collect() follows
    });
    connect(m_useLongest, &QPushButton::clicked, this, [this] {
        if (m_plan.max_ctx_that_fits > 0) m_ctx->setValue(int(qMin<int64_t>(m_plan.max_ctx_that_fits, m_ctx->maximum())));
    });
    connect(m_reset, &QPushButton::clicked, this, [this] {
        setSettings(m_path, app::normalized({}, m_fits.devices()));
        m_saveTimer.start();
    });
    connect(m_apply, &QPushButton::clicked, this, [this] {
        m_saveTimer.stop();
        if (m_path.isEmpty()) return;
        emit settingsChanged(m_path, m_settings);
        emit applyRequested(m_path, m_settings);
    });
    connect(&m_fits, &app::FitService::devicesChanged, this, [this] {
        m_settings = app::normalized(m_settings, m_fits.devices());
        rebuildRows();
        updatePreview();
    });
    connect(&m_fits, &app::FitService::footprintReady, this, [this](const QString& p) {
        if (p == m_path) updatePreview();
    });
    connect(&m_fits, &app::FitService::footprintFailed, this, [this](const QString& p) {
        if (p == m_path) updatePreview();
    });
    connect(&m_catalog, &QAbstractItemModel::rowsInserted, this, &AllocationPanel::reloadModels);
    connect(&m_catalog, &QAbstractItemModel::rowsRemoved, this, &AllocationPanel::reloadModels);
    connect(&m_catalog, &QAbstractItemModel::modelReset, this, &AllocationPanel::reloadModels);
    reloadModels();
    m_settings = app::normalized({}, m_fits.devices());
    rebuildRows();
    syncControls();
}

void AllocationPanel::modelChosen() {
    const QString path = m_model->currentData().toString();
    if (path == m_path) return;
    m_saveTimer.stop();
    if (!m_path.isEmpty()) emit settingsChanged(m_path, m_settings);  // keep the last edits
    m_path = path;
    {
        const QSignalBlocker block(m_beyond);  // each model starts within its trained length
        m_beyond->setChecked(false);
    }
    emit modelSelected(m_path);  // the owner answers with setSettings()
    updatePreview();
}

void AllocationPanel::reloadModels() {
    m_syncing = true;
    m_model->clear();
    for (const app::CatalogEntry& e : m_catalog.entries()) m_model->addItem(e.name + QStringLiteral("  ·  ") + e.quantization, e.path);
    const int i = m_model->findData(m_path);
    m_model->setCurrentIndex(i >= 0 ? i : (m_model->count() > 0 ? 0 : -1));
    m_syncing = false;
    modelChosen();
}

void AllocationPanel::selectModel(const QString& path) {
    const int i = m_model->findData(path);
    if (i >= 0) m_model->setCurrentIndex(i);
}

void AllocationPanel::setSettings(const QString& path, const app::AllocationSettings& settings) {
    if (path != m_path) return;
    m_settings = app::normalized(settings, m_fits.devices());
    rebuildRows();
    syncControls();
    updatePreview();
}

void AllocationPanel::refresh() {
    rebuildRows();
    updatePreview();
}

void AllocationPanel::setLoadedModel(const QString& path) {
    m_loaded = path;
    m_apply->setText(!m_loaded.isEmpty() && m_loaded == m_path ? tr("Apply and reload") : tr("Apply and load"));
}

void AllocationPanel::rebuildRows() {
    for (DeviceRow* r : m_rows) {  // later: a row's own button may be what asked for this
        r->hide();
        m_rowLayout->removeWidget(r);
        r->deleteLater();
    }
    m_rows.clear();
    const app::AppDevices ordered = app::orderedDevices(m_settings, m_fits.devices());
    const QList<QColor>& colors = currentColors().devicePalette;
    for (int i = 0; i < ordered.size(); ++i) {
        int original = 0;  // colour by the device's place in the machine, not in the order
        for (int j = 0; j < m_fits.devices().size(); ++j)
            if (m_fits.devices()[j].info.id == ordered[i].info.id) original = j;
        auto* row = new DeviceRow(ordered[i], colors[original % colors.size()], this);
        m_rowLayout->addWidget(row);
        m_rows.append(row);
        connect(row, &DeviceRow::changed, this, [this] {
            if (!m_syncing) collect();
        });
        const QString key = row->key();
        connect(row, &DeviceRow::moveUp, this, [this, key] { move(key, -1); });
        connect(row, &DeviceRow::moveDown, this, [this, key] { move(key, +1); });
    }
    m_noDevices->setVisible(m_rows.isEmpty());
    rebuildExpertHosts();
    syncControls();
    updateLeftWidth();
    // Once the new rows are shown the column's own size hint counts them exactly.
    QTimer::singleShot(0, this, &AllocationPanel::updateLeftWidth);
}

void AllocationPanel::updateLeftWidth() {
    // Wide enough for the longest device row (names and memory lines are not wrapped) and the
    // form (the context box grows with its "Model default (…)" text, set in syncControls).
    // (New rows are not shown yet, so the column's own size hint does not count them.)
    int rows = 0;
    for (DeviceRow* r : m_rows) rows = qMax(rows, r->minimumSizeHint().width());
    // The scroll area lays its widget out at the widget's size hint when there is room; with the
    // vertical scroll bar shown that must still fit, or a sideways scroll bar appears.
    const QWidget* content = m_leftScroll->widget();
    const int widest = qMax(qMax(content->minimumSizeHint().width(), content->sizeHint().width()), rows + 2 * 16 + 14);
    const int need = widest + m_leftScroll->verticalScrollBar()->sizeHint().width() + 2 * m_leftScroll->frameWidth() + 4;
    m_leftScroll->setMinimumWidth(qBound(400, need, 600));
}

void AllocationPanel::syncControls() {
    m_syncing = true;
    const bool ratios = m_settings.mode == strata::SplitMode::ratios;
    for (int i = 0; i < m_rows.size() && i < m_settings.devices.size(); ++i)
        m_rows[i]->setAllocation(m_settings.devices[i], ratios, i == 0, i == m_rows.size() - 1);
    m_mode->setCurrentIndex(m_mode->findData(int(m_settings.mode)));
    m_modeHelp->setText(modeHelp(m_settings.mode));
    m_kv->setCurrentIndex(m_kv->findData(int(m_settings.kvType)));
    const qint64 trained = trainedContext();
    if (trained > 0 && m_settings.nCtx > trained) m_beyond->setChecked(true);  // chosen knowingly before
    updateContextRange();
    m_ctx->setValue(int(m_settings.nCtx));
    m_ctx->setSpecialValueText(tr("Model default (%1)").arg(QLocale().toString(qlonglong(app::effectiveContext({}, trained)))));
    m_batch->setValue(int(m_settings.nBatch));
    m_expertMode->setCurrentIndex(m_expertMode->findData(int(m_settings.experts.mode)));
    m_expertHelp->setText(expertHelp(m_settings.experts.mode));
    m_expertLayers->setMaximum(qMax(selectedLayerCount(), m_settings.experts.nHostLayers));
    m_expertLayers->setSuffix(tr(" of %1 layers").arg(selectedLayerCount()));
    m_expertLayers->setValue(m_settings.experts.nHostLayers);
    m_expertLayers->setEnabled(m_settings.experts.mode == strata::ExpertMode::first_n);
    m_expertHost->setCurrentIndex(qMax(0, m_expertHost->findData(m_settings.experts.hostKey)));
    m_syncing = false;
    updateLeftWidth();
}

// The CPU devices that may hold experts; the choice is offered only when there is one to make.
void AllocationPanel::rebuildExpertHosts() {
    const bool was = m_syncing;
    m_syncing = true;
    m_expertHost->clear();
    m_expertHost->addItem(tr("The first CPU device"), QString());
    for (const app::AppDevice& d : app::orderedDevices(m_settings, m_fits.devices()))
        if (d.info.type == strata::DeviceType::cpu)
            m_expertHost->addItem(tr("%1 · %2 free").arg(QString::fromStdString(d.info.id),
                                                          QLocale().formattedDataSize(qint64(d.info.free_memory), 1,
                                                                                      QLocale::DataSizeIecFormat)),
                                  QString::fromStdString(d.info.id));
    const bool choice = m_expertHost->count() > 2 || !m_settings.experts.hostKey.isEmpty();
    m_expertHostLabel->setVisible(choice);
    m_expertHost->setVisible(choice);
    m_syncing = was;
}

qint64 AllocationPanel::trainedContext() const {
    if (m_path.isEmpty()) return 0;
    if (m_fits.hasFootprint(m_path)) return m_fits.footprint(m_path).usable_context();
    const int row = m_catalog.rowOfPath(m_path);
    return row >= 0 ? m_catalog.entryAt(row).contextLength : 0;
}

void AllocationPanel::updateContextRange() {
    const qint64 trained = trainedContext();
    m_beyond->setVisible(trained > 0);
    m_ctx->setMaximum(int(trained > 0 && !m_beyond->isChecked() ? qMin(trained, kMaxContext) : kMaxContext));
}

bool AllocationPanel::selectedIsMoe() const {
    if (m_path.isEmpty()) return false;
    if (m_fits.hasFootprint(m_path)) return m_fits.footprint(m_path).is_moe();
    const int row = m_catalog.rowOfPath(m_path);  // before the footprint is read
    return row >= 0 && m_catalog.entryAt(row).nExpert > 1;
}

int AllocationPanel::selectedLayerCount() const {
    if (m_fits.hasFootprint(m_path)) return m_fits.footprint(m_path).n_layer;
    const int row = m_catalog.rowOfPath(m_path);
    return row >= 0 ? int(m_catalog.entryAt(row).nLayer) : 0;
}

void AllocationPanel::updateExpertCard() { m_expertCard->setVisible(selectedIsMoe()); }

void AllocationPanel::collect() {
    app::AllocationSettings s = m_settings;
    s.devices.clear();
    for (DeviceRow* r : m_rows) s.devices.append(r->allocation());
    s.mode = strata::SplitMode(m_mode->currentData().toInt());
    s.kvType = strata::KvCacheType(m_kv->currentData().toInt());
    s.nCtx = m_ctx->value();
    s.nBatch = m_batch->value();
    s.experts.mode = strata::ExpertMode(m_expertMode->currentData().toInt());
    s.experts.nHostLayers = m_expertLayers->value();
    s.experts.hostKey = m_expertHost->currentData().toString();
    // "The first 0 layers" would change nothing: start from half the layers.
    if (s.experts.mode == strata::ExpertMode::first_n && m_settings.experts.mode != strata::ExpertMode::first_n &&
        s.experts.nHostLayers == 0)
        s.experts.nHostLayers = qMax(1, selectedLayerCount() / 2);
    const bool modeChanged = s.mode != m_settings.mode || s.experts != m_settings.experts;
    m_settings = s;
    if (modeChanged) syncControls();
    updatePreview();
    m_saveTimer.start();
}

void AllocationPanel::move(const QString& key, int delta) {
    for (int i = 0; i < m_settings.devices.size(); ++i) {
        const int j = i + delta;
        if (m_settings.devices[i].key == key && j >= 0 && j < m_settings.devices.size()) {
            m_settings.devices.swapItemsAt(i, j);
            break;
        }
    }
    rebuildRows();
    updatePreview();
    m_saveTimer.start();
}

strata::PlanRequest AllocationPanel::currentRequest() const { return m_fits.planRequest(m_path, m_settings); }

void AllocationPanel::updatePreview() {
    m_apply->setEnabled(!m_path.isEmpty());
    m_reset->setEnabled(!m_path.isEmpty());
    setLoadedModel(m_loaded);
    updateExpertCard();
    if (m_path.isEmpty()) {
        m_preview->setPlaceholder(tr("Add a model to the library to plan how it fits."));
        return;
    }
    if (m_fits.devices().isEmpty()) {
        m_preview->setPlaceholder(tr("Looking for devices…"));
        return;
    }
    if (!m_fits.hasFootprint(m_path)) {
        const QString failure = m_fits.failure(m_path);
        m_preview->setPlaceholder(failure.isEmpty() ? tr("Reading the model's layout…") : failure);
        m_fits.request(m_path);
        return;
    }
    const strata::PlanRequest request = currentRequest();
    m_plan = m_fits.plan(request);
    m_preview->setPlan(request, m_plan);
    m_apply->setEnabled(m_plan.fits);
    m_apply->setToolTip(m_plan.fits ? QString() : tr("This allocation does not fit; see what would in the preview."));
    syncControls();
}

}  // namespace strata::ui
