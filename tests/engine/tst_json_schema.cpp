// Structured output: compile_json_schema refuses what it cannot hold the output to, by name;
// JsonSchemaPrefix accepts exactly the prefixes of values the schema allows (hand-picked texts,
// each refused at the byte where it goes wrong); random walks over the accepted bytes never
// reach a dead end and always end in a value that an independent validator (written here, on
// nlohmann's parser) accepts; and a whole generation on stories260K with a schema ends on its
// own with such a value.
#include <QtTest>

#include <random>
#include <regex>
#include <string>

#include "runtime/json_schema_prefix.h"
#include "strata/engine.h"
#include "strata/json_schema.h"
#include "test_paths.h"

using namespace strata;
using ojson = nlohmann::ordered_json;

namespace {

const char* kPersonSchema = R"({
  "type": "object",
  "properties": {
    "name": {"type": "string"},
    "age": {"type": "integer"},
    "score": {"type": "number"},
    "tags": {"type": "array", "items": {"enum": ["a", "bb"]}, "maxItems": 2},
    "kind": {"enum": ["cat", "dog", 3, 31]},
    "nested": {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
               "additionalProperties": false},
    "maybe": {"type": ["string", "null"], "description": "ignored annotation"},
    "list": {"type": "array", "items": {"type": "integer"}, "minItems": 1}
  },
  "required": ["name", "age"],
  "additionalProperties": false
})";

// The subset's meaning, written independently of the prefix machine.
bool validates(const ojson& v, const ojson& s) {
    if (s.is_boolean()) return s.get<bool>();
    if (auto e = s.find("enum"); e != s.end()) {
        bool any = false;
        for (const ojson& alt : *e) any = any || alt == v;
        if (!any) return false;
    }
    if (auto c = s.find("const"); c != s.end() && *c != v) return false;
    if (auto t = s.find("type"); t != s.end()) {
        const ojson types = t->is_array() ? *t : ojson::array({*t});
        bool ok = false;
        for (const ojson& name : types) {
            const std::string n = name.get<std::string>();
            ok = ok || (n == "object" && v.is_object()) || (n == "array" && v.is_array()) ||
                 (n == "string" && v.is_string()) || (n == "number" && v.is_number()) ||
                 (n == "integer" && v.is_number_integer()) || (n == "boolean" && v.is_boolean()) ||
                 (n == "null" && v.is_null());
        }
        if (!ok) return false;
    }
    if (v.is_object()) {
        const ojson props = s.value("properties", ojson::object());
        for (const auto& [k, sub] : v.items()) {
            if (props.contains(k)) {
                if (!validates(sub, props[k])) return false;
            } else if (auto ap = s.find("additionalProperties"); ap != s.end() && !validates(sub, *ap)) {
                return false;
            }
        }
        for (const ojson& r : s.value("required", ojson::array()))
            if (!v.contains(r.get<std::string>())) return false;
    }
    if (v.is_array()) {
        if (auto it = s.find("items"); it != s.end())
            for (const ojson& x : v)
                if (!validates(x, *it)) return false;
        if (static_cast<int64_t>(v.size()) < s.value("minItems", int64_t{0})) return false;
        if (s.contains("maxItems") && static_cast<int64_t>(v.size()) > s["maxItems"].get<int64_t>()) return false;
    }
    return true;
}

std::shared_ptr<const JsonSchema> compiled(const char* text) {
    auto r = compile_json_schema(ojson::parse(text));
    return r.ok() ? *r : nullptr;
}

// How many bytes of `text` are accepted one at a time (text.size() when all are).
size_t accepted_bytes(const JsonSchema& schema, const std::string& text) {
    JsonSchemaPrefix p(schema);
    for (size_t i = 0; i < text.size(); ++i)
        if (!p.feed(text.substr(i, 1))) return i;
    return text.size();
}

}  // namespace

class TestJsonSchema : public QObject {
    Q_OBJECT

private slots:
    void refusesWhatItCannotHold_data() {
        QTest::addColumn<QString>("schema");
        QTest::addColumn<QString>("says");
        QTest::newRow("$ref") << R"({"type":"object","properties":{"a":{"$ref":"defs/x"}}})" << "'$ref' is not supported";
        QTest::newRow("anyOf") << R"({"type":"object","anyOf":[]})" << "'anyOf' is not supported";
        QTest::newRow("pattern") << R"({"type":"object","properties":{"a":{"type":"string","pattern":"x"}}})"
                                 << "at .a: 'pattern'";
        QTest::newRow("required unknown") << R"({"type":"object","properties":{},"required":["a"]})" << "\"a\" is not among";
        QTest::newRow("top level array") << R"({"type":"array"})" << "top level must be";
        QTest::newRow("min over max") << R"({"type":"object","properties":{"a":{"type":"array","minItems":3,"maxItems":2}}})"
                                      << "'minItems' is larger";
        QTest::newRow("empty enum") << R"({"type":"object","properties":{"a":{"enum":[]}}})" << "non-empty array";
        QTest::newRow("unknown type") << R"({"type":"object","properties":{"a":{"type":"text"}}})" << "unknown type";
        QTest::newRow("false schema") << R"({"type":"object","properties":{"a":false}})" << "accepts nothing";
    }
    void refusesWhatItCannotHold() {
        QFETCH(QString, schema);
        QFETCH(QString, says);
        auto r = compile_json_schema(ojson::parse(schema.toStdString()));
        QVERIFY(!r.ok());
        QCOMPARE(r.status().code(), ErrorCode::invalid_argument);
        QVERIFY2(QString::fromStdString(r.status().message()).contains(says), r.status().message().c_str());
    }

    // Each text is accepted up to (not including) byte `stop`; -1: all of it, and then complete
    // exactly when `whole`.
    void prefixes_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("stop");
        QTest::addColumn<bool>("whole");
        auto ok = [](const char* t, bool whole = true) { QTest::newRow(t) << QString(t) << -1 << whole; };
        // '|' marks the byte where the text is refused (moc misreads raw strings with an odd
        // number of quotes, so the refused prefix is not written out on its own).
        auto bad = [](const char* marked) {
            std::string t = marked;
            const auto at = t.find('|');
            t.erase(at, 1);
            QTest::newRow(marked) << QString::fromStdString(t) << int(at) << false;
        };
        ok(R"({"name":"x","age":3})");
        // (No raw string here: moc misreads a multi-line raw string holding \".)
        ok("{ \"age\": -12,\n  \"name\": \"\xc3\xa9\\\"\\u00e9\", \"tags\": [\"a\", \"bb\"], \"kind\": 31, "
           "\"nested\": {\"ok\": true}, \"maybe\": null,\n  \"score\": 1.5e3, \"list\": [1, 2]}  ");
        ok(R"({"kind":3,"name":"","age":0})");
        ok(R"({"name":"x","age":3)", false);
        ok(R"({"kind":3)", false);  // 3 may still become 31
        bad(R"({"age":3|})");                       // name is required
        bad(R"({"name":|1})");                      // a string
        bad(R"({"nam|":1})");                          // only a whole property name
        bad(R"({"|other":1})");                           // no other keys
        bad(R"({"age":1|.5})");                     // an integer
        bad(R"({"tags":["a","bb"|,"a"]})");  // at most 2 items
        bad(R"({"tags":["|c"]})");                // one of the enum
        bad(R"({"kind":"c|ow"})");
        bad(R"({"kind":3|2})");
        bad(R"({"nested":{|}})");                // ok is required
        bad(R"({"name":"x","n|ame":"y"})");  // no key twice ("n" may still be "nested")
        bad(R"({"maybe":|true})");
        bad(R"({"list":[|]})");                    // at least 1 item
        bad(R"(|[1])");
    }

    void prefixes() {
        QFETCH(QString, text);
        QFETCH(int, stop);
        QFETCH(bool, whole);
        auto schema = compiled(kPersonSchema);
        QVERIFY(schema);
        const std::string t = text.toStdString();
        const size_t got = accepted_bytes(*schema, t);
        QCOMPARE(got, stop < 0 ? t.size() : size_t(stop));
        if (stop < 0) {
            JsonSchemaPrefix p(*schema);
            QVERIFY(p.feed(t));
            QCOMPARE(p.complete(), whole);
        }
    }

    void duplicateKeysAreRefused() {
        auto schema = compiled(R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}}})");
        QVERIFY(schema);
        JsonSchemaPrefix p(*schema);
        QVERIFY(p.feed("{\"a\":1,\""));
        QVERIFY(!p.accepts("a\""));  // "a" again, as a whole key
        QVERIFY(p.accepts("ab\""));  // additional keys are allowed (no additionalProperties: false)
        QVERIFY(p.accepts("b\":2}"));
    }

    // Random walks: at every step some byte is accepted (no dead end), and every walk ends in a
    // complete value the independent validator accepts.
    void randomWalksEndInValidValues_data() {
        QTest::addColumn<QString>("schema");
        QTest::newRow("person") << QString(kPersonSchema);
        QTest::newRow("any object") << QString(R"({"type":"object"})");
        QTest::newRow("open nested") << QString(
            R"({"type":"object","properties":{"items":{"type":"array","items":{"type":"object","properties":{"id":{"type":"integer"},"v":{"type":["number","boolean"]}},"required":["id"]}}},"additionalProperties":{"type":"string"}})");
    }
    void randomWalksEndInValidValues() {
        QFETCH(QString, schema);
        const ojson raw = ojson::parse(schema.toStdString());
        auto compiled_schema = compile_json_schema(raw);
        QVERIFY2(compiled_schema.ok(), compiled_schema.status().message().c_str());
        std::string alphabet = " \n\"\\{}[],:-+.0123456789E/";
        for (char c = 'a'; c <= 'z'; ++c) alphabet.push_back(c);
        alphabet += "\xc3\xa9";  // a two-byte character's bytes
        for (uint32_t seed = 1; seed <= 300; ++seed) {
            std::mt19937 rng(seed);
            JsonSchemaPrefix p(**compiled_schema);
            std::string text;
            for (int step = 0; !p.complete(); ++step) {
                QVERIFY2(step < 20000, text.c_str());
                std::vector<char> ok;
                for (char c : alphabet)
                    if (p.accepts(std::string(1, c))) ok.push_back(c);
                QVERIFY2(!ok.empty(), qPrintable(QString("dead end after: ") + QString::fromStdString(text)));
                // An exponent past two digits overflows the reference parser's doubles, and an
                // integer past 15 digits its 64-bit integers (both still JSON): end them where
                // something else is possible.
                static const std::regex long_number("([0-9.][eE][+-]?[0-9]{2,}|[0-9]{15,})$");
                if (std::regex_search(text, long_number)) {
                    std::vector<char> other;
                    for (char c : ok)
                        if (c < '0' || c > '9') other.push_back(c);
                    if (!other.empty()) ok = other;
                }
                // Later in the walk, favour bytes that close things so it ends.
                std::vector<char> closers;
                if (step > 60)
                    for (char c : ok)
                        if (c == '"' || c == '}' || c == ']' || (c >= 'a' && c <= 'z' && step % 3 == 0)) closers.push_back(c);
                const std::vector<char>& from = closers.empty() || rng() % 4 == 0 ? ok : closers;
                const char c = from[rng() % from.size()];
                QVERIFY(p.feed(std::string(1, c)));
                text.push_back(c);
            }
            ojson value;
            try {
                value = ojson::parse(text);
            } catch (const std::exception& e) {
                QFAIL(qPrintable(QString("seed %1: not JSON (%2): %3").arg(seed).arg(e.what()).arg(QString::fromStdString(text))));
            }
            QVERIFY2(validates(value, raw), qPrintable(QString("seed %1: %2").arg(seed).arg(QString::fromStdString(value.dump()))));
        }
    }

    void generationOnStories260KFollowsTheSchema() {
        const QString path = test::stories260kPath();
        if (path.isEmpty()) QSKIP("../shared/models/stories260K.gguf is absent: the real-model check needs it");
        const char* text = R"({"type":"object","properties":{"mood":{"enum":["happy","sad"]},"done":{"type":"boolean"},
            "n":{"type":"integer"}},"required":["mood","done"],"additionalProperties":false})";
        auto schema = compile_json_schema(ojson::parse(text));
        QVERIFY(schema.ok());
        LoadOptions o;
        o.n_ctx = 512;
        o.n_threads = 2;
        Engine engine;
        auto model = engine.load(path.toStdString(), o);
        QVERIFY2(model.ok(), model.status().message().c_str());
        // Closing bytes favoured, so an integer's digits do not run on for ever.
        std::vector<std::pair<int32_t, float>> closing;
        for (int32_t id = 0; id < int32_t((*model)->n_vocab()); ++id) {
            const std::string t = (*model)->detokenize({id});
            if (t == "}" || t == "," || t == "\"") closing.emplace_back(id, 20.0f);
        }
        for (uint64_t seed = 1; seed <= 3; ++seed) {
            auto seq = (*model)->create_sequence();
            GenerateParams g;
            g.json_schema = *schema;
            g.sampler.seed = seed;
            g.sampler.temperature = 0.9f;
            g.sampler.logit_bias = closing;
            g.max_tokens = 200;
            std::string out;
            auto stats = (*seq)->generate((*model)->tokenize("Once upon a time", true), g,
                                          [&](std::string_view t) { out += t; });
            QVERIFY2(stats.ok(), stats.status().message().c_str());
            QCOMPARE(stats->stop, StopReason::eos);  // ended by itself: the object closed
            const ojson v = ojson::parse(out, nullptr, false);
            QVERIFY2(!v.is_discarded() && validates(v, ojson::parse(text)), out.c_str());
        }
    }
};

QTEST_GUILESS_MAIN(TestJsonSchema)
#include "tst_json_schema.moc"
