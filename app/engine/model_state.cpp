#include "engine/model_state.h"

#include <QDateTime>

#include "engine/engine_worker.h"

namespace strata::app {

ModelState::ModelState(EngineWorker& worker, QObject* parent) : QObject(parent), m_worker(worker) {
    // A load replaces the model: from its start until it ends there is none to answer with.
    connect(&worker, &EngineWorker::loadStarted, this, [this](const QString& path) {
        const bool had = m_loaded.has_value();
        m_loaded.reset();
        if (m_loadingPath != path) {
            m_loadingPath = path;
            emit loadingChanged(path);
        }
        if (had) emit modelChanged();
    });
    connect(&worker, &EngineWorker::loaded, this, [this](const LoadedModel& m) {
        m_loaded = m;
        m_loadedAt = QDateTime::currentSecsSinceEpoch();
        m_loadingPath.clear();
        emit loadingChanged({});
        emit modelChanged();
    });
    connect(&worker, &EngineWorker::unloaded, this, [this] {
        m_loaded.reset();
        emit modelChanged();
    });
    connect(&worker, &EngineWorker::failed, this, [this](const QString& what, const QString& message) {
        if (what != QLatin1String("load")) return;
        const QString path = m_loadingPath;
        m_loadingPath.clear();
        emit loadingChanged({});
        emit loadFailed(path, message);
    });
    // Every answer that met the failure reports it; the layout changes once.
    connect(&worker, &EngineWorker::recovered, this, [this](quint64, const QString&, const LoadedModel& m) {
        if (m_loaded && m_loaded->plan.stages.size() == m.plan.stages.size() && m_loaded->path == m.path) {
            bool same = true;
            for (size_t i = 0; i < m.plan.stages.size(); ++i)
                same = same && m.plan.stages[i].device_id == m_loaded->plan.stages[i].device_id &&
                       m.plan.stages[i].layer_begin == m_loaded->plan.stages[i].layer_begin;
            if (same) return;
        }
        const double seconds = m_loaded ? m_loaded->loadSeconds : 0;
        m_loaded = m;
        m_loaded->loadSeconds = seconds;
        emit modelChanged();
    });
}

quint64 ModelState::load(const QString& path, const strata::LoadOptions& options) {
    m_loadRequest = m_worker.newRequestId();
    m_loadingPath = path;
    emit loadingChanged(path);
    m_worker.requestLoad(m_loadRequest, path, options);
    return m_loadRequest;
}

void ModelState::cancelLoad() {
    if (m_loadRequest) m_worker.requestCancel(m_loadRequest);
}

void ModelState::unload() { m_worker.requestUnload(); }

}  // namespace strata::app
