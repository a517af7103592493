// load_vocab / read_vocab_data on GGUF files written with GgufWriter: SPM and BPE vocabularies,
// defaults for absent keys, "none" ids, and an error naming the key (and the file) for each kind
// of bad metadata. Skips until the gguf branch (reader and writer) is merged.
#include <QTemporaryDir>
#include <QtTest>

#include <cstdio>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "tokenizer/bpe.h"
#include "tokenizer/vocab_loader.h"
#include "tst_tokenizer_util.h"

// See tst_tokenizer_stories260k.cpp: the reader's implementation ships gguf/mapped_file.h.
#ifndef STRATA_HAVE_GGUF_READER
#if __has_include("gguf/mapped_file.h")
#define STRATA_HAVE_GGUF_READER 1
#else
#define STRATA_HAVE_GGUF_READER 0
#endif
#endif

using namespace strata;

namespace {

#if STRATA_HAVE_GGUF_READER
std::vector<std::string> spm_tokens() {
    std::vector<std::string> t = {"<unk>", "<s>", "</s>"};
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        t.push_back(name);
    }
    for (const char* p : {"\xE2\x96\x81", "h", "i", "hi", "\xE2\x96\x81hi"}) t.push_back(p);
    return t;
}

std::vector<int32_t> spm_types() {
    std::vector<int32_t> t = {2, 3, 3};
    t.insert(t.end(), 256, 6);
    t.insert(t.end(), 5, 1);
    return t;
}

std::vector<float> spm_scores() {
    std::vector<float> s(spm_tokens().size(), 0.0f);
    for (size_t i = 0; i < 5; ++i) s[s.size() - 5 + i] = -5.0f + static_cast<float>(i);  // longer pieces score higher
    return s;
}

// A GGUF with a minimal valid SPM tokenizer (less the keys left out), then `edit` applied.
enum Omit { omit_none = 0, omit_model = 1, omit_tokens = 2 };
Result<std::shared_ptr<const Vocab>> load_written(const QString& path, const std::function<void(gguf::GgufWriter&)>& edit,
                                                  int omit = omit_none) {
    gguf::GgufWriter w;
    w.set_string("general.architecture", "llama");
    if (!(omit & omit_model)) w.set_string("tokenizer.ggml.model", "llama");
    if (!(omit & omit_tokens)) {
        w.set_string_array("tokenizer.ggml.tokens", spm_tokens());
        w.set_f32_array("tokenizer.ggml.scores", spm_scores());
        w.set_i32_array("tokenizer.ggml.token_type", spm_types());
    }
    if (edit) edit(w);
    const Status written = w.write(path.toStdString());
    if (!written.ok()) return written;
    auto file = gguf::GgufFile::open(path.toStdString());
    if (!file.ok()) return file.status();
    return load_vocab(**file);
}
#endif

}  // namespace

class TestTokenizerLoader : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString path() const { return dir_.filePath("vocab.gguf"); }

private slots:
    void initTestCase() {
#if !STRATA_HAVE_GGUF_READER
        QSKIP("GGUF reader not merged yet");
#endif
        QVERIFY(dir_.isValid());
    }

    void spmDefaults() {
#if STRATA_HAVE_GGUF_READER
        auto v = load_written(path(), [](gguf::GgufWriter& w) {
            w.set_u32("tokenizer.ggml.padding_token_id", 0xFFFFFFFFu);  // "none"
        });
        QVERIFY2(v.ok(), v.status().message().c_str());
        const Vocab& vocab = **v;
        QCOMPARE(vocab.kind(), VocabKind::spm);
        QCOMPARE(vocab.n_tokens(), static_cast<int32_t>(spm_tokens().size()));
        QCOMPARE(vocab.bos(), 1);
        QCOMPARE(vocab.eos(), 2);
        QCOMPARE(vocab.unk(), 0);
        QCOMPARE(vocab.pad(), -1);
        QVERIFY(vocab.add_bos() && !vocab.add_eos() && vocab.add_space_prefix());
        QCOMPARE(vocab.encode("hi", true), (std::vector<int32_t>{1, vocab.find_token("\xE2\x96\x81hi")}));
        QCOMPARE(vocab.token_type(5), TokenType::byte);
#endif
    }

    void spmKeys() {
#if STRATA_HAVE_GGUF_READER
        auto v = load_written(path(), [](gguf::GgufWriter& w) {
            w.set_u32("tokenizer.ggml.bos_token_id", 2);
            w.set_i32("tokenizer.ggml.eos_token_id", 1);
            w.set_u32("tokenizer.ggml.eot_token_id", 0);
            w.set_bool("tokenizer.ggml.add_bos_token", false);
            w.set_bool("tokenizer.ggml.add_eos_token", true);
            w.set_bool("tokenizer.ggml.add_space_prefix", false);
        });
        QVERIFY2(v.ok(), v.status().message().c_str());
        const Vocab& vocab = **v;
        QCOMPARE(vocab.bos(), 2);
        QCOMPARE(vocab.eos(), 1);
        QVERIFY(vocab.is_eog(0) && vocab.is_eog(1) && !vocab.is_eog(2));
        QVERIFY(!vocab.add_bos() && vocab.add_eos() && !vocab.add_space_prefix());
        QCOMPARE(vocab.encode("hi", false), (std::vector<int32_t>{vocab.find_token("hi")}));  // no "▁" prefix
#endif
    }

    void bpeFile() {
#if STRATA_HAVE_GGUF_READER
        std::vector<std::string> tokens(tokenizer::byte_symbols().begin(), tokenizer::byte_symbols().end());
        tokens.push_back("hi");
        tokens.push_back("<|endoftext|>");
        tokens.push_back("<|im_end|>");
        std::vector<int32_t> types(tokens.size(), 1);
        types[257] = types[258] = 3;
        gguf::GgufWriter w;
        w.set_string("tokenizer.ggml.model", "gpt2");
        w.set_string("tokenizer.ggml.pre", "qwen2");
        w.set_string_array("tokenizer.ggml.tokens", tokens);
        w.set_i32_array("tokenizer.ggml.token_type", types);
        w.set_string_array("tokenizer.ggml.merges", {"h i"});
        w.set_u32("tokenizer.ggml.eos_token_id", 257);
        QVERIFY(w.write(path().toStdString()).ok());
        auto file = gguf::GgufFile::open(path().toStdString());
        QVERIFY2(file.ok(), file.status().message().c_str());
        auto bpe = load_vocab(**file);
        QVERIFY2(bpe.ok(), bpe.status().message().c_str());
        const Vocab& vocab = **bpe;
        QCOMPARE(vocab.kind(), VocabKind::bpe);
        QCOMPARE(vocab.pre(), std::string("qwen2"));
        QVERIFY(!vocab.add_bos());                 // default for non-llama-bpe BPE
        QCOMPARE(vocab.bos(), -1);
        QVERIFY(vocab.is_eog(257) && vocab.is_eog(258));  // <|im_end|> by its spelling
        QCOMPARE(vocab.encode("hi 42", false), (std::vector<int32_t>{256, ' ', '4', '2'}));  // bytes map to ids 0..255 here
        QCOMPARE(vocab.decode(vocab.encode("hi 42", false)), std::string("hi 42"));
#endif
    }

    void errors_data() {
        QTest::addColumn<int>("which");
        QTest::addColumn<QString>("key");
        QTest::newRow("no model") << 0 << "tokenizer.ggml.model";
        QTest::newRow("model bert") << 1 << "tokenizer.ggml.model";
        QTest::newRow("model not a string") << 2 << "tokenizer.ggml.model";
        QTest::newRow("no tokens") << 3 << "tokenizer.ggml.tokens";
        QTest::newRow("scores length") << 4 << "tokenizer.ggml.scores";
        QTest::newRow("bad token type") << 5 << "tokenizer.ggml.token_type[1]";
        QTest::newRow("bos out of range") << 6 << "tokenizer.ggml.bos_token_id";
        QTest::newRow("gpt2 without merges") << 7 << "tokenizer.ggml.merges";
        QTest::newRow("unknown pre") << 8 << "tokenizer.ggml.pre";
        QTest::newRow("add_bos not bool") << 9 << "tokenizer.ggml.add_bos_token";
        QTest::newRow("eom out of range") << 10 << "eot/eom";
    }
    void errors() {
#if STRATA_HAVE_GGUF_READER
        QFETCH(int, which);
        QFETCH(QString, key);
        const int omit = which == 0 ? omit_model : which == 3 ? omit_tokens : omit_none;
        auto v = load_written(path(), [which](gguf::GgufWriter& w) {
            std::vector<int32_t> types = spm_types();
            switch (which) {
                case 1: w.set_string("tokenizer.ggml.model", "bert"); break;
                case 2: w.set_u32("tokenizer.ggml.model", 1); break;
                case 4: w.set_f32_array("tokenizer.ggml.scores", {0.0f, 1.0f}); break;
                case 5: types[1] = 9; w.set_i32_array("tokenizer.ggml.token_type", types); break;
                case 6: w.set_u32("tokenizer.ggml.bos_token_id", 600); break;
                case 7: w.set_string("tokenizer.ggml.model", "gpt2"); break;
                case 8:
                    w.set_string("tokenizer.ggml.model", "gpt2");
                    w.set_string_array("tokenizer.ggml.merges", {"h i"});
                    w.set_string("tokenizer.ggml.pre", "no-such-pre");
                    break;
                case 9: w.set_string("tokenizer.ggml.add_bos_token", "yes"); break;
                case 10: w.set_u32("tokenizer.ggml.eom_token_id", 100000); break;
                default: break;
            }
        }, omit);
        QVERIFY(!v.ok());
        const QString message = QString::fromStdString(v.status().message());
        QVERIFY2(message.contains(key), qPrintable(message));
        QVERIFY2(message.contains(path()), qPrintable(message));  // the file is named too
#endif
    }
};

QTEST_GUILESS_MAIN(TestTokenizerLoader)
#include "tst_tokenizer_loader.moc"
