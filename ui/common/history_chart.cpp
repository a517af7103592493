#include "common/history_chart.h"

#include <QAreaSeries>
#include <QChart>
#include <QGraphicsLayout>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

#include "common/theme.h"

namespace strata::ui {

double niceAxisTop(double v) {
    if (v <= 0) return 1.0;
    const double p = std::pow(10.0, std::floor(std::log10(v)));
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (v <= m * p) return m * p;
    return 10.0 * p;
}

HistoryChart::HistoryChart(const QString& unit, bool compact, QWidget* parent)
    : QChartView(parent), m_unit(unit), m_compact(compact), m_x(new QValueAxis), m_y(new QValueAxis) {
    const ThemeColors& c = currentColors();
    auto* chart = new QChart;
    chart->setBackgroundVisible(false);
    chart->setPlotAreaBackgroundVisible(compact);
    chart->setPlotAreaBackgroundBrush(c.surfaceAlt);
    chart->setPlotAreaBackgroundPen(Qt::NoPen);
    chart->legend()->setVisible(false);
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->addAxis(m_x, Qt::AlignBottom);
    chart->addAxis(m_y, Qt::AlignLeft);
    if (compact) {
        chart->setMargins(QMargins(0, 0, 0, 0));
        chart->layout()->setContentsMargins(0, 0, 0, 0);
        chart->setBackgroundRoundness(0);
        m_x->setVisible(false);
        m_y->setVisible(false);
    } else {
        chart->setMargins(QMargins(4, 4, 8, 4));
        chart->layout()->setContentsMargins(0, 0, 0, 0);
        QFont small = font();
        small.setPointSizeF(small.pointSizeF() * 0.85);
        for (QValueAxis* a : {m_x, m_y}) {
            a->setLabelsFont(small);
            a->setLabelsColor(c.mutedText);
            a->setLinePenColor(c.border);
            a->setGridLineColor(c.border);
            a->setTitleBrush(c.mutedText);
            a->setTitleFont(small);
        }
        m_x->setLabelFormat(QStringLiteral("%.0f"));
        m_x->setTitleText(tr("minutes ago"));
        m_y->setTitleText(unit);
        m_y->setLabelFormat(QStringLiteral("%.0f"));
        m_x->setTickCount(6);
        m_y->setTickCount(5);
        chart->legend()->setLabelColor(c.text);
        chart->legend()->setFont(small);
    }
    setChart(chart);
    setRenderHint(QPainter::Antialiasing);
    setFrameShape(QFrame::NoFrame);
    setStyleSheet(QStringLiteral("background: transparent;"));
    setFocusPolicy(Qt::NoFocus);  // a picture: nothing to do with the keyboard
    setYRange(0, 0);
}

void HistoryChart::setYRange(double min, double max) {
    m_fixedMin = min;
    m_fixedMax = max;
}

int HistoryChart::pointCount(int line) const {
    return line >= 0 && line < m_lines.size() ? int(m_lines[line]->count()) : 0;
}

void HistoryChart::rebuildSeries(const QList<ChartLine>& lines) {
    QChart* ch = chart();
    for (QLineSeries* s : m_lines) {
        ch->removeSeries(s);
        delete s;
    }
    m_lines.clear();
    if (m_band) {  // the area does not own its bounds
        ch->removeSeries(m_band);
        delete m_band;
        delete m_bandUpper;
        delete m_bandLower;
        m_band = nullptr;
        m_bandUpper = m_bandLower = nullptr;
    }
    if (lines.size() == 1) {
        m_bandUpper = new QLineSeries(this);
        m_bandLower = new QLineSeries(this);
        m_band = new QAreaSeries(m_bandUpper, m_bandLower);
        QColor fill = lines[0].color;
        fill.setAlphaF(0.22);
        m_band->setBrush(fill);
        m_band->setPen(Qt::NoPen);
        ch->addSeries(m_band);
        m_band->attachAxis(m_x);
        m_band->attachAxis(m_y);
    }
    for (const ChartLine& l : lines) {
        auto* s = new QLineSeries;
        s->setName(l.name);
        QPen pen(l.color);
        pen.setWidthF(m_compact ? 1.5 : 2.0);
        s->setPen(pen);
        ch->addSeries(s);
        s->attachAxis(m_x);
        s->attachAxis(m_y);
        m_lines.append(s);
    }
    if (m_band)
        for (QLegendMarker* marker : ch->legend()->markers(m_band)) marker->setVisible(false);
    ch->legend()->setVisible(!m_compact && lines.size() > 1);
    ch->legend()->setAlignment(Qt::AlignTop);
}

void HistoryChart::setLines(const QList<ChartLine>& lines, qint64 nowMs) {
    bool same = lines.size() == m_lines.size() && (lines.size() == 1) == (m_band != nullptr);
    for (qsizetype i = 0; same && i < lines.size(); ++i) same = m_lines[i]->name() == lines[i].name;
    if (!same) rebuildSeries(lines);
    const double spanMin = double(m_spanMs) / 60000.0;
    double hi = 0;
    auto x = [nowMs](qint64 t) { return -double(nowMs - t) / 60000.0; };
    for (qsizetype i = 0; i < lines.size(); ++i) {
        QList<QPointF> mean;
        mean.reserve(lines[i].points.size());
        for (const app::HistoryPoint& p : lines[i].points) {
            if (nowMs - p.t > m_spanMs) continue;
            mean.append({x(p.t), p.mean});
            hi = std::max(hi, p.max);
        }
        m_lines[i]->setColor(lines[i].color);
        m_lines[i]->replace(mean);
    }
    if (m_band) {
        QList<QPointF> upper, lower;
        for (const app::HistoryPoint& p : lines[0].points) {
            if (nowMs - p.t > m_spanMs) continue;
            upper.append({x(p.t), p.max});
            lower.append({x(p.t), p.min});
        }
        m_bandUpper->replace(upper);
        m_bandLower->replace(lower);
    }
    m_x->setRange(-spanMin, 0);
    m_yTop = m_fixedMax > m_fixedMin ? m_fixedMax : niceAxisTop(hi * 1.1);
    m_y->setRange(m_fixedMax > m_fixedMin ? m_fixedMin : 0.0, m_yTop);
    // Whole numbers, unless the ticks (a quarter of the range apart) would repeat them.
    m_y->setLabelFormat(m_yTop < 10 ? QStringLiteral("%.1f") : QStringLiteral("%.0f"));
}

}  // namespace strata::ui
