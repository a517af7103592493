// GenerationQueue: more requests than sequence slots are queued and all served, in parallel
// across pipeline stages, with the same text each would get alone; cancellation of queued and
// running requests.
#include <QtTest>

#include <mutex>
#include <thread>

#include "strata/generation_queue.h"
#include "test_models.h"

using namespace strata;

namespace {
LoadOptions two_stages(int n_seq) {
    LoadOptions o;
    std::string err;
    parse_device_specs("cpu:1GiB,cpu:1GiB", o.devices, err);
    o.ratios = {1, 1};
    o.n_ctx = 128;
    o.n_batch = 16;
    o.n_seq = n_seq;
    o.n_threads = 1;
    return o;
}
GenerateParams greedy(int n) {
    GenerateParams g;
    g.sampler.temperature = 0;
    g.max_tokens = n;
    g.stop_at_eos = false;
    return g;
}
}  // namespace

class TestGenerationQueue : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString path_;

private slots:
    void initTestCase() {
        RandomModelConfig c;
        c.n_vocab = 300;
        c.n_layer = 4;
        c.seed = 5;
        path_ = test::writeRandomModel(dir_, "q", c);
        QVERIFY(!path_.isEmpty());
    }

    void servesMoreRequestsThanSlots() {
        Engine engine;
        auto m = engine.load(path_.toStdString(), two_stages(2));
        QVERIFY2(m.ok(), m.status().message().c_str());
        // What each prompt gives alone.
        std::vector<std::string> alone(6);
        {
            auto seq = std::move((*m)->create_sequence()).value();
            for (int i = 0; i < 6; ++i) {
                auto r = seq->generate({1, 20 + i, 40 + 2 * i}, greedy(12), [&](std::string_view t) { alone[i] += t; });
                QVERIFY(r.ok());
            }
        }
        auto q = GenerationQueue::create(**m);
        QVERIFY(q.ok());
        QCOMPARE((*q)->workers(), 2);
        std::mutex mu;
        std::vector<std::string> text(6);
        std::vector<int> done(6, 0);
        for (int i = 0; i < 6; ++i) {
            (*q)->submit({1, 20 + i, 40 + 2 * i}, greedy(12),
                         [&, i](std::string_view t) { std::lock_guard<std::mutex> l(mu); text[i] += t; },
                         [&, i](const Result<GenerateStats>& r) {
                             std::lock_guard<std::mutex> l(mu);
                             done[i] = r.ok() ? 1 : -1;
                         });
        }
        QTRY_VERIFY_WITH_TIMEOUT(std::count(done.begin(), done.end(), 1) == 6, 20000);
        for (int i = 0; i < 6; ++i) QCOMPARE(text[i], alone[i]);
        (*q).reset();  // the queue goes before the model
    }

    void cancelQueuedAndRunning() {
        Engine engine;
        auto m = engine.load(path_.toStdString(), two_stages(1));
        QVERIFY(m.ok());
        auto q = std::move(GenerationQueue::create(**m)).value();
        std::mutex mu;
        std::vector<ErrorCode> codes(3, ErrorCode::internal);
        std::vector<StopReason> stops(3, StopReason::error);
        std::atomic<int> finished{0};
        std::atomic<int> tokens_first{0};
        auto done = [&](int i) {
            return [&, i](const Result<GenerateStats>& r) {
                std::lock_guard<std::mutex> l(mu);
                codes[i] = r.ok() ? ErrorCode::ok : r.status().code();
                if (r.ok()) stops[i] = r->stop;
                ++finished;
            };
        };
        std::atomic<bool> release{false};
        // a's first token blocks its worker until the test has looked at the queue.
        const uint64_t a = q->submit({1, 5}, greedy(50),
                                     [&](std::string_view) {
                                         ++tokens_first;
                                         while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
                                     },
                                     done(0));
        const uint64_t b = q->submit({1, 6}, greedy(5), {}, done(1));
        const uint64_t c = q->submit({1, 7}, greedy(5), {}, done(2));
        QTRY_VERIFY(tokens_first.load() > 0);  // a is running, b and c wait
        QCOMPARE(q->queued(), size_t(2));
        QVERIFY(q->cancel(b));                 // queued: removed, done() with cancelled
        QVERIFY(q->cancel(a));                 // running: stops between tokens
        release.store(true);
        QTRY_COMPARE(finished.load(), 3);
        QCOMPARE(codes[0], ErrorCode::ok);
        QCOMPARE(stops[0], StopReason::cancelled);
        QCOMPARE(codes[1], ErrorCode::cancelled);
        QCOMPARE(codes[2], ErrorCode::ok);     // c still ran
        QVERIFY(!q->cancel(c));                // finished: unknown now
    }
};

QTEST_GUILESS_MAIN(TestGenerationQueue)
#include "tst_generation_queue.moc"
