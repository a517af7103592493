// Settings and what the App does with them: the defaults are valid; preferences survive a
// round trip; a hand-edited file with nonsense in a value gives that value's default and keeps
// the others; invalid preferences are refused whole, each problem named; reset forgets the
// preferences but not where the user left off; origins are validated. The App applies them: a
// model's first allocation follows the device and context defaults, a new chat the system
// prompt and sampling defaults, the API server its port, key and origins. A restart reopens the
// last chat and reloads the last model only if it loaded last time and still fits (and not at
// all with the setting off). The loaded model's context warning follows its context.
#include <QSettings>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QtTest>

#include "allocation/allocation.h"
#include "app.h"
#include "chat/chat_controller.h"
#include "fake_backend.h"
#include "library/model_catalog.h"
#include "library/model_importer.h"
#include "server/api_server.h"
#include "settings.h"
#include "storage/chat_store.h"
#include "test_models.h"

using namespace strata;
using namespace strata::app;

namespace {

// `record` (optional) receives what the fake backend was asked to do.
AppOptions fakeOptions(const QString& dataDir, test::FakeScript script = {},
                       std::shared_ptr<test::FakeRecord> record = std::make_shared<test::FakeRecord>()) {
    AppOptions o;
    o.dataDir = dataDir;
    o.makeBackend = [script, record] { return std::make_unique<test::FakeBackend>(script, record); };
    return o;
}

QString iniOf(const QTemporaryDir& d) { return d.filePath(QStringLiteral("strata.ini")); }

}  // namespace

class TestSettings : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QVERIFY(m_files.isValid());
        RandomModelConfig cfg;
        cfg.n_layer = 2;
        QString error;
        const QString written = test::writeRandomModel(m_files, QStringLiteral("tiny"), cfg, &error);
        QVERIFY2(!written.isEmpty(), qPrintable(error));
        m_model = QFileInfo(written).canonicalFilePath();
        auto fp = read_model_footprint(m_model.toStdString());
        QVERIFY(fp.ok());
        m_trained = fp->n_ctx_train;
        QVERIFY(m_trained > 0);
    }

    void defaultsAreValidAndRoundTrip() {
        QTemporaryDir d;
        Settings s(iniOf(d));
        const Preferences defaults = Preferences::defaults();
        QVERIFY2(defaults.problems().isEmpty(), qPrintable(defaults.problems().join('\n')));
        QCOMPARE(s.preferences(), defaults);
        QCOMPARE(defaults.serverPort, kDefaultApiPort);
        QCOMPARE(defaults.serverAddress, QStringLiteral("127.0.0.1"));
        QVERIFY(defaults.restoreSession);

        Preferences p = defaults;
        p.modelFolders = {QStringLiteral("/models/a"), QStringLiteral("/models/b")};
        p.disabledDevices = {QStringLiteral("cpu1")};
        p.gpuReserveMiB = 1024;
        p.cpuReserveMiB = 2048;
        p.defaultContext = 8192;
        p.kvType = KvCacheType::q8_0;
        p.parallelAnswers = 8;
        p.systemPrompt = QStringLiteral("Be brief.\nUse metric units.");
        p.sampling.temperature = 0.2;
        p.sampling.topK = 20;
        p.sampling.maxTokens = 256;
        p.serverEnabled = true;
        p.serverPort = 9123;
        p.serverAddress = QStringLiteral("0.0.0.0");
        p.apiKey = QStringLiteral("sk-local-123");
        p.downloadFolder = QStringLiteral("/data/gguf");
        p.hubToken = QStringLiteral("hf_abc123");
        p.allowedOrigins = {QStringLiteral("http://localhost:3000")};  // one item: not a plain string
        p.theme = ThemeChoice::dark;
        p.telemetryIntervalMs = 2500;
        p.restoreSession = false;
        QVERIFY(s.setPreferences(p));
        s.sync();
        Settings again(iniOf(d));
        QCOMPARE(again.preferences(), p);
        QCOMPARE(again.theme(), ThemeChoice::dark);
        QCOMPARE(again.apiServerPort(), quint16(9123));
    }

    // Each bad value falls back to its own default; the good ones stay.
    void nonsenseInTheFileGivesDefaults() {
        QTemporaryDir d;
        {
            QSettings raw(iniOf(d), QSettings::IniFormat);
            raw.setValue("server/port", "99999");
            raw.setValue("server/address", "not an address");
            raw.setValue("server/api_key", "has a space");
            raw.setValue("server/allowed_origins", QStringList{"http://ok.example:8080", "ftp://bad", "javascript:alert(1)"});
            raw.setValue("allocation/gpu_reserve_mib", "-5");
            raw.setValue("allocation/context", "lots");
            raw.setValue("allocation/kv_type", "q1");
            raw.setValue("chat/sampling", R"({"temperature": 99})");
            raw.setValue("ui/telemetry_interval_ms", "5");
            raw.setValue("library/folders", QStringList{"relative/path", "/abs/models"});
            raw.setValue("ui/theme", "dark");
            raw.setValue("hub/downloadFolder", "relative/models");
            raw.setValue("hub/token", "hf with space");
        }
        Settings s(iniOf(d));
        const Preferences p = s.preferences();
        const Preferences def = Preferences::defaults();
        QVERIFY2(p.problems().isEmpty(), qPrintable(p.problems().join('\n')));
        QCOMPARE(p.serverPort, def.serverPort);
        QCOMPARE(p.serverAddress, def.serverAddress);
        QCOMPARE(p.apiKey, QString());
        QCOMPARE(p.allowedOrigins, QStringList{"http://ok.example:8080"});
        QCOMPARE(p.gpuReserveMiB, def.gpuReserveMiB);
        QCOMPARE(p.defaultContext, def.defaultContext);
        QCOMPARE(p.kvType, def.kvType);
        QCOMPARE(p.sampling, def.sampling);
        QCOMPARE(p.telemetryIntervalMs, def.telemetryIntervalMs);
        QCOMPARE(p.modelFolders, QStringList{"/abs/models"});
        QCOMPARE(p.downloadFolder, QString());
        QCOMPARE(p.hubToken, QString());
        QCOMPARE(p.theme, ThemeChoice::dark);  // the good value stays
    }

    // A file that opens the API to the network without a key keeps it on this machine.
    void networkAddressWithoutKeyStaysOnLoopback() {
        QTemporaryDir d;
        {
            QSettings raw(iniOf(d), QSettings::IniFormat);
            raw.setValue("server/address", "0.0.0.0");
        }
        QCOMPARE(Settings(iniOf(d)).preferences().serverAddress, QStringLiteral("127.0.0.1"));
        {
            QSettings raw(iniOf(d), QSettings::IniFormat);
            raw.setValue("server/api_key", "sk-local-123");
        }
        QCOMPARE(Settings(iniOf(d)).preferences().serverAddress, QStringLiteral("0.0.0.0"));
    }

    void invalidPreferencesAreRefusedWhole_data() {
        QTest::addColumn<QString>("field");
        QTest::newRow("port 0") << "Port";
        QTest::newRow("address") << "address";
        QTest::newRow("network without key") << "API key first";
        QTest::newRow("origin") << "origin";
        QTest::newRow("key") << "API key";
        QTest::newRow("temperature") << "Temperature";
        QTest::newRow("max tokens") << "Max tokens";
        QTest::newRow("telemetry") << "telemetry";
        QTest::newRow("context") << "context";
        QTest::newRow("parallel") << "Parallel answers";
        QTest::newRow("folder") << "folder";
        QTest::newRow("download folder") << "download folder";
        QTest::newRow("token") << "token";
    }
    void invalidPreferencesAreRefusedWhole() {
        QFETCH(QString, field);
        Preferences p = Preferences::defaults();
        p.theme = ThemeChoice::light;  // a valid change that must not be written either
        const QString row = QTest::currentDataTag();
        if (row == "port 0") p.serverPort = 0;
        if (row == "address") p.serverAddress = QStringLiteral("localhost:80");
        if (row == "network without key") p.serverAddress = QStringLiteral("0.0.0.0");
        if (row == "origin") p.allowedOrigins = {QStringLiteral("localhost:3000")};
        if (row == "key") p.apiKey = QStringLiteral("two words");
        if (row == "temperature") p.sampling.temperature = -1;
        if (row == "max tokens") p.sampling.maxTokens = 0;
        if (row == "telemetry") p.telemetryIntervalMs = 10;
        if (row == "context") p.defaultContext = -1;
        if (row == "parallel") p.parallelAnswers = 0;
        if (row == "folder") p.modelFolders = {QStringLiteral("models")};
        if (row == "download folder") p.downloadFolder = QStringLiteral("models");
        if (row == "token") p.hubToken = QStringLiteral("hf x");
        const QStringList problems = p.problems();
        QCOMPARE(problems.size(), 1);
        QVERIFY2(problems.first().contains(field, Qt::CaseInsensitive), qPrintable(problems.first()));
        QTemporaryDir d;
        Settings s(iniOf(d));
        QVERIFY(!s.setPreferences(p));
        QCOMPARE(s.theme(), ThemeChoice::system);
    }

    void origins_data() {
        QTest::addColumn<QString>("origin");
        QTest::addColumn<bool>("valid");
        QTest::newRow("any") << "*" << true;
        QTest::newRow("http with port") << "http://localhost:3000" << true;
        QTest::newRow("https") << "https://app.example" << true;
        QTest::newRow("trailing slash") << "https://app.example/" << true;
        QTest::newRow("path") << "https://app.example/chat" << false;
        QTest::newRow("no scheme") << "localhost:3000" << false;
        QTest::newRow("file") << "file:///tmp" << false;
        QTest::newRow("query") << "http://a.example?x=1" << false;
        QTest::newRow("empty") << "" << false;
    }
    void origins() {
        QFETCH(QString, origin);
        QFETCH(bool, valid);
        QCOMPARE(isValidOrigin(origin), valid);
    }

    void resetKeepsTheSession() {
        QTemporaryDir d;
        Settings s(iniOf(d));
        Preferences p = Preferences::defaults();
        p.systemPrompt = QStringLiteral("x");
        p.serverPort = 9000;
        QVERIFY(s.setPreferences(p));
        s.setLastModel(QStringLiteral("/m/a.gguf"));
        s.setLastModelLoaded(true);
        s.setLastConversation(7);
        s.resetPreferences();
        QCOMPARE(s.preferences(), Preferences::defaults());
        QCOMPARE(s.lastModel(), QStringLiteral("/m/a.gguf"));
        QVERIFY(s.lastModelLoaded());
        QCOMPARE(s.lastConversation(), qint64(7));
    }

    // ---- the App applies them

    void allocationAndNewChatDefaultsAreApplied() {
        QTemporaryDir d;
        {
            Settings s(iniOf(d));
            Preferences p = Preferences::defaults();
            p.disabledDevices = {QStringLiteral("cpu1")};
            p.cpuReserveMiB = 64;
            p.defaultContext = 1024;
            p.kvType = KvCacheType::q8_0;
            p.systemPrompt = QStringLiteral("You are terse.");
            p.sampling.temperature = 0.3;
            QVERIFY(s.setPreferences(p));
        }
        AppOptions o = fakeOptions(d.path());
        std::vector<DeviceSpec> specs;
        std::string err;
        QVERIFY(parse_device_specs("cpu:1GiB,cpu:1GiB", specs, err));
        o.deviceSpecs = QList<DeviceSpec>(specs.begin(), specs.end());
        App app(o);
        QVERIFY(app.start());
        QTRY_COMPARE(app.fits().devices().size(), 2);
        const AllocationSettings a = app.allocationFor(m_model);
        QCOMPARE(a.nCtx, 1024);
        QCOMPARE(a.kvType, KvCacheType::q8_0);
        QCOMPARE(a.devices.size(), 2);
        QVERIFY(a.devices[0].enabled);
        QVERIFY(!a.devices[1].enabled);  // cpu1 is off by default
        QCOMPARE(a.devices[0].reserve.value_or(0), quint64(64) << 20);
        // Settings ▸ Parallel answers (4 by default), passed to the load and the plan.
        QCOMPARE(a.nSeq, Preferences::defaults().parallelAnswers);
        QCOMPARE(buildLoadOptions(app.fits().devices(), a, 0).n_seq, a.nSeq);
        // A model's own allocation wins over the defaults.
        AllocationSettings own = a;
        own.nCtx = 512;
        app.saveAllocation(m_model, own);
        QCOMPARE(app.allocationFor(m_model).nCtx, 512);

        const qint64 id = app.chat().newConversation();
        QVERIFY(id > 0);
        const auto c = app.chatStore().conversation(id);
        QVERIFY(c);
        QCOMPARE(c->systemPrompt, QStringLiteral("You are terse."));
        QCOMPARE(c->sampling.temperature, 0.3);
        app.shutdown();
    }

    // A model asked for before the worker has described the devices (a file on the command line
    // at start-up) loads on the devices the app was given once they are known, never on the
    // engine's defaults (every GPU and the whole CPU).
    void aLoadBeforeTheDevicesAreKnownWaitsForThem() {
        QTemporaryDir d;
        auto record = std::make_shared<test::FakeRecord>();
        AppOptions o = fakeOptions(d.path(), {}, record);
        std::vector<DeviceSpec> specs;
        std::string err;
        QVERIFY(parse_device_specs("cpu:1GiB,cpu:2GiB", specs, err));
        o.deviceSpecs = QList<DeviceSpec>(specs.begin(), specs.end());
        App app(o);
        QVERIFY(app.start());
        QVERIFY(app.fits().devices().isEmpty());  // the worker's answer is still queued
        app.loadModel(m_model);
        QTRY_COMPARE(app.loadedPath(), m_model);
        {
            std::lock_guard lock(record->mutex);
            QCOMPARE(record->loads.size(), size_t(1));
            QCOMPARE(record->loads[0].devices.size(), size_t(2));
            QCOMPARE(record->loads[0].devices[0].memory_cap, uint64_t(1) << 30);
            QCOMPARE(record->loads[0].devices[1].memory_cap, uint64_t(2) << 30);
        }
        app.shutdown();
    }

    void serverFollowsItsSettings() {
        QTemporaryDir d;
        QTcpServer probe;  // a free port
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        const quint16 port = probe.serverPort();
        probe.close();
        {
            Settings s(iniOf(d));
            Preferences p = Preferences::defaults();
            p.serverEnabled = true;
            p.serverPort = port;
            p.apiKey = QStringLiteral("sk-x");
            p.allowedOrigins = {QStringLiteral("http://localhost:5173")};
            QVERIFY(s.setPreferences(p));
        }
        App app(fakeOptions(d.path()));
        QVERIFY(app.start());
        QVERIFY2(app.apiServer().isListening(), qPrintable(app.apiServer().errorString()));
        QCOMPARE(app.apiServer().port(), port);
        QCOMPARE(app.apiServer().options().apiKey, QByteArray("sk-x"));
        QCOMPARE(app.apiServer().options().allowedOrigins, QList<QByteArray>{"http://localhost:5173"});
        Preferences off = app.settings().preferences();
        off.serverEnabled = false;
        QVERIFY(app.settings().setPreferences(off));
        app.applyPreferences();
        QVERIFY(!app.apiServer().isListening());

        // strata --serve: saving preferences with the server off does not stop it; a new key
        // reaches it on the command line's port.
        QVERIFY(app.startApiServer(port, /*commandLine=*/true));
        Preferences newKey = app.settings().preferences();
        newKey.apiKey = QStringLiteral("sk-y");
        newKey.serverPort = quint16(port == 65535 ? 65534 : port + 1);
        QVERIFY(app.settings().setPreferences(newKey));
        app.applyPreferences();
        QVERIFY(app.apiServer().isListening());
        QCOMPARE(app.apiServer().port(), port);
        QCOMPARE(app.apiServer().options().apiKey, QByteArray("sk-y"));
        app.stopApiServer();
        app.applyPreferences();
        QVERIFY(!app.apiServer().isListening());
        app.shutdown();
    }

    void restartRestoresTheLastChatAndModel() {
        QTemporaryDir d;
        qint64 chatId = 0;
        {
            App app(fakeOptions(d.path()));
            QVERIFY(app.start());
            app.importer().importPaths({m_model});
            QTRY_VERIFY(app.catalog().rowOfPath(m_model) >= 0);
            chatId = app.chat().newConversation(QStringLiteral("where I was"));
            app.chat().newConversation(QStringLiteral("another"));
            app.chat().selectConversation(chatId);
            app.loadModel(m_model);
            QTRY_COMPARE(app.loadedPath(), m_model);
            app.shutdown();
        }
        {
            App app(fakeOptions(d.path()));
            QVERIFY(app.start());
            QSignalSpy restored(&app, &App::sessionRestored);
            app.restoreSession();
            QCOMPARE(app.chat().currentConversation(), chatId);
            QTRY_COMPARE(restored.size(), 1);
            QVERIFY(restored[0][0].toBool());
            QTRY_COMPARE(app.loadedPath(), m_model);
            app.shutdown();
        }
        // With the setting off nothing is reopened.
        {
            Settings s(iniOf(d));
            Preferences p = s.preferences();
            p.restoreSession = false;
            QVERIFY(s.setPreferences(p));
        }
        {
            App app(fakeOptions(d.path()));
            QVERIFY(app.start());
            app.restoreSession();
            QCOMPARE(app.chat().currentConversation(), qint64(0));
            QTest::qWait(200);
            QVERIFY(app.loadingPath().isEmpty() && app.loadedPath().isEmpty());
            app.shutdown();
        }
    }

    // A model whose last load failed (or crashed the app mid-load) is not loaded by itself again.
    void aModelThatFailedIsNotReloaded() {
        QTemporaryDir d;
        test::FakeScript failing;
        failing.failLoad = "out of memory";
        {
            App app(fakeOptions(d.path(), failing));
            QVERIFY(app.start());
            app.importer().importPaths({m_model});
            QTRY_VERIFY(app.catalog().rowOfPath(m_model) >= 0);
            QSignalSpy failed(&app, &App::loadFailed);
            app.loadModel(m_model);
            QTRY_COMPARE(failed.size(), 1);
            app.shutdown();
        }
        App app(fakeOptions(d.path()));
        QVERIFY(app.start());
        QSignalSpy restored(&app, &App::sessionRestored);
        app.restoreSession();
        QCOMPARE(restored.size(), 1);
        QVERIFY(!restored[0][0].toBool());
        QVERIFY2(app.restoreNote().contains(QLatin1String("did not load")), qPrintable(app.restoreNote()));
        QVERIFY(app.loadingPath().isEmpty());
        app.shutdown();
    }

    // A model without a slot count of its own gets Settings ▸ Parallel answers, halved until the
    // plan fits: on a device with room for one KV cache but not two, one; the load asks for it.
    void parallelAnswersShrinkToWhatFits() {
        auto fp = read_model_footprint(m_model.toStdString());
        QVERIFY(fp.ok());
        auto need = [&](int nSeq) {
            PlanRequest r;
            r.model = *fp;
            r.n_ctx = effectiveContext({}, fp->n_ctx_train);
            r.n_seq = nSeq;
            PlanDevice big;
            big.info.id = "cpu";
            big.info.total_memory = big.info.free_memory = 1ull << 40;
            r.devices.push_back(big);
            const Plan plan = make_plan(r);
            return plan.fits ? plan.devices.at(0).total() : 0;
        };
        const uint64_t one = need(1), two = need(2);
        QVERIFY(one > 0 && two > one);
        const uint64_t capKiB = (one + (two - one) / 2) >> 10;  // room for one KV cache, not two
        QTemporaryDir d;
        AppOptions o = fakeOptions(d.path());
        std::vector<DeviceSpec> specs;
        std::string err;
        QVERIFY(parse_device_specs("cpu:" + std::to_string(capKiB) + "KiB", specs, err));
        o.deviceSpecs = QList<DeviceSpec>(specs.begin(), specs.end());
        App app(o);
        QVERIFY(app.start());
        app.importer().importPaths({m_model});
        QTRY_VERIFY(app.fits().hasFootprint(m_model) && !app.fits().devices().isEmpty());
        const AllocationSettings a = app.allocationFor(m_model);
        QCOMPARE(a.nSeq, 1);
        QVERIFY(app.fits().plan(app.fits().planRequest(m_model, a)).fits);
        AllocationSettings four = a;
        four.nSeq = 4;
        QVERIFY(!app.fits().plan(app.fits().planRequest(m_model, four)).fits);
        app.shutdown();
    }

    // A model that no longer fits the devices is not reloaded, and the note says why.
    void aModelThatNoLongerFitsIsNotReloaded() {
        QTemporaryDir d;
        {
            App app(fakeOptions(d.path()));
            QVERIFY(app.start());
            app.importer().importPaths({m_model});
            QTRY_VERIFY(app.catalog().rowOfPath(m_model) >= 0);
            app.loadModel(m_model);
            QTRY_COMPARE(app.loadedPath(), m_model);
            app.shutdown();
        }
        AppOptions o = fakeOptions(d.path());
        std::vector<DeviceSpec> specs;
        std::string err;
        QVERIFY(parse_device_specs("cpu:64KiB", specs, err));
        o.deviceSpecs = QList<DeviceSpec>(specs.begin(), specs.end());
        App app(o);
        QVERIFY(app.start());
        QSignalSpy restored(&app, &App::sessionRestored);
        app.restoreSession();
        QTRY_COMPARE(restored.size(), 1);
        QVERIFY(!restored[0][0].toBool());
        QVERIFY2(app.restoreNote().contains(QLatin1String("no longer fits")), qPrintable(app.restoreNote()));
        QVERIFY(app.loadingPath().isEmpty());
        app.shutdown();
    }

    void contextWarning_data() {
        QTest::addColumn<qint64>("nCtx");
        QTest::addColumn<qint64>("trained");
        QTest::addColumn<bool>("warns");
        QTest::newRow("within") << qint64(2048) << qint64(2048) << false;
        QTest::newRow("beyond") << qint64(32768) << qint64(2048) << true;
        QTest::newRow("unknown trained length") << qint64(32768) << qint64(0) << false;
    }
    void contextWarning() {
        QFETCH(qint64, nCtx);
        QFETCH(qint64, trained);
        QFETCH(bool, warns);
        const QString w = app::contextWarning(nCtx, trained);
        QCOMPARE(!w.isEmpty(), warns);
        if (warns) {
            QVERIFY2(w.contains(QLocale().toString(nCtx)) && w.contains(QLocale().toString(trained)), qPrintable(w));
        }
    }

private:
    QTemporaryDir m_files;
    QString m_model;
    qint64 m_trained = 0;
};

QTEST_MAIN(TestSettings)
#include "tst_settings.moc"
