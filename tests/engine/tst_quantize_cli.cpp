// `strata-cli quantize` end to end: every mix on a random F32 model (types, file_type, the
// model still loads and generates, Q8_0 agrees with F32), row-length fallbacks listed, IN == OUT
// refused, failed writes leave no OUT, requantization warns, output independent of threads,
// and stories260K at Q8_0 still tells its published story. Runs the strata-cli named by
// $STRATA_CLI (set by CTest); skips without it.
#include <QtTest>

#include <cmath>

#include "gguf/gguf_file.h"
#include "quant/quant_mix.h"
#include "strata/engine.h"
#include "test_models.h"
#include "test_paths.h"
#include "cli_runner.h"

using namespace strata;

Q_DECLARE_METATYPE(strata::TensorType)

namespace {

constexpr int kSteps = 20;
// Q8_0 rounds each weight to ~0.5% of its scale and the matmul rounds activations to 8 bits
// too; through 8 random layers that moves the logits by ~2.6% (relative), which flips the
// top-1 token only where the best two are nearly tied. Measured: 18 of 20 steps agree.
constexpr int kQ8MinAgreement = 16;

using Run = strata::test::CliRun;

Run run_cli(const QString& program, const QStringList& args) {
    strata::test::CliRunOptions o;
    o.timeoutMs = 300000;
    return strata::test::runProgram(program, args, o);
}

RandomModelConfig f32_config() {
    RandomModelConfig c;
    c.n_vocab = 320;
    c.n_embd = 256;
    c.n_layer = 8;  // "more bits" layers: 0, 3, 6, 7
    c.n_head = 4;
    c.n_head_kv = 2;
    c.n_ff = 512;
    c.seed = 2024;
    c.n_threads = 2;
    return c;
}

// Greedy steps from BOS on the CPU: the argmax of each step's logits, and the logits. With
// `forced` the next input is forced[i] (teacher forcing, so one early disagreement does not
// derail the rest).
struct Greedy {
    std::vector<int32_t> tokens;
    std::vector<float> logits;  // (kSteps, n_vocab)
};
Greedy greedy_argmax(const QString& path, const std::vector<int32_t>& forced, QString* error) {
    LoadOptions o;
    std::string err;
    parse_device_specs("cpu", o.devices, err);
    o.n_ctx = 64;
    o.kv_type = KvCacheType::f32;
    o.n_threads = 2;
    Engine engine;
    auto model = engine.load(path.toStdString(), o);
    if (!model.ok()) {
        *error = QString::fromStdString(model.status().message());
        return {};
    }
    auto seq = (*model)->create_sequence();
    std::vector<float> logits;
    Greedy out;
    Status st = (*seq)->eval({(*model)->bos_token()}, &logits);
    for (int i = 0; i < kSteps && st.ok(); ++i) {
        for (float v : logits) {
            if (!std::isfinite(v)) {
                *error = QStringLiteral("non-finite logit at step %1").arg(i);
                return {};
            }
        }
        const auto best = std::max_element(logits.begin(), logits.end()) - logits.begin();
        out.tokens.push_back(static_cast<int32_t>(best));
        out.logits.insert(out.logits.end(), logits.begin(), logits.end());
        st = (*seq)->eval({forced.empty() ? out.tokens.back() : forced[static_cast<size_t>(i)]}, &logits);
    }
    if (!st.ok()) *error = QString::fromStdString(st.message());
    return out;
}

// ‖a − b‖ / ‖b‖ over all logits.
double relative_error(const std::vector<float>& a, const std::vector<float>& b) {
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
        num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
        den += double(b[i]) * b[i];
    }
    return den > 0 ? std::sqrt(num / den) : 1.0;
}

int64_t int_key(const gguf::GgufFile& f, const char* key) {
    auto v = f.get_int(key);
    return v.ok() && v->has_value() ? **v : -1;
}

QByteArray file_bytes(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

}  // namespace

class TestQuantizeCli : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString cli_, f32_;
    Greedy ref_;  // the F32 model's greedy run

    Run run(const QStringList& args) { return run_cli(cli_, args); }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        cli_ = qEnvironmentVariable("STRATA_CLI");
        if (cli_.isEmpty() || !QFileInfo(cli_).isExecutable()) QSKIP("STRATA_CLI not set or not built (run through ctest)");
        QString err;
        f32_ = test::writeRandomModel(dir_, "f32", f32_config(), &err);
        QVERIFY2(!f32_.isEmpty(), qPrintable(err));
        ref_ = greedy_argmax(f32_, {}, &err);
        QVERIFY2(ref_.tokens.size() == size_t(kSteps), qPrintable(err));
    }

    // Each mix: exit 0, the expected types for representative tensors (8 layers, n_gqa 2, all
    // rows fit every block), every tensor as the mix rule says, file_type, and the model runs.
    void eachMix_data() {
        QTest::addColumn<QString>("mix");
        QTest::addColumn<QList<TensorType>>("types");  // output, blk.0.attn_v, blk.1.attn_v,
                                                       // blk.1.ffn_down, blk.1.attn_q, token_embd
        // Bound on the logits' relative error against F32 (about 1.6x what was measured: 0 for
        // F32, 0.0007 F16, 0.006 BF16, 0.026 Q8_0, 0.07 Q6_K, 0.12-0.15 5-bit, 0.23-0.27 4-bit,
        // 0.34-0.49 3-bit, 0.63 Q2_K); unrelated logits would be ~1.4.
        QTest::addColumn<double>("maxError");
        using T = TensorType;
        auto row = [](const char* m, QList<T> t) {
            const QString name(m);
            const double bound = name == "F32" ? 0.0 : name == "F16" ? 0.002 : name == "BF16" ? 0.01
                               : name == "Q8_0" ? 0.045 : name == "Q6_K" ? 0.11 : name.startsWith("Q5") ? 0.24
                               : name.startsWith("Q4") ? 0.44 : name.startsWith("Q3") ? 0.78 : 1.0;
            QTest::newRow(m) << name << t << bound;
        };
        row("F32", {T::F32, T::F32, T::F32, T::F32, T::F32, T::F32});
        row("F16", {T::F16, T::F16, T::F16, T::F16, T::F16, T::F16});
        row("BF16", {T::BF16, T::BF16, T::BF16, T::BF16, T::BF16, T::BF16});
        row("Q8_0", {T::Q8_0, T::Q8_0, T::Q8_0, T::Q8_0, T::Q8_0, T::Q8_0});
        row("Q6_K", {T::Q6_K, T::Q6_K, T::Q6_K, T::Q6_K, T::Q6_K, T::Q6_K});
        row("Q5_K_M", {T::Q6_K, T::Q6_K, T::Q5_K, T::Q5_K, T::Q5_K, T::Q5_K});
        row("Q5_K_S", {T::Q6_K, T::Q5_K, T::Q5_K, T::Q5_K, T::Q5_K, T::Q5_K});
        row("Q5_1", {T::Q6_K, T::Q5_1, T::Q5_1, T::Q5_1, T::Q5_1, T::Q5_1});
        row("Q5_0", {T::Q6_K, T::Q5_0, T::Q5_0, T::Q5_0, T::Q5_0, T::Q5_0});
        row("Q4_K_M", {T::Q6_K, T::Q6_K, T::Q4_K, T::Q4_K, T::Q4_K, T::Q4_K});
        row("Q4_K_S", {T::Q6_K, T::Q5_K, T::Q5_K, T::Q4_K, T::Q4_K, T::Q4_K});
        row("Q4_1", {T::Q6_K, T::Q4_1, T::Q4_1, T::Q4_1, T::Q4_1, T::Q4_1});
        row("Q4_0", {T::Q6_K, T::Q4_0, T::Q4_0, T::Q4_0, T::Q4_0, T::Q4_0});
        row("Q3_K_L", {T::Q6_K, T::Q5_K, T::Q5_K, T::Q5_K, T::Q3_K, T::Q3_K});
        row("Q3_K_M", {T::Q6_K, T::Q5_K, T::Q5_K, T::Q4_K, T::Q3_K, T::Q3_K});
        row("Q3_K_S", {T::Q6_K, T::Q3_K, T::Q3_K, T::Q3_K, T::Q3_K, T::Q3_K});
        row("Q2_K", {T::Q6_K, T::Q3_K, T::Q3_K, T::Q3_K, T::Q2_K, T::Q2_K});
    }
    void eachMix() {
        QFETCH(QString, mix);
        QFETCH(QList<TensorType>, types);
        QFETCH(double, maxError);
        const QString out = dir_.filePath("mix_" + mix + ".gguf");
        const Run r = run({"quantize", f32_, out, mix.toLower(), "--threads", "2"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(r.out.contains("fallbacks: none"));
        QVERIFY2(!r.err.contains("warning"), qPrintable(r.err));

        auto f = gguf::GgufFile::open(out.toStdString());
        QVERIFY2(f.ok(), f.status().message().c_str());
        const auto m = quant::find_quant_mix(mix.toStdString());
        QCOMPARE(int_key(**f, "general.file_type"), int64_t(m->file_type));
        QCOMPARE(int_key(**f, "general.quantization_version"), int64_t(2));
        QCOMPARE(int_key(**f, "llama.block_count"), int64_t(8));  // metadata kept
        QCOMPARE((*f)->get_string_array("tokenizer.ggml.tokens")->value().size(), size_t(320));
        const char* names[] = {"output.weight", "blk.0.attn_v.weight", "blk.1.attn_v.weight",
                               "blk.1.ffn_down.weight", "blk.1.attn_q.weight", "token_embd.weight"};
        for (int i = 0; i < 6; ++i) {
            const auto* t = (*f)->find_tensor(names[i]);
            QVERIFY(t);
            QVERIFY2(t->type == types[i], qPrintable(QStringLiteral("%1 is %2, expected %3")
                                                         .arg(names[i], tensor_type_name(t->type),
                                                              tensor_type_name(types[i]))));
        }
        for (const auto& t : (*f)->tensors()) {
            quant::TensorSite site;
            site.name = t.name;
            site.n_dims = static_cast<int>(t.ne.size());
            site.row_length = t.ne[0];
            site.n_layer = 8;
            site.n_gqa = 2;
            const TensorType want = quant::choose_tensor_type(*m, site).type;
            QVERIFY2(t.type == want, t.name.c_str());
            if (t.ne.size() == 1) QCOMPARE(t.type, TensorType::F32);
        }

        QString err;
        const Greedy got = greedy_argmax(out, ref_.tokens, &err);
        QVERIFY2(got.tokens.size() == size_t(kSteps), qPrintable(err));
        int agree = 0;
        for (int i = 0; i < kSteps; ++i) agree += got.tokens[size_t(i)] == ref_.tokens[size_t(i)];
        const double rel = relative_error(got.logits, ref_.logits);
        qInfo("%s: top-1 agrees with F32 on %d of %d teacher-forced greedy steps; logits' relative error %.4f",
              qPrintable(mix), agree, kSteps, rel);
        QVERIFY2(rel <= maxError, qPrintable(QStringLiteral("relative error %1 > %2").arg(rel).arg(maxError)));
        if (mix == "F32") QCOMPARE(agree, kSteps);  // a lossless rewrite (rel is exactly 0 too)
        if (mix == "Q8_0") QVERIFY(agree >= kQ8MinAgreement);
    }

    // Rows that the wanted block does not divide fall back and are listed: ffn_down rows of 172
    // fit no block (F16); rows of 160 fit 32-blocks (Q4_K → Q5_0, Q6_K → Q8_0).
    void fallbacksListed_data() {
        QTest::addColumn<int>("nFf");
        QTest::addColumn<TensorType>("plain");  // ffn_down of layer 1 (not a "more bits" layer)
        QTest::addColumn<TensorType>("more");   // ffn_down of layer 0 (Q6_K wanted)
        QTest::newRow("172 (stories260K)") << 172 << TensorType::F16 << TensorType::F16;
        QTest::newRow("160") << 160 << TensorType::Q5_0 << TensorType::Q8_0;
    }
    void fallbacksListed() {
        QFETCH(int, nFf);
        QFETCH(TensorType, plain);
        QFETCH(TensorType, more);
        RandomModelConfig c = f32_config();
        c.n_ff = nFf;
        QString err;
        const QString in = test::writeRandomModel(dir_, QStringLiteral("ff%1").arg(nFf), c, &err);
        QVERIFY2(!in.isEmpty(), qPrintable(err));
        const QString out = dir_.filePath(QStringLiteral("ff%1_q4km.gguf").arg(nFf));
        const Run r = run({"quantize", in, out, "Q4_K_M"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("fallbacks: 8 tensors"), qPrintable(r.out));
        for (int il = 0; il < 8; ++il) {
            const TensorType want = quant::use_more_bits(il, 8) ? more : plain;
            const QRegularExpression line(QStringLiteral("\\n  blk\\.%1\\.ffn_down\\.weight +row %2 +Q[46]_K -> %3\\n")
                                              .arg(il).arg(nFf).arg(tensor_type_name(want)));
            QVERIFY2(r.out.contains(line), qPrintable(r.out));
        }
        QVERIFY(!r.out.contains("ffn_up"));  // rows of 256 fit
        auto f = gguf::GgufFile::open(out.toStdString());
        QVERIFY(f.ok());
        QCOMPARE((*f)->find_tensor("blk.1.ffn_down.weight")->type, plain);
        QCOMPARE((*f)->find_tensor("blk.0.ffn_down.weight")->type, more);
        QCOMPARE((*f)->find_tensor("blk.1.ffn_up.weight")->type, TensorType::Q4_K);
        QVERIFY2(greedy_argmax(out, {}, &err).tokens.size() == size_t(kSteps), qPrintable(err));
    }

    void progressOnStderr() {
        const QString out = dir_.filePath("progress.gguf");
        const Run r = run({"quantize", f32_, out, "Q4_0"});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.err.contains(QRegularExpression("\\[ *1/\\d+\\] token_embd\\.weight +256x320 +F32 -> Q4_0 .*MB/s")),
                 qPrintable(r.err));
        QVERIFY(r.err.contains(QRegularExpression("blk\\.0\\.attn_norm\\.weight +256 +F32 -> F32 +copied")));
        QVERIFY(r.out.contains(QRegularExpression("size: [0-9.]+ MiB -> [0-9.]+ MiB")));
        QVERIFY(r.out.contains(QRegularExpression("bits per weight: 32\\.\\d\\d -> [45]\\.\\d\\d")));
    }

    // Rows are converted independently, so the thread count cannot change a byte.
    void outputIndependentOfThreads() {
        const QString a = dir_.filePath("t1.gguf"), b = dir_.filePath("t2.gguf");
        QCOMPARE(run({"quantize", f32_, a, "Q4_K_M", "--threads", "1"}).code, 0);
        QCOMPARE(run({"quantize", f32_, b, "Q4_K_M", "--threads", "3"}).code, 0);
        const QByteArray ba = file_bytes(a);
        QVERIFY(ba.size() > 100000);
        QVERIFY(ba == file_bytes(b));
    }

    void requantizeWarns() {
        const QString q8 = dir_.filePath("rq8.gguf"), q4 = dir_.filePath("rq4.gguf");
        QCOMPARE(run({"quantize", f32_, q8, "Q8_0"}).code, 0);
        const Run r = run({"quantize", q8, q4, "Q4_K_M"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.err.startsWith("warning: ") && r.err.contains("already quantized (Q8_0)"), qPrintable(r.err));
        QString err;
        QVERIFY2(greedy_argmax(q4, {}, &err).tokens.size() == size_t(kSteps), qPrintable(err));
    }

    void sameFileRefused_data() {
        QTest::addColumn<QString>("outSpelling");
        QTest::newRow("same path") << "%1/f32.gguf";
        QTest::newRow("other spelling") << "%1/./sub/../f32.gguf";
    }
    void sameFileRefused() {
        QFETCH(QString, outSpelling);
        QVERIFY(QDir(dir_.path()).mkpath("sub"));
        const QByteArray before = file_bytes(f32_);
        const Run r = run({"quantize", f32_, outSpelling.arg(dir_.path()), "Q8_0"});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.startsWith("error: ") && r.err.count('\n') == 1 && r.err.contains("input file"),
                 qPrintable(r.err));
        QVERIFY(file_bytes(f32_) == before);
    }

    // Creating the output fails (missing folder, a file where a folder should be), or writing
    // fails part-way (a file size limit, EFBIG): exit 1, one error line, no OUT or OUT.partial,
    // and an OUT that existed before is untouched.
    void failedWriteLeavesNoOutput_data() {
        QTest::addColumn<QString>("out");
        QTest::addColumn<bool>("sizeLimit");
        QTest::newRow("missing folder") << "missing/out.gguf" << false;
        QTest::newRow("file as folder") << "f32.gguf/out.gguf" << false;
        QTest::newRow("size limit mid-write") << "limited.gguf" << true;
    }
    void failedWriteLeavesNoOutput() {
        QFETCH(QString, out);
        QFETCH(bool, sizeLimit);
        const QString path = dir_.filePath(out);
        Run r;
        if (sizeLimit) {
            {
                QFile old(path);
                QVERIFY(old.open(QIODevice::WriteOnly));
                old.write("previous contents");
            }
            // Ignore SIGXFSZ (inherited through exec) so the write returns EFBIG instead.
            r = run_cli("/bin/sh", {"-c", "trap '' XFSZ; ulimit -f 200; exec \"$0\" quantize \"$1\" \"$2\" Q8_0", cli_,
                                    f32_, path});
        } else {
            r = run({"quantize", f32_, path, "Q8_0"});
        }
        QCOMPARE(r.code, 1);
        const QString last = r.err.trimmed().split('\n').last();
        QVERIFY2(last.startsWith("error: ") && last.contains(".partial"), qPrintable(r.err));
        QVERIFY(!QFileInfo::exists(path + ".partial"));
        if (sizeLimit) {
            QVERIFY2(r.err.contains(QRegularExpression("\\[ *1/")), "the failure happened before any tensor was written");
            QCOMPARE(file_bytes(path), QByteArray("previous contents"));
        } else {
            QVERIFY(!QFileInfo::exists(path));
        }
    }

    // llama.cpp's bare K-quant names mean its _M mixes: the file is the _M mix's, byte for byte.
    void bareKQuantNamesMeanTheMediumMix_data() {
        QTest::addColumn<QString>("alias");
        QTest::addColumn<QString>("mix");
        QTest::newRow("Q3_K") << "Q3_K" << "Q3_K_M";
        QTest::newRow("q4_k") << "q4_k" << "Q4_K_M";
        QTest::newRow("Q5_K") << "Q5_K" << "Q5_K_M";
    }
    void bareKQuantNamesMeanTheMediumMix() {
        QFETCH(QString, alias);
        QFETCH(QString, mix);
        const QString viaAlias = dir_.filePath("alias_" + alias + ".gguf");
        const QString viaName = dir_.filePath("name_" + alias + ".gguf");
        const Run a = run({"quantize", f32_, viaAlias, alias, "--threads", "2"});
        QVERIFY2(a.code == 0, qPrintable(a.err));
        QVERIFY2(a.out.contains(mix), qPrintable(a.out));  // the summary names the mix it chose
        const Run n = run({"quantize", f32_, viaName, mix, "--threads", "2"});
        QVERIFY2(n.code == 0, qPrintable(n.err));
        QVERIFY2(file_bytes(viaAlias) == file_bytes(viaName), "the alias wrote another file than the mix it names");
    }

    void usageErrors_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("message");
        QTest::newRow("no arguments") << QStringList{"quantize"} << 2 << "usage:";
        QTest::newRow("unknown type") << QStringList{"quantize", "a.gguf", "b.gguf", "Q4_K_X"} << 2 << "'Q4_K_X'";
        QTest::newRow("bad threads") << QStringList{"quantize", "a.gguf", "b.gguf", "Q8_0", "--threads", "0"} << 2
                                     << "--threads";
        QTest::newRow("unknown option") << QStringList{"quantize", "a.gguf", "b.gguf", "Q8_0", "--fast"} << 2
                                        << "--fast";
        QTest::newRow("missing input") << QStringList{"quantize", "/nonexistent/a.gguf", "b.gguf", "Q8_0"} << 1
                                       << "/nonexistent/a.gguf";
    }
    void usageErrors() {
        QFETCH(QStringList, args);
        QFETCH(int, code);
        QFETCH(QString, message);
        const Run r = run(args);
        QCOMPARE(r.code, code);
        QVERIFY2(r.err.contains(message), qPrintable(r.err));
        if (code == 1) QCOMPARE(r.err.count('\n'), 1);
    }

    // The real model at Q8_0 (its 172-wide ffn_down falls back to F16) still tells the story its
    // author published, for at least the first 20 greedy tokens.
    void stories260kQ8StillTellsItsStory() {
        const QString src = test::stories260kPath();
        if (src.isEmpty()) QSKIP("../shared/models/stories260K.gguf is absent");
        const QString out = dir_.filePath("stories_q8.gguf");
        const Run r = run({"quantize", src, out, "Q8_0"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains(QRegularExpression("blk\\.0\\.ffn_down\\.weight +row 172 +Q8_0 -> F16")), qPrintable(r.out));
        LoadOptions o;
        std::string err;
        parse_device_specs("cpu", o.devices, err);
        o.n_ctx = 64;
        o.n_threads = 2;
        Engine engine;
        auto model = engine.load(out.toStdString(), o);
        QVERIFY2(model.ok(), model.status().message().c_str());
        auto seq = (*model)->create_sequence();
        GenerateParams g;
        g.sampler.temperature = 0;
        g.sampler.repeat_penalty = 1.0f;
        g.max_tokens = kSteps;
        g.stop_at_eos = false;
        std::string text;
        auto stats = (*seq)->generate({(*model)->bos_token()}, g, [&](std::string_view t) { text += t; });
        QVERIFY2(stats.ok(), stats.status().message().c_str());
        QCOMPARE(stats->n_generated, kSteps);
        const std::string published =
            "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she "
            "saw a big, red ball.";
        QVERIFY2(text.size() >= 40 && published.compare(0, text.size(), text) == 0, text.c_str());
    }
};

QTEST_GUILESS_MAIN(TestQuantizeCli)
#include "tst_quantize_cli.moc"
