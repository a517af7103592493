// SentencePiece-style tokenizer: merges by score (priority queue) against a naive reference on
// seeded random vocabularies, byte fallback, unk, special tokens, BOS and the leading space.
#include <QElapsedTimer>
#include <QtTest>

#include <algorithm>
#include <cstdio>
#include <set>

#include "tokenizer/spm.h"
#include "tst_tokenizer_util.h"

using namespace strata;
using strata::test::qbytes;

namespace {

const std::string k_sp = "\xE2\x96\x81";  // "▁"

void add(VocabData& d, std::string text, float score, TokenType type = TokenType::normal) {
    d.tokens.push_back(std::move(text));
    d.scores.push_back(score);
    d.types.push_back(type);
}

// <unk>=0, <s>=1, </s>=2, then (optionally) the 256 byte tokens.
VocabData base_vocab(bool byte_tokens) {
    VocabData d;
    d.kind = VocabKind::spm;
    add(d, "<unk>", 0, TokenType::unknown);
    add(d, "<s>", 0, TokenType::control);
    add(d, "</s>", 0, TokenType::control);
    d.unk_id = 0;
    d.bos_id = 1;
    d.eos_id = 2;
    if (byte_tokens) {
        for (int b = 0; b < 256; ++b) {
            char name[8];
            std::snprintf(name, sizeof name, "<0x%02X>", b);
            add(d, name, 0, TokenType::byte);
        }
    }
    return d;
}

// The hand-built vocabulary the expectations below were worked out on.
VocabData hand_vocab(bool byte_tokens = true) {
    VocabData d = base_vocab(byte_tokens);
    add(d, k_sp, -2.0f);
    for (const char* c : {"a", "b", "c", "d", "e", "h", "l", "o", "r", "w", "x", "t"}) add(d, c, -3.0f);
    const std::pair<std::string, float> pieces[] = {
        {"ab", -1.5f}, {"bc", -1.0f}, {"cd", -1.2f}, {k_sp + "a", -0.5f}, {"aa", -1.0f}, {"he", -1.0f},
        {"ll", -1.1f}, {"llo", -0.9f}, {"hell", -2.5f}, {"hello", -0.3f}, {k_sp + "hello", -0.2f},
        {k_sp + "w", -1.3f}, {"or", -1.4f}, {k_sp + "wor", -1.0f}, {"ld", -1.6f}, {k_sp + "world", -0.1f},
        {k_sp + "the", -0.4f}};
    for (const auto& [text, score] : pieces) add(d, text, score);
    return d;
}

std::shared_ptr<const Vocab> make(VocabData d) {
    auto v = Vocab::create(std::move(d));
    if (!v.ok()) qFatal("Vocab::create failed: %s", v.status().message().c_str());
    return *v;
}

// A seeded random vocabulary: some single characters (the rest need byte fallback or unk) and
// pieces cut from random normalized text, with random scores. Without `inner_space`, no piece
// has a "▁" after another character (as in real SentencePiece vocabs), which lets the encoder
// merge word by word; with it, the encoder must merge the text whole.
bool has_inner_space(const std::string& piece) {  // a "▁" right after another character
    bool prev_is_space = true;
    for (size_t pos = 0; pos < piece.size();) {
        const size_t len = unicode::utf8_step(piece, pos).len;
        const bool is_space = piece.compare(pos, len, k_sp) == 0;
        if (is_space && !prev_is_space) return true;
        prev_is_space = is_space;
        pos += len;
    }
    return false;
}

// `max_inner_space`: how many pieces may hold "▁" after another character (-1: any number).
VocabData random_vocab(std::mt19937& rng, bool byte_tokens, int max_inner_space = -1) {
    VocabData d = base_vocab(byte_tokens);
    std::uniform_real_distribution<float> score(-12.0f, -0.01f);
    std::set<std::string> seen;
    int n_inner = 0;
    const auto add_unique = [&](const std::string& s) {
        const bool inner = has_inner_space(s);
        if (inner && max_inner_space >= 0 && n_inner >= max_inner_space) return;
        if (s.empty() || !seen.insert(s).second) return;
        n_inner += inner ? 1 : 0;
        add(d, s, score(rng));
    };
    add_unique(k_sp);
    for (const std::string& c : test::mixed_alphabet()) {
        if (unicode::utf8_step(c, 0).len == c.size() && c != " " && rng() % 10 < 7) add_unique(c);
    }
    std::string corpus;
    for (char ch : test::random_text(rng, test::mixed_alphabet(), 4000)) corpus += ch == ' ' ? k_sp : std::string(1, ch);
    std::uniform_int_distribution<size_t> start(0, corpus.size() - 16);
    std::uniform_int_distribution<size_t> n_chars(2, 6);
    while (d.tokens.size() < (byte_tokens ? 259u : 3u) + 400u) {
        size_t pos = start(rng);
        while (pos < corpus.size() && (static_cast<uint8_t>(corpus[pos]) & 0xC0) == 0x80) ++pos;  // char boundary
        size_t end = pos;
        for (size_t k = n_chars(rng); k > 0 && end < corpus.size(); --k) end += unicode::utf8_step(corpus, end).len;
        add_unique(corpus.substr(pos, end - pos));
    }
    return d;
}

}  // namespace

class TestTokenizerSpm : public QObject {
    Q_OBJECT
private slots:
    void mergesByScore_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QStringList>("pieces");
        const QString sp = QString::fromStdString(k_sp);
        // Worked out by hand on hand_vocab().
        QTest::newRow("chain beats lower score") << QByteArray("hello") << QStringList{sp + "hello"};
        QTest::newRow("best pair first") << QByteArray("abc") << QStringList{sp + "a", "bc"};
        QTest::newRow("higher score wins") << QByteArray("bcd") << QStringList{sp, "bc", "d"};
        QTest::newRow("only pair") << QByteArray("cab") << QStringList{sp, "c", "ab"};
        QTest::newRow("tie goes leftmost") << QByteArray("xaaa") << QStringList{sp, "x", "aa", "a"};
        QTest::newRow("leading space") << QByteArray(" world") << QStringList{sp, sp + "world"};
        QTest::newRow("two words") << QByteArray("hello world") << QStringList{sp + "hello", sp + "world"};
        QTest::newRow("byte fallback") << QByteArray("q") << QStringList{sp, "<0x71>"};
        QTest::newRow("emoji as 4 bytes") << QByteArray("a\xF0\x9F\x98\x80")
                                          << QStringList{sp + "a", "<0xF0>", "<0x9F>", "<0x98>", "<0x80>"};
    }
    void mergesByScore() {
        QFETCH(QByteArray, text);
        QFETCH(QStringList, pieces);
        const VocabData d = hand_vocab();
        auto v = make(d);
        const auto ids = v->encode(text.toStdString(), false);
        QCOMPARE(test::piece_texts(*v, ids), pieces);
        QCOMPARE(ids, test::spm_reference_encode(d, text.toStdString()));
        QCOMPARE(qbytes(v->decode(ids)), text);
    }

    void unkWithoutByteTokens() {
        auto v = make(hand_vocab(/*byte_tokens=*/false));
        const auto ids = v->encode("a\xF0\x9F\x98\x80" "b", false);
        QCOMPARE(test::piece_texts(*v, ids), (QStringList{QString::fromStdString(k_sp) + "a", "<unk>", "b"}));
        QCOMPARE(std::count(ids.begin(), ids.end(), v->unk()), 1);
        QCOMPARE(qbytes(v->decode(ids)), QByteArray("a \xE2\x81\x87 b"));  // SentencePiece renders unk as " ⁇ "
    }

    void specialTokens() {
        VocabData d = hand_vocab();
        add(d, "<|end|>", 0, TokenType::control);
        add(d, "<|end|>\n", 0, TokenType::user_defined);  // longer than <|end|>: must win
        add(d, "<tag>", 0, TokenType::user_defined);
        for (const char* p : {"<", "g", "<t", "<ta", "<tag"}) add(d, p, -1.0f);  // a merge path up to "<tag"
        auto v = make(d);
        const int32_t end = v->find_token("<|end|>"), end_nl = v->find_token("<|end|>\n"), tag = v->find_token("<tag>");
        QVERIFY(end > 0 && end_nl > 0 && tag > 0);
        const std::string text = "hello<|end|>\nworld<tag><|end|>";

        const auto on = v->encode(text, true, /*parse_special=*/true);
        const QString sp = QString::fromStdString(k_sp);
        // After a special token the next text gets the "▁" prefix again (llama.cpp's rule).
        QCOMPARE(test::piece_texts(*v, on), (QStringList{"<s>", sp + "hello", "<|end|>\n", sp + "world", "<tag>", "<|end|>"}));

        // Without parse_special only control tokens turn into plain text; user-defined tokens
        // still match (Hugging Face's non-special added tokens, llama.cpp's user-defined ones).
        const auto off = v->encode(text, true, /*parse_special=*/false);
        QCOMPARE(test::piece_texts(*v, off).mid(0, 5), (QStringList{"<s>", sp + "hello", "<|end|>\n", sp + "world", "<tag>"}));
        QVERIFY(std::find(off.begin(), off.end(), end) == off.end());
        const auto plain = v->encode("hello<|end|>", true, /*parse_special=*/false);
        QVERIFY(std::find(plain.begin(), plain.end(), end) == plain.end());
        QCOMPARE(qbytes(v->decode(plain)), QByteArray("hello<|end|>"));
        QCOMPARE(v->token_to_bytes(end), std::string());           // control: nothing
        QCOMPARE(v->token_to_bytes(tag), std::string("<tag>"));    // user-defined: its text
    }

    void addBos() {
        auto v = make(hand_vocab());
        QCOMPARE(v->encode("hello", true), (std::vector<int32_t>{1, v->find_token(k_sp + "hello")}));
        QCOMPARE(v->encode("hello", false), (std::vector<int32_t>{v->find_token(k_sp + "hello")}));
        QCOMPARE(v->encode("", true), (std::vector<int32_t>{1}));
        QVERIFY(v->encode("", false).empty());
        VocabData d = hand_vocab();
        d.bos_id = -1;
        QCOMPARE(make(d)->encode("hello", true), (std::vector<int32_t>{make(d)->find_token(k_sp + "hello")}));
    }

    void leadingSpace() {
        auto v = make(hand_vocab());
        const auto ids = v->encode("hello world", true);
        QCOMPARE(qbytes(v->decode(ids)), QByteArray("hello world"));
        QCOMPARE(qbytes(v->decode(ids, /*strip_leading_space=*/false)), QByteArray(" hello world"));
        // Only one space, only from the first piece after BOS.
        QCOMPARE(qbytes(v->decode(v->encode("  world", true))), QByteArray("  world"));
        QCOMPARE(qbytes(v->decode({v->find_token(k_sp + "world"), v->find_token(k_sp + "world")})),
                 QByteArray("world world"));
        // A piece after another token (here EOS) keeps its space.
        QCOMPARE(qbytes(v->decode({1, 2, v->find_token(k_sp + "world")})), QByteArray(" world"));

        VocabData d = hand_vocab();
        d.add_space_prefix = false;
        auto np = make(d);
        const auto ids2 = np->encode("hello", false);
        QVERIFY(!QString::fromStdString(np->token_text(ids2.front())).startsWith(QString::fromStdString(k_sp)));
        QCOMPARE(qbytes(np->decode(np->encode(" world", true))), QByteArray(" world"));
    }

    void tokenToBytes() {
        auto v = make(hand_vocab());
        QCOMPARE(v->token_to_bytes(v->find_token(k_sp + "the")), std::string(" the"));
        QCOMPARE(v->token_to_bytes(v->find_token("<0x0A>")), std::string("\n"));
        QCOMPARE(v->token_to_bytes(v->find_token("<0xE4>")), std::string("\xE4"));
        QCOMPARE(v->token_to_bytes(v->bos()), std::string());
        QCOMPARE(v->token_to_bytes(-1), std::string());
        QCOMPARE(v->token_to_bytes(v->n_tokens()), std::string());
        QCOMPARE(v->token_text(v->n_tokens()), std::string());
        QVERIFY(v->is_control(1) && !v->is_control(v->find_token("ab")));
        QVERIFY(v->is_eog(2) && !v->is_eog(1));
        QCOMPARE(v->token_type(3), TokenType::byte);
    }

    // Priority-queue encoder == naive reference, and decode(encode(s)) == s, on seeded random
    // vocabularies and strings (multi-byte characters, spaces, newlines).
    void randomAgainstReference_data() {
        QTest::addColumn<uint32_t>("seed");
        QTest::addColumn<bool>("byteTokens");
        QTest::addColumn<bool>("spacePrefix");
        QTest::addColumn<bool>("wordByWord");
        QTest::newRow("bytes/seed 1") << 1u << true << true << false;
        QTest::newRow("bytes/seed 2") << 2u << true << true << false;
        QTest::newRow("bytes/no prefix") << 3u << true << false << false;
        QTest::newRow("no bytes (unk)") << 4u << false << true << false;
        QTest::newRow("word by word/seed 5") << 5u << true << true << true;
        QTest::newRow("word by word/no prefix") << 6u << true << false << true;
        QTest::newRow("word by word/unk") << 7u << false << true << true;
        // A few pieces span a word start (Gemma has ">▁</"): still word by word, except where one
        // of them is spelled across the "▁".
        QTest::newRow("few crossing pieces/seed 8") << 8u << true << true << true;
        QTest::newRow("few crossing pieces/no prefix") << 9u << true << false << true;
    }
    void randomAgainstReference() {
        QFETCH(uint32_t, seed);
        QFETCH(bool, byteTokens);
        QFETCH(bool, spacePrefix);
        QFETCH(bool, wordByWord);
        std::mt19937 rng(seed);
        const bool few_crossing = QByteArray(QTest::currentDataTag()).startsWith("few crossing");
        VocabData d = random_vocab(rng, byteTokens, few_crossing ? 12 : wordByWord ? 0 : -1);
        d.add_space_prefix = spacePrefix;
        QCOMPARE(tokenizer::SpmEncoder::build(d)->splits_at_words(), wordByWord);  // both paths covered
        auto v = make(d);
        std::uniform_int_distribution<size_t> length(0, 60);
        size_t n_tokens = 0, n_bytes = 0;
        for (int i = 0; i < 1500; ++i) {
            const std::string s = test::random_text(rng, test::mixed_alphabet(), length(rng));
            const auto ids = v->encode(s, false);
            QCOMPARE(ids, test::spm_reference_encode(d, s));
            if (byteTokens) QCOMPARE(qbytes(v->decode(ids)), qbytes(s));
            n_tokens += ids.size();
            n_bytes += s.size();
        }
        QVERIFY(n_tokens < n_bytes);  // merges happened
    }

    // tokenizer.ggml.remove_extra_whitespaces (SentencePiece's normalizer option): no leading or
    // trailing spaces, inner runs as one.
    void removeExtraWhitespaces() {
        VocabData d = hand_vocab();
        d.remove_extra_whitespaces = true;
        auto v = make(d);
        QCOMPARE(v->encode("  hello   world  ", false), v->encode("hello world", false));
        QVERIFY(v->encode("   ", false).empty());
        d.remove_extra_whitespaces = false;
        QVERIFY(make(d)->encode("  hello   world  ", false) != v->encode("hello world", false));
    }

    void createValidation_data() {
        QTest::addColumn<int>("which");
        QTest::addColumn<QString>("key");
        QTest::newRow("no tokens") << 0 << "tokenizer.ggml.tokens";
        QTest::newRow("scores length") << 1 << "tokenizer.ggml.scores";
        QTest::newRow("types length") << 2 << "tokenizer.ggml.token_type";
        QTest::newRow("bad type") << 3 << "tokenizer.ggml.token_type[5]";
        QTest::newRow("bos range") << 4 << "tokenizer.ggml.bos_token_id";
        QTest::newRow("eos negative") << 5 << "tokenizer.ggml.eos_token_id";
        QTest::newRow("unk range") << 6 << "tokenizer.ggml.unknown_token_id";
        QTest::newRow("byte text") << 7 << "tokenizer.ggml.tokens[3]";
        QTest::newRow("eot range") << 8 << "eot";
    }
    void createValidation() {
        QFETCH(int, which);
        QFETCH(QString, key);
        VocabData d = hand_vocab();
        switch (which) {
            case 0: d = VocabData{}; break;
            case 1: d.scores.pop_back(); break;
            case 2: d.types.push_back(TokenType::normal); break;
            case 3: d.types[5] = static_cast<TokenType>(9); break;
            case 4: d.bos_id = static_cast<int32_t>(d.tokens.size()); break;
            case 5: d.eos_id = -7; break;
            case 6: d.unk_id = 100000; break;
            case 7: d.tokens[3] = "<0xZZ>"; break;
            case 8: d.extra_eog_ids = {2, 99999}; break;
        }
        const auto v = Vocab::create(std::move(d));
        QVERIFY(!v.ok());
        QVERIFY2(QString::fromStdString(v.status().message()).contains(key), v.status().message().c_str());
    }

    // 100 KB texts must tokenize quickly (O(n log n)); measured and printed, not asserted.
    void largeText() {
        std::mt19937 rng(7);
        auto v = make(random_vocab(rng, true));
        std::string words;
        while (words.size() < 100000) words += test::random_text(rng, test::mixed_alphabet(), 100);
        auto hand = make(hand_vocab());
        const std::string one_run(100000, 'a');  // 100k queued "aa" pairs, all tied
        using Case = std::pair<const Vocab*, const std::string*>;
        for (auto [vocab, text] : {Case{v.get(), &words}, Case{hand.get(), &one_run}}) {
            QElapsedTimer timer;
            timer.start();
            const auto ids = vocab->encode(*text, true);
            const qint64 ms = timer.elapsed();
            qInfo("SPM encode of %zu bytes: %zu tokens in %lld ms", text->size(), ids.size(), static_cast<long long>(ms));
            QCOMPARE(qbytes(vocab->decode(ids)), qbytes(*text));
        }
    }
};

QTEST_GUILESS_MAIN(TestTokenizerSpm)
#include "tst_tokenizer_spm.moc"
