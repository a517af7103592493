// App: builds and owns the application's objects (no singletons) — the data file and its
// stores, the engine worker and the thread it runs on, the chat controller, the model library
// and its importer, the fit service, the device monitor and the local API server — and wires
// them together.
// main.cpp makes one; tests make their own with a fake backend or inspector.
#pragma once

#include <QObject>
#include <QThread>
#include <functional>
#include <memory>

#include "allocation/allocation.h"
#include "allocation/fit_service.h"
#include "library/model_importer.h"
#include "strata/hub/hub_client.h"
#include "strata/machine_profile.h"

namespace strata::app {

class AllocationStore;
class BenchService;
class LinkProbeService;
class BenchStore;
class ApiServer;
class ChatController;
class ChatStore;
class ConversationListModel;
class DownloadManager;
class HubService;
class Database;
class DeviceMonitor;
class EngineBackend;
class EngineWorker;
class ModelCatalog;
class ModelState;
class Settings;
class WhatIfService;
struct LoadedModel;

struct AppOptions {
    QString dataDir;                          // where strata.sqlite3 and strata.ini live
    QList<strata::DeviceSpec> deviceSpecs;    // --devices; empty: every device the engine finds
    std::function<std::unique_ptr<EngineBackend>()> makeBackend;  // default: the real engine
    ModelInspector inspect;                   // default: strata::inspect_model_file (new files)
    FootprintReader readFootprint;            // default: strata::read_model_footprint (models
                                              // added in an earlier run)
    Planner planner;                          // default: strata::make_plan
    // strata --simulate FILE: the devices are this profile's (its GPUs, its host as the CPU,
    // its links), not this machine's; models are planned for it but never loaded.
    std::optional<strata::MachineProfile> simulate;
};

class App : public QObject {
    Q_OBJECT
public:
    explicit App(AppOptions options, QObject* parent = nullptr);
    ~App() override;

    // Opens the data file and starts the worker thread. False with errorString() set when the
    // data file cannot be opened.
    bool start();
    // Stops a running answer (saving what streamed), stops the worker thread. Idempotent.
    void shutdown();
    QString errorString() const { return m_error; }

    Database& database() { return *m_db; }
    ChatStore& chatStore() { return *m_chatStore; }
    ModelCatalog& catalog() { return *m_catalog; }
    ModelImporter& importer() { return *m_importer; }
    AllocationStore& allocationStore() { return *m_allocations; }
    Settings& settings() { return *m_settings; }
    EngineWorker& worker() { return *m_worker; }
    ChatController& chat() { return *m_chat; }
    ConversationListModel& conversations() { return *m_conversations; }
    DeviceMonitor& monitor() { return *m_monitor; }
    ModelState& model() { return *m_model; }  // what is loaded: the one owner
    FitService& fits() { return *m_fits; }
    ApiServer& apiServer() { return *m_apiServer; }
    HubService& hub() { return *m_hub; }              // Discover: search, files, fit verdicts
    DownloadManager& downloads() { return *m_downloads; }  // the one owner of downloads

    // Where downloads go: Preferences::downloadFolder, else <data folder>/models.
    QString downloadFolder() const;
    // The Hub's endpoint and token: $HF_ENDPOINT (default huggingface.co); the token of the
    // settings, else $HF_TOKEN.
    strata::hub::HubConfig hubConfig() const;
    // What a Hub model's header-only verdict is planned with: this machine's devices with the
    // default allocation of the settings, one answer at a time.
    strata::LoadOptions hubFitOptions() const;
    BenchService& bench() { return *m_bench; }  // the bench runner; the one writer of bench runs
    WhatIfService& whatif() { return *m_whatif; }  // the hardware what-if (strata/whatif.h) off the GUI thread
    LinkProbeService& linkProbe() { return *m_linkProbe; }  // "Measure links"; this machine's link matrix

    // Starts the local API server on the settings' address, key and allowed origins, on `port`
    // (0: the port in the settings), or keeps it if it already listens so. False with
    // apiServer().errorString() set (port in use). start() calls it when the settings enable
    // the server; this does not change the settings. `commandLine` (strata --serve): the server
    // stays on that port until stopApiServer(), whatever the preferences say (saving Settings
    // must not stop a server the command line asked for).
    bool startApiServer(quint16 port = 0, bool commandLine = false);
    void stopApiServer();

    // Puts the saved preferences (Settings::preferences) into effect: the API server (started,
    // stopped or restarted with new options), the telemetry interval, the new-chat defaults and
    // a quiet scan of the model folders. start() calls it; so does the Settings dialog on OK.
    // The theme is the window's to apply.
    void applyPreferences();

    // Where the user left off (Preferences::restoreSession): reopens the last conversation, and
    // loads the last model once its fit is known if it loaded successfully last time and still
    // fits. Call after start(), before the window shows; does nothing when the setting is off.
    void restoreSession();
    // "" or why the last model was not reloaded ("no longer fits: ..."), once that is known.
    QString restoreNote() const { return m_restoreNote; }

    // The loaded model's context warning (allocation::contextWarning), "" when none is loaded
    // or its context is within the trained length. The chat header shows it.
    QString contextWarning() const { return m_contextWarning; }

    // The model's allocation (its own, else the defaults). Without a slot count of its own
    // (AllocationSettings::nSeq 0) it gets Settings ▸ Parallel answers, halved until the plan
    // fits (down to 1) once the model's footprint is known.
    AllocationSettings allocationFor(const QString& modelPath) const;
    void saveAllocation(const QString& modelPath, const AllocationSettings& settings);

    // Whether the devices are a simulated machine's (AppOptions::simulate).
    bool isSimulated() const { return m_options.simulate.has_value(); }
    // Loads a library model with its allocation settings (replacing the loaded one). On a
    // simulated machine nothing loads: loadFailed says "a simulated machine can plan but not
    // run models".
    void loadModel(const QString& path);
    void cancelLoad();
    void unloadModel();
    QString loadingPath() const;  // ModelState's
    QString loadedPath() const;

signals:
    void loadingChanged(const QString& path);        // "" when no load is running
    void loadFailed(const QString& path, const QString& message);
    void modelLoaded(const QString& path);
    void modelUnloaded();
    void devicesFailed(const QString& message);
    void contextWarningChanged(const QString& warning);
    // restoreSession() decided about the last model: loading it (reloading = true), or not, and
    // why (restoreNote()).
    void sessionRestored(bool reloading);

private:
    void updateFit(const QString& path);
    void useSimulatedMachine();
    void updateAllFits();
    void setContextWarning(const QString& warning);
    void finishRestore(const QString& path, const FitStatus& fit);

    AppOptions m_options;
    QString m_error;
    std::unique_ptr<Database> m_db;
    std::unique_ptr<ChatStore> m_chatStore;
    std::unique_ptr<AllocationStore> m_allocations;
    std::unique_ptr<Settings> m_settings;
    std::unique_ptr<ModelCatalog> m_catalog;
    std::unique_ptr<ModelImporter> m_importer;
    std::unique_ptr<FitService> m_fits;
    QThread m_thread;
    std::unique_ptr<EngineWorker> m_worker;   // lives on m_thread; destroyed after it stops
    std::unique_ptr<ModelState> m_model;
    QString m_announcedPath;  // the model modelLoaded() was last emitted for
    std::unique_ptr<DeviceMonitor> m_monitor;
    std::unique_ptr<BenchStore> m_benchStore;
    std::unique_ptr<BenchService> m_bench;
    std::unique_ptr<WhatIfService> m_whatif;
    std::unique_ptr<LinkProbeService> m_linkProbe;
    std::unique_ptr<ChatController> m_chat;
    std::unique_ptr<ConversationListModel> m_conversations;
    std::unique_ptr<ApiServer> m_apiServer;   // after the worker: goes first
    bool m_started = false;
    QString m_restorePath;      // the last model, while restoreSession() waits for its fit
    QString m_loadWhenDescribed;  // a model loadModel() was asked for before the devices were known
    QString m_restoreNote;
    QString m_contextWarning;
    quint16 m_commandLinePort = 0;  // startApiServer(port, true): kept until stopApiServer()
    std::unique_ptr<HubService> m_hub;              // last: their threads stop first
    std::unique_ptr<DownloadManager> m_downloads;
};

}  // namespace strata::app
