#include "allocation/fit_service.h"

#include <QFutureWatcher>
#include <QLocale>
#include <QtConcurrent/QtConcurrentRun>

namespace strata::app {

namespace {

struct FootprintResult {  // QFuture needs a default-constructible result
    strata::Status status;
    strata::ModelFootprint footprint;
};
using FootprintWatcher = QFutureWatcher<FootprintResult>;

QString bytes(quint64 n) { return QLocale().formattedDataSize(qint64(n), 1, QLocale::DataSizeIecFormat); }

}  // namespace

FitStatus describeFit(const strata::PlanRequest& request, const strata::Plan& plan) {
    FitStatus f;
    QStringList lines;
    if (plan.fits) {
        f.state = FitState::fits;
        QStringList where;
        for (const strata::DeviceUse& d : plan.devices)
            if (d.total() > 0) where.append(QString::fromStdString(d.device_id));
        f.summary = QObject::tr("Fits") + (where.isEmpty() ? QString() : QStringLiteral(" · ") + where.join(QStringLiteral(" + ")));
    } else {
        f.state = FitState::doesNotFit;
        quint64 shortBy = 0;
        for (const strata::DeviceUse& d : plan.devices)
            if (!d.fits()) shortBy += d.total() - d.capacity;
        f.summary = shortBy ? QObject::tr("Too big · %1 short").arg(bytes(shortBy)) : QObject::tr("Does not fit");
    }
    lines.append(QObject::tr("Context %1 tokens, KV cache %2").arg(request.n_ctx).arg(QString::fromLatin1(strata::kv_cache_type_name(request.kv_type))));
    for (const std::string& s : plan.decisions) lines.append(QString::fromStdString(s));
    for (const std::string& s : plan.shortfalls) lines.append(QStringLiteral("✗ ") + QString::fromStdString(s));
    for (const std::string& s : plan.suggestions) lines.append(QStringLiteral("→ ") + QString::fromStdString(s));
    f.detail = lines.join(QLatin1Char('\n'));
    return f;
}

FitService::FitService(FootprintReader reader, Planner planner, QObject* parent)
    : QObject(parent), m_reader(std::move(reader)), m_planner(std::move(planner)) {}

FitService::~FitService() { waitForIdle(); }

void FitService::setDevices(const AppDevices& devices, const strata::LinkMatrix& links) {
    m_devices = devices;
    m_links = links;
    emit devicesChanged();
}

void FitService::request(const QString& path) {
    if (m_footprints.contains(path) || m_pending.contains(path)) return;
    m_pending.insert(path);
    auto* watcher = new FootprintWatcher(this);
    m_watchers.append(watcher);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, path] {
        m_watchers.removeOne(watcher);
        watcher->deleteLater();
        m_pending.remove(path);
        const FootprintResult r = watcher->result();
        store(path, r.status, r.footprint);
    });
    watcher->setFuture(QtConcurrent::run([reader = m_reader, p = path.toStdString()] {
        FootprintResult out;
        auto r = reader(p);
        if (r.ok()) out.footprint = std::move(r).value();
        else out.status = r.status();
        return out;
    }));
}

void FitService::prime(const QString& path, const strata::Result<strata::ModelFootprint>& footprint) {
    store(path, footprint.status(), footprint.ok() ? *footprint : strata::ModelFootprint{});
}

void FitService::store(const QString& path, const strata::Status& status, const strata::ModelFootprint& footprint) {
    if (status.ok()) {
        m_footprints.insert(path, footprint);
        m_failures.remove(path);
        emit footprintReady(path);
    } else {
        m_footprints.remove(path);
        m_failures.insert(path, QString::fromStdString(status.message()));
        emit footprintFailed(path, m_failures.value(path));
    }
}

void FitService::setCalibration(const strata::Calibration& calibration) {
    if (calibration.classes.empty() && m_calibration.classes.empty()) return;  // nothing changes
    m_calibration = calibration;
    emit devicesChanged();
}

strata::PlanRequest FitService::planRequest(const QString& path, const AllocationSettings& settings) const {
    strata::PlanRequest req = buildPlanRequest(m_footprints.value(path), m_devices, settings);
    strata::apply_calibration(req, m_calibration);
    if (m_links.empty()) return req;
    // The request lists the devices in priority order; the links are in m_devices' order.
    std::vector<int> where;
    for (const strata::PlanDevice& d : req.devices) {
        int k = -1;
        for (qsizetype i = 0; i < m_devices.size(); ++i)
            if (m_devices[i].info.id == d.info.id) k = int(i);
        where.push_back(k);
    }
    req.links.assign(req.devices.size(), std::vector<strata::Link>(req.devices.size()));
    for (size_t i = 0; i < where.size(); ++i)
        for (size_t j = 0; j < where.size(); ++j)
            if (where[i] >= 0 && where[j] >= 0 && size_t(where[i]) < m_links.size() && size_t(where[j]) < m_links[size_t(where[i])].size())
                req.links[i][j] = m_links[size_t(where[i])][size_t(where[j])];
    return req;
}

void FitService::waitForIdle() {
    for (QObject* o : m_watchers) static_cast<FootprintWatcher*>(o)->waitForFinished();
}

}  // namespace strata::app
