// DownloadManager: the one owner of the app's model downloads — what is queued, running, paused,
// done or failed, with progress, speed and ETA — and the only code that starts, pauses, resumes
// and cancels them. Each download (one model: a file, or every part of a split set) runs
// strata::hub::download_files on this manager's thread pool: resumable from NAME.part files,
// SHA-256 verified, retried with backoff. A finished model is handed to the ModelImporter, which
// adds it to the library catalog (the catalog's one writer).
//
// Pause: the engine downloader has no pause of its own, so pausing cancels the transfer and keeps
// the .part files, and resuming starts a new download that continues from them with a Range
// request. Cancel stops the transfer and deletes the .part files.
//
// Ownership and threading: lives on the GUI thread; call it there; signals are emitted there.
// Progress from the transfer threads is posted to the GUI thread at most ten times a second.
// The destructor stops every transfer (keeping .part files for the next run) and waits.
#pragma once

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QThreadPool>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>

#include "hub/hub_types.h"
#include "strata/hub/hub_client.h"

namespace strata::app {

class ModelImporter;

enum class DownloadState { queued, running, paused, done, failed, cancelled };
QString downloadStateName(DownloadState s);

struct DownloadItem {
    quint64 id = 0;
    QString repo;
    QString name;                // the model's file (a split set's first part)
    QString quant;
    QString dir;                 // where its files go
    QList<HubPart> parts;
    DownloadState state = DownloadState::queued;
    quint64 done = 0;            // bytes on disk (resumed ones included)
    quint64 total = 0;
    double bytesPerSecond = 0;   // over the current run
    QString error;               // failed: what went wrong, in words
    QString path;                // done: the model's path (a split set's first part)

    // Seconds left at the current speed (-1: unknown).
    qint64 secondsLeft() const;
};

class DownloadManager : public QObject {
    Q_OBJECT
public:
    using ConfigSource = std::function<strata::hub::HubConfig()>;
    using FolderSource = std::function<QString()>;

    DownloadManager(ConfigSource config, FolderSource folder, ModelImporter& importer, QObject* parent = nullptr);
    ~DownloadManager() override;

    // Starts downloading `row` of `repo` into the models folder. A model of the same repository
    // and name that is already listed (not cancelled) is resumed if paused or failed, not started
    // twice. Returns the download's id.
    quint64 start(const QString& repo, const HubFileRow& row);
    void pause(quint64 id);
    void resume(quint64 id);
    void cancel(quint64 id);
    // Forgets finished, failed and cancelled downloads (the list's "Clear").
    void clearFinished();

    const QList<DownloadItem>& items() const { return m_items; }
    std::optional<DownloadItem> item(quint64 id) const;
    int activeCount() const;

signals:
    void added(quint64 id);
    void changed(quint64 id);     // state or progress
    void removed(quint64 id);
    // The model is on disk and verified, and was handed to the importer.
    void completed(quint64 id, const QString& path);

private:
    enum class StopReason { none, pause, cancel, shutdown };
    struct Run {
        std::atomic<bool> stop{false};
        StopReason reason = StopReason::none;  // GUI thread only
    };
    DownloadItem* find(quint64 id);
    void launch(DownloadItem& item);
    void finishRun(quint64 id, const QString& error, const QString& path, bool stopped);
    void removePartFiles(const DownloadItem& item) const;

    ConfigSource m_config;
    FolderSource m_folder;
    ModelImporter& m_importer;
    QList<DownloadItem> m_items;  // in the order they were started
    QHash<quint64, std::shared_ptr<Run>> m_runs;  // the running ones
    quint64 m_nextId = 1;
    QThreadPool m_pool;
};

}  // namespace strata::app
