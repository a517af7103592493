#include "library/model_details.h"

#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include "common/icons.h"
#include "common/theme.h"
#include "library/model_catalog.h"

namespace strata::ui {

namespace {
// "Experts" is shown for mixture-of-experts models only.
const char* kFactNames[] = {"Architecture", "Parameters", "Quantization", "File size", "Trained context", "Layers", "Experts"};
}

ModelDetails::ModelDetails(QWidget* parent) : QFrame(parent) {
    setProperty("card", true);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(18, 16, 18, 16);
    layout->setSpacing(8);
    m_name = new QLabel(this);
    m_name->setProperty("heading", true);
    m_name->setWordWrap(true);
    m_file = new QLabel(this);
    m_file->setProperty("muted", true);
    m_file->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_file->setWordWrap(true);
    layout->addWidget(m_name);
    layout->addWidget(m_file);

    auto* grid = new QGridLayout();
    grid->setHorizontalSpacing(16);
    grid->setVerticalSpacing(6);
    int i = 0;
    for (const char* name : kFactNames) {
        auto* k = new QLabel(tr(name), this);
        k->setProperty("muted", true);
        auto* v = new QLabel(this);
        v->setTextInteractionFlags(Qt::TextSelectableByMouse);
        grid->addWidget(k, i / 2, (i % 2) * 2);
        grid->addWidget(v, i / 2, (i % 2) * 2 + 1);
        m_facts.insert(QString::fromLatin1(name), v);
        m_factKeys.insert(QString::fromLatin1(name), k);
        ++i;
    }
    grid->setColumnStretch(1, 1);
    grid->setColumnStretch(3, 1);
    layout->addLayout(grid);

    m_fit = new QLabel(this);
    m_fit->setProperty("subheading", true);
    m_fitDetail = new QLabel(this);
    m_fitDetail->setWordWrap(true);
    m_fitDetail->setProperty("muted", true);
    layout->addSpacing(4);
    layout->addWidget(m_fit);
    layout->addWidget(m_fitDetail);

    m_progressLayout = new QVBoxLayout();
    m_progressLayout->setSpacing(4);
    layout->addLayout(m_progressLayout);
    layout->addStretch(1);

    auto* buttons = new QHBoxLayout();
    m_load = new QPushButton(this);
    m_load->setProperty("primary", true);
    m_allocate = new QPushButton(icon(QStringLiteral("allocation")), tr("Allocation…"), this);
    m_remove = new QPushButton(icon(QStringLiteral("trash"), currentColors().bad), tr("Remove"), this);
    m_remove->setToolTip(tr("Remove from the library (the file stays on disk)"));
    buttons->addWidget(m_load);
    buttons->addWidget(m_allocate);
    buttons->addStretch(1);
    buttons->addWidget(m_remove);
    layout->addLayout(buttons);

    connect(m_load, &QPushButton::clicked, this, [this] {
        if (!m_loading.isEmpty() && m_loading == m_path) emit cancelLoadRequested();
        else if (!m_loaded.isEmpty() && m_loaded == m_path) emit unloadRequested();
        else emit loadRequested(m_path);
    });
    connect(m_allocate, &QPushButton::clicked, this, [this] { emit allocateRequested(m_path); });
    connect(m_remove, &QPushButton::clicked, this, [this] { emit removeRequested(m_path); });
    setEntry(nullptr);
}

void ModelDetails::setEntry(const app::CatalogEntry* e) {
    m_path = e ? e->path : QString();
    const QLocale loc;
    m_name->setText(e ? e->name : tr("No model selected"));
    m_file->setText(e ? QFileInfo(e->path).fileName() + QStringLiteral("  —  ") + QFileInfo(e->path).absolutePath()
                      : tr("Select a model in the list."));
    m_facts[QStringLiteral("Architecture")]->setText(e ? e->architecture : QString());
    m_facts[QStringLiteral("Parameters")]->setText(e ? QString::fromStdString(strata::format_param_count(e->nParams)) : QString());
    m_facts[QStringLiteral("Quantization")]->setText(e ? e->quantization : QString());
    m_facts[QStringLiteral("File size")]->setText(
        e ? loc.formattedDataSize(qint64(e->fileSize), 2, QLocale::DataSizeIecFormat) : QString());
    m_facts[QStringLiteral("Trained context")]->setText(e ? tr("%1 tokens").arg(loc.toString(e->contextLength)) : QString());
    m_facts[QStringLiteral("Layers")]->setText(e ? QString::number(e->nLayer) : QString());
    const bool moe = e && e->nExpert > 1;
    m_facts[QStringLiteral("Experts")]->setText(moe ? tr("%1 experts, %2 per token").arg(e->nExpert).arg(e->nExpertUsed) : QString());
    m_facts[QStringLiteral("Experts")]->setVisible(moe);
    m_factKeys[QStringLiteral("Experts")]->setVisible(moe);
    if (!e) {
        m_fit->clear();
        m_fitDetail->clear();
    }
    updateButtons();
}

QString ModelDetails::factText(const QString& name) const {
    const QLabel* v = m_facts.value(name);
    return v && !v->isHidden() ? v->text() : QString();
}

void ModelDetails::setFit(const app::FitStatus& fit) {
    const ThemeColors& c = currentColors();
    QColor color = c.mutedText;
    if (fit.state == app::FitState::fits) color = c.good;
    if (fit.state == app::FitState::doesNotFit || fit.state == app::FitState::error) color = c.bad;
    m_fit->setStyleSheet(QStringLiteral("color: %1;").arg(color.name()));
    m_fit->setText(fit.summary.isEmpty() ? tr("Checking whether it fits…") : fit.summary);
    m_fitDetail->setText(fit.detail);
}

void ModelDetails::setLoadState(const QString& loadingPath, const QString& loadedPath) {
    m_loading = loadingPath;
    m_loaded = loadedPath;
    updateButtons();
}

void ModelDetails::updateButtons() {
    const bool has = !m_path.isEmpty();
    m_load->setEnabled(has);
    m_allocate->setEnabled(has);
    m_remove->setEnabled(has && m_loaded != m_path && m_loading != m_path);
    if (has && m_loading == m_path) {
        m_load->setText(tr("Cancel loading"));
        m_load->setIcon(icon(QStringLiteral("close"), Qt::white));
    } else if (has && m_loaded == m_path) {
        m_load->setText(tr("Unload"));
        m_load->setIcon(icon(QStringLiteral("eject"), Qt::white));
    } else {
        m_load->setText(m_loaded.isEmpty() ? tr("Load") : tr("Load instead"));
        m_load->setIcon(icon(QStringLiteral("play"), Qt::white));
    }
}

void ModelDetails::setProgress(const QString& deviceId, quint64 done, quint64 total) {
    QProgressBar* bar = m_bars.value(deviceId);
    if (!bar) {
        auto* row = new QHBoxLayout();
        auto* label = new QLabel(deviceId, this);
        label->setMinimumWidth(56);
        bar = new QProgressBar(this);
        bar->setRange(0, 1000);
        row->addWidget(label);
        row->addWidget(bar, 1);
        m_progressLayout->addLayout(row);
        m_bars.insert(deviceId, bar);
    }
    bar->setValue(total ? int(1000.0 * double(done) / double(total)) : 0);
    bar->setFormat(QStringLiteral("%1 / %2")
                       .arg(QLocale().formattedDataSize(qint64(done), 1, QLocale::DataSizeIecFormat),
                            QLocale().formattedDataSize(qint64(total), 1, QLocale::DataSizeIecFormat)));
}

void ModelDetails::clearProgress() {
    while (QLayoutItem* item = m_progressLayout->takeAt(0)) {
        if (QLayout* l = item->layout()) {
            while (QLayoutItem* inner = l->takeAt(0)) {
                delete inner->widget();
                delete inner;
            }
        }
        delete item;
    }
    m_bars.clear();
}

}  // namespace strata::ui
