// BPE pre-tokenizers (gpt2, llama-bpe, qwen2): splits as the published patterns give them
// (expected pieces checked against the patterns run by a Unicode regex engine), coverage of the
// text on seeded random input (invalid UTF-8 included) and the character classes.
#include <QElapsedTimer>
#include <QtTest>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/unicode.h"
#include "tst_tokenizer_util.h"

using namespace strata;
using namespace strata::tokenizer;

class TestTokenizerPretok : public QObject {
    Q_OBJECT
private slots:
    void splits_data() {
        QTest::addColumn<QString>("pre");
        QTest::addColumn<QString>("text");
        QTest::addColumn<QStringList>("pieces");
        const auto row = [](const char* pre, const QString& text, const QStringList& pieces) {
            QTest::addRow("%s: %s", pre, qPrintable(QString(text).replace('\n', "\\n").replace('\r', "\\r").replace('\t', "\\t")))
                << QString(pre) << text << pieces;
        };
        // GPT-2
        row("gpt2", "Hello world", {"Hello", " world"});
        row("gpt2", "it's", {"it", "'s"});
        row("gpt2", "don't stop", {"don", "'t", " stop"});
        row("gpt2", "I'm  here", {"I", "'m", " ", " here"});
        row("gpt2", "'S", {"'", "S"});  // contractions are case-sensitive in GPT-2
        row("gpt2", "abc123 456", {"abc", "123", " 456"});  // digits in one run
        row("gpt2", "hi!!  \n\nyo", {"hi", "!!", "  \n", "\n", "yo"});
        row("gpt2", "trailing   ", {"trailing", "   "});
        row("gpt2", "a  b", {"a", " ", " b"});
        row("gpt2", "\tx", {"\t", "x"});
        row("gpt2", " 'x", {" '", "x"});
        row("gpt2", QString::fromUtf8("€5 ∑"), {QString::fromUtf8("€"), "5", QString::fromUtf8(" ∑")});
        row("gpt2", QString::fromUtf8("naïve café"), {QString::fromUtf8("naïve"), QString::fromUtf8(" café")});
        // Llama 3
        row("llama-bpe", "It's", {"It", "'s"});
        row("llama-bpe", "IT'S", {"IT", "'S"});  // case-insensitive
        row("llama-bpe", "they'll", {"they", "'ll"});
        row("llama-bpe", "'hello", {"'hello"});
        row("llama-bpe", "12345678", {"123", "456", "78"});  // digits in groups of three
        row("llama-bpe", "abc123", {"abc", "123"});
        row("llama-bpe", " 1234", {" ", "123", "4"});
        row("llama-bpe", "Hello\n\nworld", {"Hello", "\n\n", "world"});
        row("llama-bpe", "  hi", {" ", " hi"});
        row("llama-bpe", "...\n\nok", {"...\n\n", "ok"});
        row("llama-bpe", "\"quote", {"\"quote"});
        row("llama-bpe", "a\r\n\r\n  b", {"a", "\r\n\r\n", " ", " b"});
        row("llama-bpe", "x  \n  y", {"x", "  \n", " ", " y"});
        row("llama-bpe", " \tz", {" ", "\tz"});
        row("llama-bpe", QString::fromUtf8("¡Hola!"), {QString::fromUtf8("¡Hola"), "!"});
        row("llama-bpe", QString::fromUtf8("中文字 abc"), {QString::fromUtf8("中文字"), " abc"});
        // Qwen2: as llama-bpe but one digit at a time
        row("qwen2", "12345", {"1", "2", "3", "4", "5"});
        row("qwen2", "x=2024;", {"x", "=", "2", "0", "2", "4", ";"});
        row("qwen2", "It's 42", {"It", "'s", " ", "4", "2"});
        row("qwen2", "v1.10", {"v", "1", ".", "1", "0"});
        row("qwen2", "ab12cd", {"ab", "1", "2", "cd"});
    }
    void splits() {
        QFETCH(QString, pre);
        QFETCH(QString, text);
        QFETCH(QStringList, pieces);
        const auto kind = pre_tokenizer_from_name(pre.toStdString());
        QVERIFY(kind.has_value());
        const std::string utf8 = text.toStdString();
        QStringList got;
        for (std::string_view p : pre_tokenize(*kind, utf8)) got << QString::fromUtf8(p.data(), static_cast<qsizetype>(p.size()));
        QCOMPARE(got, pieces);
    }

    void names() {
        QCOMPARE(pre_tokenizer_from_name(""), PreTokenizer::gpt2);
        QCOMPARE(pre_tokenizer_from_name("default"), PreTokenizer::gpt2);
        QCOMPARE(pre_tokenizer_from_name("llama-bpe"), PreTokenizer::llama3);
        QCOMPARE(pre_tokenizer_from_name("qwen2"), PreTokenizer::qwen2);
        QVERIFY(!pre_tokenizer_from_name("deepseek-coder").has_value());
    }

    void classes() {
        using unicode::CharClass;
        const std::pair<uint32_t, CharClass> cases[] = {
            {'a', CharClass::letter}, {'Z', CharClass::letter}, {0xE9, CharClass::letter},   // é
            {0x416, CharClass::letter}, {0x4E2D, CharClass::letter}, {0x3042, CharClass::letter},  // Ж 中 あ
            {0xAC00, CharClass::letter}, {0x1D400, CharClass::letter},                        // 가 𝐀
            {'7', CharClass::number}, {0xB2, CharClass::number}, {0xBD, CharClass::number},   // ² ½
            {0x660, CharClass::number}, {0xFF11, CharClass::number}, {0x2160, CharClass::number},  // ٠ １ Ⅰ
            {' ', CharClass::whitespace}, {'\n', CharClass::whitespace}, {0xA0, CharClass::whitespace},
            {0x3000, CharClass::whitespace}, {0x2028, CharClass::whitespace}, {0x85, CharClass::whitespace},
            {'.', CharClass::other}, {0x301, CharClass::other}, {0x93E, CharClass::other},    // combining marks
            {0x1F600, CharClass::other}, {0x20AC, CharClass::other}, {0x1C, CharClass::other}, {0x200B, CharClass::other},
        };
        for (const auto& [cp, cls] : cases) {
            QVERIFY2(unicode::classify(cp) == cls, qPrintable(QString("U+%1").arg(cp, 4, 16, QChar('0'))));
        }
    }

    // Pieces are non-empty and tile the text exactly, for random text and random bytes.
    void coversText() {
        std::mt19937 rng(21);
        std::uniform_int_distribution<int> byte(0, 255), len(0, 40);
        for (PreTokenizer kind : {PreTokenizer::gpt2, PreTokenizer::llama3, PreTokenizer::qwen2}) {
            for (int i = 0; i < 3000; ++i) {
                std::string s = i % 2 ? test::random_text(rng, test::mixed_alphabet(), static_cast<size_t>(len(rng))) : std::string();
                if (i % 2 == 0) {
                    for (int k = len(rng); k > 0; --k) s += static_cast<char>(byte(rng));
                }
                std::string joined;
                const char* expect = s.data();
                for (std::string_view p : pre_tokenize(kind, s)) {
                    QVERIFY(!p.empty());
                    QVERIFY(p.data() == expect);  // contiguous views into s
                    expect += p.size();
                    joined += p;
                }
                QCOMPARE(test::qbytes(joined), test::qbytes(s));
            }
        }
    }

    void largeText() {
        std::mt19937 rng(3);
        std::string text;
        while (text.size() < 100000) text += test::random_text(rng, test::mixed_alphabet(), 100);
        const std::string spaces = std::string(50000, ' ') + "\n" + std::string(50000, ' ') + "x";
        for (const std::string* t : {static_cast<const std::string*>(&text), &spaces}) {
            QElapsedTimer timer;
            timer.start();
            const auto pieces = pre_tokenize(PreTokenizer::llama3, *t);
            qInfo("llama-bpe pre-tokenize of %zu bytes: %zu pieces in %lld ms", t->size(), pieces.size(),
                  static_cast<long long>(timer.elapsed()));
            QVERIFY(!pieces.empty());
        }
    }
};

QTEST_GUILESS_MAIN(TestTokenizerPretok)
#include "tst_tokenizer_pretok.moc"
