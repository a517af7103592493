// JSON mode. JsonPrefix against Qt's JSON parser as the independent truth: random valid objects
// (every prefix accepted, complete exactly at the end) and random one-byte mutations of them
// (complete exactly when Qt parses an object and its numbers match RFC 8259's grammar, leaving
// out the few things where Qt and the RFC part ways);
// hand-picked refusals (bad escapes among them); the nesting and whitespace
// caps; a refused feed changes nothing. Then whole generations on stories260K with
// json_object: the streamed text is always a JSON prefix, and with the closing tokens favoured
// through logit_bias every run ends on its own with an object Qt parses.
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>

#include "runtime/json_prefix.h"
#include "strata/engine.h"
#include "test_paths.h"

using namespace strata;

namespace {

// A random JSON object as text, with random (short) whitespace between tokens.
class RandomJson {
public:
    explicit RandomJson(uint32_t seed) : rng_(seed) {}
    std::string object(int depth = 0) {
        std::string s = "{" + ws();
        const int n = pick(0, depth < 3 ? 3 : 1);
        for (int i = 0; i < n; ++i) {
            if (i) s += "," + ws();
            s += string() + ws() + ":" + ws() + value(depth + 1) + ws();
        }
        return s + "}";
    }

private:
    int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
    std::string ws() {
        static const char* const kinds[] = {"", "", " ", "\n  ", "\t", "\r\n"};
        return kinds[pick(0, 5)];
    }
    std::string string() {
        static const char* const parts[] = {"a", "key", " ", "\\n", "\\\"", "\\\\", "\\/", "\\u00e9", "\xc3\xa9", "\xf0\x9f\x98\x80", "}", "[", ":", ","};
        std::string s = "\"";
        for (int i = pick(0, 4); i > 0; --i) s += parts[pick(0, 13)];
        return s + "\"";
    }
    std::string number() {
        std::string s = pick(0, 1) ? "-" : "";
        s += pick(0, 2) == 0 ? "0" : std::to_string(pick(1, 99999));
        if (pick(0, 1)) s += "." + std::to_string(pick(0, 999));
        if (pick(0, 2) == 0) s += std::string(pick(0, 1) ? "e" : "E") + (pick(0, 1) ? "+" : pick(0, 1) ? "-" : "") + std::to_string(pick(0, 30));
        return s;
    }
    std::string value(int depth) {
        switch (pick(0, depth < 4 ? 7 : 4)) {
            case 0: return string();
            case 1: return number();
            case 2: return "true";
            case 3: return "false";
            case 4: return "null";
            case 5: return object(depth);
            default: {
                std::string s = "[" + ws();
                const int n = pick(0, 3);
                for (int i = 0; i < n; ++i) s += (i ? "," + ws() : "") + value(depth + 1) + ws();
                return s + "]";
            }
        }
    }
    std::mt19937 rng_;
};

bool qtParsesObject(const std::string& text) {
    QJsonParseError err;
    const QJsonDocument d = QJsonDocument::fromJson(QByteArray::fromStdString(text), &err);
    return err.error == QJsonParseError::NoError && d.isObject();
}

// Where Qt's parser and RFC 8259 part ways: Qt takes any character after a backslash as itself
// ("\1" → "1") and raw control characters inside strings, which the RFC forbids, and refuses
// numbers beyond a double's range ("1e999"), which the RFC allows. Mutations that make any of
// these are left out of the comparison (the hand-picked refusals cover the first two).
bool qtDiffersFromRfc(const std::string& text) {
    bool in_string = false;
    for (size_t i = 0; i < text.size(); ++i) {
        if (!in_string && (text[i] == '-' || (text[i] >= '0' && text[i] <= '9')) &&
            std::isinf(std::strtod(text.c_str() + i, nullptr)))
            return true;
        if (text[i] == '"') in_string = !in_string;
        else if (in_string && static_cast<unsigned char>(text[i]) < 0x20) return true;
        else if (in_string && text[i] == '\\') {
            if (i + 1 >= text.size() || std::string_view("\"\\/bfnrtu").find(text[i + 1]) == std::string_view::npos)
                return true;
            ++i;
        }
    }
    return false;
}

// RFC 8259's number grammar, written out: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
bool rfcNumber(std::string_view s) {
    auto digits = [&](size_t& i) {
        const size_t from = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        return i > from;
    };
    size_t i = 0;
    if (i < s.size() && s[i] == '-') ++i;
    if (i < s.size() && s[i] == '0') ++i;
    else if (!(i < s.size() && s[i] >= '1' && s[i] <= '9') || !digits(i)) return false;
    if (i < s.size() && s[i] == '.' && !digits(++i)) return false;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
        if (!digits(i)) return false;
    }
    return i == s.size();
}

// Qt's parser also takes numbers RFC 8259 does not ("0.e20", ".5"): every number outside
// strings must match the RFC's grammar as well.
bool numbersAreStrict(const std::string& text) {
    bool in_string = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (std::string_view("-+.0123456789").find(c) != std::string_view::npos) {  // ".5", "+1": Qt takes them
            size_t j = i;
            while (j < text.size() && std::string_view("-+.0123456789eE").find(text[j]) != std::string_view::npos) ++j;
            if (!rfcNumber(std::string_view(text).substr(i, j - i))) return false;
            i = j - 1;
        }
    }
    return true;
}

bool completeObject(const std::string& text) {
    JsonPrefix p;
    return p.feed(text) && p.complete();
}

}  // namespace

class TestJsonMode : public QObject {
    Q_OBJECT
private slots:
    void randomObjectsAndEveryPrefix() {
        for (uint32_t seed = 1; seed <= 300; ++seed) {
            const std::string doc = RandomJson(seed).object();
            QVERIFY2(qtParsesObject(doc), doc.c_str());  // the generator writes valid JSON
            JsonPrefix p;
            for (size_t i = 0; i < doc.size(); ++i) {
                QVERIFY2(!p.complete(), qPrintable(QString("complete early at %1 of %2").arg(i).arg(QString::fromStdString(doc))));
                QVERIFY2(p.feed(doc.substr(i, 1)), qPrintable(QString("byte %1 of %2").arg(i).arg(QString::fromStdString(doc))));
            }
            QVERIFY2(p.complete(), doc.c_str());
            QVERIFY(p.feed(" \n"));  // whitespace may follow the object
            QVERIFY(!p.feed("x"));
        }
    }

    // One byte replaced, inserted or deleted: complete() agrees with Qt's parser.
    void mutationsAgreeWithQt() {
        const std::string alphabet = "{}[]:,\"\\ 019-+.eEtrufalsnx\n";
        std::mt19937 rng(99);
        int valid = 0, invalid = 0;
        for (uint32_t seed = 1; seed <= 400; ++seed) {
            std::string doc = RandomJson(seed).object();
            for (int k = 0; k < 8; ++k) {
                std::string m = doc;
                const size_t at = std::uniform_int_distribution<size_t>(0, m.size() - 1)(rng);
                const char c = alphabet[std::uniform_int_distribution<size_t>(0, alphabet.size() - 1)(rng)];
                switch (k % 3) {
                    case 0: m[at] = c; break;
                    case 1: m.insert(m.begin() + static_cast<std::ptrdiff_t>(at), c); break;
                    default: m.erase(at, 1); break;
                }
                if (qtDiffersFromRfc(m)) continue;
                const bool truth = qtParsesObject(m) && numbersAreStrict(m);
                (truth ? valid : invalid)++;
                QVERIFY2(completeObject(m) == truth, qPrintable(QString("Qt says %1 for %2").arg(truth).arg(QString::fromStdString(m))));
            }
        }
        QVERIFY(valid > 100 && invalid > 1000);  // both kinds were exercised
    }

    void refusals_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<int>("acceptedBytes");  // the longest prefix accepted
        QTest::newRow("array at top") << QByteArray("[1]") << 0;
        QTest::newRow("single quotes") << QByteArray("{'a':1}") << 1;
        QTest::newRow("no colon") << QByteArray("{\"a\" 1}") << 5;
        QTest::newRow("leading zero") << QByteArray("{\"a\":01}") << 6;
        QTest::newRow("bare dot") << QByteArray("{\"a\":1.}") << 7;
        QTest::newRow("literal typo") << QByteArray("{\"a\":tru}") << 8;
        QTest::newRow("trailing comma") << QByteArray("{\"a\":1,}") << 7;
        QTest::newRow("empty member") << QByteArray("{,}") << 1;
        QTest::newRow("raw newline in string") << QByteArray("{\"a\nb\":1}") << 3;
        QTest::newRow("bad escape") << QByteArray("{\"\\x\":1}") << 3;
        QTest::newRow("short unicode") << QByteArray("{\"\\u12g4\":1}") << 6;
        QTest::newRow("mismatched close") << QByteArray("{\"a\":[1}") << 7;
        QTest::newRow("after the end") << QByteArray("{} {}") << 3;
        QTest::newRow("overlong UTF-8") << QByteArray("{\"\xe0\x80\x80\":1}") << 3;
        QTest::newRow("UTF-16 surrogate") << QByteArray("{\"\xed\xa0\x80\":1}") << 3;
        QTest::newRow("beyond U+10FFFF") << QByteArray("{\"\xf4\x90\x80\x80\":1}") << 3;
        QTest::newRow("cut character") << QByteArray("{\"\xc3\":1}") << 3;
        QTest::newRow("stray continuation") << QByteArray("{\"\xa9\":1}") << 2;
    }
    void refusals() {
        QFETCH(QByteArray, text);
        QFETCH(int, acceptedBytes);
        const std::string t = text.toStdString();  // bytes as they are (some are not UTF-8)
        JsonPrefix p;
        QVERIFY(!p.feed(t));
        QVERIFY(p.empty());  // a refused feed leaves the state as it was
        int n = 0;
        while (n < int(t.size()) && p.feed(t.substr(size_t(n), 1))) ++n;
        QCOMPARE(n, acceptedBytes);
    }

    void capsOnNestingAndWhitespace() {
        JsonPrefix deep;
        QVERIFY(deep.feed("{\"a\":" + std::string(JsonPrefix::kMaxDepth - 1, '[')));
        QVERIFY(!deep.accepts("["));
        QVERIFY(deep.accepts("1"));
        JsonPrefix ws;
        QVERIFY(!ws.accepts(std::string(JsonPrefix::kMaxLeadingWhitespace + 1, ' ') + "{"));
        QVERIFY(ws.feed(" {"));
        QVERIFY(ws.feed(std::string(JsonPrefix::kMaxNewlines, '\n')));
        QVERIFY(!ws.accepts("\n"));  // no run of blank lines
        QVERIFY(ws.feed(std::string(JsonPrefix::kMaxWhitespace - JsonPrefix::kMaxNewlines, ' ')));
        QVERIFY(!ws.accepts(" "));
        QVERIFY(ws.feed("\"k\"" + std::string(JsonPrefix::kMaxWhitespace, ' ')));  // a token resets the run
        QVERIFY(ws.accepts(std::string(JsonPrefix::kMaxWhitespace + 40, ' ').insert(0, ":\"") ));  // strings are free
    }

    void generationsOnStories260K() {
        const QString path = test::stories260kPath();
        if (path.isEmpty()) QSKIP("../shared/models/stories260K.gguf is absent: the real-model checks need it");
        LoadOptions o;
        o.n_ctx = 512;
        o.n_threads = 2;
        Engine engine;
        auto model = engine.load(path.toStdString(), o);
        QVERIFY2(model.ok(), model.status().message().c_str());
        // The tokens that are exactly '}' or '"': favoured, they close strings and the object.
        std::vector<std::pair<int32_t, float>> closing;
        for (int32_t id = 0; id < int32_t((*model)->n_vocab()); ++id) {
            const std::string t = (*model)->detokenize({id});
            if (t == "}" || t == "\"") closing.emplace_back(id, 30.0f);
        }
        QVERIFY(!closing.empty());
        for (uint64_t seed = 1; seed <= 4; ++seed) {
            for (bool favour : {false, true}) {
                auto seq = (*model)->create_sequence();
                GenerateParams g;
                g.json_object = true;
                g.sampler.seed = seed;
                g.sampler.temperature = 0.9f;
                if (favour) g.sampler.logit_bias = closing;
                g.max_tokens = 120;
                std::string text;
                auto stats = (*seq)->generate((*model)->tokenize("Once upon a time", true), g,
                                              [&](std::string_view t) { text += t; });
                QVERIFY2(stats.ok(), stats.status().message().c_str());
                JsonPrefix check;  // the streamed text, checked afresh
                QVERIFY2(check.feed(text), text.c_str());
                QCOMPARE(check.complete(), stats->stop == StopReason::eos);
                if (favour) {
                    QCOMPARE(stats->stop, StopReason::eos);
                    QVERIFY2(qtParsesObject(text), text.c_str());
                } else {
                    QCOMPARE(stats->n_generated, 120);  // this story model does not close objects on its own
                }
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestJsonMode)
#include "tst_json_mode.moc"
