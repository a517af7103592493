// Malformed GGUF files, built by damaging a valid written file: truncation at every offset,
// hostile counts and lengths, bad value and tensor types, bad alignment, misaligned, overlapping
// and out-of-file tensor data, duplicate names, and seeded random damage. Each must give an error
// naming the file and an offset (never a crash), and no allocation may exceed a small multiple of
// the file size (checked by counting operator new). Run under ASan+UBSan too.
#include <QtTest>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <new>
#include <random>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "gguf_test_util.h"

// ---- allocation watch: the largest single request since the last reset ----------------------
namespace {
std::atomic<size_t> g_largest_alloc{0};
void note_alloc(size_t n) {
    size_t cur = g_largest_alloc.load(std::memory_order_relaxed);
    while (n > cur && !g_largest_alloc.compare_exchange_weak(cur, n, std::memory_order_relaxed)) {
    }
}
void* counted_alloc(size_t n) {
    note_alloc(n);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
}  // namespace
void* operator new(size_t n) { return counted_alloc(n); }
void* operator new[](size_t n) { return counted_alloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

using namespace strata;
using namespace strata::gguf;
using strata::test::getLe;
using strata::test::putLe;

namespace {

// Where the fields of the valid base file lie (found through the reader on the intact file).
struct Layout {
    std::map<std::string, qsizetype> type_at;  // key → its value type id; the value follows
    struct TensorAt {
        qsizetype name_at, n_dims_at, dims_at, type_at, offset_at;
    };
    std::map<std::string, TensorAt> tensors;
    qsizetype data_offset = 0;
    qsizetype data_end = 0;  // end of the last tensor's bytes (the rest is padding)
};

using Mutation = std::function<void(QByteArray&, const Layout&)>;

struct MutationCase {
    const char* name;
    Mutation mutate;
    const char* expect;  // substring of the error message
};

constexpr uint64_t kHuge = uint64_t(1) << 62;

const std::vector<MutationCase>& mutation_cases() {
    auto val = [](const Layout& l, const char* key) { return l.type_at.at(key) + 4; };
    static const std::vector<MutationCase> cases = {
        {"bad magic", [](QByteArray& b, const Layout&) { b[0] = 'X'; }, "not a GGUF file"},
        {"version 1", [](QByteArray& b, const Layout&) { putLe(b, 4, 1, 4); }, "version 1"},
        {"version 4", [](QByteArray& b, const Layout&) { putLe(b, 4, 4, 4); }, "unsupported GGUF version 4"},
        {"big-endian version", [](QByteArray& b, const Layout&) { putLe(b, 4, 0x03000000u, 4); }, "big-endian"},
        {"big-endian magic", [](QByteArray& b, const Layout&) { b.replace(0, 4, "FUGG"); }, "big-endian"},
        {"tensor count huge", [](QByteArray& b, const Layout&) { putLe(b, 8, kHuge, 8); }, "tensor count"},
        {"tensor count max", [](QByteArray& b, const Layout&) { putLe(b, 8, UINT64_MAX, 8); }, "tensor count"},
        {"key count huge", [](QByteArray& b, const Layout&) { putLe(b, 16, kHuge, 8); }, "metadata key count"},
        {"key count one more", [](QByteArray& b, const Layout&) { putLe(b, 16, getLe(b, 16, 8) + 1, 8); }, "offset"},
        {"key name length huge", [](QByteArray& b, const Layout&) { putLe(b, 24, kHuge, 8); }, "string length"},
        {"string length huge", [=](QByteArray& b, const Layout& l) { putLe(b, val(l, "test.str"), kHuge, 8); },
         "key 'test.str'"},
        {"string length one past end",
         [=](QByteArray& b, const Layout& l) {
             const qsizetype at = val(l, "test.str");
             putLe(b, at, uint64_t(b.size() - at - 8 + 1), 8);
         },
         "string length"},
        {"array count huge", [=](QByteArray& b, const Layout& l) { putLe(b, val(l, "test.tokens") + 4, kHuge, 8); },
         "key 'test.tokens' array count"},
        {"u8 array count huge", [=](QByteArray& b, const Layout& l) { putLe(b, val(l, "test.bytes") + 4, kHuge, 8); },
         "key 'test.bytes' array count"},
        {"array element length huge",
         [=](QByteArray& b, const Layout& l) { putLe(b, val(l, "test.tokens") + 12 + 9, kHuge, 8); },
         "test.tokens'[1]"},
        {"nested count huge", [=](QByteArray& b, const Layout& l) { putLe(b, val(l, "test.nested") + 4, kHuge, 8); },
         "key 'test.nested' array count"},
        {"nested inner count huge",
         [=](QByteArray& b, const Layout& l) { putLe(b, val(l, "test.nested") + 12 + 4, kHuge, 8); },
         "test.nested'[0]"},
        {"value type 13", [](QByteArray& b, const Layout& l) { putLe(b, l.type_at.at("test.str"), 13, 4); },
         "unknown value type 13"},
        {"value type max", [](QByteArray& b, const Layout& l) { putLe(b, l.type_at.at("test.str"), UINT32_MAX, 4); },
         "unknown value type"},
        {"array element type 13", [=](QByteArray& b, const Layout& l) { putLe(b, val(l, "test.tokens"), 13, 4); },
         "unknown value type 13"},
        {"alignment 0", [=](QByteArray& b, const Layout& l) { putLe(b, val(l, "general.alignment"), 0, 4); },
         "not a non-zero power of two"},
        {"alignment 3", [=](QByteArray& b, const Layout& l) { putLe(b, val(l, "general.alignment"), 3, 4); },
         "not a non-zero power of two"},
        {"alignment not integer",
         [](QByteArray& b, const Layout& l) { putLe(b, l.type_at.at("general.alignment"), 6, 4); },  // float32
         "general.alignment"},
        {"duplicate key", [](QByteArray& b, const Layout& l) { b[l.type_at.at("test.k2") - 1] = '1'; },
         "duplicate key"},
        {"duplicate tensor", [](QByteArray& b, const Layout& l) { b[l.tensors.at("t.b").name_at + 8 + 2] = 'a'; },
         "duplicate tensor name"},
        {"n_dims 0", [](QByteArray& b, const Layout& l) { putLe(b, l.tensors.at("t.a").n_dims_at, 0, 4); }, "n_dims"},
        {"n_dims 5", [](QByteArray& b, const Layout& l) { putLe(b, l.tensors.at("t.a").n_dims_at, 5, 4); }, "n_dims"},
        {"n_dims huge", [](QByteArray& b, const Layout& l) { putLe(b, l.tensors.at("t.a").n_dims_at, 1u << 31, 4); },
         "n_dims"},
        {"dim 0", [](QByteArray& b, const Layout& l) { putLe(b, l.tensors.at("t.a").dims_at + 8, 0, 8); },
         "must be positive"},
        {"dim negative", [](QByteArray& b, const Layout& l) { putLe(b, l.tensors.at("t.a").dims_at, UINT64_MAX, 8); },
         "must be positive"},
        {"dim huge", [](QByteArray& b, const Layout& l) { putLe(b, l.tensors.at("t.a").dims_at + 8, uint64_t(1) << 40, 8); },
         "runs past the end"},
        {"dims overflow",
         [](QByteArray& b, const Layout& l) {
             putLe(b, l.tensors.at("t.a").dims_at, kHuge, 8);
             putLe(b, l.tensors.at("t.a").dims_at + 8, kHuge, 8);
         },
         "overflows"},
        {"tensor type removed id 4", [](QByteArray& b, const Layout& l) { putLe(b, l.tensors.at("t.c").type_at, 4, 4); },
         "tensor 't.c' type at offset"},
        {"tensor type 1000", [](QByteArray& b, const Layout& l) { putLe(b, l.tensors.at("t.c").type_at, 1000, 4); },
         "unknown tensor type id 1000"},
        {"row not block multiple", [](QByteArray& b, const Layout& l) { putLe(b, l.tensors.at("t.b").dims_at, 48, 8); },
         "block size"},
        {"misaligned offset",
         [](QByteArray& b, const Layout& l) {
             const qsizetype at = l.tensors.at("t.b").offset_at;
             putLe(b, at, getLe(b, at, 8) + 1, 8);
         },
         "not a multiple of the alignment"},
        {"overlapping tensors",
         [](QByteArray& b, const Layout& l) {
             putLe(b, l.tensors.at("t.c").offset_at, getLe(b, l.tensors.at("t.b").offset_at, 8), 8);
         },
         "overlaps"},
        {"data past end",
         [](QByteArray& b, const Layout& l) {
             const qsizetype at = l.tensors.at("t.c").offset_at;
             putLe(b, at, getLe(b, at, 8) + 64 * 1024, 8);
         },
         "runs past the end"},
        {"offset huge", [](QByteArray& b, const Layout& l) { putLe(b, l.tensors.at("t.c").offset_at, kHuge, 8); },
         "runs past the end"},
    };
    return cases;
}

}  // namespace

class TestGgufMalformed : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QByteArray valid_;
    Layout layout_;
    QString path_;

    // Writes `bytes` and opens them; checks the error names the file and an offset, and that no
    // single allocation exceeded a small multiple of the file size. Returns the message.
    std::string expectError(const QByteArray& bytes) {
        if (!strata::test::writeFileBytes(path_, bytes)) return "could not write the test file";
        g_largest_alloc = 0;
        auto f = GgufFile::open(path_.toStdString());
        const size_t largest = g_largest_alloc;
        const size_t limit = 16 * size_t(bytes.size()) + 64 * 1024;
        if (largest > limit) return "allocated " + std::to_string(largest) + " bytes at once";
        if (f.ok()) return "opened without error";
        const std::string& m = f.status().message();
        if (m.find(path_.toStdString()) == std::string::npos) return "message lacks the path: " + m;
        if (m.find("offset") == std::string::npos) return "message lacks an offset: " + m;
        if (f.status().code() != ErrorCode::corrupt && f.status().code() != ErrorCode::unsupported) {
            return "unexpected code: " + m;
        }
        return m;
    }
    static bool isFailure(const std::string& m) {
        return m.rfind("allocated", 0) == 0 || m.rfind("opened without", 0) == 0 || m.rfind("message lacks", 0) == 0 ||
               m.rfind("unexpected code", 0) == 0 || m.rfind("could not", 0) == 0;
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        GgufWriter w{64};
        w.set_string("general.architecture", "llama");
        w.set_string("test.str", "hello");
        w.set_string_array("test.tokens", {"a", "bb", "ccc"});
        Value inner1, inner2, nested;
        inner1.type = inner2.type = nested.type = ValueType::ARRAY;
        inner1.array_type = inner2.array_type = ValueType::INT32;
        inner1.array_numbers = {1, 2};
        inner2.array_numbers = {3};
        nested.array_type = ValueType::ARRAY;
        nested.array_arrays = {inner1, inner2};
        w.set_value("test.nested", nested);
        Value bytes;
        bytes.type = ValueType::ARRAY;
        bytes.array_type = ValueType::UINT8;
        bytes.array_numbers = {1, 2, 3, 4};
        w.set_value("test.bytes", bytes);
        w.set_u8("test.k1", 1);
        w.set_u8("test.k2", 2);
        QVERIFY(w.add_tensor("t.a", TensorType::F32, {8, 2}, strata::test::randomBytes(64, 1)).ok());
        QVERIFY(w.add_tensor("t.b", TensorType::Q8_0, {32, 2}, strata::test::randomBytes(68, 2)).ok());
        QVERIFY(w.add_tensor("t.c", TensorType::F16, {16}, strata::test::randomBytes(32, 3)).ok());
        const QString valid_path = dir_.filePath("valid.gguf");
        QVERIFY(w.write(valid_path.toStdString()).ok());
        valid_ = strata::test::readFileBytes(valid_path);

        auto f = GgufFile::open(valid_path.toStdString());
        QVERIFY2(f.ok(), f.status().message().c_str());
        qsizetype end = 0;
        for (const KeyValue& kv : (*f)->metadata()) {
            layout_.type_at[kv.key] = qsizetype(kv.offset + 8 + kv.key.size());
            end = qsizetype(kv.offset + kv.n_bytes);
        }
        QCOMPARE(layout_.type_at.size(), size_t(8));  // general.alignment included
        for (const TensorInfo& t : (*f)->tensors()) {
            Layout::TensorAt at{};
            at.name_at = end;
            at.n_dims_at = end + 8 + qsizetype(t.name.size());
            at.dims_at = at.n_dims_at + 4;
            at.type_at = at.dims_at + 8 * qsizetype(t.ne.size());
            at.offset_at = at.type_at + 4;
            end = at.offset_at + 8;
            QCOMPARE(getLe(valid_, at.offset_at, 8), t.offset);  // the layout walk is right
            layout_.tensors[t.name] = at;
            layout_.data_end = std::max(layout_.data_end, qsizetype((*f)->data_offset() + t.offset + t.n_bytes));
        }
        layout_.data_offset = qsizetype((*f)->data_offset());
        QVERIFY(layout_.data_end < valid_.size());  // the file ends with padding
        path_ = dir_.filePath("damaged.gguf");
    }

    void mutations_data() {
        QTest::addColumn<int>("index");
        for (size_t k = 0; k < mutation_cases().size(); ++k) QTest::newRow(mutation_cases()[k].name) << int(k);
    }
    void mutations() {
        QFETCH(int, index);
        const MutationCase& c = mutation_cases()[index];
        QByteArray b = valid_;
        c.mutate(b, layout_);
        QVERIFY(b != valid_);
        const std::string m = expectError(b);
        QVERIFY2(!isFailure(m), m.c_str());
        QVERIFY2(m.find(c.expect) != std::string::npos, ("expected '" + std::string(c.expect) + "' in: " + m).c_str());
    }

    // Every truncation before the end of the last tensor's bytes fails; within the final padding
    // the file is still whole.
    void truncation() {
        for (qsizetype n = 0; n < layout_.data_end; ++n) {
            const std::string m = expectError(valid_.left(n));
            QVERIFY2(!isFailure(m), (std::to_string(n) + " bytes: " + m).c_str());
        }
        for (qsizetype n = layout_.data_end; n <= valid_.size(); ++n) {
            QVERIFY(strata::test::writeFileBytes(path_, valid_.left(n)));
            auto f = GgufFile::open(path_.toStdString());
            QVERIFY2(f.ok(), f.status().message().c_str());
        }
    }

    // The largest key count the file size alone allows is accepted by the first check, then fails
    // later; memory must not follow the count.
    void largestPlausibleCounts() {
        QByteArray b = valid_;
        putLe(b, 16, uint64_t(b.size() - 24) / 14, 8);
        putLe(b, 8, 0, 8);
        const std::string m = expectError(b);
        QVERIFY2(!isFailure(m), m.c_str());
    }

    void nestingDepth_data() {
        QTest::addColumn<int>("levels");
        QTest::addColumn<bool>("ok");
        QTest::newRow("8 levels") << 8 << true;
        QTest::newRow("9 levels") << 9 << false;
        QTest::newRow("200 levels") << 200 << false;
    }
    void nestingDepth() {
        QFETCH(int, levels);
        QFETCH(bool, ok);
        Value v;
        v.type = ValueType::ARRAY;
        v.array_type = ValueType::UINT8;
        v.array_numbers = {7};
        for (int k = 1; k < levels; ++k) {
            Value outer;
            outer.type = ValueType::ARRAY;
            outer.array_type = ValueType::ARRAY;
            outer.array_arrays = {v};
            v = outer;
        }
        GgufWriter w;
        w.set_value("deep", v);
        QVERIFY(w.write(path_.toStdString()).ok());
        if (ok) {
            auto f = GgufFile::open(path_.toStdString());
            QVERIFY2(f.ok(), f.status().message().c_str());
        } else {
            const std::string m = expectError(strata::test::readFileBytes(path_));
            QVERIFY2(!isFailure(m) && m.find("nested deeper") != std::string::npos, m.c_str());
        }
    }

    // Seeded random damage to the header, metadata and directory: any outcome but a crash, an
    // unbounded allocation or an error without file and offset is a failure.
    void randomDamage() {
        std::mt19937 rng(20240611);
        int n_errors = 0;
        for (int round = 0; round < 3000; ++round) {
            QByteArray b = valid_;
            const int n_changes = 1 + int(rng() % 4);
            for (int k = 0; k < n_changes; ++k) {
                const qsizetype at = qsizetype(rng() % uint32_t(layout_.data_offset));
                switch (rng() % 3) {
                    case 0: b[at] = char(rng()); break;
                    case 1: if (at + 8 <= b.size()) putLe(b, at, uint64_t(rng()) << (rng() % 40), 8); break;
                    default: if (at + 4 <= b.size()) putLe(b, at, rng() % 16, 4); break;
                }
            }
            if (rng() % 4 == 0) b.truncate(qsizetype(rng() % uint32_t(b.size())));
            QVERIFY(strata::test::writeFileBytes(path_, b));
            g_largest_alloc = 0;
            auto f = GgufFile::open(path_.toStdString());
            QVERIFY2(g_largest_alloc <= 16 * size_t(b.size()) + 64 * 1024, std::to_string(round).c_str());
            if (!f.ok()) {
                ++n_errors;
                const std::string& m = f.status().message();
                QVERIFY2(m.find(path_.toStdString()) != std::string::npos && m.find("offset") != std::string::npos,
                         m.c_str());
            }
        }
        QVERIFY(n_errors > 1000);  // the damage is real
    }
};

QTEST_GUILESS_MAIN(TestGgufMalformed)
#include "tst_gguf_malformed.moc"
