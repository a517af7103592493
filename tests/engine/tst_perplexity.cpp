// Every token's logits (Sequence::eval_all) and strata-cli perplexity, on stories260K split over
// two CPU stages with small batches: each row eval_all returns equals the logits eval() gives
// for that prefix token by token; rows come only for the tokens passed. The perplexity command
// agrees with perplexity computed here from eval(), is low on the model's own greedy text and
// far higher on the same words shuffled. Skips without ../shared.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <random>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "strata/engine.h"
#include "test_paths.h"
#include "cli_runner.h"

using namespace strata;

namespace {

// The model's published greedy text (tst_stories260k.cpp), enough for several 64-token chunks.
const char* kStory =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she "
    "saw a big, red ball. She wanted to play with it, but it was too high.\n"
    "Lily's mom said, \"Lily, let's go to the park.\" Lily was sad and didn't know what to do. She said, \"I want "
    "to play with your ball, but I can't find it.\"\n";

std::unique_ptr<Model> load(const QString& path, int64_t n_ctx) {
    LoadOptions o;
    std::string err;
    if (!parse_device_specs("cpu,cpu", o.devices, err)) qFatal("%s", err.c_str());
    o.mode = SplitMode::ratios;
    o.ratios = {1.0, 1.0};  // two stages: the rows must come out of the last one
    o.n_ctx = n_ctx;
    o.n_batch = 16;         // several batches per chunk
    o.n_seq = 2;            // a sequence evaluated both ways at once
    o.n_threads = 2;
    Engine engine;
    auto m = engine.load(path.toStdString(), o);
    if (!m.ok()) qFatal("load failed: %s", m.status().message().c_str());
    return std::move(*m);
}

double nll(const std::vector<float>& logits, size_t row, int64_t n_vocab, int32_t target) {
    const float* l = logits.data() + row * static_cast<size_t>(n_vocab);
    double max = *std::max_element(l, l + n_vocab), sum = 0;
    for (int64_t i = 0; i < n_vocab; ++i) sum += std::exp(double(l[i]) - max);
    return std::log(sum) + max - l[target];
}

}  // namespace

class TestPerplexity : public QObject {
    Q_OBJECT
private slots:
    void evalAllMatchesStepByStep() {
        const QString path = test::stories260kPath();
        if (path.isEmpty()) QSKIP("../shared/models/stories260K.gguf is absent: the real-model checks need it");
        auto model = load(path, 128);
        QCOMPARE(model->plan().stages.size(), size_t(2));
        const int64_t n_vocab = model->n_vocab();
        std::vector<int32_t> tokens = model->tokenize(kStory, true);
        tokens.resize(40);
        auto all_seq = model->create_sequence();
        QVERIFY(all_seq.ok());
        Sequence* all = all_seq->get();
        std::vector<float> rows;
        QVERIFY(all->eval_all({tokens.begin(), tokens.begin() + 5}, &rows).ok());
        QCOMPARE(rows.size(), size_t(5 * n_vocab));
        QVERIFY(all->eval_all({tokens.begin() + 5, tokens.end()}, &rows).ok());  // rows of the new tokens only
        QCOMPARE(rows.size(), size_t(35 * n_vocab));
        auto one_seq = model->create_sequence();
        QVERIFY(one_seq.ok());
        Sequence* one = one_seq->get();
        std::vector<float> last;
        for (size_t t = 0; t < tokens.size(); ++t) {
            QVERIFY(one->eval({tokens[t]}, &last).ok());
            if (t < 5) continue;
            const float* row = rows.data() + (t - 5) * size_t(n_vocab);
            float scale = 1, worst = 0;
            for (int64_t i = 0; i < n_vocab; ++i) {
                scale = std::max(scale, std::fabs(last[size_t(i)]));
                worst = std::max(worst, std::fabs(row[i] - last[size_t(i)]));
            }
            QVERIFY2(worst <= 1e-4f * scale, qPrintable(QString("token %1: differs by %2").arg(t).arg(worst)));
        }
    }

    // BOS is prepended only where the model's tokenizer adds one: stories260K as it is, and a
    // copy whose metadata says add_bos_token = false (as Qwen's GGUFs do) gets none.
    void bosOnlyWhereTheTokenizerAddsIt() {
        const QString path = test::stories260kPath();
        if (path.isEmpty()) QSKIP("../shared/models/stories260K.gguf is absent: the real-model checks need it");
        QTemporaryDir dir;
        const std::string copy = dir.filePath("no-bos.gguf").toStdString();
        {
            auto file = gguf::GgufFile::open(path.toStdString());
            QVERIFY(file.ok());
            gguf::GgufWriter w;
            w.copy_metadata_from(**file);
            w.set_bool("tokenizer.ggml.add_bos_token", false);
            for (const gguf::TensorInfo& t : (*file)->tensors())
                QVERIFY(w.add_tensor(t.name, t.type, t.ne, std::vector<uint8_t>(t.data, t.data + t.n_bytes)).ok());
            QVERIFY(w.write(copy).ok());
        }
        auto with = load(path, 64);
        const std::vector<int32_t> a = with->tokenize("Once upon a time", true);
        QVERIFY(!a.empty() && a.front() == with->bos_token());
        Engine engine;
        LoadOptions o;
        o.n_ctx = 64;
        auto without = engine.load(copy, o);
        QVERIFY2(without.ok(), without.status().message().c_str());
        const std::vector<int32_t> b = (*without)->tokenize("Once upon a time", true);
        QCOMPARE(b, std::vector<int32_t>(a.begin() + 1, a.end()));
    }

    void cliPerplexity() {
        const QString path = test::stories260kPath();
        if (path.isEmpty()) QSKIP("../shared/models/stories260K.gguf is absent: the real-model checks need it");
        const QString cli = qEnvironmentVariable("STRATA_CLI");
        if (cli.isEmpty() || !QFileInfo(cli).isExecutable()) QSKIP("STRATA_CLI not set or not built (run through ctest)");
        QTemporaryDir dir;
        const QString story = dir.filePath("story.txt"), shuffled = dir.filePath("shuffled.txt");
        QString text;
        for (int i = 0; i < 3; ++i) text += QString::fromUtf8(kStory);
        QStringList words = text.split(QLatin1Char(' '));
        std::mt19937 rng(5);
        std::shuffle(words.begin(), words.end(), rng);
        for (auto [file, content] : {std::pair{story, text}, std::pair{shuffled, words.join(QLatin1Char(' '))}}) {
            QFile f(file);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(content.toUtf8());
        }
        auto ppl = [&](const QString& file) {
            const strata::test::CliRun r =
                strata::test::runProgram(cli, {"perplexity", "-m", path, "-f", file, "--ctx", "64", "--threads", "2"});
            if (r.code != 0) return -1.0;
            const QString& out = r.out;
            const qsizetype at = out.indexOf(QLatin1String("perplexity: "));
            return at < 0 ? -1.0 : out.mid(at + 12).section(QLatin1Char(' '), 0, 0).toDouble();
        };
        const double own = ppl(story), mixed = ppl(shuffled);
        QVERIFY2(own > 1 && own < 3, qPrintable(QString::number(own)));
        QVERIFY2(mixed > 20 * own, qPrintable(QString::number(mixed)));

        // The same figure from eval(), one token at a time: chunks of 64, BOS first, the second
        // half scored.
        auto model = load(path, 64);
        const std::vector<int32_t> tokens = model->tokenize(text.toStdString(), false);
        double sum = 0;
        int n = 0;
        for (size_t c = 0; (c + 1) * 64 <= tokens.size(); ++c) {
            std::vector<int32_t> chunk(tokens.begin() + long(c * 64), tokens.begin() + long((c + 1) * 64));
            chunk[0] = model->bos_token();
            auto made = model->create_sequence();
            QVERIFY(made.ok());
            Sequence* seq = made->get();
            std::vector<float> last;
            for (size_t j = 0; j + 1 < chunk.size(); ++j) {
                QVERIFY(seq->eval({chunk[j]}, &last).ok());
                if (j >= 32) {
                    sum += nll(last, 0, model->n_vocab(), chunk[j + 1]);
                    ++n;
                }
            }
        }
        QVERIFY(n > 0);
        const double expected = std::exp(sum / n);
        QVERIFY2(std::fabs(own - expected) <= 1e-3 * expected, qPrintable(QString("%1 vs %2").arg(own).arg(expected)));
    }
};

QTEST_GUILESS_MAIN(TestPerplexity)
#include "tst_perplexity.moc"
