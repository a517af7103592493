#include "app.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QHostAddress>
#include <algorithm>
#include <utility>

#include "allocation/allocation_store.h"
#include "chat/chat_controller.h"
#include "chat/conversation_list_model.h"
#include "devices/device_monitor.h"
#include "devices/link_probe_service.h"
#include "engine/engine_backend.h"
#include "engine/engine_worker.h"
#include "engine/model_state.h"
#include "hub/download_manager.h"
#include "hub/hub_service.h"
#include "library/model_catalog.h"
#include "perf/bench_service.h"
#include "server/api_server.h"
#include "settings.h"
#include "storage/bench_store.h"
#include "storage/chat_store.h"
#include "storage/database.h"
#include "whatif/whatif_service.h"

namespace strata::app {

App::App(AppOptions options, QObject* parent) : QObject(parent), m_options(std::move(options)) {
    registerWorkerMetaTypes();
    if (!m_options.makeBackend) m_options.makeBackend = makeStrataBackend;
    if (!m_options.inspect) m_options.inspect = strata::inspect_model_file;
    if (!m_options.readFootprint) m_options.readFootprint = strata::read_model_footprint;
    if (!m_options.planner) m_options.planner = strata::make_plan;
    if (m_options.dataDir.isEmpty()) m_options.dataDir = defaultDataDir();

    m_db = std::make_unique<Database>();
    m_chatStore = std::make_unique<ChatStore>(*m_db);
    m_allocations = std::make_unique<AllocationStore>(*m_db);
    m_settings = std::make_unique<Settings>(QDir(m_options.dataDir).filePath(QStringLiteral("strata.ini")));
    m_catalog = std::make_unique<ModelCatalog>(*m_db);
    m_importer = std::make_unique<ModelImporter>(*m_catalog, m_options.inspect);
    m_fits = std::make_unique<FitService>(m_options.readFootprint, m_options.planner);
    m_worker = std::make_unique<EngineWorker>(m_options.makeBackend());
    m_thread.setObjectName(QStringLiteral("strata-engine"));
    m_worker->moveToThread(&m_thread);
    m_model = std::make_unique<ModelState>(*m_worker);
    m_monitor = std::make_unique<DeviceMonitor>(m_worker.get(), m_model.get());
    m_benchStore = std::make_unique<BenchStore>(*m_db);
    m_bench = std::make_unique<BenchService>(*m_worker, *m_model, *m_monitor, *m_benchStore);
    m_linkProbe = std::make_unique<LinkProbeService>(*m_worker, *m_monitor, m_options.simulate.has_value());
    // The fit previews' speeds: calibrated from the bench log, which BenchService reads off the
    // GUI thread when it starts and after each run.
    connect(m_bench.get(), &BenchService::calibrationLoaded, m_fits.get(), &FitService::setCalibration);
    m_whatif = std::make_unique<WhatIfService>();
    m_chat = std::make_unique<ChatController>(*m_chatStore, *m_worker, *m_model);
    m_apiServer = std::make_unique<ApiServer>(m_worker->modelSource());
    m_hub = std::make_unique<HubService>([this] { return hubConfig(); }, [this] { return hubFitOptions(); });
    m_downloads = std::make_unique<DownloadManager>([this] { return hubConfig(); }, [this] { return downloadFolder(); },
                                                    *m_importer);

    EngineWorker* w = m_worker.get();
    connect(w, &EngineWorker::devicesDescribed, this,
            [this](const DeviceSpecList& specs, const DeviceInfoList& infos, const QString& gpuStatus) {
                const AppDevices devices = specs.isEmpty() ? devicesFromInfos(infos) : devicesFromSpecs(specs, infos);
                m_monitor->setDevices(devices, gpuStatus);
                qInfo("strata: %s\n%s", qPrintable(describeDevices(devices, gpuStatus).text),
                      qPrintable(describeDevices(devices, gpuStatus).details));
                m_fits->setDevices(devices);
                updateAllFits();
                if (!m_loadWhenDescribed.isEmpty()) loadModel(std::exchange(m_loadWhenDescribed, QString()));
            });
    connect(w, &EngineWorker::failed, this, [this](const QString& what, const QString& message) {
        if (what != QLatin1String("devices") && what != QLatin1String("recover")) return;
        emit devicesFailed(message);
        if (const QString path = std::exchange(m_loadWhenDescribed, QString()); !path.isEmpty())
            emit loadFailed(path, tr("the devices could not be read: %1").arg(message));
    });
    connect(m_model.get(), &ModelState::loadFailed, this, [this](const QString& path, const QString& message) {
        if (path == m_settings->lastModel()) m_settings->setLastModelLoaded(false);
        emit loadFailed(path, message);
    });
    connect(m_model.get(), &ModelState::loadingChanged, this, &App::loadingChanged);
    connect(m_model.get(), &ModelState::modelChanged, this, [this] {
        const auto& m = m_model->loaded();
        if (!m) {
            if (m_announcedPath.isEmpty()) return;
            m_announcedPath.clear();
            setContextWarning({});
            emit modelUnloaded();
            return;
        }
        setContextWarning(app::contextWarning(m->nCtx, m->request.model.usable_context()));
        if (m->path == m_announcedPath) return;  // re-planned after a device failure
        m_announcedPath = m->path;
        m_settings->setLastModel(m->path);
        m_settings->setLastModelLoaded(true);
        emit modelLoaded(m->path);
    });
    connect(m_chat.get(), &ChatController::modelNeeded, this, [this](const QString& path) {
        if (path != m_model->loadingPath()) loadModel(path);
    });
    // A new file's footprint comes from the importer's one read of it; FitService::request reads
    // only models from earlier runs (start()).
    connect(m_importer.get(), &ModelImporter::inspected, this,
            [this](const QString& path, const strata::ModelInspection& inspection) {
                m_fits->prime(path, inspection.footprint);
            });
    connect(m_fits.get(), &FitService::footprintReady, this, &App::updateFit);
    connect(m_fits.get(), &FitService::footprintFailed, this, [this](const QString& path, const QString& message) {
        const FitStatus fit{FitState::error, tr("Unknown"), message};
        m_catalog->setFitStatus(path, fit);
        if (path == m_restorePath) finishRestore(path, fit);
    });
}

App::~App() {
    shutdown();
    m_downloads.reset();  // stops transfers (keeping .part files) before the importer goes
    m_hub.reset();
    m_apiServer.reset();
    m_chat.reset();  // before the store it writes to
}

bool App::start() {
    if (m_started) return true;
    const QString file = QDir(m_options.dataDir).filePath(QStringLiteral("strata.sqlite3"));
    if (!m_db->open(file)) {
        m_error = m_db->lastError();
        return false;
    }
    m_chatStore->purgeDeleted();          // deletions whose Undo window ended with the last run
    m_chatStore->markInterruptedAnswers();
    m_catalog->reload();
    m_conversations = std::make_unique<ConversationListModel>(*m_chatStore);
    connect(m_chat.get(), &ChatController::conversationsChanged, m_conversations.get(),
            &ConversationListModel::refresh);
    m_thread.start();
    m_started = true;
    if (m_options.simulate) useSimulatedMachine();
    else m_worker->requestDevices(m_options.deviceSpecs);
    for (const CatalogEntry& e : m_catalog->entries()) m_fits->request(e.path);
    m_chat->setDefaultModel(m_settings->lastModel());
    connect(m_chat.get(), &ChatController::conversationOpened, this,
            [this](qint64 id) { m_settings->setLastConversation(id); });
    applyPreferences();
    return true;
}

namespace {

// A model's allocation before the user sets one: the Settings dialog's device defaults.
AllocationSettings defaultAllocation(const Preferences& p, const AppDevices& devices) {
    AllocationSettings s = normalized({}, devices);
    for (DeviceAllocation& a : s.devices) {
        a.enabled = !p.disabledDevices.contains(a.key);
        for (const AppDevice& d : devices) {
            if (QString::fromStdString(d.info.id) != a.key) continue;
            const qint64 mib = d.info.type == strata::DeviceType::cuda ? p.gpuReserveMiB : p.cpuReserveMiB;
            const quint64 bytes = quint64(mib) << 20;
            if (bytes != defaultReserve(d.info)) a.reserve = bytes;  // unset: follows the engine's default
        }
    }
    s.nCtx = p.defaultContext;
    s.kvType = p.kvType;
    return s;
}

ApiServerOptions serverOptions(const Preferences& p, quint16 port) {
    ApiServerOptions o;
    o.address = QHostAddress(p.serverAddress);
    o.port = port;
    o.apiKey = p.apiKey.toUtf8();
    for (const QString& origin : p.allowedOrigins) o.allowedOrigins.append(origin.toUtf8());
    return o;
}

}  // namespace

bool App::startApiServer(quint16 port, bool commandLine) {
    const Preferences p = m_settings->preferences();
    if (port == 0) port = m_commandLinePort ? m_commandLinePort : p.serverPort;
    if (commandLine) m_commandLinePort = port;
    const ApiServerOptions options = serverOptions(p, port);
    if (m_apiServer->isListening() && m_apiServer->options() == options) return true;
    return m_apiServer->listen(options);
}

void App::applyPreferences() {
    const Preferences p = m_settings->preferences();
    // A taken port is no reason not to start: apiServer().errorString() says why it is off.
    if (p.serverEnabled || m_commandLinePort) startApiServer();  // new key, origins, address
    else m_apiServer->close();
    m_monitor->setTelemetryInterval(p.telemetryIntervalMs);
    Conversation defaults;
    defaults.systemPrompt = p.systemPrompt;
    defaults.sampling = p.sampling;
    m_chat->setNewChatDefaults(defaults);
    if (!p.modelFolders.isEmpty()) m_importer->scanQuietly(p.modelFolders);
    updateAllFits();  // the default allocation may have changed
}

void App::restoreSession() {
    if (!m_started || !m_settings->preferences().restoreSession) return;
    if (const qint64 last = m_settings->lastConversation()) m_chat->selectConversation(last);
    const QString model = m_settings->lastModel();
    if (m_options.simulate || model.isEmpty() || m_catalog->rowOfPath(model) < 0) return;
    if (!m_settings->lastModelLoaded()) {
        m_restoreNote = tr("%1 was not reloaded: it did not load the last time").arg(QFileInfo(model).fileName());
        emit sessionRestored(false);
        return;
    }
    m_restorePath = model;  // updateFit() finishes once the devices and the footprint are known
    updateFit(model);
}

void App::finishRestore(const QString& path, const FitStatus& fit) {
    m_restorePath.clear();
    if (fit.state != FitState::fits) {
        m_restoreNote = tr("%1 was not reloaded: it no longer fits (%2)").arg(QFileInfo(path).fileName(), fit.summary);
        emit sessionRestored(false);
        return;
    }
    if (m_model->isLoaded() || !m_model->loadingPath().isEmpty()) return;  // the user chose another meanwhile
    emit sessionRestored(true);
    loadModel(path);
}

void App::setContextWarning(const QString& warning) {
    if (warning == m_contextWarning) return;
    m_contextWarning = warning;
    emit contextWarningChanged(warning);
}

void App::stopApiServer() {
    m_commandLinePort = 0;
    m_apiServer->close();
}

void App::shutdown() {
    if (!m_started) return;
    m_started = false;
    m_apiServer->close();  // its clients get no more answers; their requests are cancelled
    m_worker->cancelAll();
    // The answers return within a token; the worker's thread ends its slot, then its loop.
    m_worker->waitForAnswers();
    m_thread.quit();
    m_thread.wait();
    // Deliver what the worker sent before it stopped (the last tokens, generationFinished), so
    // the partial answer is complete and saved.
    QCoreApplication::sendPostedEvents(this);
    QCoreApplication::sendPostedEvents(m_chat.get());
    QCoreApplication::sendPostedEvents(m_monitor.get());
    m_chat->abandonAnswer();
    m_importer->waitForIdle();
    m_fits->waitForIdle();
    m_settings->sync();
}

QString App::downloadFolder() const {
    const QString f = m_settings->preferences().downloadFolder;
    return f.isEmpty() ? QDir(m_options.dataDir).filePath(QStringLiteral("models")) : f;
}

strata::hub::HubConfig App::hubConfig() const {
    strata::hub::HubConfig c = strata::hub::HubConfig::from_environment();
    if (const QString token = m_settings->preferences().hubToken; !token.isEmpty()) c.token = token.toStdString();
    return c;
}

strata::LoadOptions App::hubFitOptions() const {
    AllocationSettings s = defaultAllocation(m_settings->preferences(), m_fits->devices());
    s.nSeq = 1;
    return buildLoadOptions(m_fits->devices(), s, 0);
}

AllocationSettings App::allocationFor(const QString& modelPath) const {
    AllocationSettings s = defaultAllocation(m_settings->preferences(), m_fits->devices());
    if (auto stored = m_allocations->load(modelPath)) s = normalized(*stored, m_fits->devices());
    if (s.nSeq > 0) return s;  // the model's own
    // Settings ▸ Parallel answers, or as many as fit: each slot has a KV cache, and a model that
    // fits with one must not be refused for the sake of more.
    const int wanted = std::max(1, m_settings->preferences().parallelAnswers);
    s.nSeq = wanted;
    if (!m_fits->hasFootprint(modelPath) || m_fits->devices().isEmpty()) return s;
    for (int n = wanted; n >= 1; n = n > 1 ? n / 2 : 0) {
        s.nSeq = n;
        if (m_fits->plan(m_fits->planRequest(modelPath, s)).fits) return s;
    }
    s.nSeq = wanted;  // none fits: the preview says why with the setting's number
    return s;
}

void App::saveAllocation(const QString& modelPath, const AllocationSettings& settings) {
    m_allocations->save(modelPath, settings);
    updateFit(modelPath);
}

void App::useSimulatedMachine() {
    const strata::MachineProfile& profile = *m_options.simulate;
    const strata::SimulatedMachine machine = strata::simulate_machine(profile, /*include_host=*/true);
    const AppDevices devices = devicesFromInfos(QList<strata::DeviceInfo>(machine.devices.begin(), machine.devices.end()));
    // No live figures: the GPUs are not there (and this machine's own must not show as theirs).
    m_monitor->setTelemetryReader(nullptr);
    m_monitor->setSimulatedMachine(QString::fromStdString(profile.name));
    const QString status = tr("simulated machine %1 (%2)").arg(QString::fromStdString(profile.name),
                                                                 QString::fromStdString(profile.comment));
    m_monitor->setDevices(devices, status);
    m_monitor->setLinks(machine.links);
    m_fits->setDevices(devices, machine.links);
    updateAllFits();
}

void App::loadModel(const QString& path) {
    if (m_options.simulate) {
        emit loadFailed(path, tr("a simulated machine can plan but not run models (strata --simulate); the Allocate "
                                 "page shows where it would go"));
        return;
    }
    // Until the worker has described the devices (at start-up: a file on the command line, or
    // Ctrl+O at once), the allocation has none, and a load without devices would take the
    // engine's defaults: every GPU and the whole CPU, ignoring --devices and disabled devices.
    // So it waits for them.
    if (m_fits->devices().isEmpty()) {
        m_loadWhenDescribed = path;
        return;
    }
    const int row = m_catalog->rowOfPath(path);
    const qint64 nCtxTrain = row >= 0 ? m_catalog->entryAt(row).contextLength : 0;
    const strata::LoadOptions options = buildLoadOptions(m_fits->devices(), allocationFor(path), nCtxTrain);
    // Until it has loaded, a restart must not load it by itself (a load that crashes the app
    // would crash every start).
    m_settings->setLastModel(path);
    m_settings->setLastModelLoaded(false);
    m_announcedPath.clear();  // a reload of the same file is announced again
    m_model->load(path, options);
}

void App::cancelLoad() { m_model->cancelLoad(); }

void App::unloadModel() { m_model->unload(); }

QString App::loadingPath() const { return m_model->loadingPath(); }

QString App::loadedPath() const { return m_model->loadedPath(); }

void App::updateFit(const QString& path) {
    if (!m_fits->hasFootprint(path) || m_fits->devices().isEmpty()) return;
    const strata::PlanRequest req = m_fits->planRequest(path, allocationFor(path));
    const FitStatus fit = describeFit(req, m_fits->plan(req));
    m_catalog->setFitStatus(path, fit);
    if (path == m_restorePath) finishRestore(path, fit);
}

void App::updateAllFits() {
    for (const CatalogEntry& e : m_catalog->entries()) updateFit(e.path);
}

}  // namespace strata::app
