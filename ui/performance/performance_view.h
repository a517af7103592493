// PerformanceView: how fast the loaded model runs — live tokens/s, the last answers' time to
// first token and decode speed, each stage's busy share and transfer time (charts over the
// chosen span from DeviceMonitor's history, and a table now), and the bench runner: a button
// that runs BenchService (strata::run_bench on the loaded model), the stored runs as a chart
// across runs and a table, and CSV export. Reads the monitor and the service; writes nothing
// itself (the service stores runs and writes the CSV). The runs shown are one model's (the
// loaded one's by default) or all.
#pragma once

#include <QTimer>
#include <QWidget>

class QChartView;
class QComboBox;
class QLabel;
class QLineSeries;
class QPushButton;
class QScrollArea;
class QTableWidget;
class QValueAxis;

namespace strata::app {
class BenchService;
class DeviceMonitor;
}

namespace strata::ui {

class HistoryChart;

class PerformanceView : public QWidget {
    Q_OBJECT
public:
    // `bench` may be null (no bench runner: the section says so).
    PerformanceView(app::DeviceMonitor& monitor, app::BenchService* bench, QWidget* parent = nullptr);

    // For tests and screenshots.
    QString liveText() const;    // the figure tiles, "name value" per line
    QString stagesText() const;  // the per-stage table, one line per stage
    HistoryChart* tokensChart() const { return m_tokens; }
    HistoryChart* busyChart() const { return m_busy; }
    HistoryChart* transferChart() const { return m_transfer; }
    HistoryChart* loadChart() const { return m_load; }
    QPushButton* benchButton() const { return m_benchButton; }
    QTableWidget* runsTable() const { return m_runs; }
    int benchChartPoints() const;
    QComboBox* modelFilter() const { return m_modelFilter; }
    void setSpan(qint64 spanMs);
    void refresh();  // everything, now (theme change, screenshots)
    void scrollToBenchmarks();

signals:
    // Export CSV asked for (the window picks the file and calls the service).
    void exportRequested();

private:
    QWidget* tile(const QString& name, QLabel*& value);
    QWidget* chartCard(const QString& title, const QString& tip, HistoryChart* chart);
    void refreshHistory();
    void refreshFigures();
    void refreshStages();
    void refreshRuns();
    void refreshBenchState();

    app::DeviceMonitor& m_monitor;
    app::BenchService* m_bench;
    QLabel* m_status;
    QLabel* m_tokNow;
    QLabel* m_ttft;
    QLabel* m_decode;
    QLabel* m_prompt;
    QComboBox* m_spanBox;
    HistoryChart* m_tokens;
    HistoryChart* m_busy;
    HistoryChart* m_transfer;
    HistoryChart* m_load;
    QTableWidget* m_stages;
    QPushButton* m_benchButton;
    QPushButton* m_exportButton;
    QLabel* m_benchStatus;
    QComboBox* m_modelFilter;
    QString m_chosenModel;  // null: none chosen (follow the loaded model); "": all
    QScrollArea* m_scroll;
    QWidget* m_benchCard;
    QChartView* m_benchChart;
    QLineSeries* m_prefillSeries;
    QLineSeries* m_decodeSeries;
    QValueAxis* m_runAxis;
    QValueAxis* m_prefillAxis;
    QValueAxis* m_decodeAxis;
    QTableWidget* m_runs;
    QTimer m_historyTimer;  // coalesces historyChanged into one redraw
    qint64 m_spanMs = 5 * 60 * 1000;
};

}  // namespace strata::ui
