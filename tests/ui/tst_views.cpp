// The other views and the binary: the topology view shows where each layer lives (and a MoE
// model's experts) and per-stage figures; the library's details show a MoE model's experts; the theme follows the choice; `strata --screenshot` writes a PNG per view; `strata`
// without a display says to use strata-cli instead of crashing; File ▸ Serve local API and
// `strata --serve` (headless, and with its port taken).
#include <QDirIterator>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMenu>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QStatusBar>
#include <QTcpServer>
#include <QtTest>
#include <sys/socket.h>

#include "common/flow_layout.h"
#include "common/message_banner.h"
#include "common/theme.h"
#include "devices/device_monitor.h"
#include "http_test_client.h"
#include "library/model_catalog.h"
#include "library/model_details.h"
#include "model_bar.h"
#include "storage/database.h"
#include "server/api_server.h"
#include "settings.h"
#include "test_models.h"
#include "topology/device_card.h"
#include "topology/layer_strip.h"
#include "topology/stage_activity.h"
#include "topology/topology_view.h"
#include "window_fixture.h"

using namespace strata;
using namespace strata::app;
using namespace strata::ui;
using strata::test::UiFixture;

namespace {

AppDevices devices() {
    AppDevices out;
    for (const char* id : {"cpu", "cpu1", "cpu2"}) {
        AppDevice d;
        d.spec.kind = "cpu";
        d.info.id = id;
        d.info.name = std::string("Virtual ") + id;
        d.info.total_memory = d.info.free_memory = 1ull << 30;
        out.append(d);
    }
    return out;
}

LoadedModel model() {
    LoadedModel m;
    m.path = QStringLiteral("/m/x.gguf");
    m.info.name = "x";
    m.info.n_layer = 10;
    m.nCtx = 512;
    StagePlan a, b;
    a.device = 0, a.device_id = "cpu1", a.layer_begin = 0, a.layer_end = 6, a.has_embedding = true;
    b.device = 1, b.device_id = "cpu2", b.layer_begin = 6, b.layer_end = 10, b.has_output = true;
    m.plan.fits = true;
    m.plan.stages = {a, b};
    m.plan.transfer_bytes_per_token = 2048;
    DeviceUse ua, ub;
    ua.device_id = "cpu1", ua.weight_bytes = 600, ua.capacity = 1000;
    ub.device_id = "cpu2", ub.weight_bytes = 400, ub.capacity = 1000;
    m.plan.devices = {ua, ub};
    return m;
}

// A MoE model of 10 layers on cuda0 whose experts sit on the CPU: all of them, or only those of
// the first `hosted` layers (the rest beside their layers on the GPU, as a later build may run).
LoadedModel moeModel(int hosted) {
    LoadedModel m;
    m.path = QStringLiteral("/m/moe.gguf");
    m.info.name = "moe";
    m.info.n_layer = 10;
    m.info.n_expert = 16;
    m.info.n_expert_used = 4;
    m.nCtx = 512;
    for (const char* id : {"cuda0", "cpu"}) {
        PlanDevice d;
        d.info.id = id;
        d.info.type = std::string(id) == "cpu" ? DeviceType::cpu : DeviceType::cuda;
        m.request.devices.push_back(d);
    }
    m.request.model.n_layer = 10;
    m.request.model.n_embd = 64;
    m.request.model.n_expert = 16;
    m.request.model.n_expert_used = 4;
    m.request.model.layer_expert_bytes.assign(10, 1ull << 30);
    StagePlan gpu;
    gpu.device = 0, gpu.device_id = "cuda0", gpu.layer_begin = 0, gpu.layer_end = 10;
    gpu.has_embedding = gpu.has_output = true;
    m.plan.fits = true;
    m.plan.stages = {gpu};
    for (int il = 0; il < 10; ++il) m.plan.expert_device.push_back(il < hosted ? 1 : 0);
    m.plan.transfer_bytes_per_token = quint64(hosted) * 2 * 64 * 4;  // each hosted layer: a row over and back
    DeviceUse ug, uc;
    ug.device = 0, ug.device_id = "cuda0", ug.weight_bytes = 2ull << 30, ug.capacity = 20ull << 30;
    uc.device = 1, uc.device_id = "cpu", uc.weight_bytes = quint64(hosted) << 30, uc.capacity = 60ull << 30;
    m.plan.devices = {ug, uc};
    return m;
}

AppDevices gpuAndCpu() {
    AppDevices out;
    for (const char* id : {"cuda0", "cpu"}) {
        AppDevice d;
        d.info.id = id;
        d.info.type = std::string(id) == "cpu" ? DeviceType::cpu : DeviceType::cuda;
        d.spec.kind = std::string(id) == "cpu" ? "cpu" : "cuda";
        d.info.name = id;
        d.info.total_memory = d.info.free_memory = 64ull << 30;
        out.append(d);
    }
    return out;
}

// A port nothing listens on right now.
quint16 freePort() {
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

QAction* findAction(QWidget* window, const QString& text) {
    for (QAction* a : window->findChildren<QAction*>())
        if (a->text() == text) return a;
    return nullptr;
}

// GET or POST on 127.0.0.1:port; (status, body), status 0 when nothing answered.
std::pair<int, QByteArray> http(QNetworkAccessManager& nam, quint16 port, const QString& path, const QByteArray& body = {}) {
    QNetworkRequest req(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(port).arg(path)));
    req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
    QNetworkReply* r = body.isEmpty() ? nam.get(req) : nam.post(req, body);
    QSignalSpy done(r, &QNetworkReply::finished);
    if (!r->isFinished()) done.wait(10000);
    const std::pair<int, QByteArray> out{r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), r->readAll()};
    r->deleteLater();
    return out;
}

QProcessEnvironment headlessEnvironment() {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("DISPLAY"));
    env.remove(QStringLiteral("WAYLAND_DISPLAY"));
    env.remove(QStringLiteral("QT_QPA_PLATFORM"));
    return env;
}

}  // namespace

class TestViews : public QObject {
    Q_OBJECT
private slots:
    // The topology's card row: as many items in a row as the width holds, then the next row, each
    // row as tall as its tallest item; never narrower than its widest item.
    void flowLayoutWraps() {
        QWidget box;
        auto* flow = new FlowLayout(&box, 10, 6);
        QList<QWidget*> items;
        for (int i = 0; i < 5; ++i) {
            auto* w = new QWidget(&box);
            w->setFixedSize(100, i == 1 ? 70 : 50);
            flow->addWidget(w);
            items.append(w);
        }
        QVERIFY(flow->hasHeightForWidth());
        QCOMPARE(flow->heightForWidth(1000), 70);             // one row: 5 × 100 + 4 × 10 = 540
        QCOMPARE(flow->heightForWidth(330), 70 + 6 + 50);     // 3 + 2: the first row as tall as item 1
        QCOMPARE(flow->heightForWidth(150), 50 + 70 + 3 * 50 + 4 * 6);  // one per row
        QCOMPARE(flow->minimumSize(), QSize(100, 70));
        QCOMPARE(flow->sizeHint(), QSize(540, 70));
        flow->setGeometry(QRect(0, 0, 330, 126));
        QCOMPARE(items[2]->geometry(), QRect(220, 0, 100, 50));
        QCOMPARE(items[3]->geometry(), QRect(0, 76, 100, 50));  // a new row below the tallest
        QCOMPARE(items[4]->geometry(), QRect(110, 76, 100, 50));
    }

    void topologyShowsStagesAndTimings() {
        DeviceMonitor monitor(nullptr);
        TopologyView view(monitor);
        view.resize(1280, 800);
        monitor.setDevices(devices(), QStringLiteral("no CUDA devices found: test"));
        QCOMPARE(view.cards().size(), 3);
        for (DeviceCard* c : view.cards()) QCOMPARE(c->layersText(), QStringLiteral("No model loaded"));

        monitor.setModel(model());
        QCOMPARE(view.cards().size(), 3);
        QCOMPARE(view.cards()[0]->deviceId(), QStringLiteral("cpu1"));  // pipeline order first
        QCOMPARE(view.cards()[1]->deviceId(), QStringLiteral("cpu2"));
        QCOMPARE(view.cards()[2]->deviceId(), QStringLiteral("cpu"));
        QVERIFY(view.cards()[0]->layersText().startsWith(QStringLiteral("layers 0–5\n+ token embedding")));
        QVERIFY(view.cards()[1]->layersText().startsWith(QStringLiteral("layers 6–9\n+ output head")));
        QCOMPARE(view.cards()[2]->layersText(), QStringLiteral("Not used by this model"));
        QCOMPARE(view.layerStrip()->deviceOfLayer(0), QStringLiteral("cpu1"));
        QCOMPARE(view.layerStrip()->deviceOfLayer(5), QStringLiteral("cpu1"));
        QCOMPARE(view.layerStrip()->deviceOfLayer(6), QStringLiteral("cpu2"));
        QVERIFY(view.linkTexts().first().contains(QLatin1String("2.0 KiB/token")));
        for (DeviceCard* c : view.cards()) QCOMPARE(c->expertsText(), QString());  // dense: no expert lines
        QVERIFY(view.layerStrip()->expertDeviceOfLayer(0).isEmpty());

        EngineStats stats;
        StageTiming t;
        t.device_id = "cpu1", t.layer_begin = 0, t.layer_end = 6, t.busy_seconds = 1.5, t.idle_seconds = 0.5, t.tokens = 42;
        stats.timings = {t};
        DeviceMemory mem;
        mem.device_id = "cpu1", mem.weights = 600, mem.capacity = 1000;
        stats.memory = {mem};
        monitor.setStats(stats);
        QVERIFY2(view.cards()[0]->busyText().contains(QLatin1String("1.50")), qPrintable(view.cards()[0]->busyText()));
        QCOMPARE(view.activity()->rows(), 1);
        monitor.setModel(std::nullopt);
        QCOMPARE(view.cards()[0]->layersText(), QStringLiteral("No model loaded"));
    }

    // The expert host's card lists the layers whose experts it holds (and runs none); the GPU's
    // card says where its layers' experts are; the strip marks the hosted layers; the link to
    // the host carries the routed rows. A dense model again clears it all.
    void topologyShowsWhereExpertsAre() {
        DeviceMonitor monitor(nullptr);
        TopologyView view(monitor);
        view.resize(1280, 800);
        monitor.setDevices(gpuAndCpu(), QString());
        monitor.setModel(moeModel(10));
        QCOMPARE(view.cards().size(), 2);
        QCOMPARE(view.cards()[0]->deviceId(), QStringLiteral("cuda0"));
        QCOMPARE(view.cards()[1]->deviceId(), QStringLiteral("cpu"));
        QCOMPARE(view.cards()[0]->expertsText(), QStringLiteral("experts on cpu"));
        QVERIFY(view.cards()[0]->layersText().startsWith(QStringLiteral("layers 0–9")));
        QCOMPARE(view.cards()[1]->expertsText(), QStringLiteral("experts of layers 0–9 (10.0 GiB)"));
        QCOMPARE(view.cards()[1]->layersText(), QStringLiteral("No layers of its own"));
        QVERIFY(view.cards()[1]->memoryText().contains(QLatin1String("10.0 GiB")));  // the plan's DeviceUse
        QCOMPARE(view.layerStrip()->deviceOfLayer(4), QStringLiteral("cuda0"));
        QCOMPARE(view.layerStrip()->expertDeviceOfLayer(4), QStringLiteral("cpu"));
        QCOMPARE(view.linkTexts().size(), 1);
        QVERIFY2(view.linkTexts().first().contains(QLatin1String("experts")), qPrintable(view.linkTexts().first()));
        QVERIFY2(view.linkTexts().first().contains(QLatin1String("5.0 KiB/token")), qPrintable(view.linkTexts().first()));
        bool summary = false;
        for (QLabel* l : view.findChildren<QLabel*>()) summary = summary || l->text().contains(QLatin1String("16 experts, 4 per token"));
        QVERIFY(summary);

        monitor.setModel(moeModel(3));  // only the first three layers' experts on the host
        QCOMPARE(view.cards()[0]->expertsText(), QStringLiteral("experts of layers 0–2 on cpu"));
        QCOMPARE(view.cards()[1]->expertsText(), QStringLiteral("experts of layers 0–2 (3.0 GiB)"));
        QCOMPARE(view.layerStrip()->expertDeviceOfLayer(2), QStringLiteral("cpu"));
        QVERIFY(view.layerStrip()->expertDeviceOfLayer(3).isEmpty());

        monitor.setModel(moeModel(0));  // every expert beside its layer: nothing to say
        QCOMPARE(view.cards()[0]->expertsText(), QString());
        QCOMPARE(view.cards()[1]->layersText(), QStringLiteral("Not used by this model"));
        QVERIFY(view.layerStrip()->expertDeviceOfLayer(0).isEmpty());

        monitor.setModel(std::nullopt);
        for (DeviceCard* c : view.cards()) QCOMPARE(c->expertsText(), QString());
    }

    // The bar over every page names the expert host beside the stages' devices.
    void modelBarNamesTheExpertHost() {
        QTemporaryDir dir;
        Database db;
        QVERIFY(db.open(dir.filePath(QStringLiteral("bar.sqlite3"))));
        ModelCatalog catalog(db);
        ModelBar bar(catalog);
        const LoadedModel hosted = moeModel(10);
        bar.setLoaded(&hosted);
        QVERIFY2(bar.statusText().contains(QLatin1String("on cuda0 + experts on cpu")), qPrintable(bar.statusText()));
        const LoadedModel beside = moeModel(0);
        bar.setLoaded(&beside);
        QVERIFY2(bar.statusText().contains(QStringLiteral("on cuda0 · ")), qPrintable(bar.statusText()));
        const LoadedModel dense = model();
        bar.setLoaded(&dense);
        QVERIFY2(bar.statusText().contains(QStringLiteral("on cpu1 + cpu2 · ")), qPrintable(bar.statusText()));
    }

    void libraryDetailsShowExperts() {
        ModelDetails details;
        CatalogEntry e;
        e.path = QStringLiteral("/m/moe.gguf");
        e.name = QStringLiteral("moe");
        e.nLayer = 48;
        e.nExpert = 128;
        e.nExpertUsed = 8;
        details.setEntry(&e);
        QCOMPARE(details.factText(QStringLiteral("Experts")), QStringLiteral("128 experts, 8 per token"));
        QCOMPARE(details.factText(QStringLiteral("Layers")), QStringLiteral("48"));
        e.nExpert = e.nExpertUsed = 0;
        details.setEntry(&e);
        QCOMPARE(details.factText(QStringLiteral("Experts")), QString());  // dense: hidden
        details.setEntry(nullptr);
        QCOMPARE(details.factText(QStringLiteral("Experts")), QString());
    }

    void themesAreDistinctAndReadable_data() {
        QTest::addColumn<int>("kind");
        QTest::newRow("light") << int(ThemeKind::light);
        QTest::newRow("dark") << int(ThemeKind::dark);
    }

    void themesAreDistinctAndReadable() {
        QFETCH(int, kind);
        const QPalette p = Theme::palette(ThemeKind(kind));
        QCOMPARE(isDark(p), ThemeKind(kind) == ThemeKind::dark);
        // WCAG contrast of body text on its background: at least 7:1.
        auto luminance = [](const QColor& c) {
            auto ch = [](double v) { return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); };
            return 0.2126 * ch(c.redF()) + 0.7152 * ch(c.greenF()) + 0.0722 * ch(c.blueF());
        };
        auto contrast = [&](const QColor& a, const QColor& b) {
            const double la = luminance(a), lb = luminance(b);
            return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
        };
        QVERIFY(contrast(p.color(QPalette::Text), p.color(QPalette::Base)) >= 7.0);
        QVERIFY(contrast(p.color(QPalette::WindowText), p.color(QPalette::Window)) >= 7.0);
        const ThemeColors& c = Theme::colors(ThemeKind(kind));
        QVERIFY(contrast(c.mutedText, c.surface) >= 4.5);
        QCOMPARE(Theme::resolve(ThemeChoice::system, ThemeKind(kind)), ThemeKind(kind));
        QCOMPARE(Theme::resolve(ThemeChoice::dark, ThemeKind::light), ThemeKind::dark);
    }

    void themeMenuSwitchesAndPersists() {
        UiFixture f;
        f.window->applyTheme(ThemeChoice::dark);
        QVERIFY(isDark(QApplication::palette()));
        QCOMPARE(f.app->settings().theme(), ThemeChoice::dark);
        f.window->applyTheme(ThemeChoice::light);
        QVERIFY(!isDark(QApplication::palette()));
    }

    // Errors and news are shown apart: an "added" note neither wipes a file's error nor joins it
    // (it has its own strip and replaces the note before it); an error on a topic is replaced by
    // the next on that topic and cleared when that thing succeeds; dismissing errors leaves news.
    void bannerKeepsErrorsAndNewsApart() {
        QWidget host;
        MessageBanner banner(&host);
        host.show();
        banner.showError(QStringLiteral("file:a.txt"), QStringLiteral("a.txt is not a GGUF model file"));
        banner.showInfo(QStringLiteral("Added b.gguf to the library."));
        QCOMPARE(banner.kind(), MessageBanner::Kind::error);
        QCOMPARE(banner.errorText(), QStringLiteral("a.txt is not a GGUF model file"));
        QCOMPARE(banner.infoText(), QStringLiteral("Added b.gguf to the library."));
        banner.showInfo(QStringLiteral("Added c.gguf to the library."));
        QCOMPARE(banner.infoText(), QStringLiteral("Added c.gguf to the library."));  // replaced, not appended
        QVERIFY(!banner.errorText().contains(QLatin1String("gguf to the library")));

        banner.showError(QStringLiteral("load"), QStringLiteral("Could not load x.gguf: out of memory"));
        banner.showError(QStringLiteral("load"), QStringLiteral("Could not load y.gguf: out of memory"));
        QCOMPARE(banner.errorText(), QStringLiteral("a.txt is not a GGUF model file\nCould not load y.gguf: out of memory"));
        banner.clearError(QStringLiteral("load"));  // y.gguf loaded after all
        QCOMPARE(banner.errorText(), QStringLiteral("a.txt is not a GGUF model file"));

        banner.dismissErrors();
        QVERIFY(!banner.hasErrors());
        QCOMPARE(banner.kind(), MessageBanner::Kind::info);
        QVERIFY(banner.isVisible());  // the news is still there
        banner.dismissInfo();
        QVERIFY(!banner.isVisible());
    }

    // In the window: a load failure's error goes when a load succeeds, and an import's news
    // after it is shown apart, not under the red error.
    void windowClearsTheLoadErrorWhenALoadSucceeds() {
        UiFixture f;
        emit f.app->loadFailed(QStringLiteral("/m/bad.gguf"), QStringLiteral("out of memory"));
        QVERIFY(f.window->banner()->errorText().contains(QLatin1String("bad.gguf")));
        f.window->banner()->showInfo(QStringLiteral("Added stories260K.gguf to the library."));
        QVERIFY(!f.window->banner()->errorText().contains(QLatin1String("stories260K")));
        f.app->loadModel(QStringLiteral("/m/good.gguf"));
        QTRY_VERIFY(!f.app->loadedPath().isEmpty());
        QVERIFY(!f.window->banner()->hasErrors());
    }

    void screenshotsAreWritten() {
        QTemporaryDir out;
        QProcess p;
        p.start(QStringLiteral(STRATA_APP_BINARY),
                {QStringLiteral("--screenshot"), out.path(), QStringLiteral("--theme"), QStringLiteral("dark"),
                 QStringLiteral("--size"), QStringLiteral("1280x800")});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        QStringList names;
        for (QDirIterator it(out.path(), {QStringLiteral("*.png")}); it.hasNext();) {
            const QString file = it.next();
            names << QFileInfo(file).fileName();
            const QImage image(file);
            // The window's size, except the minimum-size page and the Settings dialog.
            if (names.last().endsWith(QLatin1String("min-size-dark.png"))) QCOMPARE(image.size(), QSize(980, 640));
            else if (names.last() != QLatin1String("settings-dark.png")) QCOMPARE(image.size(), QSize(1280, 800));
            double lightness = 0;  // mostly dark: the dark theme
            for (int y = 0; y < image.height(); y += 20)
                for (int x = 0; x < image.width(); x += 20) lightness += image.pixelColor(x, y).lightnessF();
            QVERIFY2(lightness / ((image.height() / 20) * (image.width() / 20)) < 0.35, qPrintable(file));
        }
        names.sort();
        QCOMPARE(names, (QStringList{"allocation-fits-dark.png", "allocation-min-size-dark.png",
                                     "allocation-simulated-dark.png", "allocation-too-big-dark.png", "chat-dark.png", "chat-reasoning-dark.png",
                                     "discover-offline-dark.png", "discover-repository-dark.png", "discover-search-dark.png", "library-dark.png",
                                     "library-empty-dark.png", "performance-bench-dark.png", "performance-dark.png",
                                     "performance-min-size-dark.png", "settings-dark.png", "topology-dark.png",
                                     "topology-min-size-dark.png", "topology-simulated-dark.png",
                                     "topology-simulated-min-size-dark.png", "whatif-dark.png", "whatif-min-size-dark.png"}));
    }

    void serveMenuStartsTheServerAndRemembersIt() {
        UiFixture f;
        const quint16 port = freePort();
        f.app->settings().setApiServerPort(port);
        QAction* serve = findAction(f.window.get(), QStringLiteral("Serve local &API"));
        QVERIFY(serve && serve->isCheckable() && !serve->isChecked());
        serve->trigger();
        QVERIFY(f.app->apiServer().isListening());
        QCOMPARE(f.app->apiServer().port(), port);
        QVERIFY(serve->isChecked());
        QVERIFY(f.app->settings().apiServerEnabled());
        bool shown = false;
        for (QLabel* l : f.window->statusBar()->findChildren<QLabel*>())
            shown = shown || (l->isVisible() && l->text() == QStringLiteral("Serving on http://127.0.0.1:%1").arg(port));
        QVERIFY(shown);
        serve->trigger();
        QVERIFY(!f.app->apiServer().isListening());
        QVERIFY(!serve->isChecked());
        QVERIFY(!f.app->settings().apiServerEnabled());

        // A taken port: the menu stays off and the banner says why.
        QTcpServer squatter;
        QVERIFY(squatter.listen(QHostAddress::LocalHost, port));
        serve->trigger();
        QVERIFY(!f.app->apiServer().isListening());
        QVERIFY(!serve->isChecked());
        QVERIFY(!f.app->settings().apiServerEnabled());
        QVERIFY2(f.window->banner()->text().contains(QStringLiteral("%1 is already in use").arg(port)),
                 qPrintable(f.window->banner()->text()));
    }

    // `strata --serve PORT model.gguf` on a machine without a display: the model loads and
    // answers over HTTP.
    void serveRunsHeadless() {
        QTemporaryDir dir;
        RandomModelConfig config;
        QString error;
        const QString model = strata::test::writeRandomModel(dir, QStringLiteral("served"), config, &error);
        QVERIFY2(!model.isEmpty(), qPrintable(error));
        const quint16 port = freePort();
        QProcess p;
        p.setProcessEnvironment(headlessEnvironment());
        p.start(QStringLiteral(STRATA_APP_BINARY), {QStringLiteral("--data-dir"), dir.filePath(QStringLiteral("data")),
                                                    QStringLiteral("--serve"), QString::number(port), model});
        QVERIFY(p.waitForStarted());
        QNetworkAccessManager nam;
        int health = 0;
        for (int i = 0; i < 200 && health != 200 && p.state() == QProcess::Running; ++i) {
            health = http(nam, port, QStringLiteral("/health")).first;
            if (health != 200) QTest::qWait(50);
        }
        if (health != 200) QFAIL(p.readAllStandardError().constData());
        const auto [status, body] = http(nam, port, QStringLiteral("/v1/chat/completions"),
                                         R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":5,"temperature":0})");
        QCOMPARE(status, 200);
        const QJsonObject o = QJsonDocument::fromJson(body).object();
        QCOMPARE(o.value("model").toString(), QStringLiteral("served"));
        QCOMPARE(o.value("usage").toObject().value("completion_tokens").toInt(), 5);

        p.terminate();
        QVERIFY(p.waitForFinished(10000));
        const QByteArray err = p.readAllStandardError();
        QVERIFY2(err.contains(QStringLiteral("serving the OpenAI-compatible API on http://127.0.0.1:%1/v1").arg(port).toUtf8()),
                 err.constData());
    }

    void serveOnATakenPortSaysSo() {
        QTemporaryDir dir;
        QTcpServer squatter;
        QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
        QProcess p;
        p.setProcessEnvironment(headlessEnvironment());
        p.start(QStringLiteral(STRATA_APP_BINARY),
                {QStringLiteral("--data-dir"), dir.path(), QStringLiteral("--serve"), QString::number(squatter.serverPort())});
        QVERIFY(p.waitForFinished(20000));
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 1);
        QVERIFY(p.readAllStandardError().contains("is already in use"));
    }

    // strata --simulate with a file that is no machine profile: exit 2, the parser's message
    // naming the file; with --serve it is refused (a simulated machine runs nothing).
    void simulateBadProfileSaysWhy() {
        QTemporaryDir dir;
        const QString bad = dir.filePath(QStringLiteral("bad.json"));
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{\"name\": \"x\", \"gpus\": [{\"name\": \"A\", \"memory_gib\": -1}]}");
        f.close();
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));  // a "display": the options are read
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(STRATA_APP_BINARY), {QStringLiteral("--data-dir"), dir.path(), QStringLiteral("--simulate"), bad});
        QVERIFY(p.waitForFinished(20000));
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 2);
        const QByteArray err = p.readAllStandardError();
        QVERIFY2(err.contains("--simulate") && err.contains("bad.json"), err.constData());

        p.start(QStringLiteral(STRATA_APP_BINARY), {QStringLiteral("--data-dir"), dir.path(), QStringLiteral("--simulate"), bad,
                                                    QStringLiteral("--serve")});
        QVERIFY(p.waitForFinished(20000));
        QCOMPARE(p.exitCode(), 2);
        QVERIFY(p.readAllStandardError().contains("neither --devices nor --serve"));
    }

    void noDisplayPointsToTheCli() {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove(QStringLiteral("DISPLAY"));
        env.remove(QStringLiteral("WAYLAND_DISPLAY"));
        env.remove(QStringLiteral("QT_QPA_PLATFORM"));
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(STRATA_APP_BINARY), {});
        QVERIFY(p.waitForFinished(20000));
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 2);
        QVERIFY(p.readAllStandardError().contains("strata-cli chat"));
    }
};

QTEST_MAIN(TestViews)
#include "tst_views.moc"
