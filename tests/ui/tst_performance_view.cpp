// The performance view (offscreen): live figures from the monitor (tokens/s now, the last
// answer's TTFT and speeds), charts of the history (tokens/s, stage busy per device), the stages
// table, and the bench runner: the button needs a loaded model, stored runs fill the chart across
// runs (one model's at a time, or all) and the table (newest first), and Export asks the window.
#include <QtTest>

#include <QComboBox>
#include <QPushButton>
#include <QTableWidget>
#include <QTemporaryDir>

#include "common/history_chart.h"
#include "common/theme.h"
#include "devices/device_monitor.h"
#include "engine/engine_worker.h"
#include "engine/model_state.h"
#include "fake_backend.h"
#include "perf/bench_service.h"
#include "performance/performance_view.h"
#include "storage/bench_store.h"
#include "storage/database.h"

using namespace strata;
using namespace strata::app;
using namespace strata::ui;

namespace {

EngineStats twoStages(double busy0, double busy1, quint64 tokens) {
    EngineStats s;
    strata::StageTiming a, b;
    a.device_id = "cuda0";
    a.layer_begin = 0, a.layer_end = 20;
    a.busy_seconds = busy0;
    a.tokens = tokens;
    a.transport = "peer copy";
    b.device_id = "cuda1";
    b.layer_begin = 20, b.layer_end = 40;
    b.busy_seconds = busy1;
    b.tokens = tokens;
    s.timings = {a, b};
    return s;
}

}  // namespace

class TestPerformanceView : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private slots:
    void initTestCase() {
        Theme::apply(*qApp, ThemeKind::light);
        registerWorkerMetaTypes();
        QVERIFY(dir_.isValid());
        // BenchService imports the engine's bench log ($XDG_DATA_HOME/strata): never the user's.
        qputenv("XDG_DATA_HOME", dir_.filePath(QStringLiteral("xdg")).toUtf8());
    }

    void showsLiveFiguresAndCharts() {
        DeviceMonitor monitor(nullptr);
        PerformanceView view(monitor, nullptr);
        view.resize(1100, 800);
        QCOMPARE(view.liveText(), QStringLiteral("Tokens/s now –\nTime to first token –\nDecode tok/s –\nPrompt tok/s –"));
        QVERIFY(!view.benchButton()->isEnabled());  // no bench runner here
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        for (int i = 0; i <= 20; ++i) monitor.recordStats(twoStages(i * 0.4, i * 0.1, quint64(i) * 12), now - 20'000 + i * 1000);
        AnswerFigures a;
        a.ttftSeconds = 0.35;
        a.decodeTokensPerSecond = 11.26;
        a.promptTokensPerSecond = 612;
        monitor.recordAnswer(a);
        view.refresh();
        QCOMPARE(view.liveText(), QStringLiteral("Tokens/s now 12.0\nTime to first token 350 ms\nDecode tok/s 11.3\nPrompt tok/s 612"));
        QCOMPARE(view.tokensChart()->lineCount(), 1);
        QCOMPARE(view.tokensChart()->pointCount(), 20);
        QCOMPARE(view.busyChart()->lineCount(), 2);  // one line per device
        QCOMPARE(view.busyChart()->pointCount(1), 20);
        QCOMPARE(view.busyChart()->yTop(), 100.0);
        QVERIFY2(view.stagesText().startsWith(QStringLiteral("cuda0 0–19 40% 8.00 s")), qPrintable(view.stagesText()));
        QVERIFY(view.stagesText().contains(QLatin1String("peer copy")));
        view.setSpan(60 * 60 * 1000);
        QCOMPARE(view.tokensChart()->span(), qint64(60 * 60 * 1000));
        QVERIFY(!view.grab().isNull());
    }

    void benchRunsAreShown() {
        Database db;
        QVERIFY(db.open(dir_.filePath(QStringLiteral("perf.db"))));
        BenchStore store(db);
        EngineWorker worker(std::make_unique<test::FakeBackend>(test::FakeScript{}, std::make_shared<test::FakeRecord>()));
        ModelState model(worker);
        DeviceMonitor monitor(nullptr);
        BenchService service(worker, model, monitor, store);
        PerformanceView view(monitor, &service);
        QVERIFY(!view.benchButton()->isEnabled());  // nothing loaded
        QCOMPARE(view.benchChartPoints(), 0);
        QVERIFY(view.runsTable()->isHidden());
        for (int i = 0; i < 4; ++i) {  // m0, m1, m2, m1
            BenchRun r;
            r.createdAtMs = 1'700'000'000'000 + i * 86'400'000LL;
            r.model = QStringLiteral("m%1.gguf").arg(i == 3 ? 1 : i);
            r.plan = QStringLiteral("cpu L0–1");
            r.prefillTokensPerSecond = 100.0 * (i + 1);
            r.decodeTokensPerSecond = 10.0 * (i + 1);
            QVERIFY(service.add(r));
        }
        // One model's runs at a time: the newest run's model, nothing being loaded.
        QCOMPARE(view.modelFilter()->currentText(), QStringLiteral("m1.gguf"));
        QCOMPARE(view.benchChartPoints(), 2);
        QCOMPARE(view.runsTable()->rowCount(), 2);
        QCOMPARE(view.runsTable()->item(0, 1)->text(), QStringLiteral("m1.gguf"));
        QCOMPARE(view.runsTable()->item(0, 3)->text(), QStringLiteral("400.0"));  // newest first
        QCOMPARE(view.runsTable()->item(1, 3)->text(), QStringLiteral("200.0"));
        const int allIndex = view.modelFilter()->findText(QStringLiteral("All models"));
        QVERIFY(allIndex >= 0);
        view.modelFilter()->setCurrentIndex(allIndex);
        emit view.modelFilter()->activated(allIndex);
        QCOMPARE(view.benchChartPoints(), 4);
        QCOMPARE(view.runsTable()->item(0, 1)->text(), QStringLiteral("m1.gguf"));
        QCOMPARE(view.runsTable()->item(1, 1)->text(), QStringLiteral("m2.gguf"));
        QCOMPARE(view.modelFilter()->currentText(), QStringLiteral("All models"));  // kept as runs come
        QSignalSpy exportAsked(&view, &PerformanceView::exportRequested);
        for (QPushButton* b : view.findChildren<QPushButton*>())
            if (b->text().startsWith(QLatin1String("Export"))) b->click();
        QCOMPARE(exportAsked.count(), 1);
        view.resize(1100, 800);
        QVERIFY(!view.grab().isNull());
    }
};

QTEST_MAIN(TestPerformanceView)
#include "tst_performance_view.moc"
