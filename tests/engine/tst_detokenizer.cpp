// StreamingDetokenizer: only complete UTF-8 comes out; characters split across tokens at every
// possible point come out whole when their last byte arrives; ill-formed bytes become U+FFFD;
// the SPM leading-space rule; and streaming equals Vocab::decode on seeded random id sequences.
#include <QtTest>

#include <cstdio>
#include <set>

#include "tokenizer/bpe.h"
#include "tst_tokenizer_util.h"

using namespace strata;
using strata::test::qbytes;

namespace {

const std::string k_sp = "\xE2\x96\x81";  // "▁"
const std::string k_fffd = "\xEF\xBF\xBD";

std::shared_ptr<const Vocab> make(VocabData d) {
    auto v = Vocab::create(std::move(d));
    if (!v.ok()) qFatal("Vocab::create failed: %s", v.status().message().c_str());
    return *v;
}

// Byte-level BPE vocab whose tokens are every substring of `s` (so any cut of s is a token list).
VocabData substrings_vocab(const std::string& s) {
    VocabData d;
    d.kind = VocabKind::bpe;
    d.add_bos = false;
    std::set<std::string> seen;
    for (size_t i = 0; i < s.size(); ++i) {
        for (size_t j = i + 1; j <= s.size(); ++j) {
            std::string mapped;
            for (size_t k = i; k < j; ++k) mapped += tokenizer::byte_symbols()[static_cast<uint8_t>(s[k])];
            if (seen.insert(mapped).second) d.tokens.push_back(mapped);
        }
    }
    return d;
}

// SPM vocab: <unk>, <s>, </s>, 256 byte tokens, then `pieces`.
VocabData spm_vocab(const std::vector<std::string>& pieces) {
    VocabData d;
    d.kind = VocabKind::spm;
    d.tokens = {"<unk>", "<s>", "</s>"};
    d.types = {TokenType::unknown, TokenType::control, TokenType::control};
    d.unk_id = 0;
    d.bos_id = 1;
    d.eos_id = 2;
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        d.tokens.push_back(name);
        d.types.push_back(TokenType::byte);
    }
    for (const std::string& p : pieces) {
        d.tokens.push_back(p);
        d.types.push_back(TokenType::normal);
    }
    d.scores.assign(d.tokens.size(), -1.0f);
    return d;
}

int32_t byte_id(uint8_t b) { return 3 + b; }  // in spm_vocab

}  // namespace

class TestDetokenizer : public QObject {
    Q_OBJECT
private slots:
    // Every way of cutting the bytes of a string with 1-, 2-, 3- and 4-byte characters into
    // tokens: after each token, exactly the complete characters received so far have come out.
    void everySplitPoint_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("3-byte and 4-byte") << QByteArray("a\xE4\xB8\xAD\xF0\x9F\x98\x80\xC3\xA9");  // a中😀é
        QTest::newRow("4-byte twice") << QByteArray("\xF0\x9D\x90\x80\xF0\x9F\x98\x80!");      // 𝐀😀!
    }
    void everySplitPoint() {
        QFETCH(QByteArray, text);
        const std::string s = text.toStdString();
        auto v = make(substrings_vocab(s));
        std::vector<size_t> boundaries;  // character starts, and the end
        for (size_t pos = 0; pos < s.size(); pos += unicode::utf8_step(s, pos).len) boundaries.push_back(pos);
        boundaries.push_back(s.size());
        const size_t n_cuts = s.size() - 1;
        for (uint32_t mask = 0; mask < (1u << n_cuts); ++mask) {
            StreamingDetokenizer detok(v);
            std::string emitted;
            size_t start = 0;
            for (size_t end = 1; end <= s.size(); ++end) {
                if (end < s.size() && !(mask & (1u << (end - 1)))) continue;  // no cut here
                std::string piece;
                for (size_t k = start; k < end; ++k) piece += tokenizer::byte_symbols()[static_cast<uint8_t>(s[k])];
                const int32_t id = v->find_token(piece);
                QVERIFY(id >= 0);
                const std::string chunk = detok.push(id);
                QVERIFY(test::is_valid_utf8(chunk));
                emitted += chunk;
                // Complete characters among the first `end` bytes.
                size_t complete = 0;
                for (size_t b : boundaries) complete = b <= end ? b : complete;
                QCOMPARE(qbytes(emitted), qbytes(std::string_view(s).substr(0, complete)));
                start = end;
            }
            QCOMPARE(detok.flush(), std::string());
            QCOMPARE(qbytes(emitted), text);
        }
    }

    void spmLeadingSpace() {
        auto v = make(spm_vocab({k_sp + "Once", k_sp + "upon"}));
        const int32_t once = v->find_token(k_sp + "Once"), upon = v->find_token(k_sp + "upon");
        StreamingDetokenizer detok(v);
        QCOMPARE(detok.push(v->bos()), std::string());
        QCOMPARE(detok.push(once), std::string("Once"));
        QCOMPARE(detok.push(upon), std::string(" upon"));
        StreamingDetokenizer keep(v, /*strip_leading_space=*/false);
        QCOMPARE(keep.push(v->bos()), std::string());
        QCOMPARE(keep.push(once), std::string(" Once"));
        StreamingDetokenizer no_bos(v);
        QCOMPARE(no_bos.push(upon), std::string("upon"));
        QCOMPARE(no_bos.push(once), std::string(" Once"));
    }

    void spmByteTokens() {
        auto v = make(spm_vocab({}));
        StreamingDetokenizer detok(v);
        QCOMPARE(detok.push(v->bos()), std::string());
        QCOMPARE(detok.push(byte_id(0xE4)), std::string());
        QCOMPARE(detok.push(byte_id(0xB8)), std::string());
        QCOMPARE(detok.push(byte_id(0xAD)), std::string("\xE4\xB8\xAD"));
        QCOMPARE(detok.push(byte_id('\n')), std::string("\n"));
    }

    // Byte-token sequences with ill-formed UTF-8: what comes out in all (pushes then flush).
    void illFormed_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QByteArray>("expected");
        const QByteArray r = qbytes(k_fffd);
        QTest::newRow("unfinished at end") << QByteArray("\xE4\xB8") << r;
        QTest::newRow("interrupted") << QByteArray("\xE4" "a") << r + "a";
        QTest::newRow("invalid lead") << QByteArray("\xFF" "b") << r + "b";
        QTest::newRow("stray continuation") << QByteArray("\x80") << r;
        QTest::newRow("overlong") << QByteArray("\xC0\x80") << r + r;
        QTest::newRow("surrogate") << QByteArray("\xED\xA0\x80") << r + r + r;
        QTest::newRow("restarted 4-byte") << QByteArray("\xF0\x9F\x98\xF0\x9F\x98\x80") << r + "\xF0\x9F\x98\x80";
        QTest::newRow("above U+10FFFF") << QByteArray("\xF4\x90\x80\x80") << r + r + r + r;
    }
    void illFormed() {
        QFETCH(QByteArray, bytes);
        QFETCH(QByteArray, expected);
        auto v = make(spm_vocab({}));
        std::vector<int32_t> ids;
        for (char b : bytes) ids.push_back(byte_id(static_cast<uint8_t>(b)));
        StreamingDetokenizer detok(v);
        std::string out;
        for (int32_t id : ids) {
            const std::string chunk = detok.push(id);
            QVERIFY(test::is_valid_utf8(chunk));
            out += chunk;
        }
        out += detok.flush();
        QCOMPARE(qbytes(out), expected);
        QCOMPARE(qbytes(v->decode(ids)), expected);
    }

    void outOfRangeIds() {
        auto v = make(spm_vocab({k_sp + "hi"}));
        StreamingDetokenizer detok(v);
        QCOMPARE(detok.push(-1), std::string());
        QCOMPARE(detok.push(v->n_tokens()), std::string());
        QCOMPARE(detok.push(v->find_token(k_sp + "hi")), std::string("hi"));  // still at the start
    }

    // Streaming and whole-sequence decode agree on random id sequences, chunks always valid.
    void matchesDecode_data() {
        QTest::addColumn<bool>("spm");
        QTest::newRow("spm") << true;
        QTest::newRow("bpe") << false;
    }
    void matchesDecode() {
        QFETCH(bool, spm);
        std::mt19937 rng(spm ? 31 : 32);
        std::vector<std::string> pieces;
        for (int i = 0; i < 60; ++i) {
            const std::string t = test::random_text(rng, test::mixed_alphabet(), 1 + rng() % 3);
            pieces.push_back(spm ? (rng() % 2 ? k_sp : "") + t : t);
        }
        VocabData d = spm ? spm_vocab({}) : substrings_vocab("\xE4\xB8\xAD\xF0\x9F\x98\x80 ab\xC3\xA9");
        if (!spm) {
            for (int b = 0; b < 256; ++b) d.tokens.push_back(tokenizer::byte_symbols()[b]);
            d.tokens.push_back("<|eot|>");
            d.types.assign(d.tokens.size(), TokenType::normal);
            d.types.back() = TokenType::control;
        } else {
            for (const std::string& p : pieces) {
                d.tokens.push_back(p);
                d.types.push_back(TokenType::normal);
                d.scores.push_back(-1.0f);
            }
        }
        auto v = make(d);
        std::uniform_int_distribution<int32_t> any_id(0, v->n_tokens() - 1);
        for (int i = 0; i < 1000; ++i) {
            std::vector<int32_t> ids;
            for (int k = static_cast<int>(rng() % 30); k > 0; --k) ids.push_back(any_id(rng));
            StreamingDetokenizer detok(v);
            std::string out;
            for (int32_t id : ids) {
                const std::string chunk = detok.push(id);
                QVERIFY(test::is_valid_utf8(chunk));
                out += chunk;
            }
            out += detok.flush();
            QCOMPARE(qbytes(out), qbytes(v->decode(ids)));
        }
    }
};

QTEST_GUILESS_MAIN(TestDetokenizer)
#include "tst_detokenizer.moc"
