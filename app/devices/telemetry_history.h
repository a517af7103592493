// TelemetryHistory: an hour of what the devices and the engine did, per device and per metric,
// kept in a bounded number of points however fast it is fed.
//
// Each series keeps three tiers: every sample of the last two minutes (at 10 Hz: 1200 points),
// 5-second buckets for the last 15 minutes (180) and 1-minute buckets for the hour (60). A bucket
// keeps the min, max and mean of the samples in it, so a spike a minute long half an hour ago
// still shows at its height. points() stitches the tiers together, oldest first.
//
// Ownership and threads: a plain value type with no locking. The app's DeviceMonitor owns the
// one live history on the GUI thread and appends to it; views read it there (or copy a
// series: QList is implicitly shared).
#pragma once

#include <QHash>
#include <QList>
#include <QString>
#include <deque>

namespace strata::app {

enum class TelemetryMetric {
    load,             // GPU load, % (NVML: a kernel ran, any process)
    memoryUsed,       // device memory in use by every process, GiB
    power,            // board power, W
    temperature,      // °C
    stageBusy,        // share of wall time Strata's stage(s) on the device were busy, %
    tokensPerSecond,  // tokens through the model (prompt + output), per second; device ""
    transferMs,       // ms per second the device's stage spent sending activations to the next
};

// One point of a series: a sample (min == max == mean) or a bucket of samples.
struct HistoryPoint {
    qint64 t = 0;  // ms since the epoch: the sample's time, or the bucket's start
    double min = 0, max = 0, mean = 0;
};

class MetricSeries {
public:
    static constexpr qint64 kRawSpanMs = 2 * 60 * 1000;
    static constexpr qint64 kFineBucketMs = 5000;
    static constexpr qint64 kFineSpanMs = 15 * 60 * 1000;
    static constexpr qint64 kCoarseBucketMs = 60 * 1000;
    static constexpr qint64 kSpanMs = 60 * 60 * 1000;

    // Samples must come in time order (a sample older than the last is dropped).
    void add(qint64 t, double value);
    // The series oldest first: minute buckets, then 5 s buckets, then samples, each tier only
    // where the next finer one has nothing. `sinceMs`: leave out points older than that.
    QList<HistoryPoint> points(qint64 sinceMs = 0) const;
    size_t storedPoints() const { return m_raw.size() + m_fine.size() + m_coarse.size(); }
    bool isEmpty() const { return m_raw.empty(); }
    double last() const { return m_raw.empty() ? 0.0 : m_raw.back().mean; }
    qint64 lastTime() const { return m_raw.empty() ? 0 : m_raw.back().t; }

private:
    struct Bucket {
        qint64 start = -1;
        double min = 0, max = 0, sum = 0;
        int n = 0;
        HistoryPoint point() const { return {start, min, max, n ? sum / n : 0.0}; }
    };
    static void fold(Bucket& open, qint64 width, qint64 t, double v, std::deque<HistoryPoint>& closed);

    std::deque<HistoryPoint> m_raw, m_fine, m_coarse;
    Bucket m_openFine, m_openCoarse;
};

class TelemetryHistory {
public:
    // `device`: a Strata device id ("cuda0"), or "" for figures of the whole model (tokens/s).
    void add(const QString& device, TelemetryMetric metric, qint64 t, double value);
    QList<HistoryPoint> points(const QString& device, TelemetryMetric metric, qint64 sinceMs = 0) const;
    const MetricSeries* series(const QString& device, TelemetryMetric metric) const;
    QStringList devices() const;  // with at least one series, sorted
    size_t storedPoints() const;  // all series together
    void clear() { m_series.clear(); }

private:
    static QString key(const QString& device, TelemetryMetric metric);
    QHash<QString, MetricSeries> m_series;
};

}  // namespace strata::app
