// FitService: what each library model needs (its footprint) and whether it fits the current
// devices under its allocation settings — computed on the GUI thread with the pure planner,
// cheap enough for every slider move. A newly added model's footprint is handed in (prime) from
// the importer's one read of the file; a model added in an earlier run has its footprint read
// from the file's header off the GUI thread (request).
#pragma once

#include <QHash>
#include <QObject>
#include <QSet>
#include <functional>

#include "strata/calibration.h"
#include "allocation/allocation.h"
#include "library/model_catalog.h"

namespace strata::app {

using FootprintReader = std::function<strata::Result<strata::ModelFootprint>(const std::string& path)>;
using Planner = std::function<strata::Plan(const strata::PlanRequest&)>;

// One-line and detailed description of a plan for the library's Fit column.
FitStatus describeFit(const strata::PlanRequest& request, const strata::Plan& plan);

class FitService : public QObject {
    Q_OBJECT
public:
    FitService(FootprintReader reader, Planner planner, QObject* parent = nullptr);
    ~FitService() override;

    // `links` ([i][j] from devices[i] to devices[j]; empty: not known) go into every plan
    // request, so plans explain their hand-offs (a simulated machine's profile gives them).
    void setDevices(const AppDevices& devices, const strata::LinkMatrix& links = {});
    const AppDevices& devices() const { return m_devices; }
    const strata::LinkMatrix& links() const { return m_links; }
    // Speed factors from the bench log (strata/calibration.h: load_calibration()) for the
    // devices of every plan request; empty: raw predictions. devicesChanged follows (replans),
    // unless it was empty and stays empty.
    void setCalibration(const strata::Calibration& calibration);

    // Starts reading the footprint (once per path); footprintReady / footprintFailed follow.
    void request(const QString& path);
    // Takes a footprint (or why there is none) that was read already, as request() would have
    // read it; footprintReady / footprintFailed follow at once. Nothing is read.
    void prime(const QString& path, const strata::Result<strata::ModelFootprint>& footprint);
    bool hasFootprint(const QString& path) const { return m_footprints.contains(path); }
    strata::ModelFootprint footprint(const QString& path) const { return m_footprints.value(path); }
    QString failure(const QString& path) const { return m_failures.value(path); }

    strata::PlanRequest planRequest(const QString& path, const AllocationSettings& settings) const;
    strata::Plan plan(const strata::PlanRequest& request) const { return m_planner(request); }

    void waitForIdle();

signals:
    void footprintReady(const QString& path);
    void footprintFailed(const QString& path, const QString& message);
    void devicesChanged();

private:
    void store(const QString& path, const strata::Status& status, const strata::ModelFootprint& footprint);

    FootprintReader m_reader;
    Planner m_planner;
    AppDevices m_devices;
    strata::LinkMatrix m_links;
    strata::Calibration m_calibration;
    QHash<QString, strata::ModelFootprint> m_footprints;
    QHash<QString, QString> m_failures;
    QSet<QString> m_pending;
    QList<QObject*> m_watchers;
};

}  // namespace strata::app
