#include "model_bar.h"

#include <QComboBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>

#include "allocation/expert_hosting.h"
#include "common/icons.h"
#include "common/theme.h"
#include "engine/worker_types.h"
#include "library/model_catalog.h"

namespace strata::ui {

ModelBar::ModelBar(app::ModelCatalog& catalog, QWidget* parent) : QFrame(parent), m_catalog(catalog) {
    setProperty("topbar", true);
    auto* l = new QHBoxLayout(this);
    l->setContentsMargins(20, 8, 16, 8);
    l->setSpacing(10);
    m_dot = new QLabel(this);
    m_dot->setFixedSize(10, 10);
    m_status = new QLabel(this);
    m_status->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_status->setMinimumWidth(120);
    m_ctxWarning = new QLabel(this);
    m_ctxWarning->setVisible(false);
    m_progressLayout = new QHBoxLayout();
    m_progressLayout->setSpacing(8);
    m_picker = new QComboBox(this);
    m_picker->setMinimumWidth(280);
    m_picker->setMaximumWidth(380);
    m_picker->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_picker->setToolTip(tr("Choose a model from the library"));
    m_picker->setAccessibleName(tr("Model to load"));
    m_button = new QPushButton(this);
    m_button->setMinimumWidth(96);
    l->addWidget(m_dot);
    l->addWidget(m_status, 1);
    l->addWidget(m_ctxWarning);
    l->addLayout(m_progressLayout);
    l->addWidget(m_picker);
    l->addWidget(m_button);
    connect(m_picker, &QComboBox::currentIndexChanged, this, &ModelBar::updateButton);
    connect(m_button, &QPushButton::clicked, this, [this] {
        const QString path = m_picker->currentData().toString();
        if (!m_loading.isEmpty()) emit cancelRequested();
        else if (!m_loaded.isEmpty() && path == m_loaded) emit ejectRequested();
        else if (!path.isEmpty()) emit loadRequested(path);
    });
    connect(&m_catalog, &QAbstractItemModel::rowsInserted, this, &ModelBar::reloadModels);
    connect(&m_catalog, &QAbstractItemModel::rowsRemoved, this, &ModelBar::reloadModels);
    connect(&m_catalog, &QAbstractItemModel::modelReset, this, &ModelBar::reloadModels);
    reloadModels();
    setLoaded(nullptr);
}

void ModelBar::reloadModels() {
    const QString current = m_picker->currentData().toString();
    const QSignalBlocker block(m_picker);
    m_picker->clear();
    for (const app::CatalogEntry& e : m_catalog.entries()) m_picker->addItem(e.name + QStringLiteral("  ·  ") + e.quantization, e.path);
    int i = m_picker->findData(current.isEmpty() ? m_loaded : current);
    m_picker->setCurrentIndex(qMax(0, i));
    m_picker->setPlaceholderText(tr("No models in the library"));
    updateButton();
}

void ModelBar::updateButton() {
    const ThemeColors& c = currentColors();
    const QString path = m_picker->currentData().toString();
    m_button->setEnabled(!m_loading.isEmpty() || !path.isEmpty());
    m_button->setProperty("primary", m_loading.isEmpty() && path != m_loaded);
    if (!m_loading.isEmpty()) {
        m_button->setText(tr("Cancel"));
        m_button->setIcon(icon(QStringLiteral("close"), c.text));
    } else if (!m_loaded.isEmpty() && path == m_loaded) {
        m_button->setText(tr("Eject"));
        m_button->setIcon(icon(QStringLiteral("eject"), c.text));
    } else {
        m_button->setText(tr("Load"));
        m_button->setIcon(icon(QStringLiteral("play"), Qt::white));
    }
    m_button->style()->unpolish(m_button);
    m_button->style()->polish(m_button);
}

void ModelBar::setLoading(const QString& path) {
    m_loading = path;
    if (!path.isEmpty()) {
        const int i = m_catalog.rowOfPath(path);
        m_status->setText(tr("Loading %1…").arg(i >= 0 ? m_catalog.entryAt(i).name : QFileInfo(path).fileName()));
        m_dot->setStyleSheet(QStringLiteral("background: %1; border-radius: 5px;").arg(currentColors().warning.name()));
    } else {
        clearProgress();
        if (m_loaded.isEmpty()) setLoaded(nullptr);
    }
    updateButton();
}

void ModelBar::setLoaded(const app::LoadedModel* model) {
    const ThemeColors& c = currentColors();
    clearProgress();
    m_loaded = model ? model->path : QString();
    m_dot->setStyleSheet(QStringLiteral("background: %1; border-radius: 5px;").arg((model ? c.good : c.border).name()));
    if (model) {
        QStringList where;
        for (const strata::StagePlan& s : model->plan.stages) where.append(QString::fromStdString(s.device_id));
        where.removeDuplicates();
        // A MoE model's experts on a device of their own: "on cuda0 + experts on cpu".
        const int host = app::expertHostDevice(model->plan);
        if (host >= 0 && size_t(host) < model->request.devices.size())
            where.append(tr("experts on %1").arg(QString::fromStdString(model->request.devices[size_t(host)].info.id)));
        m_status->setText(tr("<b>%1</b>  <span style=\"color:%2\">%3 · %4 · on %5 · context %6</span>")
                              .arg(QString::fromStdString(model->info.name).toHtmlEscaped(), c.mutedText.name(),
                                   QString::fromStdString(strata::format_param_count(model->info.n_params)),
                                   QString::fromStdString(model->info.quantization), where.join(QStringLiteral(" + ")),
                                   QLocale().toString(model->nCtx)));
        const int i = m_picker->findData(model->path);
        if (i >= 0) m_picker->setCurrentIndex(i);
    } else {
        m_status->setText(QStringLiteral("<span style=\"color:%1\">%2</span>").arg(c.mutedText.name(), tr("No model loaded")));
    }
    updateButton();
}

void ModelBar::setProgress(const QString& deviceId, quint64 done, quint64 total) {
    QProgressBar* bar = m_bars.value(deviceId);
    if (!bar) {
        bar = new QProgressBar(this);
        bar->setRange(0, 1000);
        bar->setFixedWidth(150);
        m_progressLayout->addWidget(bar);
        m_bars.insert(deviceId, bar);
    }
    bar->setValue(total ? int(1000.0 * double(done) / double(total)) : 0);
    bar->setFormat(QStringLiteral("%1 %2%").arg(deviceId).arg(total ? int(100.0 * double(done) / double(total)) : 0));
}

void ModelBar::clearProgress() {
    for (QProgressBar* b : m_bars) delete b;
    m_bars.clear();
}

QString ModelBar::statusText() const { return m_status->text(); }
QString ModelBar::chosenPath() const { return m_picker->currentData().toString(); }

void ModelBar::setContextWarning(const QString& warning) {
    const ThemeColors& c = currentColors();
    m_ctxWarning->setPixmap(iconPixmap(QStringLiteral("warning"), c.warning, 18, devicePixelRatioF()));
    m_ctxWarning->setToolTip(warning);
    m_ctxWarning->setAccessibleName(warning);
    m_ctxWarning->setVisible(!warning.isEmpty());
}

QString ModelBar::contextWarning() const { return m_ctxWarning->isHidden() ? QString() : m_ctxWarning->toolTip(); }

}  // namespace strata::ui
