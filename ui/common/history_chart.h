// HistoryChart: one or more lines of the telemetry history over the last minutes (Qt Charts).
// Compact (no axes: a sparkline on a device card, the caption says what and how much now) or
// with axes and a legend (the performance view). A single line is drawn with a shaded band
// from each point's min to its max, so a bucket of an hour ago shows its spikes.
//
// Threads: GUI thread only; fed by its view from DeviceMonitor::history().
#pragma once

#include <QChartView>
#include <QColor>
#include <QList>

#include "devices/telemetry_history.h"

class QAreaSeries;
class QLineSeries;
class QValueAxis;

namespace strata::ui {

// A round axis top at or above `v`: 1, 2, 2.5 or 5 times a power of ten (1 for v <= 0).
double niceAxisTop(double v);

struct ChartLine {
    QString name;
    QColor color;
    QList<app::HistoryPoint> points;
};

class HistoryChart : public QChartView {
    Q_OBJECT
public:
    // `compact`: no axes, no legend, no margins. `unit`: the y axis' title ("%", "W", "tok/s").
    HistoryChart(const QString& unit, bool compact, QWidget* parent = nullptr);

    // The time shown: [now - spanMs, now].
    void setSpan(qint64 spanMs) { m_spanMs = spanMs; }
    qint64 span() const { return m_spanMs; }
    // A fixed y range; max <= min: from 0 to a little over the highest point.
    void setYRange(double min, double max);
    void setLines(const QList<ChartLine>& lines, qint64 nowMs);
    void setLine(const ChartLine& line, qint64 nowMs) { setLines({line}, nowMs); }

    // What is drawn (tests): points of line i, the y axis' top.
    int lineCount() const { return int(m_lines.size()); }
    int pointCount(int line = 0) const;
    double yTop() const { return m_yTop; }

private:
    void rebuildSeries(const QList<ChartLine>& lines);

    QString m_unit;
    bool m_compact;
    qint64 m_spanMs = 5 * 60 * 1000;
    double m_fixedMin = 0, m_fixedMax = 0;
    double m_yTop = 0;
    QList<QLineSeries*> m_lines;
    QAreaSeries* m_band = nullptr;  // single line only: min..max
    QLineSeries* m_bandUpper = nullptr;
    QLineSeries* m_bandLower = nullptr;
    QValueAxis* m_x;
    QValueAxis* m_y;
};

}  // namespace strata::ui
