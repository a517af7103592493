// Rotary embeddings as long-context files define them: the engine's reading of a file's RoPE
// keys and factor tensors, the CPU op at positions far past the original context, and whole
// models against the double-precision reference (which derives its angles from the file's keys
// the way each model's own code does: tests/common/reference_rope.cpp).
#include <QtTest>

#include <cmath>
#include <cstring>
#include <random>

#include "backend/cpu/cpu_device.h"
#include "gguf/gguf_file.h"
#include "gguf_test_util.h"
#include "model/hparams.h"
#include "model/model_tensors.h"
#include "reference_llama.h"
#include "reference_rope.h"
#include "strata/engine.h"
#include "test_models.h"

using namespace strata;

namespace {

// A tiny model with the given RoPE setup; other fields as the caller sets them.
RandomModelConfig rope_model(const QString& variant) {
    RandomModelConfig c;
    c.n_vocab = 300;
    c.n_embd = 64;
    c.n_layer = 2;
    c.n_head = 4;
    c.n_head_kv = 2;
    c.head_dim = 32;
    c.n_ff = 96;
    c.seed = 77;
    c.rope_freq_base = 10000.0f;
    if (variant == "llama31") {
        random_model_arch("llama31", c);
    } else if (variant.startsWith("linear")) {
        c.rope_scaling = "linear";
        c.rope_factor = 4.0f;
    } else if (variant.startsWith("yarn")) {
        c.arch = "qwen2";
        c.rope_scaling = "yarn";
        c.rope_factor = 4.0f;
        c.n_ctx_orig = 32;
        c.n_ctx_train = 128;
    } else if (variant.startsWith("longrope")) {
        c.arch = "qwen3";
        c.rope_scaling = "longrope";
        c.rope_factor = 16.0f;
        c.n_ctx_orig = 32;
        c.n_ctx_train = 512;
    } else if (variant.startsWith("partial")) {
        c.n_rot = 16;  // half of each head rotates
        if (variant.endsWith("neox")) c.arch = "qwen2";
    }
    return c;
}

LoadOptions cpu_options(int64_t n_ctx, int64_t n_batch) { return test::cpuLoadOptions(KvCacheType::f32, n_ctx, n_batch); }

std::vector<int32_t> test_tokens(int n, int n_vocab, uint32_t seed) { return test::seededTokens(n, n_vocab, seed); }

}  // namespace

class TestRope : public QObject {
    Q_OBJECT
private slots:
    // Qwen 2.5's files: context_length is the original 32768 and YaRN's factor 4 reaches 131072;
    // the app warns past what the scaling reaches, not past context_length.
    void usableContextFollowsTheScaling() {
        QTemporaryDir dir;
        RandomModelConfig c = rope_model("yarn");
        c.n_ctx_orig = 128;
        c.n_ctx_train = 128;
        const QString path = test::writeRandomModel(dir, "qwen25", c);
        QVERIFY(!path.isEmpty());
        auto fp = read_model_footprint(path.toStdString());
        QVERIFY2(fp.ok(), fp.status().message().c_str());
        QCOMPARE(fp->n_ctx_train, int64_t{128});
        QCOMPARE(fp->usable_context(), int64_t{512});
    }

    // What the engine reads from each kind of file.
    void readsScalingKeys() {
        QTemporaryDir dir;
        for (const char* v : {"none", "linear", "yarn", "longrope", "llama31", "partial"}) {
            const QString path = test::writeRandomModel(dir, v, rope_model(v));
            QVERIFY(!path.isEmpty());
            auto f = gguf::GgufFile::open(path.toStdString());
            QVERIFY(f.ok());
            auto hp = read_hparams(**f);
            QVERIFY2(hp.ok(), hp.status().message().c_str());
            auto t = collect_model_tensors(**f, *hp);
            QVERIFY2(t.ok(), t.status().message().c_str());
            const QString name(v);
            // The planner's side: these files' context_length is already the scaled length
            // (original × factor), so the scaling reaches no further than it.
            auto fp = read_model_footprint(path.toStdString());
            QVERIFY2(fp.ok(), fp.status().message().c_str());
            QCOMPARE(fp->usable_context(), fp->n_ctx_train);
            if (name == "none") {
                QCOMPARE(hp->rope_scaling, RopeScaling::none);
                QCOMPARE(hp->rope.freq_scale, 1.0f);
                QVERIFY(!t->rope_factors(4096, hp->n_ctx_orig).data);
            } else if (name == "linear") {
                QCOMPARE(hp->rope_scaling, RopeScaling::linear);
                QCOMPARE(hp->rope.freq_scale, 0.25f);
            } else if (name == "yarn") {
                QCOMPARE(hp->rope_scaling, RopeScaling::yarn);
                QCOMPARE(hp->n_ctx_orig, int64_t{32});
                QCOMPARE(hp->rope.ext_factor, 1.0f);
                QVERIFY(std::fabs(hp->rope.mscale - (1.0f + 0.1f * std::log(4.0f))) < 1e-6f);
                QVERIFY(hp->rope.corr_low >= 0.0f && hp->rope.corr_low < hp->rope.corr_high);
            } else if (name == "longrope") {
                QCOMPARE(hp->n_ctx_orig, int64_t{32});
                QVERIFY(hp->rope.mscale > 1.0f);  // sqrt(1 + ln 16 / ln 32)
                QCOMPARE(t->rope_factors(32, 32).name, std::string("rope_factors_short.weight"));
                QCOMPARE(t->rope_factors(33, 32).name, std::string("rope_factors_long.weight"));
            } else if (name == "llama31") {
                QCOMPARE(hp->rope.freq_base, 500000.0f);
                const HostTensor& rf = t->rope_factors(131072, hp->n_ctx_orig);
                QCOMPARE(rf.name, std::string("rope_freqs.weight"));
                const float* f32 = static_cast<const float*>(rf.data);
                QCOMPARE(f32[0], 1.0f);                            // fast pairs keep their frequency
                QCOMPARE(f32[rf.n_cols - 1], 8.0f);                // slow pairs are divided by the factor
            } else if (name == "partial") {
                QCOMPARE(hp->rope.n_rot, 16);
                QCOMPARE(hp->head_dim, int64_t{32});
            }
        }
    }

    // An unknown scaling type and a factor that would make angles infinite are refused by name.
    void refusesBadKeysAndFactors() {
        QTemporaryDir dir;
        RandomModelConfig c = rope_model("none");
        c.rope_scaling = "dynamic";
        QString err;
        QVERIFY(test::writeRandomModel(dir, "bad", c, &err).isEmpty());  // the writer refuses it too
        QVERIFY(err.contains("dynamic"));

        const QString yarn = test::writeRandomModel(dir, "yarn", rope_model("yarn"));
        QByteArray bytes = test::readFileBytes(yarn);
        const qsizetype type_at = bytes.indexOf("rope.scaling.type");
        QVERIFY(type_at > 0);
        const qsizetype value_at = bytes.indexOf("yarn", type_at);
        QVERIFY(value_at > type_at);
        bytes.replace(value_at, 4, "yarx");
        QVERIFY(test::writeFileBytes(yarn, bytes));
        {
            auto f = gguf::GgufFile::open(yarn.toStdString());
            QVERIFY(f.ok());
            auto hp = read_hparams(**f);
            QVERIFY(!hp.ok());
            QVERIFY2(hp.status().message().find("'yarx'") != std::string::npos, hp.status().message().c_str());
        }

        const QString l31 = test::writeRandomModel(dir, "l31", rope_model("llama31"));
        bytes = test::readFileBytes(l31);
        std::vector<float> factors;
        {
            auto f = gguf::GgufFile::open(l31.toStdString());
            QVERIFY(f.ok());
            const gguf::TensorInfo* t = (*f)->find_tensor("rope_freqs.weight");
            QVERIFY(t);
            factors.resize(static_cast<size_t>(t->n_elements()));
            std::memcpy(factors.data(), t->data, t->n_bytes);
        }
        const qsizetype data_at =
            bytes.indexOf(QByteArray(reinterpret_cast<const char*>(factors.data()), qsizetype(factors.size() * 4)));
        QVERIFY(data_at > 0);
        const float zero = 0.0f;
        bytes.replace(data_at + 8, 4, QByteArray(reinterpret_cast<const char*>(&zero), 4));
        QVERIFY(test::writeFileBytes(l31, bytes));
        Engine engine;
        auto model = engine.load(l31.toStdString(), cpu_options(64, 16));
        QVERIFY(!model.ok());
        QVERIFY2(model.status().message().find("rope_freqs.weight") != std::string::npos, model.status().message().c_str());
    }

    // The CPU op at positions far beyond the original context against the reference's angles.
    void cpuOpMatchesReference_data() {
        QTest::addColumn<QString>("variant");
        for (const char* v : {"none", "linear", "yarn", "longrope short", "longrope long", "llama31", "partial",
                              "partial neox"})
            QTest::newRow(v) << QString(v);
    }
    void cpuOpMatchesReference() {
        QFETCH(QString, variant);
        QTemporaryDir dir;
        const RandomModelConfig c = rope_model(variant);
        const QString path = test::writeRandomModel(dir, "m", c);
        QVERIFY(!path.isEmpty());
        auto f = gguf::GgufFile::open(path.toStdString());
        QVERIFY(f.ok());
        auto hp = read_hparams(**f);
        QVERIFY2(hp.ok(), hp.status().message().c_str());
        auto tensors = collect_model_tensors(**f, *hp);
        QVERIFY(tensors.ok());
        const long n_ctx = variant.endsWith("long") ? 1 << 20 : 32;
        test::ReferenceRope ref;
        std::string err;
        QVERIFY2(test::ReferenceRope::load(**f, n_ctx, ref, err), err.c_str());

        CpuDevice dev("cpu", 0, 1);
        std::unique_ptr<DeviceWeight> factors;
        const HostTensor& ft = tensors->rope_factors(n_ctx, hp->n_ctx_orig);
        if (ft.data) {
            auto w = dev.upload_weight(ft);
            QVERIFY(w.ok());
            factors = std::move(w).value();
        }
        const int64_t n_head = 3, hd = hp->head_dim;
        std::mt19937 rng(5);
        std::normal_distribution<float> dist(0.0f, 1.0f);
        for (int64_t pos : {int64_t{0}, int64_t{1}, int64_t{31}, int64_t{4095}, int64_t{8191}, int64_t{32768},
                            int64_t{100000}, int64_t{131071}}) {
            std::vector<float> x(static_cast<size_t>(2 * n_head * hd));
            for (float& v : x) v = dist(rng);
            std::vector<double> want(x.begin(), x.end());
            for (int64_t t = 0; t < 2; ++t)
                for (int64_t h = 0; h < n_head; ++h) ref.apply(&want[static_cast<size_t>((t * n_head + h) * hd)], pos + t);
            QVERIFY(dev.ops().rope(x.data(), 2, n_head, hd, pos, hp->rope, factors.get()).ok());
            double diff = 0;
            for (size_t i = 0; i < x.size(); ++i) diff = std::max(diff, std::fabs(x[i] - want[i]));
            // float outputs of double angles: a few float ulps of values of magnitude ~3.
            QVERIFY2(diff < 2e-5, qPrintable(QStringLiteral("position %1: max diff %2").arg(pos).arg(diff)));
        }
    }

    // Whole models, token by token, well past the original context (32 positions for the
    // scaled variants here) against the reference.
    void modelMatchesReference_data() {
        QTest::addColumn<QString>("variant");
        QTest::addColumn<int>("nCtx");
        QTest::newRow("linear") << "linear" << 160;
        QTest::newRow("yarn") << "yarn" << 160;
        QTest::newRow("longrope short") << "longrope" << 32;
        QTest::newRow("longrope long") << "longrope" << 160;
        QTest::newRow("partial") << "partial" << 160;
        QTest::newRow("partial neox") << "partial neox" << 160;
    }
    void modelMatchesReference() {
        QFETCH(QString, variant);
        QFETCH(int, nCtx);
        QTemporaryDir dir;
        const RandomModelConfig c = rope_model(variant);
        const QString path = test::writeRandomModel(dir, "m", c);
        QVERIFY(!path.isEmpty());
        std::string err;
        auto ref = test::ReferenceLlama::load(path.toStdString(), err, nCtx);
        QVERIFY2(ref, err.c_str());
        Engine engine;
        auto model = engine.load(path.toStdString(), cpu_options(nCtx, 64));
        QVERIFY2(model.ok(), model.status().message().c_str());
        auto seq = (*model)->create_sequence();
        QVERIFY(seq.ok());
        const auto tokens = test_tokens(nCtx, c.n_vocab, 11);
        std::vector<float> logits;
        QVERIFY((*seq)->eval_all(tokens, &logits).ok());
        QCOMPARE(logits.size(), tokens.size() * static_cast<size_t>(c.n_vocab));
        for (size_t i = 0; i < tokens.size(); ++i) {
            const auto want = ref->step(tokens[i]);
            const std::vector<float> got(logits.begin() + static_cast<std::ptrdiff_t>(i * c.n_vocab),
                                         logits.begin() + static_cast<std::ptrdiff_t>((i + 1) * c.n_vocab));
            const double scale = test::max_abs(want);
            QVERIFY(scale > 0.1);
            const double diff = test::max_abs_diff(got, want);
            QVERIFY2(diff <= 2e-4 * scale, qPrintable(QStringLiteral("position %1: max diff %2, scale %3")
                                                          .arg(i).arg(diff).arg(scale)));
        }
    }

    // Llama 3.1's rope_freqs over its whole original context: every position 0 .. 8192 gives
    // the reference's logits. Ignoring the factors (as Strata did) fails from a few hundred
    // positions on, where the slow pairs have turned visibly.
    void llama31MatchesReferenceTo8192() {
        QTemporaryDir dir;
        RandomModelConfig c = rope_model("llama31");
        c.n_layer = 1;
        c.n_head = 2;
        c.n_head_kv = 1;
        const QString path = test::writeRandomModel(dir, "m", c);
        QVERIFY(!path.isEmpty());
        const int n = 8193;
        std::string err;
        auto ref = test::ReferenceLlama::load(path.toStdString(), err, n);
        QVERIFY2(ref, err.c_str());
        Engine engine;
        auto model = engine.load(path.toStdString(), cpu_options(n, 512));
        QVERIFY2(model.ok(), model.status().message().c_str());
        auto seq = (*model)->create_sequence();
        QVERIFY(seq.ok());
        const auto tokens = test_tokens(n, c.n_vocab, 3);
        std::vector<float> logits;
        QVERIFY((*seq)->eval_all(tokens, &logits).ok());
        double worst = 0;
        int worst_pos = 0;
        for (int i = 0; i < n; ++i) {
            const auto want = ref->step(tokens[static_cast<size_t>(i)]);
            const std::vector<float> got(logits.begin() + static_cast<std::ptrdiff_t>(i) * c.n_vocab,
                                         logits.begin() + static_cast<std::ptrdiff_t>(i + 1) * c.n_vocab);
            const double rel = test::max_abs_diff(got, want) / test::max_abs(want);
            if (rel > worst) { worst = rel; worst_pos = i; }
        }
        QVERIFY2(worst <= 2e-4, qPrintable(QStringLiteral("worst relative diff %1 at position %2").arg(worst).arg(worst_pos)));
    }
};

QTEST_GUILESS_MAIN(TestRope)
#include "tst_rope.moc"
