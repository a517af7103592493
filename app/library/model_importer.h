// ModelImporter: validates files the user adds to the library (drop, Open…, Add Folder…) off the
// GUI thread and adds the good ones to the catalog.
//
// Each file is read once, with strata::inspect_model_file on the global thread pool: its info
// for the catalog and its footprint for the Fit column come from that one read (`inspected`
// hands the footprint on, so nobody reads the file again). Results come back to the GUI thread,
// where the catalog is changed. A file already in the library is not read again: `duplicate`
// asks the view to select it. A bad file (not GGUF, truncated, an architecture Strata cannot
// run) is `rejected` with a message naming the file and the reason. Any part of a split set
// adds the whole set, once, under its first part's path (the signals carry that path); a
// folder's later parts are skipped when its first part is there too.
#pragma once

#include <QHash>
#include <QObject>
#include <QSet>
#include <QStringList>
#include <functional>

#include "strata/model_info.h"

namespace strata::app {

class ModelCatalog;

// Reads one file's header: strata::inspect_model_file, or a script in tests (thread-safe).
using ModelInspector = std::function<strata::Result<strata::ModelInspection>(const std::string& path)>;

// The message shown for a file that cannot be added, e.g.
// "notes.txt is not a GGUF model file (no GGUF magic: it starts with 'hell')". Decided by the
// status's FileFault (and its detail), never by the wording of its message.
QString describeRejection(const QString& fileName, const strata::Status& status);
QString describeUnsupported(const QString& fileName, const strata::ModelInfo& info);

class ModelImporter : public QObject {
    Q_OBJECT
public:
    ModelImporter(ModelCatalog& catalog, ModelInspector inspect, QObject* parent = nullptr);
    ~ModelImporter() override;

    // Files are validated; folders are scanned (recursively) for *.gguf files.
    void importPaths(const QStringList& paths);
    // The model folders of the settings, at start: new files are validated and `imported` as
    // usual, but files already in the library, files that cannot be added and empty folders are
    // passed over without a signal (a folder is not the user's request to add each file again).
    void scanQuietly(const QStringList& folders);
    int pending() const { return int(m_inFlight.size()); }
    // Blocks until every validation started so far has finished (tests, shutdown).
    void waitForIdle();

signals:
    // Just before `imported`, for the same path: what the one read of the file found, so that
    // its footprint reaches the fit service without another read.
    void inspected(const QString& path, const strata::ModelInspection& inspection);
    void imported(const QString& path);
    void duplicate(const QString& path);
    void rejected(const QString& path, const QString& message);
    void folderScanned(const QString& folder, int nFound);
    void idle();

private:
    void validate(const QString& path);

    ModelCatalog& m_catalog;
    ModelInspector m_inspect;
    QSet<QString> m_inFlight;
    QSet<QString> m_quiet;  // paths of scanQuietly() whose refusals are not signalled
    QList<QObject*> m_watchers;
};

}  // namespace strata::app
