#include "screenshot/screenshot_runner.h"

#include <QApplication>
#include <QDateTime>
#include <QDeadlineTimer>
#include <QDir>
#include <QLineEdit>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalBlocker>
#include <QStackedWidget>
#include <QTemporaryDir>
#include <QThread>
#include <QToolButton>
#include <cstdio>

#include "allocation/allocation_panel.h"
#include "app.h"
#include "chat/chat_controller.h"
#include "chat/chat_view.h"
#include "chat/message_widget.h"
#include "chat/transcript_view.h"
#include "chat/conversation_list_model.h"
#include "common/message_banner.h"
#include "common/theme.h"
#include "devices/device_monitor.h"
#include "discover/discover_view.h"
#include "discover/downloads_panel.h"
#include "library/library_view.h"
#include "main_window.h"
#include "model_bar.h"
#include "perf/bench_service.h"
#include "performance/performance_view.h"
#include "screenshot/sample_data.h"
#include "settings/settings_dialog.h"
#include "settings.h"
#include "storage/chat_store.h"
#include "strata/machine_profile.h"
#include "topology/topology_view.h"
#include "whatif/whatif_service.h"
#include "whatif/whatif_view.h"
#include "allocation/fit_preview.h"

namespace strata::ui {

namespace {

// Lets layouts, timers and queued signals settle.
void settle(int ms = 150) {
    QDeadlineTimer deadline(ms);
    while (!deadline.hasExpired()) {
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
        QThread::msleep(5);
    }
}

template <class Pred>
bool waitFor(Pred pred, int ms = 5000) {
    QDeadlineTimer deadline(ms);
    while (!pred() && !deadline.hasExpired()) {
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
        QThread::msleep(5);
    }
    return pred();
}

// Scrolls the scroll areas in and around `w` to their ends (what a screenshot should show is below).
void scrollToEnd(QWidget* w) {
    settle();
    for (QWidget* p = w; p; p = p->parentWidget())
        if (auto* area = qobject_cast<QScrollArea*>(p)) area->verticalScrollBar()->setValue(area->verticalScrollBar()->maximum());
    for (QScrollArea* area : w->findChildren<QScrollArea*>()) area->verticalScrollBar()->setValue(area->verticalScrollBar()->maximum());
}

bool save(QWidget& w, const QString& dir, const QString& name, const QString& theme) {
    settle();
    const QString file = QDir(dir).filePath(QStringLiteral("%1-%2.png").arg(name, theme));
    if (!w.grab().save(file, "PNG")) {
        std::fprintf(stderr, "strata: could not write %s\n", qPrintable(file));
        return false;
    }
    std::printf("%s\n", qPrintable(file));
    return true;
}

app::AllocationSettings fitting(const app::AppDevices& devices) {
    app::AllocationSettings s = app::normalized({}, devices);
    s.nCtx = 8192;
    s.kvType = strata::KvCacheType::q8_0;
    return s;
}

app::AllocationSettings notFitting(const app::AppDevices& devices) {
    app::AllocationSettings s = app::normalized({}, devices);
    s.nCtx = 32768;
    s.kvType = strata::KvCacheType::f16;
    for (app::DeviceAllocation& d : s.devices)
        if (d.key == QLatin1String("cpu")) d.enabled = false;
    return s;
}

// Every page, with the sample data shown, at the window's minimum size: a page that scrolls
// sideways there (a scroll area inside it whose horizontal bar has somewhere to go) fails the
// run, named on stderr (tst_views runs it). The window is left at its full size again.
bool fitsTheMinimumSize(MainWindow& w) {
    const QSize full = w.size();
    w.resize(w.minimumSize());
    const std::pair<MainWindow::Page, const char*> pages[] = {
        {MainWindow::ChatPage, "Chat"},         {MainWindow::LibraryPage, "Library"},
        {MainWindow::AllocationPage, "Allocate"}, {MainWindow::TopologyPage, "Topology"},
        {MainWindow::PerformancePage, "Speed"}, {MainWindow::DiscoverPage, "Discover"},
        {MainWindow::WhatIfPage, "What-if"}};
    bool ok = true;
    auto* stack = w.findChild<QStackedWidget*>();
    for (const auto& [page, name] : pages) {
        w.showPage(page);
        settle();
        QWidget* shown = stack ? stack->currentWidget() : nullptr;
        if (!shown) continue;
        for (QAbstractScrollArea* area : shown->findChildren<QAbstractScrollArea*>()) {
            const QScrollBar* bar = area->horizontalScrollBar();
            if (!area->isVisibleTo(shown) || area->horizontalScrollBarPolicy() == Qt::ScrollBarAlwaysOff || bar->maximum() <= 0)
                continue;
            std::fprintf(stderr, "strata: at the window's minimum size the %s page scrolls sideways (%s %s)\n", name,
                         area->metaObject()->className(), qPrintable(area->objectName()));
            ok = false;
        }
    }
    w.resize(full);
    return ok;
}

int renderTheme(QApplication& qapp, const ScreenshotOptions& o, const QString& themeName) {
    const ThemeKind kind = themeName == QLatin1String("dark") ? ThemeKind::dark : ThemeKind::light;
    Theme::apply(qapp, kind);
    QTemporaryDir data;
    app::AppOptions options;
    options.dataDir = data.path();
    options.makeBackend = sample::makeBackend;
    options.inspect = [](const std::string& p) -> strata::Result<strata::ModelInspection> {
        return strata::Status(strata::ErrorCode::unsupported, p + ": screenshot mode");
    };
    options.readFootprint = sample::footprint;
    app::App core(options);
    if (!core.start()) {
        std::fprintf(stderr, "strata: %s\n", qPrintable(core.errorString()));
        return 1;
    }
    if (!waitFor([&] { return !core.fits().devices().isEmpty(); })) {
        std::fprintf(stderr, "strata: the sample devices did not arrive\n");
        return 1;
    }
    core.settings().setTheme(kind == ThemeKind::dark ? app::ThemeChoice::dark : app::ThemeChoice::light);
    MainWindow w(core, kind);
    w.resize(o.size);
    w.show();
    bool ok = true;

    w.showPage(MainWindow::LibraryPage);
    ok &= save(w, o.dir, QStringLiteral("library-empty"), themeName);

    // The library, with fits computed by the planner for the sample machine.
    for (const app::CatalogEntry& e : sample::catalogEntries()) {
        core.catalog().add(e);
        core.fits().request(e.path);
    }
    const QString big = sample::path70b();
    core.saveAllocation(big, fitting(core.fits().devices()));
    waitFor([&] {
        for (const app::CatalogEntry& e : core.catalog().entries())
            if (core.catalog().fitStatus(e.path).state == app::FitState::unknown) return false;
        return true;
    });
    w.banner()->dismiss();
    w.libraryView()->selectPath(big);
    ok &= save(w, o.dir, QStringLiteral("library"), themeName);

    // A loaded model (the 70B on both GPUs) and a conversation.
    const app::AllocationSettings fit = fitting(core.fits().devices());
    const strata::PlanRequest request = core.fits().planRequest(big, fit);
    const app::LoadedModel loaded = sample::loadedModel(big, request, core.fits().plan(request));
    w.modelBar()->setLoaded(&loaded);
    core.monitor().setModel(loaded);
    core.monitor().setStats(sample::stats(loaded));
    const qint64 conversation = sample::addConversations(core.chatStore());
    core.conversations().refresh();
    core.chat().selectConversation(conversation);
    w.showPage(MainWindow::ChatPage);
    settle();
    w.chatView()->transcript()->verticalScrollBar()->setValue(0);  // from the question on
    ok &= save(w, o.dir, QStringLiteral("chat"), themeName);
    // The last answer came from a thinking model: its reasoning, opened, at the transcript's end.
    const QList<MessageWidget*> messages = w.chatView()->transcript()->messageWidgets();
    if (!messages.isEmpty())
        if (auto* toggle = messages.last()->findChild<QToolButton*>(QStringLiteral("reasoningToggle"))) toggle->click();
    settle();
    w.chatView()->transcript()->verticalScrollBar()->setValue(w.chatView()->transcript()->verticalScrollBar()->maximum());
    ok &= save(w, o.dir, QStringLiteral("chat-reasoning"), themeName);

    w.showPage(MainWindow::AllocationPage);
    w.allocationPanel()->selectModel(big);
    w.allocationPanel()->setSettings(big, fit);
    ok &= save(w, o.dir, QStringLiteral("allocation-fits"), themeName);
    w.allocationPanel()->setSettings(big, notFitting(core.fits().devices()));
    ok &= save(w, o.dir, QStringLiteral("allocation-too-big"), themeName);
    core.saveAllocation(big, fit);
    w.allocationPanel()->setSettings(big, fit);
    // The same page at the window's minimum size: nothing is cut off.
    const QSize full = w.size();
    w.resize(w.minimumSize());
    ok &= save(w, o.dir, QStringLiteral("allocation-min-size"), themeName);
    w.resize(full);

    {
        SettingsDialog dialog(core.settings().preferences(), core.monitor().devices(), &w);
        dialog.show();
        ok &= save(dialog, o.dir, QStringLiteral("settings"), themeName);
    }

    // Live GPU figures as NVML would report them mid-answer (not this machine's).
    core.monitor().setTelemetryReader(nullptr);
    {
        // An hour of history (signals held: the views redraw once, below).
        const QSignalBlocker quiet(&core.monitor());
        sample::replayHistory(core.monitor(), loaded, QDateTime::currentMSecsSinceEpoch());
    }
    core.monitor().setStats(sample::stats(loaded));
    for (const app::BenchRun& r : sample::benchRuns(QDateTime::currentMSecsSinceEpoch())) core.bench().add(r);
    w.topologyView()->refresh();
    w.performanceView()->refresh();
    w.showPage(MainWindow::TopologyPage);
    ok &= save(w, o.dir, QStringLiteral("topology"), themeName);

    // Discover from sample data (no network): search results, then a repository's files with
    // their fit verdicts and the downloads panel.
    w.showPage(MainWindow::DiscoverPage);
    DiscoverView* discover = w.discoverView();
    discover->searchBox()->setText(QStringLiteral("qwen3 32b"));
    discover->showResults(sample::hubResults());
    ok &= save(w, o.dir, QStringLiteral("discover-search"), themeName);
    // Offline: what the view says when the Hub cannot be reached (the error HubService hands it
    // then), with its Retry button.
    app::HubError offline;
    offline.code = strata::ErrorCode::io;
    offline.netFault = strata::NetFault::unreachable;
    offline.host = QStringLiteral("huggingface.co");
    offline.message = QStringLiteral("searching the Hub: could not reach https://huggingface.co:443: Could not resolve "
                                     "host: huggingface.co");
    discover->showResults({}, offline);
    ok &= save(w, o.dir, QStringLiteral("discover-offline"), themeName);
    discover->showRepository(sample::hubRepository(), sample::hubCard(), sample::hubFiles(false));
    discover->showVerdicts(sample::hubFiles(true));
    for (const app::DownloadItem& item : sample::downloads()) discover->downloadsPanel()->setItem(item);
    ok &= save(w, o.dir, QStringLiteral("discover-repository"), themeName);

    w.showPage(MainWindow::PerformancePage);
    ok &= save(w, o.dir, QStringLiteral("performance"), themeName);
    w.performanceView()->scrollToBenchmarks();
    ok &= save(w, o.dir, QStringLiteral("performance-bench"), themeName);
    w.resize(w.minimumSize());
    ok &= save(w, o.dir, QStringLiteral("performance-min-size"), themeName);
    w.showPage(MainWindow::TopologyPage);
    ok &= save(w, o.dir, QStringLiteral("topology-min-size"), themeName);
    w.resize(full);
    // The hardware what-if at its defaults: 70B Q4_K_M on 2× RTX 3090, RTX 6000 Ada, 2× RTX 4090.
    w.showPage(MainWindow::WhatIfPage);
    if (!waitFor([&] { return !core.whatif().lastReport().results.empty() && !core.whatif().isRunning(); }, 30000))
        std::fprintf(stderr, "strata: the what-if did not finish: %s\n", qPrintable(core.whatif().lastReport().error));
    scrollToEnd(w.whatIfView());  // the table and the cheapest configuration below the inputs
    ok &= save(w, o.dir, QStringLiteral("whatif"), themeName);
    // At the window's minimum size, from the top: the input cards stacked, every input whole,
    // then the table with its three columns.
    w.resize(w.minimumSize());
    settle();
    for (QScrollArea* area : w.whatIfView()->findChildren<QScrollArea*>()) area->verticalScrollBar()->setValue(0);
    ok &= save(w, o.dir, QStringLiteral("whatif-min-size"), themeName);
    w.resize(full);
    ok &= fitsTheMinimumSize(w);
    w.hide();
    core.shutdown();
    return ok ? 0 : 1;
}

}  // namespace

// The shipped 4× RTX 4090 PCIe profile (no P2P) as strata --simulate shows it: the topology
// view's link matrix and the fit preview of the sample 70B with its staged hand-offs.
int renderSimulated(const ScreenshotOptions& o, const QString& themeName) {
    const ThemeKind kind = themeName == QLatin1String("dark") ? ThemeKind::dark : ThemeKind::light;
    const std::string path = strata::find_resource("machines/4x-rtx4090-pcie.json");
    auto profile = path.empty() ? strata::Result<strata::MachineProfile>(strata::Status(strata::ErrorCode::not_found,
                                                                                         "machines/4x-rtx4090-pcie.json not found"))
                                : strata::load_machine_profile(path);
    if (!profile.ok()) {
        std::fprintf(stderr, "strata: %s\n", profile.status().message().c_str());
        return 1;
    }
    QTemporaryDir data;
    app::AppOptions options;
    options.dataDir = data.path();
    options.makeBackend = sample::makeBackend;
    options.inspect = [](const std::string& p) -> strata::Result<strata::ModelInspection> {
        return strata::Status(strata::ErrorCode::unsupported, p + ": screenshot mode");
    };
    options.readFootprint = sample::footprint;
    options.simulate = *profile;
    app::App core(options);
    if (!core.start()) {
        std::fprintf(stderr, "strata: %s\n", qPrintable(core.errorString()));
        return 1;
    }
    core.settings().setTheme(kind == ThemeKind::dark ? app::ThemeChoice::dark : app::ThemeChoice::light);
    MainWindow w(core, kind);
    w.setWindowTitle(QStringLiteral("Strata — simulated: %1").arg(QString::fromStdString(profile->name)));
    w.resize(o.size);
    w.show();
    for (const app::CatalogEntry& e : sample::catalogEntries()) {
        core.catalog().add(e);
        core.fits().request(e.path);
    }
    const QString big = sample::path70b();
    app::AllocationSettings s = app::normalized({}, core.fits().devices());
    s.nCtx = 8192;
    s.nSeq = 1;
    core.saveAllocation(big, s);
    waitFor([&] { return core.fits().hasFootprint(big); });
    bool ok = true;
    w.banner()->dismiss();
    w.showPage(MainWindow::TopologyPage);
    ok &= save(w, o.dir, QStringLiteral("topology-simulated"), themeName);
    // Five devices at the window's minimum size, from the top: the link matrix within the
    // width, then the cards, wrapped onto more rows.
    const QSize full = w.size();
    w.resize(w.minimumSize());
    ok &= save(w, o.dir, QStringLiteral("topology-simulated-min-size"), themeName);
    w.resize(full);
    w.showPage(MainWindow::AllocationPage);
    w.allocationPanel()->selectModel(big);
    w.allocationPanel()->setSettings(big, s);
    settle();
    scrollToEnd(w.allocationPanel()->preview());  // the planner's words on the staged hand-off
    ok &= save(w, o.dir, QStringLiteral("allocation-simulated"), themeName);
    w.hide();
    core.shutdown();
    return ok ? 0 : 1;
}

int runScreenshots(QApplication& app, const ScreenshotOptions& options) {
    if (!QDir().mkpath(options.dir)) {
        std::fprintf(stderr, "strata: cannot create %s\n", qPrintable(options.dir));
        return 1;
    }
    int rc = 0;
    for (const QString& theme : options.themes) {
        rc |= renderTheme(app, options, theme);
        rc |= renderSimulated(options, theme);
    }
    return rc;
}

}  // namespace strata::ui
