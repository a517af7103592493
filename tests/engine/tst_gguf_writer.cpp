// GgufWriter: the exact bytes it lays down, atomic replacement through path.partial (producer
// failure, full disk, unwritable folder), argument checks, copy_metadata_from and progress.
#include <QtTest>

#include <sys/resource.h>

#include <csignal>
#include <limits>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "gguf_test_util.h"
#include "test_paths.h"

using namespace strata;
using namespace strata::gguf;
using strata::test::getLe;
using strata::test::randomBytes;

class TestGgufWriter : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    std::string path(const char* name) const { return dir_.filePath(QString::fromUtf8(name)).toStdString(); }
    static bool exists(const std::string& p) { return QFileInfo::exists(QString::fromStdString(p)); }

private slots:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    // The byte layout, checked independently of the reader.
    void layoutBytes() {
        GgufWriter w;
        w.set_u32("k", 0xA1B2C3D4u);
        const auto data = randomBytes(12, 5);  // 3 floats: the file ends padded to 32
        QVERIFY(w.add_tensor("w", TensorType::F32, {3}, data).ok());
        const std::string p = path("layout.gguf");
        QVERIFY(w.write(p).ok());
        const QByteArray b = strata::test::readFileBytes(QString::fromStdString(p));

        QCOMPARE(b.left(4), QByteArray("GGUF"));
        QCOMPARE(getLe(b, 4, 4), uint64_t(3));    // version
        QCOMPARE(getLe(b, 8, 8), uint64_t(1));    // tensor count
        QCOMPARE(getLe(b, 16, 8), uint64_t(1));   // key count
        QCOMPARE(getLe(b, 24, 8), uint64_t(1));   // key length
        QCOMPARE(b.at(32), 'k');
        QCOMPARE(getLe(b, 33, 4), uint64_t(4));   // value type uint32
        QCOMPARE(getLe(b, 37, 4), uint64_t(0xA1B2C3D4u));
        qsizetype at = 41;                         // tensor directory
        QCOMPARE(getLe(b, at, 8), uint64_t(1));
        QCOMPARE(b.at(at + 8), 'w');
        QCOMPARE(getLe(b, at + 9, 4), uint64_t(1));    // n_dims
        QCOMPARE(getLe(b, at + 13, 8), uint64_t(3));   // ne[0]
        QCOMPARE(getLe(b, at + 21, 4), uint64_t(0));   // F32
        QCOMPARE(getLe(b, at + 25, 8), uint64_t(0));   // offset
        const qsizetype header_end = at + 33;
        const qsizetype data_start = (header_end + 31) / 32 * 32;
        for (qsizetype k = header_end; k < data_start; ++k) QCOMPARE(b.at(k), '\0');
        QCOMPARE(QByteArray(reinterpret_cast<const char*>(data.data()), 12), b.mid(data_start, 12));
        QCOMPARE(b.size(), data_start + 32);
    }

    void noPartialLeftOnSuccess() {
        GgufWriter w;
        w.set_string("general.name", "x");
        const std::string p = path("ok.gguf");
        QVERIFY(w.write(p).ok());
        QVERIFY(exists(p));
        QVERIFY(!exists(p + ".partial"));
    }

    void producerFailureLeavesNothing() {
        const std::string p = path("fail.gguf");
        QVERIFY(strata::test::writeFileBytes(QString::fromStdString(p), "previous"));
        GgufWriter w;
        QVERIFY(w.add_tensor("bad", TensorType::F32, {4}, [](uint8_t*, size_t) {
                     return make_error(ErrorCode::cancelled, "stopped by test");
                 }).ok());
        const Status st = w.write(p);
        QVERIFY(!st.ok());
        QCOMPARE(st.code(), ErrorCode::cancelled);
        QVERIFY2(st.message().find("'bad'") != std::string::npos, st.message().c_str());
        QVERIFY(!exists(p + ".partial"));
        QCOMPARE(strata::test::readFileBytes(QString::fromStdString(p)), QByteArray("previous"));  // untouched
    }

    // A full disk, simulated with a file-size limit: every write is checked, the partial removed.
    void fullDiskLeavesNothing() {
        struct rlimit old {};
        QVERIFY(getrlimit(RLIMIT_FSIZE, &old) == 0);
        struct rlimit small = old;
        small.rlim_cur = 64 * 1024;
        auto previous_handler = std::signal(SIGXFSZ, SIG_IGN);  // get EFBIG instead of a signal
        if (setrlimit(RLIMIT_FSIZE, &small) != 0) {
            std::signal(SIGXFSZ, previous_handler);
            QSKIP("cannot lower RLIMIT_FSIZE here");
        }
        GgufWriter w;
        QVERIFY(w.add_tensor("big", TensorType::F32, {1024, 1024}, randomBytes(4 << 20, 3)).ok());
        const std::string p = path("full.gguf");
        const Status st = w.write(p);
        setrlimit(RLIMIT_FSIZE, &old);
        std::signal(SIGXFSZ, previous_handler);
        QVERIFY(!st.ok());
        QCOMPARE(st.code(), ErrorCode::io);
        QVERIFY2(st.message().find("full.gguf.partial") != std::string::npos, st.message().c_str());
        QVERIFY(!exists(p));
        QVERIFY(!exists(p + ".partial"));
    }

    void unwritableFolder() {
        GgufWriter w;
        const Status st = w.write(path("no/such/folder/x.gguf"));
        QVERIFY(!st.ok());
        QCOMPARE(st.code(), ErrorCode::io);
        QVERIFY2(st.message().find("no/such/folder/x.gguf.partial") != std::string::npos, st.message().c_str());
    }

    void addTensorErrors_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("type");
        QTest::addColumn<QList<qint64>>("ne");
        QTest::addColumn<int>("nBytes");
        QTest::newRow("empty name") << "" << 0 << QList<qint64>{4} << 16;
        QTest::newRow("duplicate") << "dup" << 0 << QList<qint64>{4} << 16;
        QTest::newRow("no dims") << "a" << 0 << QList<qint64>{} << 4;
        QTest::newRow("five dims") << "a" << 0 << QList<qint64>{1, 1, 1, 1, 1} << 4;
        QTest::newRow("zero dim") << "a" << 0 << QList<qint64>{4, 0} << 0;
        QTest::newRow("negative dim") << "a" << 0 << QList<qint64>{-4} << 16;
        QTest::newRow("unknown type") << "a" << 4 << QList<qint64>{4} << 16;
        QTest::newRow("not block multiple") << "a" << 8 << QList<qint64>{48} << 51;
        QTest::newRow("short data") << "a" << 0 << QList<qint64>{4} << 15;
        QTest::newRow("long data") << "a" << 1 << QList<qint64>{4} << 9;
    }
    void addTensorErrors() {
        QFETCH(QString, name);
        QFETCH(int, type);
        QFETCH(QList<qint64>, ne);
        QFETCH(int, nBytes);
        GgufWriter w;
        QVERIFY(w.add_tensor("dup", TensorType::F32, {4}, randomBytes(16, 1)).ok());
        const std::vector<int64_t> dims(ne.begin(), ne.end());
        const Status st = w.add_tensor(name.toStdString(), static_cast<TensorType>(type), dims,
                                       randomBytes(size_t(nBytes), 2));
        QVERIFY(!st.ok());
        QCOMPARE(st.code(), ErrorCode::invalid_argument);
    }

    void badAlignmentAndVersion_data() {
        QTest::addColumn<int>("alignment");
        QTest::addColumn<int>("version");
        QTest::newRow("alignment 0") << 0 << 3;
        QTest::newRow("alignment 3") << 3 << 3;
        QTest::newRow("alignment 48") << 48 << 3;
        QTest::newRow("version 1") << 32 << 1;
        QTest::newRow("version 4") << 32 << 4;
    }
    void badAlignmentAndVersion() {
        QFETCH(int, alignment);
        QFETCH(int, version);
        GgufWriter w{uint64_t(alignment)};
        w.set_version(uint32_t(version));
        const std::string p = path("bad-args.gguf");
        const Status st = w.write(p);
        QCOMPARE(st.code(), ErrorCode::invalid_argument);
        QVERIFY(!exists(p));
        QVERIFY(!exists(p + ".partial"));
    }

    void setTwiceReplacesInPlace() {
        GgufWriter w;
        w.set_u32("a", 1);
        w.set_string("b", "x");
        w.set_f32("a", 2.5f);
        w.set_u8("general.alignment", 8);  // ignored: the writer owns the alignment key
        const std::string p = path("replace.gguf");
        QVERIFY(w.write(p).ok());
        auto f = GgufFile::open(p);
        QVERIFY2(f.ok(), f.status().message().c_str());
        QCOMPARE((*f)->metadata().size(), size_t(2));
        QCOMPARE((*f)->metadata()[0].key, std::string("a"));
        QCOMPARE(*(*f)->get_float("a").value(), 2.5);
        QCOMPARE((*f)->alignment(), uint64_t(32));
    }

    void copyMetadata() {
        GgufWriter src{64};
        src.set_u64("big", std::numeric_limits<uint64_t>::max());  // exact through the raw copy
        src.set_i64("neg", std::numeric_limits<int64_t>::min());
        src.set_string_array("strs", {"a", "", "ccc"});
        src.set_f32_array("fl", {0.5f, -2.0f});
        src.set_i32_array("ints", {-7, 7});
        src.set_bool("flag", true);
        src.set_f64("pi", 3.141592653589793);
        src.set_i8("i8", -3);
        src.set_u16("u16", 600);
        src.set_i16("i16", -600);
        src.set_i32("i32", -70000);
        const std::string a = path("copy-src.gguf");
        QVERIFY(src.write(a).ok());
        auto fa = GgufFile::open(a);
        QVERIFY(fa.ok());

        GgufWriter dst;  // default alignment: the source's general.alignment must not come along
        dst.copy_metadata_from(**fa);
        const std::string b = path("copy-dst.gguf");
        QVERIFY(dst.write(b).ok());
        auto fb = GgufFile::open(b);
        QVERIFY2(fb.ok(), fb.status().message().c_str());
        QCOMPARE((*fb)->alignment(), uint64_t(32));
        QVERIFY((*fb)->find("general.alignment") == nullptr);
        QCOMPARE((*fb)->metadata().size(), (*fa)->metadata().size() - 1);
        for (const KeyValue& kv : (*fb)->metadata()) {
            const Value* orig = (*fa)->find(kv.key);
            QVERIFY(orig != nullptr);
            std::string why;
            QVERIFY2(strata::test::sameValue(kv.value, *orig, why), (kv.key + ": " + why).c_str());
        }
        QCOMPARE((*fb)->find("big")->u, std::numeric_limits<uint64_t>::max());
    }

    void copyMetadataFromStories() {
        const QString p = strata::test::stories260kPath();
        if (p.isEmpty()) QSKIP("stories260K.gguf not found in ../shared/models");
        auto src = GgufFile::open(p.toStdString());
        QVERIFY(src.ok());
        GgufWriter w;
        w.copy_metadata_from(**src);
        const std::string out = path("stories-meta.gguf");
        QVERIFY(w.write(out).ok());
        auto f = GgufFile::open(out);
        QVERIFY(f.ok());
        QCOMPARE((*f)->metadata().size(), (*src)->metadata().size());
        for (size_t k = 0; k < (*f)->metadata().size(); ++k) {
            std::string why;
            QVERIFY2(strata::test::sameValue((*f)->metadata()[k].value, (*src)->metadata()[k].value, why), why.c_str());
        }
    }

    void progress() {
        GgufWriter w;
        for (int k = 0; k < 4; ++k) {
            QVERIFY(w.add_tensor("t" + std::to_string(k), TensorType::F16, {8}, randomBytes(16, uint32_t(k))).ok());
        }
        std::vector<std::pair<size_t, size_t>> calls;
        QVERIFY(w.write(path("progress.gguf"), [&](size_t done, size_t total) { calls.emplace_back(done, total); }).ok());
        QCOMPARE(calls.size(), size_t(4));
        for (size_t k = 0; k < 4; ++k) QCOMPARE(calls[k], std::make_pair(k + 1, size_t(4)));
    }
};

QTEST_GUILESS_MAIN(TestGgufWriter)
#include "tst_gguf_writer.moc"
