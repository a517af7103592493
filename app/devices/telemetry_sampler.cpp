#include "devices/telemetry_sampler.h"

#include <QDateTime>
#include <QTimer>

namespace strata::app {

TelemetryReadFn nvmlReadFunction(std::unique_ptr<strata::GpuTelemetryReader> reader) {
    std::shared_ptr<strata::GpuTelemetryReader> r(std::move(reader));
    return [r](const std::vector<strata::DeviceInfo>& gpus) {
        TelemetrySample s;
        const std::vector<strata::GpuTelemetry> read = r->read(gpus);
        s.readings = QList<strata::GpuTelemetry>(read.begin(), read.end());
        const strata::Status opened = r->open();  // tried once by read(); this only recalls it
        if (!opened.ok()) s.status = QString::fromStdString(opened.message());
        return s;
    };
}

TelemetrySampler::TelemetrySampler(TelemetryReadFn read, QObject* parent)
    : QObject(parent), m_read(std::move(read)), m_timer(new QTimer(this)) {
    m_timer->setInterval(1000);
    m_timer->setTimerType(Qt::PreciseTimer);  // 10 Hz should be 10 Hz, not 8
    connect(m_timer, &QTimer::timeout, this, &TelemetrySampler::sampleNow);
}

void TelemetrySampler::setGpus(const DeviceInfoList& gpus) {
    m_gpus.assign(gpus.begin(), gpus.end());
    if (m_gpus.empty() || m_dead) {
        m_timer->stop();
        return;
    }
    sampleNow();  // figures at once, not an interval later
}

void TelemetrySampler::setInterval(int ms) { m_timer->setInterval(ms); }

void TelemetrySampler::sampleNow() {
    if (m_gpus.empty() || m_dead || !m_read) return;
    TelemetrySample s;
    try {
        s = m_read(m_gpus);
    } catch (const std::exception& e) {  // a thread catches what it throws
        s.status = QStringLiteral("telemetry unavailable: %1").arg(QString::fromUtf8(e.what()));
    }
    s.atMs = QDateTime::currentMSecsSinceEpoch();
    if (!s.status.isEmpty()) {
        m_dead = true;
        m_timer->stop();
    } else if (!m_timer->isActive()) {
        m_timer->start();
    }
    emit sampled(s);
}

}  // namespace strata::app
