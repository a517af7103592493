#include "devices/telemetry_history.h"

#include <algorithm>
#include <limits>

namespace strata::app {

void MetricSeries::fold(Bucket& open, qint64 width, qint64 t, double v, std::deque<HistoryPoint>& closed) {
    const qint64 start = t - t % width;
    if (open.n > 0 && open.start != start) {
        closed.push_back(open.point());
        open = {};
    }
    if (open.n == 0) {
        open.start = start;
        open.min = open.max = v;
    }
    open.min = std::min(open.min, v);
    open.max = std::max(open.max, v);
    open.sum += v;
    ++open.n;
}

void MetricSeries::add(qint64 t, double value) {
    if (!m_raw.empty() && t < m_raw.back().t) return;
    m_raw.push_back({t, value, value, value});
    fold(m_openFine, kFineBucketMs, t, value, m_fine);
    fold(m_openCoarse, kCoarseBucketMs, t, value, m_coarse);
    while (!m_raw.empty() && m_raw.front().t < t - kRawSpanMs) m_raw.pop_front();
    while (!m_fine.empty() && m_fine.front().t < t - kFineSpanMs) m_fine.pop_front();
    while (!m_coarse.empty() && m_coarse.front().t < t - kSpanMs) m_coarse.pop_front();
}

QList<HistoryPoint> MetricSeries::points(qint64 sinceMs) const {
    QList<HistoryPoint> out;
    out.reserve(qsizetype(storedPoints()));
    // A coarser tier fills in only where the finer one has nothing: a bucket is shown when it
    // ends by the time the finer tier starts (at the seams a few seconds may be missing, never
    // shown twice).
    const qint64 rawStart = m_raw.empty() ? std::numeric_limits<qint64>::max() : m_raw.front().t;
    qint64 fineStart = rawStart;
    for (const HistoryPoint& p : m_fine)
        if (p.t + kFineBucketMs <= rawStart) {
            fineStart = p.t;
            break;
        }
    for (const HistoryPoint& p : m_coarse)
        if (p.t + kCoarseBucketMs <= fineStart && p.t + kCoarseBucketMs > sinceMs) out.append(p);
    for (const HistoryPoint& p : m_fine)
        if (p.t >= fineStart && p.t + kFineBucketMs <= rawStart && p.t + kFineBucketMs > sinceMs) out.append(p);
    for (const HistoryPoint& p : m_raw)
        if (p.t >= sinceMs) out.append(p);
    return out;
}

QString TelemetryHistory::key(const QString& device, TelemetryMetric metric) {
    return device + QLatin1Char('/') + QString::number(int(metric));
}

void TelemetryHistory::add(const QString& device, TelemetryMetric metric, qint64 t, double value) {
    m_series[key(device, metric)].add(t, value);
}

QList<HistoryPoint> TelemetryHistory::points(const QString& device, TelemetryMetric metric, qint64 sinceMs) const {
    const MetricSeries* s = series(device, metric);
    return s ? s->points(sinceMs) : QList<HistoryPoint>();
}

const MetricSeries* TelemetryHistory::series(const QString& device, TelemetryMetric metric) const {
    auto it = m_series.constFind(key(device, metric));
    return it == m_series.constEnd() ? nullptr : &*it;
}

QStringList TelemetryHistory::devices() const {
    QStringList out;
    for (auto it = m_series.cbegin(); it != m_series.cend(); ++it) {
        const QString d = it.key().section(QLatin1Char('/'), 0, -2);
        if (!d.isEmpty() && !out.contains(d)) out << d;
    }
    out.sort();
    return out;
}

size_t TelemetryHistory::storedPoints() const {
    size_t n = 0;
    for (const MetricSeries& s : m_series) n += s.storedPoints();
    return n;
}

}  // namespace strata::app
