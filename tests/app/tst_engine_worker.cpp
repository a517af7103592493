// EngineWorker on its own thread: tokens reach the GUI thread in order, the GUI thread is never
// blocked, a raw prompt goes through complete(), Stop cancels a running request and one still
// queued, loads report progress per device, failures come back as signals (a failed answer
// with its conversation); and a real chat turn on stories260K.
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QtTest>

#include "engine/engine_worker.h"
#include "test_paths.h"
#include "worker_fixture.h"

using namespace strata;
using namespace strata::app;
using strata::test::FakeScript;
using strata::test::WorkerFixture;

namespace {

ChatTurns turns(std::initializer_list<std::pair<Role, const char*>> list) {
    ChatTurns out;
    for (const auto& [role, text] : list) out.append({role, QString::fromUtf8(text)});
    return out;
}

void generate(EngineWorker& w, quint64 id, qint64 conv, const ChatTurns& t, const GenerateParams& p = {},
              const ChatRequest& base = {}) {
    ChatRequest request = base;
    request.turns = t;
    QMetaObject::invokeMethod(&w, [&w, id, conv, request, p] { w.generate(id, conv, request, p); }, Qt::QueuedConnection);
}

void load(EngineWorker& w, quint64 id, const QString& path, const LoadOptions& o = {}) {
    QMetaObject::invokeMethod(&w, "loadModel", Qt::QueuedConnection, Q_ARG(quint64, id), Q_ARG(QString, path),
                              Q_ARG(strata::LoadOptions, o));
}

}  // namespace

class TestEngineWorker : public QObject {
    Q_OBJECT
private slots:
    void streamsTokensToTheGuiThreadInOrder() {
        FakeScript script;
        script.pieces = {"Héllo", ",", " wörld", " ✓"};
        WorkerFixture f(script);
        QString text;
        bool onGuiThread = true;
        connect(f.worker.get(), &EngineWorker::tokenReceived, this, [&](qint64 conv, const QString& t) {
            QCOMPARE(conv, 7);
            onGuiThread = onGuiThread && QThread::currentThread() == thread();
            text += t;
        });
        QSignalSpy finished(f.worker.get(), &EngineWorker::generationFinished);
        generate(*f.worker, f.worker->newRequestId(), 7, turns({{Role::system, "sys"}, {Role::user, "hi"}}));
        QTRY_COMPARE(finished.size(), 1);
        // The spy records in the worker thread; the pieces come through queued calls here.
        QTRY_COMPARE(text, QStringLiteral("Héllo, wörld ✓"));
        QVERIFY(onGuiThread);
        const auto stats = finished[0][1].value<GenerateStats>();
        QCOMPARE(stats.n_generated, 4);
        QCOMPARE(int(stats.stop), int(StopReason::eos));
        std::lock_guard lock(f.record->mutex);
        QCOMPARE(f.record->prompts.size(), size_t(1));
        QCOMPARE(f.record->prompts[0].size(), size_t(2));
        QCOMPARE(f.record->prompts[0][0].role, std::string("system"));
        QCOMPARE(f.record->prompts[0][1].content, std::string("hi"));
    }

    // complete(): the prompt goes to the backend as it is, with no chat turns around it.
    void completeContinuesARawPrompt() {
        WorkerFixture f;
        QString text;
        connect(f.worker.get(), &EngineWorker::tokenReceived, this, [&](qint64 conv, const QString& t) {
            if (conv == -4) text += t;
        });
        QSignalSpy finished(f.worker.get(), &EngineWorker::generationFinished);
        GenerateParams p;
        p.max_tokens = 3;
        QMetaObject::invokeMethod(f.worker.get(), "complete", Qt::QueuedConnection, Q_ARG(quint64, f.worker->newRequestId()),
                                  Q_ARG(qint64, -4), Q_ARG(QString, QStringLiteral("Once upon")), Q_ARG(strata::GenerateParams, p));
        QTRY_COMPARE(finished.size(), 1);
        QCOMPARE(finished[0][0].toLongLong(), -4);
        QCOMPARE(int(finished[0][1].value<GenerateStats>().stop), int(StopReason::max_tokens));
        QTRY_COMPARE(text, QStringLiteral("Hello, world"));
        std::lock_guard lock(f.record->mutex);
        QCOMPARE(f.record->rawPrompts, std::vector<std::string>{"Once upon"});
        QVERIFY(f.record->prompts.empty());
        QCOMPARE(f.record->params[0].max_tokens, 3);
    }

    void guiThreadStaysResponsive() {
        FakeScript script;
        script.pieces.assign(30, "x");
        script.pieceDelayMs = 10;
        WorkerFixture f(script);
        QSignalSpy finished(f.worker.get(), &EngineWorker::generationFinished);
        int ticks = 0;
        QTimer timer;
        connect(&timer, &QTimer::timeout, this, [&] { ++ticks; });
        timer.start(10);
        QElapsedTimer clock;
        clock.start();
        generate(*f.worker, f.worker->newRequestId(), 1, turns({{Role::user, "hi"}}));
        QVERIFY(clock.elapsed() < 50);  // queued, not run here
        QTRY_COMPARE(finished.size(), 1);
        QVERIFY2(ticks >= 10, qPrintable(QString::number(ticks)));  // the event loop ran meanwhile
    }

    void cancelStopsARunningGeneration() {
        FakeScript script;
        script.pieces.assign(500, "y");
        script.pieceDelayMs = 5;
        WorkerFixture f(script);
        QSignalSpy tokens(f.worker.get(), &EngineWorker::tokenReceived);
        QSignalSpy finished(f.worker.get(), &EngineWorker::generationFinished);
        const quint64 id = f.worker->newRequestId();
        generate(*f.worker, id, 1, turns({{Role::user, "go"}}));
        QTRY_VERIFY(tokens.size() >= 3);
        QVERIFY(f.worker->isBusy());
        f.worker->requestCancel(id);  // a direct call from this thread, while the worker is busy
        QTRY_COMPARE(finished.size(), 1);
        QCOMPARE(int(finished[0][1].value<GenerateStats>().stop), int(StopReason::cancelled));
        std::lock_guard lock(f.record->mutex);
        QVERIFY(f.record->generated < 500);
    }

    void cancelReachesAQueuedRequestButNotOthers() {
        FakeScript script;
        script.loadSteps = 10;
        script.loadStepDelayMs = 20;
        WorkerFixture f(script);
        QSignalSpy loaded(f.worker.get(), &EngineWorker::loaded);
        QSignalSpy finished(f.worker.get(), &EngineWorker::generationFinished);
        const quint64 loadId = f.worker->newRequestId();
        const quint64 genId = f.worker->newRequestId();
        const quint64 laterId = f.worker->newRequestId();
        load(*f.worker, loadId, QStringLiteral("/m/x.gguf"));
        generate(*f.worker, genId, 1, turns({{Role::user, "queued"}}));
        generate(*f.worker, laterId, 2, turns({{Role::user, "later"}}));
        QTest::qWait(30);
        f.worker->requestCancel(genId);  // cancels genId only; the load (older) keeps going
        QTRY_COMPARE(finished.size(), 2);
        QCOMPARE(loaded.size(), 1);
        QCOMPARE(finished[0][0].toLongLong(), 1);
        QCOMPARE(int(finished[0][1].value<GenerateStats>().stop), int(StopReason::cancelled));
        QCOMPARE(int(finished[1][1].value<GenerateStats>().stop), int(StopReason::eos));
        std::lock_guard lock(f.record->mutex);
        QCOMPARE(f.record->prompts.size(), size_t(1));  // the cancelled one never reached the engine
        QCOMPARE(f.record->prompts[0][0].content, std::string("later"));
    }

    void loadReportsProgressAndCanBeCancelled() {
        FakeScript script;
        script.loadSteps = 50;
        script.loadStepDelayMs = 10;
        WorkerFixture f(script);
        QSignalSpy progress(f.worker.get(), &EngineWorker::loadProgress);
        QSignalSpy failed(f.worker.get(), &EngineWorker::failed);
        QSignalSpy loaded(f.worker.get(), &EngineWorker::loaded);
        load(*f.worker, f.worker->newRequestId(), QStringLiteral("/m/x.gguf"));
        QTRY_VERIFY(progress.size() >= 3);
        quint64 last = 0;
        for (const QList<QVariant>& p : progress) {
            QCOMPARE(p[0].toString(), QStringLiteral("cpu"));
            QVERIFY(p[1].toULongLong() > last);
            last = p[1].toULongLong();
        }
        f.worker->cancelAll();
        QTRY_COMPARE(failed.size(), 1);
        QCOMPARE(failed[0][0].toString(), QStringLiteral("load"));
        QVERIFY(failed[0][1].toString().contains(QLatin1String("cancel")));
        QCOMPARE(loaded.size(), 0);
        QVERIFY(progress.size() < 50);
    }

    void loadedCarriesThePlan() {
        WorkerFixture f;
        QSignalSpy loaded(f.worker.get(), &EngineWorker::loaded);
        load(*f.worker, f.worker->newRequestId(), QStringLiteral("/m/x.gguf"));
        QTRY_COMPARE(loaded.size(), 1);
        const auto m = loaded[0][0].value<LoadedModel>();
        QCOMPARE(m.path, QStringLiteral("/m/x.gguf"));
        QCOMPARE(m.plan.stages.size(), size_t(1));
        QCOMPARE(m.nCtx, 512);
    }

    void failuresComeBackAsSignals() {
        FakeScript script;
        script.failLoad = "cuda1: 1.2 GiB short";
        script.failGenerate = "cuda0 failed";
        WorkerFixture f(script);
        QSignalSpy failed(f.worker.get(), &EngineWorker::failed);
        QSignalSpy answerFailed(f.worker.get(), &EngineWorker::generationFailed);
        QSignalSpy finished(f.worker.get(), &EngineWorker::generationFinished);
        load(*f.worker, f.worker->newRequestId(), QStringLiteral("/m/x.gguf"));
        generate(*f.worker, f.worker->newRequestId(), 3, turns({{Role::user, "x"}}));
        QTRY_COMPARE(finished.size(), 1);
        QCOMPARE(failed.size(), 1);
        QCOMPARE(failed[0][0].toString(), QStringLiteral("load"));
        QCOMPARE(failed[0][1].toString(), QStringLiteral("cuda1: 1.2 GiB short"));
        // A failed answer names its conversation, so only that conversation's owner reports it.
        QCOMPARE(answerFailed.size(), 1);
        QCOMPARE(answerFailed[0][0].toLongLong(), 3);
        QCOMPARE(answerFailed[0][1].toString(), QStringLiteral("cuda0 failed"));
        QCOMPARE(finished[0][0].toLongLong(), 3);
        QCOMPARE(int(finished[0][1].value<GenerateStats>().stop), int(StopReason::error));
    }

    void describesDevices() {
        WorkerFixture f;
        QSignalSpy described(f.worker.get(), &EngineWorker::devicesDescribed);
        DeviceSpecList specs;
        DeviceSpec a;
        a.kind = "cpu";
        a.memory_cap = 4ull << 30;
        specs << a << a;
        QMetaObject::invokeMethod(f.worker.get(), "describeDevices", Qt::QueuedConnection,
                                  Q_ARG(strata::app::DeviceSpecList, specs));
        QTRY_COMPARE(described.size(), 1);
        const auto devices = described[0][1].value<DeviceInfoList>();
        QCOMPARE(devices.size(), 2);
        QCOMPARE(devices[1].id, std::string("cpu1"));
        QVERIFY(devices[1].is_virtual);
    }

    // The real engine through the worker thread: stories260K answers a turn.
    void realEngineTurn() {
        const QString path = strata::test::stories260kPath();
        if (path.isEmpty()) QSKIP("stories260K.gguf not found (../shared/models)");
        WorkerFixture f(makeStrataBackend());
        QSignalSpy loaded(f.worker.get(), &EngineWorker::loaded);
        QSignalSpy failed(f.worker.get(), &EngineWorker::failed);
        QSignalSpy answerFailed(f.worker.get(), &EngineWorker::generationFailed);
        QSignalSpy finished(f.worker.get(), &EngineWorker::generationFinished);
        QString text;
        connect(f.worker.get(), &EngineWorker::tokenReceived, this, [&](qint64, const QString& t) { text += t; });
        LoadOptions o;
        o.n_ctx = 256;
        o.n_threads = 2;
        load(*f.worker, f.worker->newRequestId(), path, o);
        GenerateParams p;
        p.sampler.temperature = 0;
        p.max_tokens = 40;
        generate(*f.worker, f.worker->newRequestId(), 5, turns({{Role::user, "Once upon a time"}}), p);
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 20000);
        QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed[0][1].toString()));
        QVERIFY2(answerFailed.isEmpty(), answerFailed.isEmpty() ? "" : qPrintable(answerFailed[0][1].toString()));
        QCOMPARE(loaded.size(), 1);
        // stories260K has no chat template: the built-in plain transcript, and the reason.
        QCOMPARE(loaded[0][0].value<LoadedModel>().chatFormat,
                 QStringLiteral("built-in plain: the model has no chat template"));
        const auto stats = finished[0][1].value<GenerateStats>();
        QVERIFY(stats.n_generated > 0);
        // The spy records generationFinished in the worker thread, while the tokens reach `text`
        // through queued calls on this thread: let those arrive.
        QTRY_VERIFY2(text.size() > 10, qPrintable(QString("[%1] n_generated %2").arg(text).arg(stats.n_generated)));
        QVERIFY(stats.time_to_first_token > 0);
    }
};

QTEST_GUILESS_MAIN(TestEngineWorker)
#include "tst_engine_worker.moc"
