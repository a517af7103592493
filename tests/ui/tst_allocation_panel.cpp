// The allocation panel's live fit preview shows exactly what the planner says for the request
// the panel builds — per device weights, KV cache, scratch and capacity — as settings change
// (context, device on/off, order, split mode and shares); a request that does not fit turns
// red, lists shortfalls and suggestions and cannot be applied; settings persist per model and
// Apply loads with the LoadOptions built from them. A mixture-of-experts model gets the expert
// placement control (only it), reachable by keyboard, whose changes the preview follows.
#include <QCheckBox>
#include <QComboBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QToolButton>
#include <QtTest>

#include "allocation/allocation_panel.h"
#include "allocation/allocation_store.h"
#include "allocation/device_row.h"
#include "allocation/fit_bar.h"
#include "allocation/fit_preview.h"
#include "engine/engine_worker.h"
#include "library/model_catalog.h"
#include "library/model_importer.h"
#include "settings.h"
#include "test_models.h"
#include "window_fixture.h"

using namespace strata;
using namespace strata::app;
using namespace strata::ui;
using strata::test::FakeScript;
using strata::test::UiFixture;

class TestAllocationPanel : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QVERIFY(m_files.isValid());
        RandomModelConfig cfg;
        cfg.n_layer = 8;
        cfg.n_embd = 256;
        cfg.n_ff = 512;
        cfg.n_head = 8;
        cfg.n_head_kv = 4;
        QString error;
        m_model = strata::test::writeLibraryModel(m_files, QStringLiteral("alloc"), cfg, &error);
        QVERIFY2(!m_model.isEmpty(), qPrintable(error));
        auto fp = read_model_footprint(m_model.toStdString());
        QVERIFY(fp.ok());
        // What the model needs on one device at the default settings (weights, KV for the
        // default Parallel answers, scratch).
        PlanRequest one;
        one.model = *fp;
        one.n_ctx = effectiveContext({}, fp->n_ctx_train);
        one.n_seq = strata::app::Preferences::defaults().parallelAnswers;
        PlanDevice big;
        big.info.id = "cpu";
        big.info.total_memory = big.info.free_memory = 1ull << 40;
        one.devices.push_back(big);
        const Plan plan = make_plan(one);
        QVERIFY(plan.fits);
        m_need = plan.devices.at(0).total();
        m_small = m_need * 7 / 10;

        RandomModelConfig moe;
        QVERIFY(random_model_arch("qwen3moe", moe));
        moe.n_layer = 4;
        m_moe = strata::test::writeLibraryModel(m_files, QStringLiteral("moe"), moe, &error);
        QVERIFY2(!m_moe.isEmpty(), qPrintable(error));
    }

    // Every bar equals the planner's DeviceUse for the panel's request.
    void previewEqualsPlanner() {
        UiFixture f(FakeScript{}, options());
        openPanel(f);
        if (QTest::currentTestFailed()) return;
        AllocationPanel* panel = m_panel;
        auto check = [&] {
            const PlanRequest req = panel->currentRequest();
            QCOMPARE(req.model.layer_bytes, read_model_footprint(m_model.toStdString())->layer_bytes);
            const Plan plan = make_plan(req);
            QCOMPARE(panel->currentPlan().fits, plan.fits);
            const QMap<QString, FitBar*> bars = panel->preview()->bars();
            QCOMPARE(bars.size(), int(req.devices.size()));
            for (size_t i = 0; i < req.devices.size(); ++i) {
                const QString id = QString::fromStdString(req.devices[i].info.id);
                QVERIFY2(bars.contains(id), qPrintable(id));
                const FitBarValues v = bars[id]->values();
                const DeviceUse* use = nullptr;
                for (const DeviceUse& u : plan.devices)
                    if (u.device == int(i)) use = &u;
                if (use) {
                    QCOMPARE(v.weights, use->weight_bytes);
                    QCOMPARE(v.kvCache, use->kv_bytes);
                    QCOMPARE(v.scratch, use->scratch_bytes);
                    QCOMPARE(v.capacity, use->capacity);
                } else {
                    QCOMPARE(v.total(), 0ull);
                }
            }
            if (plan.max_ctx_that_fits > 0)
                QVERIFY2(panel->preview()->longestContextText().contains(QLocale().toString(qlonglong(plan.max_ctx_that_fits))),
                         qPrintable(panel->preview()->longestContextText()));
            for (const std::string& d : plan.decisions)
                QVERIFY(panel->preview()->explanationText().contains(QString::fromStdString(d).toHtmlEscaped()));
        };
        check();
        QVERIFY(panel->currentPlan().fits);
        QCOMPARE(panel->currentPlan().stages.size(), size_t(2));  // fewest: needs two devices

        panel->contextBox()->setValue(1024);
        QCOMPARE(panel->currentRequest().n_ctx, 1024);
        check();

        panel->kvBox()->setCurrentIndex(panel->kvBox()->findData(int(KvCacheType::f32)));
        QCOMPARE(int(panel->currentRequest().kv_type), int(KvCacheType::f32));
        check();

        panel->deviceRows()[0]->downButton()->click();  // cpu1 first now
        QCOMPARE(panel->deviceRows()[0]->key(), QStringLiteral("cpu1"));
        QCOMPARE(panel->currentRequest().devices[0].info.total_memory, m_small);
        check();

        panel->modeBox()->setCurrentIndex(panel->modeBox()->findData(int(SplitMode::ratios)));
        QTRY_VERIFY(panel->deviceRows()[0]->ratioSlider()->isVisibleTo(panel));
        panel->deviceRows()[1]->ratioSlider()->setValue(100);
        QCOMPARE(panel->currentRequest().devices[1].ratio, 2.0);
        check();

        panel->modeBox()->setCurrentIndex(panel->modeBox()->findData(int(SplitMode::even)));
        panel->deviceRows()[2]->enabledBox()->setChecked(false);
        QVERIFY(!panel->currentRequest().devices[2].enabled);
        check();
    }

    void notFittingTurnsRedAndSaysWhatWould() {
        UiFixture f(FakeScript{}, options());
        openPanel(f);
        if (QTest::currentTestFailed()) return;
        AllocationPanel* panel = m_panel;
        for (DeviceRow* r : panel->deviceRows())
            if (r->key() != QLatin1String("cpu")) r->enabledBox()->setChecked(false);  // one device alone is too small
        const Plan plan = make_plan(panel->currentRequest());
        QVERIFY(!plan.fits);
        QVERIFY(!panel->currentPlan().fits);
        QVERIFY(panel->preview()->verdictText().contains(QLatin1String("Does not fit")));
        QVERIFY(!panel->preview()->bars()[QStringLiteral("cpu")]->values().fits());
        QVERIFY(!plan.shortfalls.empty());
        for (const std::string& s : plan.shortfalls)
            QVERIFY(panel->preview()->explanationText().contains(QString::fromStdString(s).toHtmlEscaped()));
        for (const std::string& s : plan.suggestions)
            QVERIFY(panel->preview()->explanationText().contains(QString::fromStdString(s).toHtmlEscaped()));
        QVERIFY(!panel->applyButton()->isEnabled());
        QTRY_COMPARE(f.app->catalog().fitStatus(m_model).state, FitState::doesNotFit);  // the library follows
    }

    void settingsPersistAndApplyLoadsWithThem() {
        UiFixture f(FakeScript{}, options());
        openPanel(f);
        if (QTest::currentTestFailed()) return;
        AllocationPanel* panel = m_panel;
        panel->contextBox()->setValue(768);
        panel->deviceRows()[0]->downButton()->click();
        QTRY_COMPARE(f.app->allocationStore().load(m_model).value_or(AllocationSettings{}).nCtx, 768);
        const AllocationSettings saved = *f.app->allocationStore().load(m_model);
        QCOMPARE(saved.devices.first().key, QStringLiteral("cpu1"));
        QVERIFY(panel->applyButton()->isEnabled());
        QSignalSpy loaded(&f.app->worker(), &EngineWorker::loaded);
        panel->applyButton()->click();
        QTRY_COMPARE(loaded.size(), 1);
        std::lock_guard lock(f.record->mutex);
        const LoadOptions& o = f.record->loads.back();
        const LoadOptions expected = buildLoadOptions(f.app->fits().devices(), saved, 0);
        QCOMPARE(o.n_ctx, 768);
        QCOMPARE(o.devices.size(), expected.devices.size());
        QCOMPARE(o.devices[0].memory_cap, m_small);  // the reordered spec list
        QCOMPARE(o.reserve, expected.reserve);
        QCOMPARE(o.disabled, expected.disabled);
    }

    // The expert control shows for a MoE model only; each choice reaches the request, the
    // preview (the host's bar and line, the planner's expert decisions), the store and Apply.
    void expertPlacementForMoeModels() {
        UiFixture f(FakeScript{}, options());
        openPanel(f);
        if (QTest::currentTestFailed()) return;
        AllocationPanel* panel = m_panel;
        QVERIFY(!panel->expertCard()->isVisibleTo(panel));  // the dense model
        f.app->importer().importPaths({m_moe});
        QTRY_COMPARE(f.app->catalog().rowCount(), 2);
        QTRY_VERIFY(f.app->fits().hasFootprint(m_moe));
        panel->selectModel(m_moe);
        QTRY_COMPARE(panel->modelPath(), m_moe);
        QTRY_VERIFY(panel->expertCard()->isVisibleTo(panel));
        QVERIFY(!panel->expertModeBox()->accessibleName().isEmpty());
        QVERIFY(!panel->expertLayersBox()->accessibleName().isEmpty());
        QVERIFY(!panel->expertHostBox()->accessibleName().isEmpty());
        QVERIFY(panel->expertHostBox()->isVisibleTo(panel));  // three CPU devices: a choice to make
        QVERIFY(!panel->expertLayersBox()->isEnabled());      // only for "first layers"

        auto checkPreview = [&] {
            const PlanRequest req = panel->currentRequest();
            const Plan plan = make_plan(req);
            QCOMPARE(panel->currentPlan().expert_device, plan.expert_device);
            for (const DeviceUse& u : plan.devices) {
                const FitBarValues v = panel->preview()->bars().value(QString::fromStdString(u.device_id))->values();
                QCOMPARE(v.weights, u.weight_bytes);
                QCOMPARE(v.scratch, u.scratch_bytes);
            }
            for (const std::string& d : plan.decisions)
                QVERIFY2(panel->preview()->explanationText().contains(QString::fromStdString(d).toHtmlEscaped()), d.c_str());
        };
        // Automatic on CPUs alone: every expert beside its layer, said so.
        QCOMPARE(int(panel->currentRequest().experts.mode), int(ExpertMode::automatic));
        checkPreview();
        QVERIFY(panel->preview()->explanationText().contains(QLatin1String("experts sit beside its attention")));

        // Reachable by keyboard: Tab from the batch size, arrow keys choose.
        panel->window()->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(panel->window()));
        panel->batchBox()->setFocus();
        QTRY_VERIFY(panel->batchBox()->hasFocus());
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_Tab);
        QTRY_VERIFY(panel->expertModeBox()->hasFocus());
        QTest::keyClick(panel->expertModeBox(), Qt::Key_Down);  // "All experts on the CPU"
        QCOMPARE(int(panel->currentRequest().experts.mode), int(ExpertMode::cpu));
        checkPreview();
        const Plan all = panel->currentPlan();
        QVERIFY(all.fits);
        QCOMPARE(all.expert_device, std::vector<int>(4, 0));  // the first CPU holds them
        QVERIFY2(panel->preview()->deviceText(QStringLiteral("cpu")).startsWith(QStringLiteral("experts of layers 0–3 (")),
                 qPrintable(panel->preview()->deviceText(QStringLiteral("cpu"))));
        QVERIFY(panel->preview()->explanationText().contains(QLatin1String("experts of layers 0-3 (4 of 4 layers")));

        // Another CPU holds them.
        panel->expertHostBox()->setCurrentIndex(panel->expertHostBox()->findData(QStringLiteral("cpu2")));
        QCOMPARE(panel->currentRequest().experts.host, 2);
        checkPreview();
        QCOMPARE(panel->currentPlan().expert_device, std::vector<int>(4, 2));
        QVERIFY(panel->preview()->deviceText(QStringLiteral("cpu2")).startsWith(QStringLiteral("experts of layers 0–3 (")));
        QVERIFY(!panel->preview()->deviceText(QStringLiteral("cpu")).contains(QLatin1String("experts of")));

        // The first layers: the count is enabled and starts at half the layers.
        QTest::keyClick(panel->expertModeBox(), Qt::Key_Down);
        QCOMPARE(int(panel->currentRequest().experts.mode), int(ExpertMode::first_n));
        QVERIFY(panel->expertLayersBox()->isEnabled());
        QCOMPARE(panel->expertLayersBox()->value(), 2);
        panel->expertLayersBox()->setValue(1);
        QCOMPARE(panel->currentRequest().experts.n_host_layers, 1);
        checkPreview();
        QVERIFY2(panel->preview()->deviceText(QStringLiteral("cpu2")).startsWith(QLatin1String("experts of layer 0 (")),
                 qPrintable(panel->preview()->deviceText(QStringLiteral("cpu2"))));

        // Kept for the model, and Apply loads with it (the host by the engine's id in this order).
        QTRY_COMPARE(f.app->allocationStore().load(m_moe).value_or(AllocationSettings{}).experts,
                     (ExpertAllocation{ExpertMode::first_n, 1, QStringLiteral("cpu2")}));
        QSignalSpy loaded(&f.app->worker(), &EngineWorker::loaded);
        panel->applyButton()->click();
        QTRY_COMPARE(loaded.size(), 1);
        std::lock_guard lock(f.record->mutex);
        const LoadOptions& o = f.record->loads.back();
        QCOMPARE(int(o.expert_mode), int(ExpertMode::first_n));
        QCOMPARE(o.n_cpu_moe, 1);
        QCOMPARE(o.expert_device, std::string("cpu2"));
    }

private:
    // Three virtual CPU devices: two with 70% of what the model needs (so it takes both), one
    // with twice that.
    AppOptions options() const {
        AppOptions o;
        DeviceSpec s;
        s.kind = "cpu";
        o.deviceSpecs = {s, s, s};
        o.deviceSpecs[0].memory_cap = m_small + 4096;
        o.deviceSpecs[1].memory_cap = m_small;
        o.deviceSpecs[2].memory_cap = 2 * m_need;
        o.inspect = strata::inspect_model_file;
        return o;
    }

    // Adds the model, shows its allocation; sets m_panel (QTRY needs a void function).
    void openPanel(UiFixture& f) {
        QTRY_COMPARE(f.app->fits().devices().size(), 3);
        f.importModel(m_model);
        if (QTest::currentTestFailed()) return;
        QTRY_COMPARE(f.app->catalog().rowCount(), 1);
        f.showAllocation(m_model);
        if (QTest::currentTestFailed()) return;
        m_panel = f.window->allocationPanel();
    }

    QTemporaryDir m_files;
    QString m_model;
    QString m_moe;
    AllocationPanel* m_panel = nullptr;
    quint64 m_need = 0;
    quint64 m_small = 0;
};

QTEST_MAIN(TestAllocationPanel)
#include "tst_allocation_panel.moc"
