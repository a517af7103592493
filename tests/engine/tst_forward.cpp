// The engine's forward pass against a double-precision reference written in the test
// (tests/common/reference_llama.cpp), on seeded random models of each architecture; and batched
// prefill against token-by-token decoding.
#include <QtTest>

#include <algorithm>

#include "isa_scope.h"
#include "reference_llama.h"
#include "strata/engine.h"
#include "test_models.h"
#include "util/cpu_features.h"

using namespace strata;

namespace {

// Tolerances, relative to the largest |logit|:
//  - F32/F16 weights with an F32 KV cache: float32 arithmetic over a few hundred terms, ~1e-6
//    per op; 2e-4 leaves room for accumulation order and transcendental differences.
//  - an F16 KV cache rounds K and V to 11 significant bits (~5e-4 relative); after softmax and
//    a few layers, 1e-2 bounds it with margin while still catching any indexing error (which
//    gives O(1) differences).
//  - BF16 weights where the CPU runs vdpbf16ps (level avx512_bf16 with STRATA_CPU_BF16_DOTS=1,
//    util/cpu_features.h; the "bf16 dots" row turns it on): every
//    matmul rounds its activations to BF16 (8 significant bits, <= 2^-8 relative each); on this
//    model the logits then differ by up to ~7e-3 (measured), so 2e-2, still far below an
//    indexing error's O(1). Below that level BF16 weights take the F32 route (kTolF32Kv).
constexpr double kTolF32Kv = 2e-4;
constexpr double kTolF16Kv = 1e-2;
constexpr double kTolBf16Dots = 2e-2;

LoadOptions cpu_options(KvCacheType kv, int64_t n_ctx = 64, int64_t n_batch = 64) {
    return test::cpuLoadOptions(kv, n_ctx, n_batch);
}

std::vector<int32_t> test_tokens(int n, int n_vocab, uint32_t seed) { return test::seededTokens(n, n_vocab, seed); }

}  // namespace

class TestForward : public QObject {
    Q_OBJECT
private slots:
    void matchesReference_data() {
        QTest::addColumn<QString>("arch");
        QTest::addColumn<int>("weightType");
        QTest::addColumn<bool>("tied");
        QTest::addColumn<int>("headDim");
        QTest::addColumn<int>("kvType");
        QTest::addColumn<bool>("bf16Dots");  // STRATA_CPU_BF16_DOTS=1 (util/cpu_features.h)
        QTest::newRow("llama f32 f32kv") << "llama" << int(TensorType::F32) << false << 0 << int(KvCacheType::f32) << false;
        QTest::newRow("llama f16 tied f32kv") << "llama" << int(TensorType::F16) << true << 0 << int(KvCacheType::f32) << false;
        QTest::newRow("llama f32 f16kv") << "llama" << int(TensorType::F32) << false << 0 << int(KvCacheType::f16) << false;
        QTest::newRow("qwen2 f32 f32kv") << "qwen2" << int(TensorType::F32) << false << 0 << int(KvCacheType::f32) << false;
        QTest::newRow("qwen3 head_dim 32 f32kv") << "qwen3" << int(TensorType::F32) << false << 32 << int(KvCacheType::f32) << false;
        QTest::newRow("llama bf16 f32kv") << "llama" << int(TensorType::BF16) << false << 0 << int(KvCacheType::f32) << false;
        QTest::newRow("llama bf16 f32kv bf16 dots") << "llama" << int(TensorType::BF16) << false << 0
                                                    << int(KvCacheType::f32) << true;
    }
    void matchesReference() {
        QFETCH(QString, arch);
        QFETCH(int, weightType);
        QFETCH(bool, tied);
        QFETCH(int, headDim);
        QFETCH(int, kvType);
        QFETCH(bool, bf16Dots);
        // The vdpbf16ps route is opt-in (it runs only where the CPU has AVX512-BF16).
        const strata::test::Bf16DotsScope dots(bf16Dots);
        QTemporaryDir dir;
        RandomModelConfig c;
        c.arch = arch.toStdString();
        c.n_vocab = 300;
        c.n_embd = 64;
        c.n_layer = 3;
        c.n_head = 4;
        c.n_head_kv = 2;
        c.head_dim = headDim;
        c.n_ff = 96;
        c.tied_output = tied;
        c.weight_type = static_cast<TensorType>(weightType);
        c.seed = 1234;
        QString err;
        const QString path = test::writeRandomModel(dir, "m", c, &err);
        QVERIFY2(!path.isEmpty(), qPrintable(err));

        std::string ref_err;
        auto ref = test::ReferenceLlama::load(path.toStdString(), ref_err);
        QVERIFY2(ref, ref_err.c_str());
        Engine engine;
        auto model = engine.load(path.toStdString(), cpu_options(static_cast<KvCacheType>(kvType)));
        QVERIFY2(model.ok(), model.status().message().c_str());
        auto seq = (*model)->create_sequence();
        QVERIFY(seq.ok());

        double tol = kvType == int(KvCacheType::f32) ? kTolF32Kv : kTolF16Kv;
        if (static_cast<TensorType>(weightType) == TensorType::BF16 && cpu_isa() >= CpuIsa::avx512_bf16 &&
            cpu_bf16_dots())
            tol = std::max(tol, kTolBf16Dots);
        const auto tokens = test_tokens(20, c.n_vocab, 7);
        std::vector<float> logits;
        for (size_t i = 0; i < tokens.size(); ++i) {
            QVERIFY((*seq)->eval({tokens[i]}, &logits).ok());
            const auto want = ref->step(tokens[i]);
            const double scale = test::max_abs(want);
            QVERIFY(scale > 0.1);  // a dead model would make the comparison vacuous
            const double diff = test::max_abs_diff(logits, want);
            QVERIFY2(diff <= tol * scale, qPrintable(QStringLiteral("position %1: max diff %2 > %3 × %4")
                                                          .arg(i).arg(diff).arg(tol).arg(scale)));
        }
    }

    // A prompt processed as one batch (matrix-matrix work) gives the same last logits as the
    // same prompt fed one token at a time, and chunking by n_batch does not change them.
    void batchedPrefillMatchesDecode_data() {
        QTest::addColumn<int>("batch");
        QTest::newRow("one batch") << 64;
        QTest::newRow("chunks of 7") << 7;
    }
    void batchedPrefillMatchesDecode() {
        QFETCH(int, batch);
        QTemporaryDir dir;
        RandomModelConfig c;
        c.n_vocab = 300;
        c.n_embd = 64;
        c.n_layer = 2;
        c.n_head = 4;
        c.n_head_kv = 4;
        c.n_ff = 128;
        c.weight_type = TensorType::F16;
        c.seed = 99;
        const QString path = test::writeRandomModel(dir, "m", c);
        QVERIFY(!path.isEmpty());
        Engine engine;
        auto model = engine.load(path.toStdString(), cpu_options(KvCacheType::f32, 64, batch));
        QVERIFY2(model.ok(), model.status().message().c_str());
        auto a = (*model)->create_sequence();
        QVERIFY(a.ok());
        const auto tokens = test_tokens(40, c.n_vocab, 3);
        std::vector<float> batched, stepped;
        QVERIFY((*a)->eval(tokens, &batched).ok());
        (*a)->truncate(0);
        for (int32_t t : tokens) QVERIFY((*a)->eval({t}, &stepped).ok());
        double diff = 0, scale = 0;
        for (size_t i = 0; i < batched.size(); ++i) {
            diff = std::max(diff, double(std::fabs(batched[i] - stepped[i])));
            scale = std::max(scale, double(std::fabs(stepped[i])));
        }
        QVERIFY(scale > 0.1);
        QVERIFY2(diff <= kTolF32Kv * scale, qPrintable(QStringLiteral("diff %1 scale %2").arg(diff).arg(scale)));
    }

    void rejectsOutOfVocabularyTokens() {
        QTemporaryDir dir;
        RandomModelConfig c;
        c.n_vocab = 300;
        const QString path = test::writeRandomModel(dir, "m", c);
        Engine engine;
        auto model = engine.load(path.toStdString(), cpu_options(KvCacheType::f16));
        QVERIFY(model.ok());
        auto seq = (*model)->create_sequence();
        std::vector<float> logits;
        const Status st = (*seq)->eval({1, 300}, &logits);
        QVERIFY(!st.ok());
        QVERIFY(st.message().find("300") != std::string::npos);
        QVERIFY((*seq)->tokens().empty());  // nothing half-applied
        QVERIFY((*seq)->eval({1, 5}, &logits).ok());  // and the sequence still works
    }
};

QTEST_GUILESS_MAIN(TestForward)
#include "tst_forward.moc"
