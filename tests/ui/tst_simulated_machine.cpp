// strata --simulate FILE: the app's devices are a machine profile's (resources/machines), the
// topology view draws the links between them, the allocation panel's fit preview explains the
// hand-offs over those links, and loading a model is refused with a clear message. On the 4×RTX
// 4090 PCIe profile every GPU pair is staged through the host (no P2P); on 8×H100 NVSwitch every
// pair is NVLink.
#include <QSignalSpy>
#include <QtTest>

#include "allocation/allocation_panel.h"
#include "allocation/fit_preview.h"
#include "devices/device_monitor.h"
#include "strata/machine_profile.h"
#include "strata/whatif.h"
#include "test_models.h"
#include "topology/link_matrix.h"
#include "topology/topology_view.h"
#include "window_fixture.h"

using namespace strata;
using namespace strata::app;
using namespace strata::ui;
using strata::test::FakeScript;
using strata::test::UiFixture;

class TstSimulatedMachine : public QObject {
    Q_OBJECT

    static std::optional<MachineProfile> profile(const char* name) {
        const std::string path = find_resource(std::string("machines/") + name);
        if (path.empty()) return std::nullopt;
        auto p = load_machine_profile(path);
        if (!p.ok()) return std::nullopt;
        return *p;
    }

    // Adds the random model file, then has the fit service take `params` of a llama-shaped
    // Q4_K_M model as its footprint (the planner sees a 70B; nothing is read or loaded) with one
    // answer at a time, and opens the allocation panel on it.
    void openPanel(UiFixture& f, double params) {
        f.importModel(m_model);
        if (QTest::currentTestFailed()) return;
        std::string shape;
        auto fp = synthetic_footprint(params, "Q4_K_M", &shape);
        QVERIFY(fp.ok());
        AllocationSettings s;
        s.nSeq = 1;
        s.nCtx = 4096;
        f.app->saveAllocation(m_model, s);
        f.app->fits().prime(m_model, *fp);
        f.showAllocation(m_model);
    }

private slots:
    void initTestCase() {
        QVERIFY(m_files.isValid());
        QString error;
        m_model = strata::test::writeLibraryModel(m_files, QStringLiteral("sim"), strata::test::tinyModelConfig(), &error);
        QVERIFY2(!m_model.isEmpty(), qPrintable(error));
    }

    void fourRtx4090WithoutP2P() {
        auto machine = profile("4x-rtx4090-pcie.json");
        if (!machine) QSKIP("resources/machines/4x-rtx4090-pcie.json not found");
        AppOptions o;
        o.simulate = *machine;
        UiFixture f(FakeScript{}, o);
        QVERIFY(f.app->isSimulated());
        // The devices: the profile's four GPUs and its host.
        QTRY_COMPARE(f.app->fits().devices().size(), 5);
        const AppDevices& devices = f.app->monitor().devices();
        QCOMPARE(devices.size(), 5);
        for (int i = 0; i < 4; ++i) {
            QCOMPARE(QString::fromStdString(devices[i].info.id), QStringLiteral("cuda%1").arg(i));
            QVERIFY(QString::fromStdString(devices[i].info.name).contains(QStringLiteral("4090")));
        }

        // The topology view: a link matrix, every GPU pair staged through the host.
        f.window->showPage(MainWindow::TopologyPage);
        LinkMatrixView* matrix = f.window->topologyView()->linkMatrix();
        QVERIFY(matrix->isVisibleTo(f.window.get()));
        for (int i = 0; i < 4; ++i)
            for (int j = 0; j < 4; ++j) {
                if (i == j) continue;
                QVERIFY2(matrix->cellText(i, j).contains(QStringLiteral("no P2P")), qPrintable(matrix->cellText(i, j)));
                QVERIFY2(matrix->cellText(i, j).contains(QStringLiteral("25 GB/s")), qPrintable(matrix->cellText(i, j)));
            }
        QVERIFY2(matrix->summaryText().contains(QStringLiteral("no P2P")), qPrintable(matrix->summaryText()));

        // The fit preview of a 70B Q4_K_M (two cards): the hand-off is staged, copied twice.
        openPanel(f, 70e9);
        if (QTest::currentTestFailed()) return;
        const QString why = f.window->allocationPanel()->preview()->explanationText();
        QVERIFY2(why.contains(QStringLiteral("cuda0→cuda1")), qPrintable(why));
        QVERIFY2(why.contains(QStringLiteral("copied twice")), qPrintable(why));
        QVERIFY2(why.contains(QString::fromLatin1(link_kind_description(LinkKind::staged))), qPrintable(why));

        // Loading is refused, saying why; nothing reaches the engine.
        QSignalSpy failed(f.app.get(), &App::loadFailed);
        f.app->loadModel(m_model);
        QCOMPARE(failed.count(), 1);
        QVERIFY2(failed.at(0).at(1).toString().contains(QStringLiteral("a simulated machine can plan but not run models")),
                 qPrintable(failed.at(0).at(1).toString()));
        QVERIFY(f.app->loadingPath().isEmpty());
        QVERIFY(f.app->loadedPath().isEmpty());
    }

    void eightH100WithNvSwitch() {
        auto machine = profile("8x-h100-sxm-nvswitch.json");
        if (!machine) QSKIP("resources/machines/8x-h100-sxm-nvswitch.json not found");
        AppOptions o;
        o.simulate = *machine;
        UiFixture f(FakeScript{}, o);
        QTRY_COMPARE(f.app->fits().devices().size(), 9);
        f.window->showPage(MainWindow::TopologyPage);
        LinkMatrixView* matrix = f.window->topologyView()->linkMatrix();
        QVERIFY(matrix->isVisibleTo(f.window.get()));
        for (int i = 0; i < 8; ++i)
            for (int j = 0; j < 8; ++j)
                if (i != j) QVERIFY2(matrix->cellText(i, j).startsWith(QStringLiteral("NVLink")), qPrintable(matrix->cellText(i, j)));
        QVERIFY2(matrix->summaryText().contains(QStringLiteral("NVLink between every pair")), qPrintable(matrix->summaryText()));

        // 405B Q4_K_M spans several H100s: its hand-offs go over NVLink, not through the CPU.
        openPanel(f, 405e9);
        if (QTest::currentTestFailed()) return;
        const QString why = f.window->allocationPanel()->preview()->explanationText();
        QVERIFY2(why.contains(QStringLiteral("goes ") + QString::fromLatin1(link_kind_description(LinkKind::nvlink))), qPrintable(why));
        QVERIFY2(!why.contains(QStringLiteral("copied twice")), qPrintable(why));
    }

    // The topology page at the window's smallest size: the device cards (300 px each) wrap onto
    // more rows and the link matrix fits, so nothing scrolls sideways; at 1280×800 neither.
    void topologyFitsTheSmallestWindow() {
        for (const char* name : {"4x-rtx4090-pcie.json", "8x-h100-sxm-nvswitch.json"}) {
            auto machine = profile(name);
            if (!machine) QSKIP("resources/machines profiles not found");
            AppOptions o;
            o.simulate = *machine;
            UiFixture f(FakeScript{}, o);
            QTRY_VERIFY(f.window->topologyView()->cards().size() >= 5);
            f.window->showPage(MainWindow::TopologyPage);
            f.window->resize(f.window->minimumSize());
            QCOMPARE(f.window->size(), f.window->minimumSize());
            const QString wide = strata::test::sidewaysScrolling(f.window->topologyView());
            QVERIFY2(wide.isEmpty(), qPrintable(QString::fromLatin1(name) + QStringLiteral(": ") + wide));
            f.window->resize(1280, 800);
            QCOMPARE(strata::test::sidewaysScrolling(f.window->topologyView()), QString());
        }
    }

private:
    QTemporaryDir m_files;
    QString m_model;
};

QTEST_MAIN(TstSimulatedMachine)
#include "tst_simulated_machine.moc"
