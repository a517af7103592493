#include "main_window.h"

#include <QActionGroup>
#include <QDialog>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QTableWidget>
#include <functional>
#include <iterator>
#include <optional>
#include <QApplication>
#include <QButtonGroup>
#include <QCloseEvent>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QListView>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QStatusBar>
#include <QToolButton>
#include <QVBoxLayout>

#include "allocation/allocation_panel.h"
#include "app.h"
#include "chat/chat_controller.h"
#include "chat/chat_export.h"
#include "chat/chat_view.h"
#include "chat/conversation_sidebar.h"
#include "chat/composer.h"
#include "common/accessible_names.h"
#include "common/icons.h"
#include "common/message_banner.h"
#include "devices/device_monitor.h"
#include "discover/discover_view.h"
#include "hub/hub_service.h"
#include "engine/engine_worker.h"
#include "engine/model_state.h"
#include "library/drop_zone.h"
#include "library/library_view.h"
#include "strata/model_info.h"
#include "library/model_catalog.h"
#include "library/model_details.h"
#include "model_bar.h"
#include "server/api_server.h"
#include "settings.h"
#include "settings/settings_dialog.h"
#include "storage/chat_store.h"
#include "performance/performance_view.h"
#include "whatif/whatif_view.h"
#include "perf/bench_service.h"
#include "devices/link_probe_service.h"
#include "topology/topology_view.h"

namespace strata::ui {

namespace {

struct NavItem {
    const char* icon;
    const char* text;
    const char* tip;
};
const NavItem kNav[] = {
    {"chat", QT_TRANSLATE_NOOP("MainWindow", "Chat"), QT_TRANSLATE_NOOP("MainWindow", "Chat (Ctrl+1)")},
    {"library", QT_TRANSLATE_NOOP("MainWindow", "Library"), QT_TRANSLATE_NOOP("MainWindow", "Model library (Ctrl+2)")},
    {"allocation", QT_TRANSLATE_NOOP("MainWindow", "Allocate"), QT_TRANSLATE_NOOP("MainWindow", "GPU allocation (Ctrl+3)")},
    {"topology", QT_TRANSLATE_NOOP("MainWindow", "Topology"), QT_TRANSLATE_NOOP("MainWindow", "Devices and stages (Ctrl+4)")},
    {"performance", QT_TRANSLATE_NOOP("MainWindow", "Speed"), QT_TRANSLATE_NOOP("MainWindow", "Performance and benchmarks (Ctrl+5)")},
    {"search", QT_TRANSLATE_NOOP("MainWindow", "Discover"), QT_TRANSLATE_NOOP("MainWindow", "Find models on Hugging Face (Ctrl+6)")},
    {"whatif", QT_TRANSLATE_NOOP("MainWindow", "What-if"), QT_TRANSLATE_NOOP("MainWindow", "Hardware what-if: fit, speed and cost on other GPUs (Ctrl+7)")},
};

// Local files among dropped URLs (any extension: bad ones get a message).
QStringList localFiles(const QMimeData* mime) {
    QStringList out;
    if (!mime || !mime->hasUrls()) return out;
    for (const QUrl& u : mime->urls())
        if (u.isLocalFile()) out.append(u.toLocalFile());
    return out;
}

// Hugging Face links among dropped URLs (the first one that names a repository or file).
std::optional<app::HubLink> hubLink(const QMimeData* mime, const QString& endpoint) {
    if (!mime) return std::nullopt;
    QList<QUrl> urls = mime->hasUrls() ? mime->urls() : QList<QUrl>{};
    if (urls.isEmpty() && mime->hasText()) urls.append(QUrl(mime->text().trimmed()));
    for (const QUrl& u : urls)
        if (auto link = app::parseHubLink(u, endpoint)) return link;
    return std::nullopt;
}

}  // namespace

MainWindow::MainWindow(app::App& app, ThemeKind systemTheme, QWidget* parent)
    : QMainWindow(parent), m_app(app), m_systemTheme(systemTheme) {
    setWindowTitle(QStringLiteral("Strata"));
    setWindowIcon(QIcon(logoPixmap(64, 2.0)));
    setAcceptDrops(true);
    setMinimumSize(980, 640);

    auto* central = new QWidget(this);
    auto* h = new QHBoxLayout(central);
    h->setContentsMargins(0, 0, 0, 0);
    h->setSpacing(0);
    h->addWidget(buildRail());
    auto* right = new QWidget(central);
    auto* v = new QVBoxLayout(right);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(0);
    m_modelBar = new ModelBar(app.catalog(), right);
    m_banner = new MessageBanner(right);
    m_pages = new QStackedWidget(right);
    m_chat = new ChatView(app.chat(), app.conversations(), app.catalog(), m_pages);
    connect(m_chat, &ChatView::exportRequested, this, &MainWindow::exportChat);
    connect(m_chat, &ChatView::libraryRequested, this, [this] { showPage(LibraryPage); });
    m_library = new LibraryView(app.catalog(), m_pages);
    m_allocation = new AllocationPanel(app.fits(), app.catalog(), m_pages);
    m_topology = new TopologyView(app.monitor(), m_pages);
    m_topology->setLinkProbe(&app.linkProbe());
    m_discover = new DiscoverView(&app.hub(), &app.downloads(), m_pages);
    m_pages->addWidget(m_chat);
    m_pages->addWidget(m_library);
    m_pages->addWidget(m_allocation);
    m_pages->addWidget(m_topology);
    m_performance = new PerformanceView(app.monitor(), &app.bench(), m_pages);
    connect(m_performance, &PerformanceView::exportRequested, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export benchmark runs"), QStringLiteral("strata-bench.csv"),
                                                          tr("CSV files (*.csv)"));
        if (!path.isEmpty() && !m_app.bench().exportCsv(path))
            QMessageBox::warning(this, tr("Export benchmark runs"), m_app.bench().lastError());
    });
    m_pages->addWidget(m_performance);
    m_pages->addWidget(m_discover);
    m_whatif = new WhatIfView(app.whatif(), m_pages);
    m_pages->addWidget(m_whatif);
    v->addWidget(m_modelBar);
    v->addWidget(m_banner);
    v->addWidget(m_pages, 1);
    h->addWidget(right, 1);
    setCentralWidget(central);
    buildMenus();
    releaseMenuShortcuts();
    statusBar()->setSizeGripEnabled(false);
    m_devicesLabel = new QLabel(this);
    m_devicesLabel->setObjectName(QStringLiteral("devicesStatus"));
    statusBar()->addWidget(m_devicesLabel, 1);
    m_serverLabel = new QLabel(this);
    statusBar()->addPermanentWidget(m_serverLabel);
    connectApp();
    for (QWidget* w : findChildren<QWidget*>()) nameFromVisibleLabel(w);
    qApp->installEventFilter(this);

    const QByteArray geometry = app.settings().windowGeometry();
    if (geometry.isEmpty() || !restoreGeometry(geometry)) resize(1280, 800);
    showPage(app.catalog().rowCount() == 0 ? LibraryPage : ChatPage);
}

MainWindow::~MainWindow() { qApp->removeEventFilter(this); }

QWidget* MainWindow::buildRail() {
    auto* rail = new QFrame(this);
    rail->setProperty("rail", true);
    rail->setFixedWidth(84);
    auto* l = new QVBoxLayout(rail);
    l->setContentsMargins(8, 14, 8, 14);
    l->setSpacing(6);
    auto* logo = new QLabel(rail);
    logo->setPixmap(logoPixmap(36, devicePixelRatioF()));
    logo->setAlignment(Qt::AlignHCenter);
    logo->setToolTip(QStringLiteral("Strata"));
    l->addWidget(logo);
    l->addSpacing(14);
    m_nav = new QButtonGroup(this);
    m_nav->setExclusive(true);
    int id = 0;
    for (const NavItem& item : kNav) {
        auto* b = new QToolButton(rail);
        b->setProperty("nav", true);
        b->setProperty("iconName", QString::fromLatin1(item.icon));
        b->setText(tr(item.text));
        b->setToolTip(tr(item.tip));
        b->setCheckable(true);
        b->setToolButtonStyle(Qt::ToolButtonTextUnderIcon);
        b->setIconSize({24, 24});
        b->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
        b->setMinimumHeight(58);
        b->setCursor(Qt::PointingHandCursor);
        b->setAccessibleName(tr(item.text));  // the View menu holds its shortcut (Ctrl+1…7)
        m_nav->addButton(b, id++);
        m_navButtons.append(b);
        l->addWidget(b);
    }
    l->addStretch(1);
    connect(m_nav, &QButtonGroup::idClicked, this, [this](int page) { showPage(Page(page)); });
    updateRailIcons();
    return rail;
}

void MainWindow::updateRailIcons() {
    const ThemeColors& c = currentColors();
    for (QToolButton* b : m_navButtons) b->setIcon(checkableIcon(b->property("iconName").toString(), c.mutedText, c.accent));
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(icon(QStringLiteral("plus")), tr("&New chat"), QKeySequence::New, this, [this] {
        showPage(ChatPage);
        m_app.chat().newConversation();
    });
    file->addSeparator();
    file->addAction(icon(QStringLiteral("open")), tr("&Open model…"), QKeySequence::Open, this, &MainWindow::openFiles);
    file->addAction(icon(QStringLiteral("folder")), tr("Add &folder…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O), this,
                    &MainWindow::addFolder);
    file->addAction(tr("&Export chat…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E), this,
                    [this] { exportChat(m_app.chat().currentConversation()); });
    file->addSeparator();
    m_serveAction = file->addAction(tr("Serve local &API"));
    m_serveAction->setCheckable(true);
    connect(m_serveAction, &QAction::triggered, this, &MainWindow::setServing);
    file->addAction(tr("&Settings…"), QKeySequence(Qt::CTRL | Qt::Key_Comma), this, &MainWindow::showSettings);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    for (int i = 0; i < int(std::size(kNav)); ++i)
        view->addAction(tr(kNav[i].text), QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + i)), this, [this, i] { showPage(Page(i)); });
    view->addSeparator();
    QMenu* theme = view->addMenu(tr("&Theme"));
    m_themeGroup = new QActionGroup(this);
    const std::pair<app::ThemeChoice, QString> choices[] = {
        {app::ThemeChoice::system, tr("Follow the &system")}, {app::ThemeChoice::light, tr("&Light")}, {app::ThemeChoice::dark, tr("&Dark")}};
    for (const auto& [choice, text] : choices) {
        QAction* a = theme->addAction(text);
        a->setCheckable(true);
        a->setChecked(m_app.settings().theme() == choice);
        a->setData(int(choice));
        m_themeGroup->addAction(a);
        connect(a, &QAction::triggered, this, [this, c = choice] { applyTheme(c); });
    }

    QMenu* model = menuBar()->addMenu(tr("&Model"));
    model->addAction(icon(QStringLiteral("play")), tr("&Load the model chosen in the top bar"), QKeySequence(Qt::CTRL | Qt::Key_L),
                     this, [this] {
                         const QString path = m_modelBar->chosenPath();
                         if (!path.isEmpty()) m_app.loadModel(path);
                     });
    model->addAction(icon(QStringLiteral("eject")), tr("&Eject"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L), this,
                     [this] { m_app.unloadModel(); });
    model->addAction(tr("&Cancel loading"), this, [this] { m_app.cancelLoad(); });

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&Keyboard shortcuts"), QKeySequence(Qt::CTRL | Qt::Key_Slash), this, &MainWindow::showShortcuts);
    help->addAction(tr("&About Strata"), this, [this] {
        QMessageBox::about(this, tr("About Strata"),
                           tr("<h3>Strata %1</h3><p>Runs large language models split layer-wise across the GPUs and "
                              "CPU of one machine.</p><p>Models: GGUF files of the Llama, Mistral, Qwen, Gemma, Phi, GLM and gpt-oss families. Chat in a terminal:<br>"
                              "<nobr><code>strata-cli chat -m MODEL.gguf</code></nobr></p>")
                               .arg(QApplication::applicationVersion().toHtmlEscaped()));
    });
}

// A page's button holding a menu's shortcut makes Qt report "Ambiguous shortcut overload" and run
// neither; the menu's action (listed, with its keys) is the one to keep.
void MainWindow::releaseMenuShortcuts() {
    QList<QKeySequence> menuKeys;
    for (QAction* a : menuBar()->findChildren<QAction*>())
        if (!a->shortcut().isEmpty()) menuKeys << a->shortcut();
    for (QAbstractButton* b : centralWidget()->findChildren<QAbstractButton*>()) {
        const QKeySequence keys = b->shortcut();
        if (keys.isEmpty() || !menuKeys.contains(keys)) continue;
        b->setShortcut(QKeySequence());
        if (!b->toolTip().contains(keys.toString(QKeySequence::NativeText)))
            b->setToolTip(QStringLiteral("%1 (%2)").arg(b->toolTip().isEmpty() ? b->text().remove(QLatin1Char('&')) : b->toolTip(),
                                                        keys.toString(QKeySequence::NativeText)));
    }
}

QList<QPair<QString, QString>> MainWindow::shortcutList() const {
    QList<QPair<QString, QString>> out;
    for (QAction* menuAction : menuBar()->actions()) {
        const QString menu = menuAction->text().remove(QLatin1Char('&'));
        std::function<void(QMenu*, const QString&)> walk = [&](QMenu* m, const QString& prefix) {
            for (QAction* a : m->actions()) {
                const QString name = prefix + QStringLiteral(" ▸ ") + a->text().remove(QLatin1Char('&')).remove(QChar(0x2026));
                if (a->menu()) walk(a->menu(), name);
                else if (!a->shortcut().isEmpty()) out.append({name, a->shortcut().toString(QKeySequence::NativeText)});
            }
        };
        if (menuAction->menu()) walk(menuAction->menu(), menu);
    }
    // Keys that belong to a page rather than a menu.
    out.append({tr("Chat ▸ Send the message"), tr("Enter")});
    out.append({tr("Chat ▸ New line in the message"), tr("Shift+Enter")});
    out.append({tr("Chat ▸ Stop the answer"), tr("Esc")});
    out.append({tr("Chat list ▸ Delete the selected chat"), tr("Del")});
    out.append({tr("Chat list ▸ Rename the selected chat"), tr("F2")});
    out.append({tr("Any page ▸ Next / previous control"), tr("Tab / Shift+Tab")});
    return out;
}

void MainWindow::showShortcuts() {
    QDialog dialog(this);
    dialog.setWindowTitle(tr("Keyboard shortcuts"));
    auto* v = new QVBoxLayout(&dialog);
    auto* table = new QTableWidget(&dialog);
    table->setAccessibleName(tr("Keyboard shortcuts"));
    table->setColumnCount(2);
    table->setHorizontalHeaderLabels({tr("Action"), tr("Keys")});
    const auto list = shortcutList();
    table->setRowCount(int(list.size()));
    for (int i = 0; i < list.size(); ++i) {
        table->setItem(i, 0, new QTableWidgetItem(list[i].first));
        table->setItem(i, 1, new QTableWidgetItem(list[i].second));
    }
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->setSelectionMode(QAbstractItemView::SingleSelection);
    table->setShowGrid(false);
    table->setAlternatingRowColors(true);
    table->verticalHeader()->setVisible(false);
    table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    table->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    v->addWidget(table);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, &dialog);
    for (QAbstractButton* b : buttons->buttons()) b->setIcon(QIcon());
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    v->addWidget(buttons);
    dialog.resize(560, 520);
    dialog.exec();
}

void MainWindow::showSettings() {
    SettingsDialog dialog(m_app.settings().preferences(), m_app.monitor().devices(), this);
    if (dialog.exec() != QDialog::Accepted) return;
    const app::Preferences p = dialog.preferences();
    if (!m_app.settings().setPreferences(p)) return;  // the dialog accepts only valid ones
    m_app.applyPreferences();
    applyTheme(p.theme);
    for (QAction* a : m_themeGroup->actions()) a->setChecked(a->data().toInt() == int(p.theme));
    updateServerStatus();
    if (p.serverEnabled && !m_app.apiServer().isListening())
        m_banner->showError(QStringLiteral("server"), tr("The local API is off: %1").arg(m_app.apiServer().errorString()));
    else
        m_banner->clearError(QStringLiteral("server"));
    m_banner->showInfo(tr("Settings saved."));
}

void MainWindow::exportChat(qint64 id) {
    const auto c = id > 0 ? m_app.chatStore().conversation(id) : std::nullopt;
    if (!c) {
        m_banner->showInfo(tr("Open a conversation to export it."));
        return;
    }
    const QString markdown = tr("Markdown (*.md)"), json = tr("JSON (*.json)");
    QString filter = markdown;
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    QString path = QFileDialog::getSaveFileName(this, tr("Export chat"),
                                                QDir(dir).filePath(app::exportFileName(c->title, app::ExportFormat::markdown)),
                                                markdown + QStringLiteral(";;") + json, &filter);
    if (path.isEmpty()) return;
    if (QFileInfo(path).suffix().isEmpty()) path += filter == json ? QStringLiteral(".json") : QStringLiteral(".md");
    exportConversation(id, path);
}

bool MainWindow::exportConversation(qint64 id, const QString& path) {
    const QString error = app::exportConversation(m_app.chatStore(), id, path);
    if (!error.isEmpty()) {
        m_banner->showError(QStringLiteral("export"), error);
        return false;
    }
    m_banner->clearError(QStringLiteral("export"));
    m_banner->showInfo(tr("Exported the chat to %1.").arg(QDir::toNativeSeparators(path)));
    return true;
}

void MainWindow::connectApp() {
    app::App& a = m_app;
    app::EngineWorker& w = a.worker();
    // ---- library
    connect(m_library, &LibraryView::openRequested, this, &MainWindow::openFiles);  // loads it too
    connect(m_library, &LibraryView::addFolderRequested, this, &MainWindow::addFolder);
    connect(m_library, &LibraryView::discoverRequested, this, [this] { showPage(DiscoverPage); });
    ModelDetails* details = m_library->details();
    // The what-if's model choice: the library's files (rows come and go) and the loaded one.
    connect(&a.catalog(), &QAbstractItemModel::rowsInserted, this, &MainWindow::updateWhatIfModels);
    connect(&a.catalog(), &QAbstractItemModel::rowsRemoved, this, &MainWindow::updateWhatIfModels);
    connect(&a.catalog(), &QAbstractItemModel::modelReset, this, &MainWindow::updateWhatIfModels);
    updateWhatIfModels();
    connect(details, &ModelDetails::loadRequested, &a, &app::App::loadModel);
    connect(details, &ModelDetails::unloadRequested, &a, &app::App::unloadModel);
    connect(details, &ModelDetails::cancelLoadRequested, &a, &app::App::cancelLoad);
    connect(details, &ModelDetails::allocateRequested, this, [this](const QString& path) {
        m_allocation->selectModel(path);
        showPage(AllocationPage);
    });
    connect(details, &ModelDetails::removeRequested, this, [this](const QString& path) {
        const int row = m_app.catalog().rowOfPath(path);
        if (row >= 0 && m_app.catalog().removeAt(row))
            m_banner->showInfo(tr("Removed %1 from the library (the file is still on disk).").arg(QFileInfo(path).fileName()));
    });
    app::ModelImporter& importer = a.importer();
    // The model named on the command line or opened with File ▸ Open, once it is in the library:
    // load it and open the chat.
    auto loadIfRequested = [this](const QString& path) {
        if (m_loadWhenAdded.isEmpty() || QFileInfo(path).canonicalFilePath() != m_loadWhenAdded) return false;
        m_loadWhenAdded.clear();
        if (!m_loadReplaces && (!m_app.loadedPath().isEmpty() || !m_app.loadingPath().isEmpty())) return false;
        if (m_app.loadedPath() != path && m_app.loadingPath() != path) m_app.loadModel(path);
        showPage(ChatPage);
        return true;
    };
    // Errors about a file are that file's topic: adding it after all clears them.
    connect(&importer, &app::ModelImporter::imported, this, [this, loadIfRequested](const QString& path) {
        m_library->selectPath(path);
        m_banner->clearError(QStringLiteral("file:") + path);
        m_banner->showInfo(tr("Added %1 to the library.").arg(QFileInfo(path).fileName()));
        loadIfRequested(path);
    });
    connect(&importer, &app::ModelImporter::duplicate, this, [this, loadIfRequested](const QString& path) {
        m_banner->clearError(QStringLiteral("file:") + path);
        if (loadIfRequested(path)) return;
        showPage(LibraryPage);
        m_library->selectPath(path);
        m_banner->showInfo(tr("%1 is already in the library.").arg(QFileInfo(path).fileName()));
    });
    connect(&importer, &app::ModelImporter::rejected, this, [this](const QString& path, const QString& message) {
        if (!m_loadWhenAdded.isEmpty() && QFileInfo(path).canonicalFilePath() == m_loadWhenAdded) m_loadWhenAdded.clear();
        m_banner->showError(QStringLiteral("file:") + path, message);
    });
    connect(&importer, &app::ModelImporter::folderScanned, this, [this](const QString& folder, int n) {
        if (n == 0) m_banner->showError(QStringLiteral("folder:") + folder, tr("No .gguf files found in %1.").arg(folder));
        else m_banner->clearError(QStringLiteral("folder:") + folder);
    });

    // ---- loading
    auto loadState = [this] {
        m_library->details()->setLoadState(m_app.loadingPath(), m_app.loadedPath());
        m_allocation->setLoadedModel(m_app.loadedPath());
        updateWhatIfModels();
    };
    connect(&a, &app::App::loadingChanged, this, [this, loadState](const QString& path) {
        m_modelBar->setLoading(path);
        m_library->details()->clearProgress();  // a new load starts afresh; a finished one leaves no bar
        loadState();
    });
    connect(&w, &app::EngineWorker::loadProgress, this, [this](const QString& dev, quint64 done, quint64 total) {
        m_modelBar->setProgress(dev, done, total);
        m_library->details()->setProgress(dev, done, total);
    });
    connect(&w, &app::EngineWorker::loaded, this, [this, loadState](const app::LoadedModel& m) {
        m_modelBar->setLoaded(&m);
        m_chat->setModelStatus(QString());
        m_banner->clearError(QStringLiteral("load"));
        loadState();
        statusBar()->showMessage(tr("Loaded %1 in %2 s").arg(QString::fromStdString(m.info.name)).arg(m.loadSeconds, 0, 'f', 1), 8000);
    });
    connect(&a, &app::App::modelUnloaded, this, [this, loadState] {
        m_modelBar->setLoaded(nullptr);
        loadState();
    });
    connect(&a, &app::App::loadFailed, this, [this, loadState](const QString& path, const QString& message) {
        m_banner->showError(QStringLiteral("load"), tr("Could not load %1: %2").arg(QFileInfo(path).fileName(), message));
        loadState();
    });
    connect(&a, &app::App::devicesFailed, this, [this](const QString& message) {
        m_banner->showError(QStringLiteral("devices"), tr("Devices: %1").arg(message));
    });
    connect(&a, &app::App::contextWarningChanged, m_modelBar, &ModelBar::setContextWarning);
    m_modelBar->setContextWarning(a.contextWarning());
    connect(&a, &app::App::contextWarningChanged, m_chat, &ChatView::setContextWarning);
    m_chat->setContextWarning(a.contextWarning());
    connect(&a, &app::App::sessionRestored, this, [this](bool reloading) {
        if (!reloading && !m_app.restoreNote().isEmpty()) m_banner->showInfo(m_app.restoreNote());
    });
    connect(m_modelBar, &ModelBar::loadRequested, &a, &app::App::loadModel);
    connect(m_modelBar, &ModelBar::ejectRequested, &a, &app::App::unloadModel);
    connect(m_modelBar, &ModelBar::cancelRequested, &a, &app::App::cancelLoad);

    // ---- allocation
    connect(m_allocation, &AllocationPanel::modelSelected, this,
            [this](const QString& path) { m_allocation->setSettings(path, m_app.allocationFor(path)); });
    connect(m_allocation, &AllocationPanel::settingsChanged, &a, &app::App::saveAllocation);
    connect(m_allocation, &AllocationPanel::applyRequested, this,
            [this](const QString& path, const app::AllocationSettings&) { m_app.loadModel(path); });
    if (!m_allocation->modelPath().isEmpty())
        m_allocation->setSettings(m_allocation->modelPath(), a.allocationFor(m_allocation->modelPath()));

    // ---- chat
    connect(&a.chat(), &app::ChatController::errorOccurred, this,
            [this](const QString& message) { m_banner->showError(QStringLiteral("chat"), message); });
    // Re-planned after a device failure: the model bar shows the new layout.
    connect(&a.model(), &app::ModelState::modelChanged, this, [this] {
        const auto& m = m_app.model().loaded();
        m_modelBar->setLoaded(m ? &*m : nullptr);
    });
    // ---- API server
    connect(&a.apiServer(), &app::ApiServer::listeningChanged, this, &MainWindow::updateServerStatus);
    updateServerStatus();
    if (a.settings().apiServerEnabled() && !a.apiServer().isListening() && !a.apiServer().errorString().isEmpty())
        m_banner->showError(QStringLiteral("server"), tr("The local API is off: %1").arg(a.apiServer().errorString()));

    connect(&a.monitor(), &app::DeviceMonitor::devicesChanged, this, &MainWindow::updateDevicesStatus);
    updateDevicesStatus();
}

void MainWindow::updateDevicesStatus() {
    app::DeviceSummary summary = app::describeDevices(m_app.monitor().devices(), m_app.monitor().gpuStatus());
    if (!m_app.monitor().simulatedMachine().isEmpty())  // strata --simulate: nothing runs here
        summary.text = tr("Simulated machine: %1 (models are planned, not run)").arg(m_app.monitor().simulatedMachine());
    m_devicesLabel->setText(summary.text);
    m_devicesLabel->setToolTip(summary.details);
    m_devicesLabel->setAccessibleName(summary.text);
}

void MainWindow::setServing(bool on) {
    if (on && !m_app.startApiServer()) {
        m_banner->showError(QStringLiteral("server"), tr("Could not start the local API: %1").arg(m_app.apiServer().errorString()));
    } else {
        if (!on) m_app.stopApiServer();
        m_app.settings().setApiServerEnabled(on);
        m_banner->clearError(QStringLiteral("server"));
    }
    updateServerStatus();
}

void MainWindow::updateServerStatus() {
    const app::ApiServer& server = m_app.apiServer();
    m_serveAction->setChecked(server.isListening());
    m_serverLabel->setVisible(server.isListening());
    if (server.isListening()) m_serverLabel->setText(tr("Serving on %1").arg(server.url()));
}

void MainWindow::updateWhatIfModels() {
    QList<QPair<QString, QString>> models;
    for (const app::CatalogEntry& e : m_app.catalog().entries()) models.append({e.path, e.name});
    m_whatif->setModels(models, m_app.loadedPath());
}

void MainWindow::showPage(Page page) {
    m_pages->setCurrentIndex(page);
    if (QAbstractButton* b = m_nav->button(page)) b->setChecked(true);
    // Arriving at the chat, typing goes to the message box; at another view, the keyboard is in
    // that view (its first control), not left on the rail or a page that is gone.
    if (page == ChatPage && m_chat) {
        m_chat->composer()->editor()->setFocus(Qt::OtherFocusReason);
        return;
    }
    QWidget* view = m_pages->currentWidget();
    for (QWidget* w = view->nextInFocusChain(); w && w != view; w = w->nextInFocusChain()) {
        if (!view->isAncestorOf(w)) continue;
        if (w->isVisibleTo(view) && w->isEnabled() && (w->focusPolicy() & Qt::TabFocus)) {
            w->setFocus(Qt::OtherFocusReason);
            break;
        }
    }
}

MainWindow::Page MainWindow::currentPage() const { return Page(m_pages->currentIndex()); }

void MainWindow::addModelPaths(const QStringList& paths) {
    if (paths.isEmpty()) return;
    showPage(LibraryPage);
    m_app.importer().importPaths(paths);
}

void MainWindow::loadWhenAdded(const QString& path, bool replaceLoaded) {
    const QFileInfo one(path);
    m_loadWhenAdded.clear();
    if (!one.isFile()) return;
    // A part of a split set joins the library as its first part: wait for that path.
    const QFileInfo set(QString::fromStdString(strata::model_set_path(one.canonicalFilePath().toStdString())));
    m_loadWhenAdded = set.exists() ? set.canonicalFilePath() : one.canonicalFilePath();
    m_loadReplaces = replaceLoaded;
}

void MainWindow::openFromCommandLine(const QStringList& paths) {
    if (paths.size() == 1) loadWhenAdded(paths.first(), false);
    addModelPaths(paths);
}

void MainWindow::openModelFiles(const QStringList& paths) {
    if (paths.size() == 1) loadWhenAdded(paths.first(), true);
    addModelPaths(paths);
}

void MainWindow::openFiles() {
    const QStringList folders = m_app.settings().preferences().modelFolders;
    const QStringList files = QFileDialog::getOpenFileNames(this, tr("Open a model"), folders.value(0),
                                                            tr("GGUF models (*.gguf);;All files (*)"));
    openModelFiles(files);
}

void MainWindow::addFolder() {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Add every model in a folder"));
    if (!dir.isEmpty()) addModelPaths({dir});
}

void MainWindow::applyTheme(app::ThemeChoice choice) {
    m_app.settings().setTheme(choice);
    Theme::apply(*qApp, Theme::resolve(choice, m_systemTheme));
    updateRailIcons();
    m_topology->refresh();
    m_performance->refresh();
    m_allocation->refresh();
    m_modelBar->refresh();
    emit themeChanged();
}

void MainWindow::setDragActive(bool active) {
    if (m_library) m_library->dropZone()->setDragActive(active);
}

bool MainWindow::openHubLink(const QUrl& url) {
    const auto link = app::parseHubLink(url, QString::fromStdString(m_app.hub().config().endpoint));
    if (!link) return false;
    showPage(DiscoverPage);
    m_discover->openRepository(link->repo, link->file);
    return true;
}

void MainWindow::dragEnterEvent(QDragEnterEvent* e) {
    if (hubLink(e->mimeData(), QString::fromStdString(m_app.hub().config().endpoint))) {
        e->acceptProposedAction();
        return;
    }
    if (localFiles(e->mimeData()).isEmpty()) return;
    e->acceptProposedAction();
    setDragActive(true);
}

void MainWindow::dragMoveEvent(QDragMoveEvent* e) {
    if (!localFiles(e->mimeData()).isEmpty() || hubLink(e->mimeData(), QString::fromStdString(m_app.hub().config().endpoint)))
        e->acceptProposedAction();
}

void MainWindow::dragLeaveEvent(QDragLeaveEvent*) { setDragActive(false); }

void MainWindow::dropEvent(QDropEvent* e) {
    setDragActive(false);
    if (const auto link = hubLink(e->mimeData(), QString::fromStdString(m_app.hub().config().endpoint))) {
        e->acceptProposedAction();
        showPage(DiscoverPage);
        m_discover->openRepository(link->repo, link->file);
        return;
    }
    const QStringList files = localFiles(e->mimeData());
    if (files.isEmpty()) return;
    e->acceptProposedAction();
    addModelPaths(files);
}

// Files dropped on a child that would take them as text (the message box, search fields) are
// models for the library, not text: catch them before the child does.
bool MainWindow::eventFilter(QObject* watched, QEvent* e) {
    const QEvent::Type t = e->type();
    // Widgets made after the window (messages, dialogs) get names from their visible labels too.
    if (t == QEvent::Polish) {
        if (auto* w = qobject_cast<QWidget*>(watched)) {
            const QWidget* top = w->window();
            if (top == this || (top->parentWidget() && top->parentWidget()->window() == this)) nameFromVisibleLabel(w);
        }
        return QMainWindow::eventFilter(watched, e);
    }
    if (t != QEvent::DragEnter && t != QEvent::DragMove && t != QEvent::Drop) return QMainWindow::eventFilter(watched, e);
    auto* w = qobject_cast<QWidget*>(watched);
    if (!w || w == this || w->window() != this) return QMainWindow::eventFilter(watched, e);
    auto* drop = static_cast<QDropEvent*>(e);
    if (localFiles(drop->mimeData()).isEmpty() && !hubLink(drop->mimeData(), QString::fromStdString(m_app.hub().config().endpoint)))
        return QMainWindow::eventFilter(watched, e);
    if (t == QEvent::DragEnter) dragEnterEvent(static_cast<QDragEnterEvent*>(e));
    else if (t == QEvent::DragMove) dragMoveEvent(static_cast<QDragMoveEvent*>(e));
    else dropEvent(drop);
    return true;
}

void MainWindow::closeEvent(QCloseEvent* e) {
    m_app.settings().setWindowGeometry(saveGeometry());
    m_app.shutdown();  // stops a streaming answer, saving what it had
    e->accept();
}

}  // namespace strata::ui
