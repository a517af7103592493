#include "allocation/fit_preview.h"

#include <QGridLayout>
#include <QLabel>
#include <QLocale>
#include <QVBoxLayout>

#include "allocation/allocation.h"
#include "allocation/expert_hosting.h"
#include "allocation/fit_bar.h"
#include "common/theme.h"

namespace strata::ui {

namespace {

QString bytes(quint64 n) { return QLocale().formattedDataSize(qint64(n), 1, QLocale::DataSizeIecFormat); }

QString swatch(const QColor& c, const QString& text) {
    // One swatch and its words never break apart when the legend wraps.
    return QStringLiteral("<span style=\"color:%1\">■</span>&nbsp;%2")
        .arg(c.name(), text.toHtmlEscaped().replace(QLatin1Char(' '), QStringLiteral("&nbsp;")));
}

QString htmlList(const std::vector<std::string>& items, const QString& marker) {
    QString out;
    for (const std::string& s : items)
        out += QStringLiteral("<div style=\"margin-bottom:3px\">%1&nbsp;%2</div>").arg(marker, QString::fromStdString(s).toHtmlEscaped());
    return out;
}

}  // namespace

FitPreview::FitPreview(QWidget* parent) : QFrame(parent) {
    setProperty("card", true);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(18, 16, 18, 16);
    layout->setSpacing(10);
    auto* title = new QLabel(tr("Fit preview"), this);
    title->setProperty("subheading", true);
    layout->addWidget(title);
    m_verdict = new QLabel(this);
    m_verdict->setStyleSheet(QStringLiteral("font-size: 16px; font-weight: 600;"));
    m_verdict->setWordWrap(true);
    layout->addWidget(m_verdict);
    // Every text wraps: at the window's minimum size this column is narrow.
    m_longest = new QLabel(this);
    m_longest->setWordWrap(true);
    m_ctxWarning = new QLabel(this);
    m_ctxWarning->setObjectName(QStringLiteral("contextWarning"));
    m_ctxWarning->setWordWrap(true);
    m_speed = new QLabel(this);
    m_speed->setProperty("muted", true);
    m_speed->setWordWrap(true);
    layout->addWidget(m_longest);
    layout->addWidget(m_ctxWarning);
    layout->addWidget(m_speed);
    m_placeholder = new QLabel(this);
    m_placeholder->setProperty("muted", true);
    m_placeholder->setWordWrap(true);
    layout->addWidget(m_placeholder);

    m_rows = new QGridLayout();
    m_rows->setHorizontalSpacing(12);
    m_rows->setVerticalSpacing(4);
    m_rows->setColumnStretch(1, 1);
    layout->addLayout(m_rows);

    const ThemeColors& c = currentColors();
    m_legend = new QLabel(this);
    m_legend->setTextFormat(Qt::RichText);
    m_legend->setWordWrap(true);
    m_legend->setText(QStringList{swatch(c.weights, tr("weights")), swatch(c.kvCache, tr("KV cache")),
                                  swatch(c.scratch, tr("scratch")), swatch(c.free, tr("free")),
                                  swatch(c.overflow, tr("does not fit"))}
                          .join(QStringLiteral("&nbsp;&nbsp; ")));  // may wrap between swatches
    layout->addWidget(m_legend);

    m_explanation = new QLabel(this);
    m_explanation->setWordWrap(true);
    m_explanation->setTextFormat(Qt::RichText);
    m_explanation->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_explanation->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    layout->addWidget(m_explanation);
    layout->addStretch(1);
    setPlaceholder(tr("Choose a model to see how it fits."));
}

void FitPreview::clearRows() {
    for (QWidget* w : m_rowWidgets) delete w;
    m_rowWidgets.clear();
    m_bars.clear();
    m_details.clear();
}

void FitPreview::setPlaceholder(const QString& text) {
    clearRows();
    m_placeholder->setText(text);
    m_placeholder->setVisible(true);
    m_verdict->clear();
    m_longest->clear();
    m_ctxWarning->clear();
    m_ctxWarning->setVisible(false);
    m_speed->clear();
    m_explanation->clear();
    m_legend->setVisible(false);
}

void FitPreview::setPlan(const strata::PlanRequest& request, const strata::Plan& plan) {
    clearRows();
    const ThemeColors& c = currentColors();
    m_placeholder->setVisible(false);
    m_legend->setVisible(true);
    m_verdict->setText(plan.fits ? tr("✓ Fits") : tr("✗ Does not fit"));
    m_verdict->setStyleSheet(QStringLiteral("font-size: 16px; font-weight: 600; color: %1;").arg((plan.fits ? c.good : c.bad).name()));
    const QLocale loc;
    // Memory may hold far more than the model was trained on (16 M tokens for a 2 K model):
    // the longest context worth offering is the trained length; say what memory allows apart.
    const qint64 trained = request.model.usable_context();  // the trained length, or what its RoPE scaling reaches
    const qint64 fits = plan.max_ctx_that_fits;
    if (fits <= 0)
        m_longest->setText(tr("No context length fits on these devices."));
    else if (trained > 0 && fits > trained)
        m_longest->setText(tr("Context: <b>%1</b> tokens · trained on %2 · memory would hold %3")
                               .arg(loc.toString(qlonglong(request.n_ctx)), loc.toString(trained), loc.toString(fits)));
    else
        m_longest->setText(tr("Longest context that fits: <b>%1</b> tokens (asked: %2)")
                               .arg(loc.toString(fits), loc.toString(qlonglong(request.n_ctx))));
    const QString warning = app::contextWarning(request.n_ctx, trained);
    m_ctxWarning->setText(warning.isEmpty() ? QString() : QStringLiteral("⚠ ") + warning);
    m_ctxWarning->setStyleSheet(QStringLiteral("color: %1; font-weight: 600;").arg(c.warning.name()));
    m_ctxWarning->setVisible(!warning.isEmpty());
    QStringList speed;
    // One decimal where it carries information (8.7 tokens/s), none past 100 (17,228 tokens/s).
    const int decimals = plan.predicted_decode_tps < 100 ? 1 : 0;
    if (plan.predicted_decode_tps > 0)
        speed.append(tr("~%1 tokens/s generating").arg(loc.toString(plan.predicted_decode_tps, 'f', decimals)));
    if (plan.predicted_prefill_tps > 0) speed.append(tr("~%1 tokens/s reading the prompt").arg(loc.toString(plan.predicted_prefill_tps, 'f', 0)));
    m_speed->setText(speed.join(QStringLiteral(" · ")));
    m_speed->setVisible(!speed.isEmpty());

    int row = 0;
    for (size_t i = 0; i < request.devices.size(); ++i) {
        const strata::PlanDevice& d = request.devices[i];
        const QString id = QString::fromStdString(d.info.id);
        FitBarValues v;
        const strata::DeviceUse* use = nullptr;
        for (const strata::DeviceUse& u : plan.devices)
            if (u.device == int(i)) use = &u;
        if (use) {
            v = {use->weight_bytes, use->kv_bytes, use->scratch_bytes, use->capacity};
        } else {
            v.capacity = d.info.free_memory > d.reserve_bytes ? d.info.free_memory - d.reserve_bytes : 0;
        }
        auto* name = new QLabel(id, this);
        name->setToolTip(QString::fromStdString(d.info.name));
        auto* bar = new FitBar(this);
        bar->setValues(v);
        bar->setDisabledLook(!d.enabled);
        QString numbers;
        if (!d.enabled) numbers = tr("not used (off)");
        else if (v.total() == 0) numbers = tr("not needed · %1 free").arg(bytes(v.capacity));
        else if (v.fits())
            numbers = tr("%1 weights · %2 KV · %3 scratch · %4 free")
                          .arg(bytes(v.weights), bytes(v.kvCache), bytes(v.scratch), bytes(v.capacity - v.total()));
        else
            numbers = tr("needs %1 of %2 — %3 short").arg(bytes(v.total()), bytes(v.capacity), bytes(v.total() - v.capacity));
        // A MoE model's expert host, and devices whose layers keep their experts there.
        const QString experts = d.enabled ? app::expertPlacementLine(request, plan, int(i)) : QString();
        if (!experts.isEmpty()) numbers = experts + QLatin1Char('\n') + numbers;
        auto* detail = new QLabel(numbers, this);
        detail->setProperty("muted", true);
        if (d.enabled && !v.fits()) detail->setStyleSheet(QStringLiteral("color: %1;").arg(c.bad.name()));
        detail->setWordWrap(true);
        m_rows->addWidget(name, row, 0);
        m_rows->addWidget(bar, row, 1);
        m_rows->addWidget(detail, row + 1, 1);
        m_rowWidgets << name << bar << detail;
        m_bars.insert(id, bar);
        m_details.insert(id, detail);
        row += 2;
    }

    QString html;
    if (!plan.shortfalls.empty())
        html += QStringLiteral("<p style=\"margin:0 0 4px 0\"><b>What is short</b></p>") +
                htmlList(plan.shortfalls, QStringLiteral("<span style=\"color:%1\">✗</span>").arg(c.bad.name()));
    if (!plan.suggestions.empty())
        html += QStringLiteral("<p style=\"margin:8px 0 4px 0\"><b>What would fit</b></p>") +
                htmlList(plan.suggestions, QStringLiteral("<span style=\"color:%1\">→</span>").arg(c.accent.name()));
    if (!plan.decisions.empty())
        html += QStringLiteral("<p style=\"margin:8px 0 4px 0\"><b>How the planner decided</b></p>") +
                htmlList(plan.decisions, QStringLiteral("·"));
    m_explanation->setText(html);
}

QString FitPreview::verdictText() const { return m_verdict->text(); }
QString FitPreview::longestContextText() const { return m_longest->text(); }
QString FitPreview::contextWarningText() const { return m_ctxWarning->isHidden() ? QString() : m_ctxWarning->text(); }
QString FitPreview::explanationText() const { return m_explanation->text(); }
QString FitPreview::deviceText(const QString& id) const {
    const QLabel* l = m_details.value(id);
    return l ? l->text() : QString();
}

}  // namespace strata::ui
