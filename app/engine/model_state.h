// ModelState: the one GUI-side owner of "what the engine has loaded": the loaded model (its
// path, facts and current plan) and the load in progress. It issues loads and unloads to the
// EngineWorker and follows the worker's signals (loaded, unloaded, a failed load, a re-plan
// after a device failure); the chat, the API server, the device monitor, App and the window
// read it here and listen to its signals instead of keeping copies of their own.
//
// Threading: lives on the GUI thread; its methods are called there.
#pragma once

#include <QObject>
#include <optional>

#include "engine/worker_types.h"

namespace strata::app {

class EngineWorker;

class ModelState : public QObject {
    Q_OBJECT
public:
    explicit ModelState(EngineWorker& worker, QObject* parent = nullptr);

    // Asks the worker to load `path` (replacing the loaded model); loadingPath() is `path` until
    // it has loaded or failed. Returns the load's request id (for cancelLoad).
    quint64 load(const QString& path, const strata::LoadOptions& options);
    void cancelLoad();
    void unload();

    const std::optional<LoadedModel>& loaded() const { return m_loaded; }
    bool isLoaded() const { return m_loaded.has_value(); }
    QString loadedPath() const { return m_loaded ? m_loaded->path : QString(); }
    QString loadingPath() const { return m_loadingPath; }
    // When the loaded model was loaded (seconds since the epoch; the API's "created").
    qint64 loadedAt() const { return m_loadedAt; }

signals:
    void loadingChanged(const QString& path);  // a load started ("" when it ended)
    // A model was loaded, unloaded, or re-planned onto other devices after a device failure
    // (loaded() has the new plan).
    void modelChanged();
    void loadFailed(const QString& path, const QString& message);

private:
    EngineWorker& m_worker;
    std::optional<LoadedModel> m_loaded;
    QString m_loadingPath;
    quint64 m_loadRequest = 0;
    qint64 m_loadedAt = 0;
};

}  // namespace strata::app
