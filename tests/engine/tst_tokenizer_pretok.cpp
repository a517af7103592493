// BPE pre-tokenizers on PCRE2: splits as the published patterns give them (expected pieces
// checked against the same patterns run by V8's Unicode regexes, an independent engine), every
// table entry compiles and is found by each of its names, the character classes PCRE2 gives
// \p{L} \p{N} \s, coverage of the text on seeded random input (invalid UTF-8 included), and
// 100 KB inputs that would be quadratic under a careless split.
#include <QElapsedTimer>
#include <QtTest>

#include <atomic>
#include <thread>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/pretokenizer_table.h"
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
        row("qwen2", QString::fromUtf8("नमस्ते"), {QString::fromUtf8("नमस"), QString::fromUtf8("्त"), QString::fromUtf8("े")});
        // Qwen 3.5: combining marks stay with their letters
        row("qwen35", QString::fromUtf8("नमस्ते दुनिया"), {QString::fromUtf8("नमस्ते"), QString::fromUtf8(" दुनिया")});
        // o200k (gpt-4o, gpt-oss): case-aware words carry their contraction
        row("gpt-4o", "HelloWorld", {"Hello", "World"});
        row("gpt-4o", "I'M here", {"I'M", " here"});
        row("gpt-4o", "don't", {"don't"});
        row("gpt-4o", "ABCdef ghi", {"ABCdef", " ghi"});
        row("gpt-4o", "x 1234567", {"x", " ", "123", "456", "7"});
        row("gpt-4o", "path/to/\nfile", {"path", "/to", "/\n", "file"});
        row("gpt-4o", QString::fromUtf8("ñandú NAÏVE"), {QString::fromUtf8("ñandú"), QString::fromUtf8(" NAÏVE")});
        // Tekken: no contractions, single digits
        row("tekken", "HelloWorld", {"Hello", "World"});
        row("tekken", "don't 123", {"don", "'t", " ", "1", "2", "3"});
        // DeepSeek V3: a sequence of three splits
        row("deepseek-v3", QString::fromUtf8("中文abc日本語テキスト 12345"),
            {QString::fromUtf8("中文"), "abc", QString::fromUtf8("日本語テキスト"), " ", "123", "45"});
        row("deepseek-v3", QString::fromUtf8("x.y(z) 'quote' 你好!"),
            {"x", ".y", "(z", ")", " '", "quote", "'", " ", QString::fromUtf8("你好"), "!"});
        row("deepseek-v3", "\"Hello\" world", {"\"Hello", "\"", " world"});
        // llama.cpp's "default" (also a file without tokenizer.ggml.pre)
        row("default", "hello, world!! 1234567", {"hello", ",", " world", "!!", " ", "123", "456", "7"});
        row("", "a+b=c", {"a", "+", "b", "=", "c"});
        // StarCoder: digits one by one, then GPT-2's regex
        row("starcoder", "x = 1234;", {"x", " =", " ", "1", "2", "3", "4", ";"});
        row("deepseek-coder", "def f(x):\n  return x1", {"def", " f", "(", "x", "):", "\n", " ", " return", " x", "1"});
        row("deepseek-coder", QString::fromUtf8("中文abc 한국"), {QString::fromUtf8("中文"), "abc", " ", QString::fromUtf8("한국")});
        row("falcon", "foo(bar) 12345 <tag>", {"foo", "(", "bar", ")", " ", "123", "45", " ", "<", "tag", ">"});
        // Aliases reach the same table entry
        row("llama3", "12345678", {"123", "456", "78"});
        row("deepseek-r1-qwen", "x=2024;", {"x", "=", "2", "0", "2", "4", ";"});
    }
    void splits() {
        QFETCH(QString, pre);
        QFETCH(QString, text);
        QFETCH(QStringList, pieces);
        const tokenizer::PreTokenizer* kind = pre_tokenizer_from_name(pre.toStdString());
        QVERIFY(kind);
        const std::string utf8 = text.toStdString();
        QStringList got;
        for (std::string_view p : kind->split(utf8)) got << QString::fromUtf8(p.data(), static_cast<qsizetype>(p.size()));
        QCOMPARE(got, pieces);
    }

    // Every entry of the table compiles and each of its names finds it; unknown names do not.
    void names() {
        size_t n_names = 0, n_patterns = 0, n_jit = 0;
        for (const PreTokenizerSpec& spec : pre_tokenizer_specs()) {
            const PreTokenizer* first = pre_tokenizer_from_name(spec.names.front());
            QVERIFY2(first, std::string(spec.names.front()).c_str());
            QCOMPARE(first->patterns().size(), spec.patterns.size());
            for (const SplitRegex& r : first->patterns()) n_jit += r.jit() ? 1 : 0;
            n_patterns += spec.patterns.size();
            for (std::string_view name : spec.names) {
                QCOMPARE(pre_tokenizer_from_name(name), first);
                ++n_names;
            }
        }
        qInfo("%zu names over %zu pre-tokenizers; %zu of %zu patterns JIT-compiled", n_names,
              pre_tokenizer_specs().size(), n_jit, n_patterns);
        QCOMPARE(pre_tokenizer_from_name("")->name(), std::string("default"));
        QCOMPARE(pre_tokenizer_from_name("gpt2")->name(), std::string("gpt-2"));
        QCOMPARE(pre_tokenizer_from_name("llama3")->name(), std::string("llama-bpe"));
        QVERIFY(pre_tokenizer_from_name("llama-bpe")->ignore_merges());
        QVERIFY(pre_tokenizer_from_name("llama-bpe")->add_bos_by_default());
        QVERIFY(!pre_tokenizer_from_name("qwen2")->ignore_merges());
        for (const char* unknown : {"no-such-pre", "kimi-k2", "LLAMA-BPE", "gemma4"}) QVERIFY(!pre_tokenizer_from_name(unknown));
        QVERIFY(supported_pre_tokenizer_names().find("deepseek-v3") != std::string::npos);
        // A tokenizer.json's pattern list names its entry (what the converter relies on).
        const auto* ds3 = pre_tokenizer_from_name("deepseek-v3");
        std::vector<std::string> patterns;
        for (const SplitRegex& r : ds3->patterns()) patterns.push_back(r.pattern());
        QCOMPARE(pre_tokenizer_name_for_patterns(patterns), std::string("deepseek-v3"));
        QCOMPARE(pre_tokenizer_name_for_patterns({"x+"}), std::string());
    }

    // The Unicode classes PCRE2 gives \p{L}, \p{N}, \s and the rest, observed through GPT-2's
    // regex: a letter joins "a", a number joins "1", an "other" joins ".", white space doubles up.
    void classes() {
        enum Cls { letter, number, whitespace, other };
        const PreTokenizer& gpt2 = *pre_tokenizer_from_name("gpt2");
        const auto one_piece = [&](const std::string& s) { return gpt2.split(s).size() == 1; };
        const auto classify = [&](uint32_t cp) {
            std::string c;
            unicode::append_utf8(c, cp);
            if (one_piece("a" + c)) return letter;
            if (one_piece("1" + c)) return number;
            if (one_piece("." + c)) return other;
            return one_piece(c + c) ? whitespace : other;
        };
        const std::pair<uint32_t, Cls> cases[] = {
            {'a', letter}, {'Z', letter}, {0xE9, letter},   // é
            {0x416, letter}, {0x4E2D, letter}, {0x3042, letter},  // Ж 中 あ
            {0xAC00, letter}, {0x1D400, letter},                        // 가 𝐀
            {'7', number}, {0xB2, number}, {0xBD, number},   // ² ½
            {0x660, number}, {0xFF11, number}, {0x2160, number},  // ٠ １ Ⅰ
            {' ', whitespace}, {'\n', whitespace}, {0xA0, whitespace},
            {0x3000, whitespace}, {0x2028, whitespace}, {0x85, whitespace},
            {'.', other}, {0x301, other}, {0x93E, other},    // combining marks
            {0x1F600, other}, {0x20AC, other}, {0x1C, other}, {0x200B, other},
        };
        for (const auto& [cp, cls] : cases) {
            QVERIFY2(classify(cp) == cls, qPrintable(QString("U+%1").arg(cp, 4, 16, QChar('0'))));
        }
    }

    // Pieces are non-empty and tile the text exactly, for random text and random bytes.
    void coversText() {
        std::mt19937 rng(21);
        std::uniform_int_distribution<int> byte(0, 255), len(0, 40);
        for (const PreTokenizerSpec& spec : pre_tokenizer_specs()) {
            const PreTokenizer& kind = *pre_tokenizer_from_name(spec.names.front());
            for (int i = 0; i < 600; ++i) {
                std::string s = i % 2 ? test::random_text(rng, test::mixed_alphabet(), static_cast<size_t>(len(rng))) : std::string();
                if (i % 2 == 0) {
                    for (int k = len(rng); k > 0; --k) s += static_cast<char>(byte(rng));
                }
                std::string joined;
                const char* expect = s.data();
                for (std::string_view p : kind.split(s)) {
                    QVERIFY(!p.empty());
                    QVERIFY(p.data() == expect);  // contiguous views into s
                    expect += p.size();
                    joined += p;
                }
                QCOMPARE(test::qbytes(joined), test::qbytes(s));
            }
        }
    }

    // Invalid bytes never match a pattern: they stay between matches, as their own pieces, and the
    // valid text around them splits as usual.
    void invalidUtf8() {
        const PreTokenizer& llama3 = *pre_tokenizer_from_name("llama-bpe");
        const std::string s = "Hello\xFF\xFE world\xC3";
        QStringList got;
        for (std::string_view p : llama3.split(s)) got << test::qbytes(p).toHex();
        QCOMPARE(got, (QStringList{test::qbytes("Hello").toHex(), "fffe", test::qbytes(" world").toHex(), "c3"}));
    }

    // 100 KB inputs, each a worst case for some pattern: one long word, one long run of spaces
    // before a letter, long runs of capitals / CJK / digits / punctuation. Linear: measured here,
    // and bounded generously (a quadratic split of 100 KB takes minutes).
    void largeText() {
        std::mt19937 rng(3);
        std::string mixed;
        while (mixed.size() < 100000) mixed += test::random_text(rng, test::mixed_alphabet(), 100);
        std::string cjk, caps(100000, 'A'), digits(100000, '7'), dots(100000, '.'), letters(100000, 'a');
        while (cjk.size() < 100000) cjk += "\xE4\xB8\xAD";  // 中
        const std::string spaces = std::string(50000, ' ') + "\n" + std::string(50000, ' ') + "x";
        for (const char* name : {"llama-bpe", "qwen2", "gpt-4o", "deepseek-v3", "gpt2", "default", "tekken"}) {
            const PreTokenizer& pre = *pre_tokenizer_from_name(name);
            for (const std::string* t : std::initializer_list<const std::string*>{&mixed, &spaces, &cjk, &caps, &digits, &dots, &letters}) {
                QElapsedTimer timer;
                timer.start();
                const auto pieces = pre.split(*t);
                const qint64 ms = timer.elapsed();
                QVERIFY(!pieces.empty());
                QVERIFY2(ms < 5000, qPrintable(QString("%1: %2 ms for %3 bytes").arg(name).arg(ms).arg(t->size())));
            }
        }
    }

    // One PreTokenizer from many threads at once (the registry's entries are shared read-only).
    void threads() {
        const PreTokenizer& pre = *pre_tokenizer_from_name("gpt-4o");
        std::mt19937 rng(9);
        std::string text;
        while (text.size() < 20000) text += test::random_text(rng, test::mixed_alphabet(), 50);
        const auto want = pre.split(text);
        std::vector<std::thread> workers;
        std::atomic<int> bad{0};
        for (int t = 0; t < 4; ++t) {
            workers.emplace_back([&] {
                for (int i = 0; i < 20; ++i) bad += pre.split(text) != want;
            });
        }
        for (auto& w : workers) w.join();
        QCOMPARE(bad.load(), 0);
    }
};

QTEST_GUILESS_MAIN(TestTokenizerPretok)
#include "tst_tokenizer_pretok.moc"
