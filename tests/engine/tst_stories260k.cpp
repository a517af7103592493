// Whole-pipeline check on a real trained model: stories260K (llama2.c's tiny Llama, converted
// to GGUF by llama.cpp) greedy-decoded from BOS must reproduce its author's published output,
// on one device and split across several.
#include <QtTest>

#include "strata/engine.h"
#include "test_paths.h"

using namespace strata;

namespace {

// Published by the model's author (llama2.c, doc/stories260K.md): `./run stories260K.bin
// -z tok512.bin -t 0.0`, greedy from BOS, 256 steps.
const char* kPublishedGreedy =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she "
    "saw a big, red ball. She wanted to play with it, but it was too high.\n"
    "Lily's mom said, \"Lily, let's go to the park.\" Lily was sad and didn't know what to do. She said, \"I want "
    "to play with your ball, but I can't find it.\"\n"
    "Lily was sad and didn't know what to do. She said, \"I'm sorry, Lily. I didn't know what to do.\"\n"
    "Lily didn't want to help her mom, so she said, \"I'm sorry, mom. I didn't know what to do.\" Her mom said, "
    "\"Don't worry, Lily. We can help you.";

constexpr int kTokens = 255;  // the published run's 256 positions minus BOS (≥ 150 required)

struct Greedy {
    std::string text;
    std::vector<float> all_logits;
    int n_generated = 0;
};

Greedy run_greedy(const QString& path, const std::string& devices, KvCacheType kv = KvCacheType::f32) {
    LoadOptions o;
    std::string err;
    if (!parse_device_specs(devices, o.devices, err)) qFatal("bad device spec %s", err.c_str());
    o.n_ctx = 256;
    o.kv_type = kv;
    o.n_threads = 2;
    o.ratios.assign(o.devices.size(), 1.0);  // one layer range per device
    Engine engine;
    auto model = engine.load(path.toStdString(), o);
    if (!model.ok()) qFatal("load failed: %s", model.status().message().c_str());
    auto seq = (*model)->create_sequence();
    GenerateParams g;
    g.sampler.temperature = 0;
    g.sampler.repeat_penalty = 1.0f;  // plain argmax, as the published run did
    g.max_tokens = kTokens;
    g.stop_at_eos = false;
    Greedy out;
    auto stats = (*seq)->generate({(*model)->bos_token()}, g, [&](std::string_view t) { out.text += t; }, nullptr,
                                  [&](const float* l, int64_t n) { out.all_logits.insert(out.all_logits.end(), l, l + n); });
    if (!stats.ok()) qFatal("generate failed: %s", stats.status().message().c_str());
    out.n_generated = stats->n_generated;
    return out;
}

}  // namespace

class TestStories260K : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        if (test::stories260kPath().isEmpty())
            QSKIP("../shared/models/stories260K.gguf is absent: the real-model checks need it");
    }

    // At least the first 150 generated tokens reproduce the published text exactly.
    void greedyMatchesPublishedOutput() {
        const Greedy g = run_greedy(test::stories260kPath(), "cpu");
        QCOMPARE(g.n_generated, kTokens);
        const std::string published = kPublishedGreedy;
        // All 255 generated tokens reproduce the published text: ours is a prefix of it and
        // falls short by at most its final character (the published page ends one piece later).
        QVERIFY2(published.compare(0, g.text.size(), g.text) == 0,
                 qPrintable(QStringLiteral("diverged:\n%1").arg(QString::fromStdString(g.text))));
        QVERIFY2(g.text.size() + 1 >= published.size(),
                 qPrintable(QStringLiteral("only %1 of %2 characters").arg(g.text.size()).arg(published.size())));
    }

    // The generated text, and every logit, is bitwise identical whatever the split.
    void splitsAreBitwiseIdentical_data() {
        QTest::addColumn<QString>("devices");
        QTest::newRow("2 stages") << "cpu:64MiB,cpu:64MiB";
        QTest::newRow("3 stages") << "cpu:64MiB,cpu:64MiB,cpu:64MiB";
        QTest::newRow("5 stages") << "cpu:64MiB,cpu:64MiB,cpu:64MiB,cpu:64MiB,cpu:64MiB";
    }
    void splitsAreBitwiseIdentical() {
        QFETCH(QString, devices);
        static const Greedy one = run_greedy(test::stories260kPath(), "cpu:64MiB");
        const Greedy split = run_greedy(test::stories260kPath(), devices.toStdString());
        QCOMPARE(split.text, one.text);
        QCOMPARE(split.all_logits.size(), one.all_logits.size());
        QVERIFY(std::memcmp(split.all_logits.data(), one.all_logits.data(), one.all_logits.size() * sizeof(float)) == 0);
    }

    // The default f16 KV cache rounds K and V; the text must still be the published one.
    void f16KvCacheStillReproducesText() {
        const Greedy g = run_greedy(test::stories260kPath(), "cpu", KvCacheType::f16);
        const std::string published = kPublishedGreedy;
        QVERIFY2(published.compare(0, g.text.size(), g.text) == 0, qPrintable(QString::fromStdString(g.text)));
    }
};

QTEST_GUILESS_MAIN(TestStories260K)
#include "tst_stories260k.moc"
