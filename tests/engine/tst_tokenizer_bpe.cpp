// Byte-level BPE: GPT-2's byte↔unicode table, merges by rank (priority queue) against a naive
// reference with merges "trained" on seeded random text, llama3's whole-word rule, special
// tokens, round trips and a 100 KB run.
#include <QElapsedTimer>
#include <QtTest>

#include <map>
#include <set>

#include "tokenizer/bpe.h"
#include "tokenizer/pretokenizer.h"
#include "tst_tokenizer_util.h"

using namespace strata;
using strata::test::qbytes;

namespace {

// GPT-2's table, written out independently of the engine: printable Latin-1 bytes stand for
// themselves, the other 68 take U+0100.. in byte order.
uint32_t ref_byte_to_cp(int b) {
    const auto printable = [](int x) { return (x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255); };
    if (printable(b)) return static_cast<uint32_t>(b);
    int k = 0;
    for (int x = 0; x < b; ++x) k += printable(x) ? 0 : 1;
    return 256u + static_cast<uint32_t>(k);
}

std::string map_bytes(std::string_view raw) {
    std::string out;
    for (char ch : raw) unicode::append_utf8(out, ref_byte_to_cp(static_cast<uint8_t>(ch)));
    return out;
}

// The mapped string's characters, one symbol each.
std::vector<std::string> mapped_chars(const std::string& mapped) {
    std::vector<std::string> out;
    for (size_t pos = 0; pos < mapped.size();) {
        const size_t len = unicode::utf8_step(mapped, pos).len;
        out.push_back(mapped.substr(pos, len));
        pos += len;
    }
    return out;
}

// Tokens: the 256 byte symbols (id = byte), then each merge's result in merge order.
VocabData bpe_vocab(const std::vector<std::string>& merges, const std::string& pre = "gpt2") {
    VocabData d;
    d.kind = VocabKind::bpe;
    d.pre = pre;
    d.add_bos = false;
    std::set<std::string> seen;
    for (int b = 0; b < 256; ++b) {
        d.tokens.push_back(map_bytes(std::string(1, static_cast<char>(b))));
        seen.insert(d.tokens.back());
    }
    for (const std::string& m : merges) {
        const size_t sp = m.find(' ');
        const std::string joined = m.substr(0, sp) + m.substr(sp + 1);
        if (seen.insert(joined).second) d.tokens.push_back(joined);
    }
    d.types.assign(d.tokens.size(), TokenType::normal);
    d.merges = merges;
    return d;
}

std::shared_ptr<const Vocab> make(VocabData d) {
    auto v = Vocab::create(std::move(d));
    if (!v.ok()) qFatal("Vocab::create failed: %s", v.status().message().c_str());
    return *v;
}

// Naive reference: per pre-token piece, repeatedly merge the lowest-ranked adjacent pair
// (leftmost on ties) by scanning every pair. With ignore_merges (llama3) a piece that is itself a
// token is taken whole first.
std::vector<int32_t> reference_encode(const VocabData& d, std::string_view text) {
    std::map<std::string, int32_t> id_of, rank_of;
    for (size_t i = 0; i < d.tokens.size(); ++i) id_of.try_emplace(d.tokens[i], static_cast<int32_t>(i));
    for (size_t r = 0; r < d.merges.size(); ++r) rank_of.try_emplace(d.merges[r], static_cast<int32_t>(r));
    const tokenizer::PreTokenizer& pre = *tokenizer::pre_tokenizer_from_name(d.pre);
    std::vector<int32_t> ids;
    for (std::string_view piece : tokenizer::pre_tokenize(pre, text)) {
        const std::string mapped = map_bytes(piece);
        if (pre.ignore_merges() && id_of.count(mapped)) {
            ids.push_back(id_of[mapped]);
            continue;
        }
        std::vector<std::string> sym = mapped_chars(mapped);
        for (;;) {
            int best = -1, best_rank = 0;
            for (size_t i = 0; i + 1 < sym.size(); ++i) {
                const auto it = rank_of.find(sym[i] + " " + sym[i + 1]);
                if (it != rank_of.end() && (best < 0 || it->second < best_rank)) {
                    best = static_cast<int>(i);
                    best_rank = it->second;
                }
            }
            if (best < 0) break;
            sym[best] += sym[best + 1];
            sym.erase(sym.begin() + best + 1);
        }
        for (const std::string& s : sym) ids.push_back(id_of.at(s));
    }
    return ids;
}

// Merges learned from seeded random text the way BPE training does: repeatedly merge the most
// frequent adjacent pair (ties: smallest pair), so the merges chain into longer pieces.
std::vector<std::string> train_merges(std::mt19937& rng, size_t n_merges) {
    std::vector<std::vector<std::string>> words;
    for (int i = 0; i < 300; ++i) {
        const std::string text = test::random_text(rng, test::mixed_alphabet(), 12);
        for (std::string_view w : tokenizer::pre_tokenize(*tokenizer::pre_tokenizer_from_name("gpt2"), text))
            words.push_back(mapped_chars(map_bytes(w)));
    }
    std::vector<std::string> merges;
    while (merges.size() < n_merges) {
        std::map<std::pair<std::string, std::string>, int> count;
        for (const auto& w : words)
            for (size_t i = 0; i + 1 < w.size(); ++i) ++count[{w[i], w[i + 1]}];
        if (count.empty()) break;
        auto best = count.begin();
        for (auto it = count.begin(); it != count.end(); ++it)
            if (it->second > best->second) best = it;
        merges.push_back(best->first.first + " " + best->first.second);
        for (auto& w : words) {
            for (size_t i = 0; i + 1 < w.size(); ++i) {
                if (w[i] == best->first.first && w[i + 1] == best->first.second) {
                    w[i] += w[i + 1];
                    w.erase(w.begin() + static_cast<std::ptrdiff_t>(i) + 1);
                }
            }
        }
    }
    return merges;
}

}  // namespace

class TestTokenizerBpe : public QObject {
    Q_OBJECT
private slots:
    void byteTable() {
        std::set<uint32_t> seen;
        for (int b = 0; b < 256; ++b) {
            const uint32_t cp = tokenizer::byte_to_codepoint(static_cast<uint8_t>(b));
            QCOMPARE(cp, ref_byte_to_cp(b));
            QCOMPARE(tokenizer::codepoint_to_byte(cp), b);
            QCOMPARE(qbytes(tokenizer::byte_symbols()[b]), qbytes(map_bytes(std::string(1, static_cast<char>(b)))));
            seen.insert(cp);
        }
        QCOMPARE(seen.size(), size_t(256));
        QCOMPARE(tokenizer::byte_to_codepoint(' '), 0x120u);   // "Ġ"
        QCOMPARE(tokenizer::byte_to_codepoint('\n'), 0x10Au);  // "Ċ"
        QCOMPARE(tokenizer::byte_to_codepoint('A'), uint32_t('A'));
        QCOMPARE(tokenizer::codepoint_to_byte(0x20), -1);       // a raw space is not in the table
        QCOMPARE(tokenizer::codepoint_to_byte(0x144), -1);
    }

    void mergesByRank_data() {
        QTest::addColumn<QStringList>("merges");
        QTest::addColumn<QString>("pre");
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QStringList>("pieces");
        QTest::newRow("lower rank first") << QStringList{"b c", "a b"} << "gpt2" << QByteArray("abc") << QStringList{"a", "bc"};
        QTest::newRow("order flipped") << QStringList{"a b", "b c"} << "gpt2" << QByteArray("abc") << QStringList{"ab", "c"};
        QTest::newRow("chain") << QStringList{"a b", "b c", "ab c"} << "gpt2" << QByteArray("abc") << QStringList{"abc"};
        QTest::newRow("tie leftmost") << QStringList{"a a"} << "gpt2" << QByteArray("aaa") << QStringList{"aa", "a"};
        QTest::newRow("doubling") << QStringList{"a a", "aa aa"} << "gpt2" << QByteArray("aaaaa") << QStringList{"aaaa", "a"};
        const QStringList hello{"l l", "H e", "ll o", "He llo", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld"};
        QTest::newRow("words") << hello << "gpt2" << QByteArray("Hello world") << QStringList{"Hello", "Ġworld"};
        QTest::newRow("no merge across pieces") << hello << "gpt2" << QByteArray("Hel lo") << QStringList{"He", "l", "Ġ", "l", "o"};
        QTest::newRow("two-byte char") << QStringList{"Ã ©"} << "gpt2" << QByteArray("caf\xC3\xA9") << QStringList{"c", "a", "f", "Ã©"};
        QTest::newRow("llama3 whole piece") << QStringList{"a b"} << "llama-bpe" << QByteArray("abc") << QStringList{"abc"};
        QTest::newRow("gpt2 no whole piece") << QStringList{"a b"} << "gpt2" << QByteArray("abc") << QStringList{"ab", "c"};
        QTest::newRow("qwen2 digits") << QStringList{"1 2"} << "qwen2" << QByteArray("a12") << QStringList{"a", "1", "2"};
    }
    void mergesByRank() {
        QFETCH(QStringList, merges);
        QFETCH(QString, pre);
        QFETCH(QByteArray, text);
        QFETCH(QStringList, pieces);
        std::vector<std::string> m;
        for (const QString& s : merges) m.push_back(s.toStdString());
        VocabData d = bpe_vocab(m, pre.toStdString());
        if (QTest::currentDataTag() == QByteArray("llama3 whole piece") ||
            QTest::currentDataTag() == QByteArray("gpt2 no whole piece")) {
            d.tokens.push_back("abc");  // a token no merge leads to
            d.types.push_back(TokenType::normal);
        }
        auto v = make(d);
        const auto ids = v->encode(text.toStdString(), false);
        QCOMPARE(test::piece_texts(*v, ids), pieces);
        QCOMPARE(ids, reference_encode(d, text.toStdString()));
        QCOMPARE(qbytes(v->decode(ids)), text);
    }

    void randomAgainstReference_data() {
        QTest::addColumn<QString>("pre");
        QTest::addColumn<uint32_t>("seed");
        QTest::newRow("gpt2") << "gpt2" << 11u;
        QTest::newRow("llama-bpe") << "llama-bpe" << 12u;
        QTest::newRow("qwen2") << "qwen2" << 13u;
    }
    void randomAgainstReference() {
        QFETCH(QString, pre);
        QFETCH(uint32_t, seed);
        std::mt19937 rng(seed);
        const VocabData d = bpe_vocab(train_merges(rng, 120), pre.toStdString());
        auto v = make(d);
        std::uniform_int_distribution<size_t> length(0, 50);
        size_t n_tokens = 0, n_bytes = 0;
        for (int i = 0; i < 1500; ++i) {
            const std::string s = test::random_text(rng, test::mixed_alphabet(), length(rng));
            const auto ids = v->encode(s, false);
            QCOMPARE(ids, reference_encode(d, s));
            QCOMPARE(qbytes(v->decode(ids)), qbytes(s));
            n_tokens += ids.size();
            n_bytes += s.size();
        }
        QVERIFY2(n_tokens * 10 < n_bytes * 8, "merges should shorten the text by more than 20%");
    }

    void specialTokens() {
        VocabData d = bpe_vocab({"h i", "Ġ y", "Ġy o"});
        d.tokens.push_back("<|endoftext|>");
        d.types.push_back(TokenType::control);
        d.tokens.push_back("aĠb");  // user-defined tokens are stored raw, not byte-mapped
        d.types.push_back(TokenType::user_defined);
        d.eos_id = static_cast<int32_t>(d.tokens.size() - 2);
        auto v = make(d);
        const int32_t eot = v->find_token("<|endoftext|>"), ud = v->find_token("aĠb");
        const std::string text = "hi<|endoftext|> yoaĠb";
        const auto on = v->encode(text, false, true);
        QCOMPARE(test::piece_texts(*v, on), (QStringList{"hi", "<|endoftext|>", "Ġyo", "aĠb"}));
        QCOMPARE(qbytes(v->decode(on)), QByteArray("hi yoaĠb"));
        // Without parse_special the control token's spelling is plain text; the user-defined token
        // still matches (as Hugging Face's non-special added tokens and llama.cpp do).
        const auto off = v->encode(text, false, false);
        QVERIFY(std::find(off.begin(), off.end(), eot) == off.end());
        QCOMPARE(off.back(), ud);
        QCOMPARE(qbytes(v->decode(off)), qbytes(text));
        QVERIFY(v->is_eog(eot));
        QCOMPARE(v->token_to_bytes(v->find_token("Ġyo")), std::string(" yo"));
    }

    void addBos() {
        VocabData d = bpe_vocab({"h i"});
        d.tokens.push_back("<|begin_of_text|>");
        d.types.push_back(TokenType::control);
        d.bos_id = static_cast<int32_t>(d.tokens.size() - 1);
        auto v = make(d);
        QCOMPARE(v->encode("hi", true), (std::vector<int32_t>{d.bos_id, v->find_token("hi")}));
        // EOS only when asked (the prompt path never asks; see Vocab::encode).
        d.tokens.push_back("<|end_of_text|>");
        d.types.push_back(TokenType::control);
        d.eos_id = static_cast<int32_t>(d.tokens.size() - 1);
        d.add_eos = true;
        auto with_eos = make(d);
        QCOMPARE(with_eos->encode("hi", true), (std::vector<int32_t>{d.bos_id, v->find_token("hi")}));
        QCOMPARE(with_eos->encode("hi", EncodeOptions{true, true, false}),
                 (std::vector<int32_t>{d.bos_id, v->find_token("hi"), d.eos_id}));
        QCOMPARE(with_eos->encode("", EncodeOptions{false, true, false}), (std::vector<int32_t>{d.eos_id}));
        // BPE adds no space: nothing to strip, even right after BOS.
        QCOMPARE(qbytes(v->decode(v->encode(" hi", true))), QByteArray(" hi"));
    }

    void createValidation() {
        VocabData bad_pre = bpe_vocab({"a b"}, "no-such-pre");
        auto r1 = Vocab::create(bad_pre);
        QVERIFY(!r1.ok());
        QVERIFY(QString::fromStdString(r1.status().message()).contains("tokenizer.ggml.pre"));
        VocabData bad_merge = bpe_vocab({"a b"});
        bad_merge.merges.push_back("abc");
        auto r2 = Vocab::create(bad_merge);
        QVERIFY(!r2.ok());
        QVERIFY2(QString::fromStdString(r2.status().message()).contains("tokenizer.ggml.merges[1]"),
                 r2.status().message().c_str());
    }

    // 100 KB: mixed text, and one 100 KB word (a single pre-token piece) — measured, not asserted.
    void largeText() {
        std::mt19937 rng(5);
        auto mixed = make(bpe_vocab(train_merges(rng, 200), "llama-bpe"));
        std::string words;
        while (words.size() < 100000) words += test::random_text(rng, test::mixed_alphabet(), 100);
        auto doubling = make(bpe_vocab({"a a", "aa aa", "aaaa aaaa", "aaaaaaaa aaaaaaaa"}));
        const std::string one_word(100000, 'a');
        using Case = std::pair<const Vocab*, const std::string*>;
        for (auto [vocab, text] : {Case{mixed.get(), &words}, Case{doubling.get(), &one_word}}) {
            QElapsedTimer timer;
            timer.start();
            const auto ids = vocab->encode(*text, false);
            const qint64 ms = timer.elapsed();
            qInfo("BPE encode of %zu bytes: %zu tokens in %lld ms", text->size(), ids.size(), static_cast<long long>(ms));
            QCOMPARE(qbytes(vocab->decode(ids)), qbytes(*text));
        }
    }
};

QTEST_GUILESS_MAIN(TestTokenizerBpe)
#include "tst_tokenizer_bpe.moc"
