// GgufFile reader: writer→reader round trips of every value type (nested arrays included), both
// format versions, custom alignments, tensors of many types checked byte for byte, the typed
// getters, and the real stories260K.gguf.
#include <QtTest>

#include <cmath>
#include <limits>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "gguf_test_util.h"
#include "test_paths.h"

using namespace strata;
using namespace strata::gguf;
using strata::test::randomBytes;

namespace {

Value scalar_u(ValueType t, uint64_t u) { Value v; v.type = t; v.u = u; return v; }
Value scalar_i(ValueType t, int64_t i) { Value v; v.type = t; v.i = i; return v; }
Value scalar_f(ValueType t, double f) { Value v; v.type = t; v.f = f; return v; }
Value string_value(std::string_view s) { Value v; v.type = ValueType::STRING; v.str = s; return v; }
Value number_array(ValueType et, std::vector<double> xs) {
    Value v;
    v.type = ValueType::ARRAY;
    v.array_type = et;
    v.array_size = xs.size();
    v.array_numbers = std::move(xs);
    return v;
}
Value string_array(std::vector<std::string_view> xs) {
    Value v;
    v.type = ValueType::ARRAY;
    v.array_type = ValueType::STRING;
    v.array_size = xs.size();
    v.array_strings = std::move(xs);
    return v;
}
Value nested_array(std::vector<Value> xs) {
    Value v;
    v.type = ValueType::ARRAY;
    v.array_type = ValueType::ARRAY;
    v.array_size = xs.size();
    v.array_arrays = std::move(xs);
    return v;
}

struct Case {
    const char* key;
    Value value;
};

// One value of every type, extremes included; strings point at static storage.
const std::vector<Case>& value_cases() {
    static const std::string kWithNul("a\0b", 3);
    static const std::vector<Case> cases = {
        {"t.u8", scalar_u(ValueType::UINT8, 255)},
        {"t.i8", scalar_i(ValueType::INT8, -128)},
        {"t.u16", scalar_u(ValueType::UINT16, 65535)},
        {"t.i16", scalar_i(ValueType::INT16, -32768)},
        {"t.u32", scalar_u(ValueType::UINT32, 4294967295u)},
        {"t.i32", scalar_i(ValueType::INT32, std::numeric_limits<int32_t>::min())},
        {"t.u64", scalar_u(ValueType::UINT64, std::numeric_limits<uint64_t>::max())},
        {"t.i64", scalar_i(ValueType::INT64, std::numeric_limits<int64_t>::min())},
        {"t.f32", scalar_f(ValueType::FLOAT32, double(-3.25e-7f))},
        {"t.f64", scalar_f(ValueType::FLOAT64, 2.718281828459045)},
        {"t.bool_true", scalar_u(ValueType::BOOL, 1)},
        {"t.bool_false", scalar_u(ValueType::BOOL, 0)},
        {"t.string", string_value("héllo, ▁world")},
        {"t.string_empty", string_value("")},
        {"t.string_nul", string_value(kWithNul)},
        {"t.arr_u8", number_array(ValueType::UINT8, {0, 1, 255})},
        {"t.arr_i8", number_array(ValueType::INT8, {-128, 0, 127})},
        {"t.arr_u16", number_array(ValueType::UINT16, {65535, 7})},
        {"t.arr_i16", number_array(ValueType::INT16, {-32768, 32767})},
        {"t.arr_u32", number_array(ValueType::UINT32, {4294967295.0, 3})},
        {"t.arr_i32", number_array(ValueType::INT32, {-2147483648.0, 2147483647.0, -1})},
        {"t.arr_u64", number_array(ValueType::UINT64, {9007199254740992.0, 1})},
        {"t.arr_i64", number_array(ValueType::INT64, {-9007199254740992.0, 5})},
        {"t.arr_f32", number_array(ValueType::FLOAT32, {0.5, -1.25, double(1e30f)})},
        {"t.arr_f64", number_array(ValueType::FLOAT64, {1e-300, -0.1})},
        {"t.arr_bool", number_array(ValueType::BOOL, {1, 0, 1})},
        {"t.arr_string", string_array({"<unk>", "", "▁the"})},
        {"t.arr_empty", number_array(ValueType::INT32, {})},
        {"t.arr_nested", nested_array({number_array(ValueType::INT32, {1, 2}), number_array(ValueType::INT32, {}),
                                       number_array(ValueType::FLOAT32, {0.25})})},
        {"t.arr_nested_strings", nested_array({string_array({"a", "bc"}), string_array({"d"})})},
        {"t.arr_nested_deep", nested_array({nested_array({nested_array({number_array(ValueType::UINT8, {9})})}),
                                            nested_array({})})},
    };
    return cases;
}

struct TypeCase {
    const char* name;
    TensorType type;
    std::vector<int64_t> ne;
};

const std::vector<TypeCase>& tensor_cases() {
    static const std::vector<TypeCase> cases = {
        {"f32.1d", TensorType::F32, {7}},
        {"f16.2d", TensorType::F16, {5, 3}},
        {"bf16.3d", TensorType::BF16, {4, 3, 2}},
        {"q4_0.4d", TensorType::Q4_0, {64, 2, 2, 3}},
        {"q8_0", TensorType::Q8_0, {96, 3}},
        {"q4_k", TensorType::Q4_K, {512, 2}},
        {"q6_k", TensorType::Q6_K, {256, 3}},
        {"iq2_xxs", TensorType::IQ2_XXS, {256, 1}},  // readable though not computable
        {"i32", TensorType::I32, {3, 3}},
        {"f64", TensorType::F64, {2}},
    };
    return cases;
}

}  // namespace

class TestGgufReader : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString valuesPath_;

    QString path(const char* name) const { return dir_.filePath(QString::fromUtf8(name)); }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        GgufWriter w;
        for (const Case& c : value_cases()) w.set_value(c.key, c.value);
        valuesPath_ = path("values.gguf");
        const Status st = w.write(valuesPath_.toStdString());
        QVERIFY2(st.ok(), st.message().c_str());
    }

    void valueRoundTrip_data() {
        QTest::addColumn<int>("index");
        for (size_t k = 0; k < value_cases().size(); ++k) QTest::newRow(value_cases()[k].key) << int(k);
    }
    void valueRoundTrip() {
        QFETCH(int, index);
        const Case& c = value_cases()[index];
        auto f = GgufFile::open(valuesPath_.toStdString());
        QVERIFY2(f.ok(), f.status().message().c_str());
        QCOMPARE((*f)->metadata().size(), value_cases().size());
        QCOMPARE((*f)->metadata()[index].key, std::string(c.key));  // insertion order kept
        const Value* v = (*f)->find(c.key);
        QVERIFY(v != nullptr);
        std::string why;
        QVERIFY2(strata::test::sameValue(*v, c.value, why), why.c_str());
    }

    void versions_data() {
        QTest::addColumn<int>("version");
        QTest::newRow("v2") << 2;
        QTest::newRow("v3") << 3;
    }
    void versions() {
        QFETCH(int, version);
        GgufWriter w;
        w.set_version(uint32_t(version));
        w.set_string("general.architecture", "llama");
        const auto bytes = randomBytes(4 * 10, 7);
        QVERIFY(w.add_tensor("x", TensorType::F32, {10}, bytes).ok());
        const std::string p = path("version.gguf").toStdString();
        QVERIFY(w.write(p).ok());
        auto f = GgufFile::open(p);
        QVERIFY2(f.ok(), f.status().message().c_str());
        QCOMPARE(int((*f)->version()), version);
        QCOMPARE(*(*f)->get_string("general.architecture").value(), std::string("llama"));
        QVERIFY(std::equal(bytes.begin(), bytes.end(), (*f)->find_tensor("x")->data));
    }

    void alignment_data() {
        QTest::addColumn<int>("alignment");
        for (int a : {1, 8, 32, 64, 4096}) QTest::newRow(QByteArray::number(a).constData()) << a;
    }
    void alignment() {
        QFETCH(int, alignment);
        GgufWriter w{uint64_t(alignment)};
        w.set_u32("n", 1);
        std::vector<std::vector<uint8_t>> datas;
        for (int k = 0; k < 3; ++k) {
            datas.push_back(randomBytes(size_t(4 * (3 + k)), uint32_t(100 + k)));  // odd sizes force padding
            QVERIFY(w.add_tensor("t" + std::to_string(k), TensorType::F32, {3 + k}, datas.back()).ok());
        }
        const std::string p = path("align.gguf").toStdString();
        QVERIFY(w.write(p).ok());
        auto f = GgufFile::open(p);
        QVERIFY2(f.ok(), f.status().message().c_str());
        QCOMPARE((*f)->alignment(), uint64_t(alignment));
        QCOMPARE((*f)->find("general.alignment") != nullptr, alignment != 32);
        QCOMPARE((*f)->data_offset() % uint64_t(alignment), uint64_t(0));
        for (int k = 0; k < 3; ++k) {
            const TensorInfo* t = (*f)->find_tensor("t" + std::to_string(k));
            QVERIFY(t != nullptr);
            QCOMPARE(t->offset % uint64_t(alignment), uint64_t(0));
            QCOMPARE(t->data, (*f)->file_data() + (*f)->data_offset() + t->offset);
            QVERIFY(std::equal(datas[k].begin(), datas[k].end(), t->data));
        }
    }

    void tensorTypes() {
        GgufWriter w;
        std::vector<std::vector<uint8_t>> datas;
        uint32_t seed = 1;
        for (const TypeCase& c : tensor_cases()) {
            int64_t rows = 1;
            for (size_t d = 1; d < c.ne.size(); ++d) rows *= c.ne[d];
            datas.push_back(randomBytes(tensor_row_bytes(c.type, c.ne[0]) * size_t(rows), seed++));
            const Status st = w.add_tensor(c.name, c.type, c.ne, datas.back());
            QVERIFY2(st.ok(), st.message().c_str());
        }
        // One tensor produced at write time instead of handed over.
        const auto produced = randomBytes(2 * 34, 99);
        QVERIFY(w.add_tensor("produced", TensorType::Q8_0, {32, 2}, [&](uint8_t* dst, size_t n) {
                     if (n != produced.size()) return make_error(ErrorCode::internal, "size");
                     std::copy(produced.begin(), produced.end(), dst);
                     return Status::success();
                 }).ok());
        const std::string p = path("types.gguf").toStdString();
        QVERIFY(w.write(p).ok());

        auto f = GgufFile::open(p);
        QVERIFY2(f.ok(), f.status().message().c_str());
        QCOMPARE((*f)->tensors().size(), tensor_cases().size() + 1);
        for (size_t k = 0; k < tensor_cases().size(); ++k) {
            const TypeCase& c = tensor_cases()[k];
            const TensorInfo& t = (*f)->tensors()[k];
            QCOMPARE(t.name, std::string(c.name));
            QCOMPARE(t.type, c.type);
            QCOMPARE(t.ne, c.ne);
            QCOMPARE(t.n_bytes, uint64_t(datas[k].size()));
            QCOMPARE(t.n_rows() * c.ne[0], t.n_elements());
            QVERIFY2(std::equal(datas[k].begin(), datas[k].end(), t.data), c.name);
            QCOMPARE((*f)->find_tensor(c.name), &t);
        }
        const TensorInfo* pt = (*f)->find_tensor("produced");
        QVERIFY(pt != nullptr);
        QVERIFY(std::equal(produced.begin(), produced.end(), pt->data));
        QVERIFY((*f)->find_tensor("missing") == nullptr);
    }

    void typedGetters() {
        auto f = GgufFile::open(valuesPath_.toStdString());
        QVERIFY(f.ok());
        const GgufFile& g = **f;
        QCOMPARE(*g.get_int("t.i8").value(), int64_t(-128));
        QCOMPARE(*g.get_int("t.u32").value(), int64_t(4294967295u));
        QCOMPARE(*g.get_float("t.u16").value(), 65535.0);   // integers widen to float
        QCOMPARE(*g.get_float("t.f32").value(), double(-3.25e-7f));
        QCOMPARE(*g.get_bool("t.bool_true").value(), true);
        QCOMPARE(*g.get_string("t.string").value(), std::string("héllo, ▁world"));
        QCOMPARE(g.get_string_array("t.arr_string").value()->size(), size_t(3));
        QCOMPARE(*g.get_number_array("t.arr_i16").value(), (std::vector<double>{-32768, 32767}));
        QVERIFY(!g.get_int("absent").value().has_value());
        QVERIFY(!g.get_string_array("absent").value().has_value());

        // Wrong types are errors naming the key and both types.
        auto bad = g.get_string("t.u8");
        QVERIFY(!bad.ok());
        QVERIFY2(bad.status().message().find("'t.u8'") != std::string::npos, bad.status().message().c_str());
        QVERIFY(bad.status().message().find("uint8") != std::string::npos);
        QVERIFY(!g.get_int("t.f64").ok());
        QVERIFY(!g.get_int("t.u64").ok());  // 2^64-1 does not fit in int64
        QVERIFY(!g.get_bool("t.u8").ok());
        QVERIFY(!g.get_number_array("t.arr_string").ok());
        QVERIFY(!g.get_string_array("t.arr_i32").ok());
        QVERIFY(!g.get_float("t.string").ok());
    }

    void valueHelpers() {
        QCOMPARE(scalar_f(ValueType::FLOAT32, 3.0).as_int().value(), int64_t(3));
        QVERIFY(!scalar_f(ValueType::FLOAT32, 3.5).as_int().has_value());
        QVERIFY(!scalar_u(ValueType::UINT64, std::numeric_limits<uint64_t>::max()).as_int().has_value());
        QVERIFY(!string_value("x").as_double().has_value());
        QVERIFY(scalar_u(ValueType::BOOL, 1).is_number());
        QVERIFY(!scalar_u(ValueType::BOOL, 1).is_integer());

        std::vector<std::string_view> many(100, "tok");
        const std::string shown = string_array(many).to_display_string(3);
        QVERIFY2(shown.find("100") != std::string::npos && shown.find("...") != std::string::npos, shown.c_str());
        QVERIFY(shown.size() < 80);
        const std::string long_text(500, 'x');
        const std::string s = string_value(long_text).to_display_string();
        QVERIFY2(s.size() < 100 && s.find("500 bytes") != std::string::npos, s.c_str());
        QCOMPARE(string_value("a\nb").to_display_string(), std::string("\"a\\nb\""));
        QCOMPARE(scalar_i(ValueType::INT32, -5).to_display_string(), std::string("-5"));
        QCOMPARE(QString::fromStdString(scalar_f(ValueType::FLOAT32, double(1e-5f)).to_display_string()), QString("1e-05"));
        QCOMPARE(scalar_f(ValueType::FLOAT64, 0.1).to_display_string(), std::string("0.1"));
        QCOMPARE(scalar_f(ValueType::FLOAT64, 1.0 / 3).to_display_string(), std::string("0.3333333333333333"));
        QCOMPARE(number_array(ValueType::FLOAT32, {0.5, double(0.1f)}).to_display_string(),
                 std::string("[float32 × 2] [0.5, 0.1]"));
    }

    void openErrors() {
        auto missing = GgufFile::open(path("does-not-exist.gguf").toStdString());
        QVERIFY(!missing.ok());
        QCOMPARE(missing.status().code(), ErrorCode::not_found);
        QVERIFY(missing.status().message().find("does-not-exist.gguf") != std::string::npos);

        const QString empty = path("empty.gguf");
        QVERIFY(strata::test::writeFileBytes(empty, {}));
        auto e = GgufFile::open(empty.toStdString());
        QVERIFY(!e.ok());
        QVERIFY2(e.status().message().find("not a GGUF file") != std::string::npos, e.status().message().c_str());

        auto dir = GgufFile::open(dir_.path().toStdString());
        QVERIFY(!dir.ok());
        QCOMPARE(dir.status().code(), ErrorCode::io);
    }

    void noTensors() {
        GgufWriter w;
        w.set_string("general.name", "empty");
        const std::string p = path("notensors.gguf").toStdString();
        QVERIFY(w.write(p).ok());
        auto f = GgufFile::open(p);
        QVERIFY2(f.ok(), f.status().message().c_str());
        QVERIFY((*f)->tensors().empty());
    }

    void stories260k() {
        const QString p = strata::test::stories260kPath();
        if (p.isEmpty()) QSKIP("stories260K.gguf not found in ../shared/models");
        auto f = GgufFile::open(p.toStdString());
        QVERIFY2(f.ok(), f.status().message().c_str());
        const GgufFile& g = **f;
        QCOMPARE(g.version(), 3u);
        QCOMPARE(*g.get_string("general.architecture").value(), std::string("llama"));
        QCOMPARE(*g.get_int("llama.block_count").value(), int64_t(5));
        QCOMPARE(*g.get_int("llama.embedding_length").value(), int64_t(64));
        QCOMPARE(*g.get_int("llama.attention.head_count").value(), int64_t(8));
        QCOMPARE(*g.get_int("llama.attention.head_count_kv").value(), int64_t(4));
        QCOMPARE(*g.get_int("llama.feed_forward_length").value(), int64_t(172));
        QCOMPARE(g.get_string_array("tokenizer.ggml.tokens").value()->size(), size_t(512));
        QCOMPARE(g.tensors().size(), size_t(2 + 1 + 5 * 9));
        const TensorInfo* emb = g.find_tensor("token_embd.weight");
        QVERIFY(emb != nullptr);
        QCOMPARE(emb->ne, (std::vector<int64_t>{64, 512}));
        QCOMPARE(emb->type, TensorType::F32);
        const TensorInfo* down = g.find_tensor("blk.4.ffn_down.weight");
        QVERIFY(down != nullptr);
        QCOMPARE(down->ne, (std::vector<int64_t>{172, 64}));
    }
};

QTEST_GUILESS_MAIN(TestGgufReader)
#include "tst_gguf_reader.moc"
