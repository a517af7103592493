#include "performance/performance_view.h"

#include <QChart>
#include <QGraphicsLayout>
#include <QChartView>
#include <QComboBox>
#include <QDateTime>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLocale>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QTableWidget>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>

#include "common/history_chart.h"
#include "common/theme.h"
#include "devices/device_monitor.h"
#include "perf/bench_service.h"

namespace strata::ui {

namespace {

QString figure(double v, int decimals) { return QLocale().toString(v, 'f', decimals); }

QTableWidget* makeTable(const QStringList& headers, QWidget* parent) {
    auto* t = new QTableWidget(0, int(headers.size()), parent);
    t->setHorizontalHeaderLabels(headers);
    t->verticalHeader()->setVisible(false);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionMode(QAbstractItemView::NoSelection);
    t->setFocusPolicy(Qt::NoFocus);
    t->setShowGrid(false);
    t->setAlternatingRowColors(true);
    t->horizontalHeader()->setStretchLastSection(true);
    t->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    t->setVerticalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    return t;
}

void setRow(QTableWidget* t, int row, const QStringList& cells) {
    for (int c = 0; c < cells.size(); ++c) {
        auto* item = new QTableWidgetItem(cells[c]);
        if (c > 0 && !cells[c].isEmpty() && (cells[c][0].isDigit() || cells[c] == QLatin1String("–")))
            item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        t->setItem(row, c, item);
    }
}

// Fits a table's height to its rows (up to `maxRows`), so the page scrolls, not the table.
void fitHeight(QTableWidget* t, int maxRows) {
    const int rows = std::clamp(t->rowCount(), 1, maxRows);
    int h = t->horizontalHeader()->height() + 2 * t->frameWidth();
    for (int r = 0; r < rows; ++r) h += r < t->rowCount() ? t->rowHeight(r) : t->verticalHeader()->defaultSectionSize();
    t->setFixedHeight(h + 2);
}

}  // namespace

PerformanceView::PerformanceView(app::DeviceMonitor& monitor, app::BenchService* bench, QWidget* parent)
    : QWidget(parent), m_monitor(monitor), m_bench(bench) {
    const ThemeColors& c = currentColors();
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    auto* scroll = new QScrollArea(this);
    m_scroll = scroll;
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto* page = new QWidget(scroll);
    page->setObjectName(QStringLiteral("performancePage"));
    outer->addWidget(scroll);
    auto* layout = new QVBoxLayout(page);
    layout->setContentsMargins(24, 20, 24, 20);
    layout->setSpacing(14);

    auto* head = new QHBoxLayout();
    auto* title = new QLabel(tr("Performance"), page);
    title->setProperty("heading", true);
    m_spanBox = new QComboBox(page);
    m_spanBox->addItem(tr("Last 5 minutes"), 5 * 60 * 1000);
    m_spanBox->addItem(tr("Last 15 minutes"), 15 * 60 * 1000);
    m_spanBox->addItem(tr("Last hour"), 60 * 60 * 1000);
    m_spanBox->setAccessibleName(tr("Chart span"));
    head->addWidget(title);
    head->addStretch(1);
    head->addWidget(m_spanBox);
    layout->addLayout(head);
    m_status = new QLabel(page);
    m_status->setProperty("muted", true);
    m_status->setWordWrap(true);
    layout->addWidget(m_status);

    auto* tiles = new QHBoxLayout();
    tiles->setSpacing(8);
    tiles->addWidget(tile(tr("Tokens/s now"), m_tokNow));
    tiles->addWidget(tile(tr("Time to first token"), m_ttft));
    tiles->addWidget(tile(tr("Decode tok/s"), m_decode));
    tiles->addWidget(tile(tr("Prompt tok/s"), m_prompt));
    m_tokNow->setToolTip(tr("Tokens through the model per second (prompt and output, all answers), over the last update."));
    m_ttft->setToolTip(tr("The last finished answer's time from the request to its first token."));
    m_decode->setToolTip(tr("The last finished answer's output speed."));
    m_prompt->setToolTip(tr("The last finished answer's prompt processing speed."));
    layout->addLayout(tiles);

    m_tokens = new HistoryChart(tr("tok/s"), false, page);
    m_busy = new HistoryChart(tr("% busy"), false, page);
    m_busy->setYRange(0, 100);
    m_transfer = new HistoryChart(tr("ms per s"), false, page);
    m_load = new HistoryChart(tr("% load"), false, page);
    m_load->setYRange(0, 100);
    auto* grid = new QGridLayout();
    grid->setSpacing(8);
    grid->addWidget(chartCard(tr("Tokens per second"), tr("Tokens through the model, prompt and output, per second"), m_tokens), 0, 0);
    grid->addWidget(chartCard(tr("Stage busy"), tr("Share of the time each device's stage was working (Strata's own measure)"), m_busy), 0, 1);
    grid->addWidget(chartCard(tr("Transfer time"), tr("Milliseconds per second each stage spent handing its output to the next device"), m_transfer), 1, 0);
    grid->addWidget(chartCard(tr("GPU load"), tr("NVML's load of each GPU, every process included"), m_load), 1, 1);
    grid->setColumnStretch(0, 1);
    grid->setColumnStretch(1, 1);
    layout->addLayout(grid);

    auto* stagesCard = new QFrame(page);
    stagesCard->setProperty("card", true);
    auto* stl = new QVBoxLayout(stagesCard);
    stl->setContentsMargins(16, 12, 16, 12);
    auto* stagesTitle = new QLabel(tr("Stages now"), stagesCard);
    stagesTitle->setProperty("subheading", true);
    m_stages = makeTable({tr("Device"), tr("Layers"), tr("Busy now"), tr("Busy"), tr("Idle"), tr("Tokens"), tr("Sent"),
                          tr("Transfer"), tr("Transport")}, stagesCard);
    m_stages->setAccessibleName(tr("Stages now"));
    stl->addWidget(stagesTitle);
    stl->addWidget(m_stages);
    layout->addWidget(stagesCard);

    // The bench runner.
    auto* benchCard = new QFrame(page);
    m_benchCard = benchCard;
    benchCard->setProperty("card", true);
    auto* bl = new QVBoxLayout(benchCard);
    bl->setContentsMargins(16, 12, 16, 12);
    bl->setSpacing(8);
    auto* benchHead = new QHBoxLayout();
    auto* benchTitle = new QLabel(tr("Benchmarks"), benchCard);
    benchTitle->setProperty("subheading", true);
    m_benchButton = new QPushButton(tr("Run benchmark"), benchCard);
    m_benchButton->setProperty("primary", true);
    m_benchButton->setToolTip(tr("Prompt processing (pp128, pp512) and decode (tg64) speed of the loaded model, "
                                 "medians of three runs, as strata-cli bench measures them. Answers wait meanwhile."));
    m_exportButton = new QPushButton(tr("Export CSV…"), benchCard);
    // Runs of one model are comparable; all of them mix an 8B with a 70B.
    m_modelFilter = new QComboBox(benchCard);
    m_modelFilter->setAccessibleName(tr("Runs of which model"));
    m_modelFilter->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    benchHead->addWidget(benchTitle);
    benchHead->addStretch(1);
    benchHead->addWidget(m_modelFilter);
    benchHead->addWidget(m_exportButton);
    benchHead->addWidget(m_benchButton);
    bl->addLayout(benchHead);
    m_benchStatus = new QLabel(benchCard);
    m_benchStatus->setProperty("muted", true);
    m_benchStatus->setWordWrap(true);
    bl->addWidget(m_benchStatus);

    auto* chart = new QChart;
    chart->setBackgroundVisible(false);
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->setMargins(QMargins(4, 4, 8, 4));
    chart->layout()->setContentsMargins(0, 0, 0, 0);
    chart->legend()->setAlignment(Qt::AlignTop);
    chart->legend()->setLabelColor(c.text);
    m_prefillSeries = new QLineSeries;
    m_prefillSeries->setName(tr("prefill tok/s (left)"));
    m_prefillSeries->setPointsVisible(true);
    m_prefillSeries->setPen(QPen(c.weights, 2));
    m_decodeSeries = new QLineSeries;
    m_decodeSeries->setName(tr("decode tok/s (right)"));
    m_decodeSeries->setPointsVisible(true);
    m_decodeSeries->setPen(QPen(c.kvCache, 2));
    chart->addSeries(m_prefillSeries);
    chart->addSeries(m_decodeSeries);
    m_runAxis = new QValueAxis;
    m_runAxis->setTitleText(tr("run"));
    m_runAxis->setLabelFormat(QStringLiteral("%d"));
    m_prefillAxis = new QValueAxis;
    m_prefillAxis->setLabelFormat(QStringLiteral("%.0f"));
    m_decodeAxis = new QValueAxis;
    m_decodeAxis->setLabelFormat(QStringLiteral("%.0f"));
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    for (QValueAxis* a : {m_runAxis, m_prefillAxis, m_decodeAxis}) {
        a->setLabelsFont(small);
        a->setTitleFont(small);
        a->setLabelsColor(c.mutedText);
        a->setTitleBrush(c.mutedText);
        a->setGridLineColor(c.border);
        a->setLinePenColor(c.border);
    }
    m_decodeAxis->setGridLineVisible(false);
    chart->legend()->setFont(small);
    chart->addAxis(m_runAxis, Qt::AlignBottom);
    chart->addAxis(m_prefillAxis, Qt::AlignLeft);
    chart->addAxis(m_decodeAxis, Qt::AlignRight);
    m_prefillSeries->attachAxis(m_runAxis);
    m_prefillSeries->attachAxis(m_prefillAxis);
    m_decodeSeries->attachAxis(m_runAxis);
    m_decodeSeries->attachAxis(m_decodeAxis);
    m_benchChart = new QChartView(chart, benchCard);
    m_benchChart->setRenderHint(QPainter::Antialiasing);
    m_benchChart->setFrameShape(QFrame::NoFrame);
    m_benchChart->setStyleSheet(QStringLiteral("background: transparent;"));
    m_benchChart->setMinimumHeight(200);
    m_benchChart->setFocusPolicy(Qt::NoFocus);
    bl->addWidget(m_benchChart);
    m_runs = makeTable({tr("Date"), tr("Model"), tr("Plan"), tr("Prefill tok/s"), tr("Decode tok/s"), tr("Version"),
                        tr("Machine")}, benchCard);
    m_runs->setAccessibleName(tr("Benchmark runs"));
    // Figures sized to fit; the names share what is left, elided (the full text on hover).
    m_runs->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_runs->setWordWrap(false);
    m_runs->setTextElideMode(Qt::ElideMiddle);
    for (int c : {0, 3, 4, 5}) m_runs->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    for (int c : {1, 2, 6}) m_runs->horizontalHeader()->setSectionResizeMode(c, QHeaderView::Stretch);
    bl->addWidget(m_runs);
    layout->addWidget(benchCard);
    layout->addStretch(1);
    scroll->setWidget(page);

    connect(m_spanBox, &QComboBox::currentIndexChanged, this,
            [this] { setSpan(m_spanBox->currentData().toLongLong()); });
    m_historyTimer.setSingleShot(true);
    m_historyTimer.setInterval(250);
    connect(&m_historyTimer, &QTimer::timeout, this, &PerformanceView::refreshHistory);
    connect(&m_monitor, &app::DeviceMonitor::historyChanged, this, [this] {
        if (!m_historyTimer.isActive()) m_historyTimer.start();
    });
    connect(&m_monitor, &app::DeviceMonitor::statsChanged, this, &PerformanceView::refreshStages);
    connect(&m_monitor, &app::DeviceMonitor::modelChanged, this, &PerformanceView::refresh);
    connect(&m_monitor, &app::DeviceMonitor::answersChanged, this, &PerformanceView::refreshFigures);
    connect(&m_monitor, &app::DeviceMonitor::generatingChanged, this, &PerformanceView::refreshFigures);
    connect(m_exportButton, &QPushButton::clicked, this, &PerformanceView::exportRequested);
    connect(m_modelFilter, &QComboBox::activated, this, [this] {
        m_chosenModel = m_modelFilter->currentData().toString();
        refreshRuns();
    });
    if (m_bench) {
        connect(m_benchButton, &QPushButton::clicked, this, [this] {
            if (m_bench->isRunning()) m_bench->cancel();
            else m_bench->run();
            refreshBenchState();
        });
        connect(m_bench, &app::BenchService::runningChanged, this, &PerformanceView::refreshBenchState);
        connect(m_bench, &app::BenchService::runsChanged, this, &PerformanceView::refreshRuns);
        connect(m_bench, &app::BenchService::failed, this, [this](const QString& message) {
            m_benchStatus->setText(tr("The benchmark failed: %1").arg(message));
        });
    }
    refresh();
}

QWidget* PerformanceView::tile(const QString& name, QLabel*& value) {
    auto* f = new QFrame(this);
    f->setProperty("card", true);
    auto* l = new QVBoxLayout(f);
    l->setContentsMargins(14, 10, 14, 10);
    l->setSpacing(2);
    auto* n = new QLabel(name, f);
    n->setProperty("muted", true);
    value = new QLabel(QStringLiteral("–"), f);
    QFont big = value->font();
    big.setPointSizeF(big.pointSizeF() * 1.6);
    big.setWeight(QFont::DemiBold);
    value->setFont(big);
    l->addWidget(n);
    l->addWidget(value);
    return f;
}

QWidget* PerformanceView::chartCard(const QString& title, const QString& tip, HistoryChart* chart) {
    auto* f = new QFrame(this);
    f->setProperty("card", true);
    auto* l = new QVBoxLayout(f);
    l->setContentsMargins(12, 10, 12, 8);
    l->setSpacing(2);
    auto* t = new QLabel(title, f);
    t->setProperty("subheading", true);
    t->setToolTip(tip);
    chart->setMinimumHeight(190);
    chart->setToolTip(tip);
    l->addWidget(t);
    l->addWidget(chart, 1);
    return f;
}

void PerformanceView::setSpan(qint64 spanMs) {
    m_spanMs = spanMs;
    const int i = m_spanBox->findData(spanMs);
    if (i >= 0 && i != m_spanBox->currentIndex()) m_spanBox->setCurrentIndex(i);
    refreshHistory();
}

void PerformanceView::refresh() {
    refreshHistory();
    refreshFigures();
    refreshStages();
    refreshRuns();
    refreshBenchState();
}

void PerformanceView::refreshHistory() {
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const qint64 since = now - m_spanMs;
    const app::TelemetryHistory& h = m_monitor.history();
    const QList<QColor>& palette = currentColors().devicePalette;
    for (HistoryChart* chart : {m_tokens, m_busy, m_transfer, m_load}) chart->setSpan(m_spanMs);
    m_tokens->setLine({tr("tokens/s"), currentColors().accent, h.points(QString(), app::TelemetryMetric::tokensPerSecond, since)}, now);
    // Device colours as on the topology view: the order the devices are listed in.
    QStringList order;
    for (const app::AppDevice& d : m_monitor.devices()) order << QString::fromStdString(d.info.id);
    for (const QString& d : h.devices())
        if (!order.contains(d)) order << d;
    auto colorOf = [&](const QString& id) {
        return palette.isEmpty() ? QColor(Qt::blue) : palette[int(order.indexOf(id) % palette.size())];
    };
    QList<ChartLine> busy, transfer, load;
    for (const QString& d : order) {
        if (h.series(d, app::TelemetryMetric::stageBusy))
            busy.append({d, colorOf(d), h.points(d, app::TelemetryMetric::stageBusy, since)});
        if (h.series(d, app::TelemetryMetric::transferMs))
            transfer.append({d, colorOf(d), h.points(d, app::TelemetryMetric::transferMs, since)});
        if (h.series(d, app::TelemetryMetric::load)) load.append({d, colorOf(d), h.points(d, app::TelemetryMetric::load, since)});
    }
    m_busy->setLines(busy, now);
    m_transfer->setLines(transfer, now);
    m_load->setLines(load, now);
    const app::MetricSeries* tps = h.series(QString(), app::TelemetryMetric::tokensPerSecond);
    m_tokNow->setText(tps && !tps->isEmpty() && now - tps->lastTime() < 10'000 ? figure(tps->last(), 1) : QStringLiteral("–"));
}

void PerformanceView::refreshFigures() {
    const QList<app::AnswerFigures>& answers = m_monitor.answers();
    if (answers.isEmpty()) {
        m_ttft->setText(QStringLiteral("–"));
        m_decode->setText(QStringLiteral("–"));
        m_prompt->setText(QStringLiteral("–"));
    } else {
        const app::AnswerFigures& a = answers.constLast();
        m_ttft->setText(a.ttftSeconds < 1.0 ? tr("%1 ms").arg(qRound(a.ttftSeconds * 1000)) : tr("%1 s").arg(figure(a.ttftSeconds, 2)));
        m_decode->setText(a.decodeTokensPerSecond > 0 ? figure(a.decodeTokensPerSecond, 1) : QStringLiteral("–"));
        m_prompt->setText(a.promptTokensPerSecond > 0 ? figure(a.promptTokensPerSecond, 0) : QStringLiteral("–"));
    }
    QString status;
    if (!m_monitor.model()) status = tr("No model loaded: load one to see its speed.");
    else if (m_monitor.runningAnswers() > 0)
        status = tr("%n answer(s) running · sampled ten times a second", nullptr, m_monitor.runningAnswers());
    else if (m_monitor.isGenerating())
        status = tr("Generating · sampled ten times a second");
    else
        status = tr("Idle · sampled once a second · %n answer(s) measured", nullptr, int(answers.size()));
    m_status->setText(status);
}

void PerformanceView::refreshStages() {
    const QList<strata::StageTiming>& timings = m_monitor.stats().timings;
    const QLocale loc;
    m_stages->setRowCount(int(timings.size()));
    for (int i = 0; i < timings.size(); ++i) {
        const strata::StageTiming& t = timings[i];
        const QString id = QString::fromStdString(t.device_id);
        const std::optional<double> now = m_monitor.utilisation(id);
        setRow(m_stages, i,
               {id, tr("%1–%2").arg(t.layer_begin).arg(t.layer_end - 1),
                now ? QStringLiteral("%1%").arg(qRound(*now * 100)) : QStringLiteral("–"),
                tr("%1 s").arg(figure(t.busy_seconds, 2)), tr("%1 s").arg(figure(t.idle_seconds, 2)), loc.toString(qulonglong(t.tokens)),
                loc.formattedDataSize(qint64(t.transfer_bytes), 1, QLocale::DataSizeIecFormat),
                tr("%1 ms").arg(figure(t.transfer_seconds * 1000.0, 1)),
                t.transport.empty() ? QStringLiteral("–") : QString::fromStdString(t.transport)});
    }
    m_stages->resizeColumnsToContents();
    fitHeight(m_stages, 8);
}

void PerformanceView::refreshRuns() {
    const QList<app::BenchRun> all = m_bench ? m_bench->runs() : QList<app::BenchRun>();
    // The models with runs, newest run first; the one shown: the one chosen, else the loaded
    // model when it has runs, else the newest run's ("" = all).
    QStringList models;
    for (auto it = all.crbegin(); it != all.crend(); ++it)
        if (!models.contains(it->model)) models << it->model;
    QString shown = m_chosenModel;
    if (shown.isNull() || (!shown.isEmpty() && !models.contains(shown))) {
        const QString loaded = m_monitor.model() ? QFileInfo(m_monitor.model()->path).fileName() : QString();
        shown = models.contains(loaded) ? loaded : models.value(0);
    }
    {
        const QSignalBlocker quiet(m_modelFilter);
        m_modelFilter->clear();
        for (const QString& m : models) m_modelFilter->addItem(m, m);
        m_modelFilter->addItem(tr("All models"), QStringLiteral(""));
        m_modelFilter->setCurrentIndex(std::max(0, int(m_modelFilter->findData(shown))));
    }
    m_modelFilter->setVisible(!models.isEmpty());
    QList<app::BenchRun> runs;
    for (const app::BenchRun& r : all)
        if (shown.isEmpty() || r.model == shown) runs.append(r);
    QList<QPointF> prefill, decode;
    double hiP = 0, hiD = 0;
    m_runs->setRowCount(int(runs.size()));
    const QLocale loc;
    for (int i = 0; i < runs.size(); ++i) {
        const app::BenchRun& r = runs[i];
        prefill.append({double(i + 1), r.prefillTokensPerSecond});
        decode.append({double(i + 1), r.decodeTokensPerSecond});
        hiP = std::max(hiP, r.prefillTokensPerSecond);
        hiD = std::max(hiD, r.decodeTokensPerSecond);
        const int row = int(runs.size()) - 1 - i;  // newest first
        setRow(m_runs, row,
               {loc.toString(QDateTime::fromMSecsSinceEpoch(r.createdAtMs), QLocale::ShortFormat), r.model, r.plan,
                figure(r.prefillTokensPerSecond, 1), figure(r.decodeTokensPerSecond, 1), r.version, r.machine});
        for (int c : {1, 2}) m_runs->item(row, c)->setToolTip(m_runs->item(row, c)->text());  // elided
        m_runs->item(row, 6)->setToolTip(tr("%1\nfingerprint %2").arg(r.machine, r.machineId));
    }
    m_prefillSeries->replace(prefill);
    m_decodeSeries->replace(decode);
    // Runs 1..n on whole-number ticks (0 and n + 1 leave a margin); up to ten ticks.
    const int n = int(runs.size());
    const int step = std::max(1, (n + 1 + 9) / 10);
    const int top = ((n + 1 + step - 1) / step) * step;
    m_runAxis->setRange(0, std::max(top, 2));
    m_runAxis->setTickCount(std::max(top, 2) / step + 1);
    m_prefillAxis->setRange(0, niceAxisTop(hiP * 1.1));
    m_decodeAxis->setRange(0, niceAxisTop(hiD * 1.1));
    m_prefillAxis->setTickCount(5);
    m_decodeAxis->setTickCount(5);
    m_benchChart->setVisible(!runs.isEmpty());
    m_runs->setVisible(!runs.isEmpty());
    fitHeight(m_runs, 8);
    m_exportButton->setEnabled(!all.isEmpty());  // every run, whichever are shown
}

void PerformanceView::refreshBenchState() {
    if (!m_bench) {
        m_benchButton->setEnabled(false);
        m_benchStatus->setText(tr("No bench runner here."));
        return;
    }
    const bool running = m_bench->isRunning();
    m_benchButton->setText(running ? tr("Stop benchmark") : tr("Run benchmark"));
    m_benchButton->setEnabled(running || m_monitor.model().has_value());
    const int n = int(m_bench->runs().size());
    if (running) m_benchStatus->setText(tr("Running pp128, pp512 and tg64 on the loaded model…"));
    else if (!m_monitor.model()) m_benchStatus->setText(tr("Load a model to benchmark it. %n run(s) stored.", nullptr, n));
    else m_benchStatus->setText(tr("%n run(s) stored; those of the model chosen are plotted below.", nullptr, n));
}

void PerformanceView::scrollToBenchmarks() { m_scroll->ensureWidgetVisible(m_benchCard, 0, 0); }

int PerformanceView::benchChartPoints() const { return int(m_prefillSeries->count()); }

QString PerformanceView::liveText() const {
    return QStringLiteral("Tokens/s now %1\nTime to first token %2\nDecode tok/s %3\nPrompt tok/s %4")
        .arg(m_tokNow->text(), m_ttft->text(), m_decode->text(), m_prompt->text());
}

QString PerformanceView::stagesText() const {
    QStringList lines;
    for (int r = 0; r < m_stages->rowCount(); ++r) {
        QStringList cells;
        for (int c = 0; c < m_stages->columnCount(); ++c) cells << (m_stages->item(r, c) ? m_stages->item(r, c)->text() : QString());
        lines << cells.join(QLatin1Char(' '));
    }
    return lines.join(QLatin1Char('\n'));
}

}  // namespace strata::ui
