// FileFault (strata/status.h): the GGUF reader says what is wrong with a file as a structured
// fault, so the app explains refusals without reading messages. Checked on real damaged files:
// not GGUF (text, binary, tiny, empty), cut short at every length through the header and
// tensor directory and at steps through the data, versions and byte orders Strata does not
// read, and split sets with a part missing, foreign, not GGUF, cut short or renamed — through
// GgufFile::open and through inspect_model_file, which the library calls. Errors that are none
// of these carry no fault; the fault survives with_context.
#include <QtTest>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "gguf/split_writer.h"
#include "gguf_test_util.h"
#include "strata/model_info.h"
#include "test_models.h"

using namespace strata;
using gguf::GgufFile;
using strata::test::readFileBytes;
using strata::test::writeFileBytes;

namespace {

// The error of opening `path`, or success; also checks inspect_model_file reports the same.
Status openStatus(const QString& path) {
    auto f = GgufFile::open(path.toStdString());
    if (f.ok()) return Status::success();
    auto inspected = inspect_model_file(path.toStdString());
    if (inspected.ok() || inspected.status().fault() != f.status().fault() ||
        inspected.status().fault_detail() != f.status().fault_detail()) {
        return Status(ErrorCode::internal, "inspect_model_file disagrees with GgufFile::open on " + path.toStdString());
    }
    return f.status();
}

QByteArray describe(const Status& s) {
    return QByteArray(file_fault_name(s.fault())) + " [" + QByteArray::fromStdString(s.fault_detail()) + "] " +
           QByteArray::fromStdString(s.message());
}

}  // namespace

class TestFileFault : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString model_;        // a valid single-file model
    QByteArray bytes_;     // its bytes
    qsizetype data_offset_ = 0;
    qsizetype data_end_ = 0;  // end of the last tensor's data (the rest is padding)

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        RandomModelConfig cfg;
        cfg.n_vocab = 300;
        cfg.seed = 7;
        QString error;
        model_ = strata::test::writeRandomModel(dir_, QStringLiteral("model"), cfg, &error);
        QVERIFY2(!model_.isEmpty(), qPrintable(error));
        bytes_ = readFileBytes(model_);
        auto f = GgufFile::open(model_.toStdString());
        QVERIFY2(f.ok(), f.status().message().c_str());
        data_offset_ = qsizetype((*f)->data_offset());
        for (const gguf::TensorInfo& t : (*f)->tensors())
            data_end_ = std::max(data_end_, qsizetype((*f)->data_offset() + t.offset + t.n_bytes));
        QVERIFY(data_offset_ > 4 && data_end_ <= bytes_.size());
    }

    void statusKeepsTheFault() {
        const Status s = make_error(ErrorCode::corrupt, "x.gguf: cut").with_fault(FileFault::truncated, "d");
        QCOMPARE(s.fault(), FileFault::truncated);
        const Status up = s.with_context("loading");
        QCOMPARE(up.message(), std::string("loading: x.gguf: cut"));
        QCOMPARE(up.code(), ErrorCode::corrupt);
        QCOMPARE(up.fault(), FileFault::truncated);
        QCOMPARE(up.fault_detail(), std::string("d"));
        const Result<int> r = up;
        QCOMPARE(r.status().fault(), FileFault::truncated);
        const Status fine = Status::success().with_fault(FileFault::not_gguf, "no");
        QVERIFY(fine.ok());
        QCOMPARE(fine.fault(), FileFault::none);
        QCOMPARE(Status(ErrorCode::io, "x").fault(), FileFault::none);
    }

    void notGguf_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("detail");
        QTest::newRow("text") << QByteArray("hello, these are notes\n") << "it starts with 'hell'";
        QTest::newRow("binary") << QByteArray("\x7f" "ELF\x02\x01\x01", 7) << "it starts with '\\x7fELF'";
        QTest::newRow("two bytes") << QByteArray("GG") << "it is only 2 bytes long";
        QTest::newRow("one byte") << QByteArray("G") << "it is only 1 byte long";
        QTest::newRow("empty") << QByteArray() << "it is empty";
    }
    void notGguf() {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, detail);
        const QString p = dir_.filePath(QStringLiteral("notes.gguf"));
        QVERIFY(writeFileBytes(p, bytes));
        const Status s = openStatus(p);
        QCOMPARE(s.code(), ErrorCode::corrupt);
        QVERIFY2(s.fault() == FileFault::not_gguf, describe(s).constData());
        QCOMPARE(QString::fromStdString(s.fault_detail()), detail);
    }

    // A cut anywhere from the version on is "truncated" (or, inside the trailing padding, no
    // error at all): an interrupted download is recognised whatever field it ends in.
    void truncatedAtAnyLength() {
        const QString p = dir_.filePath(QStringLiteral("cut.gguf"));
        std::vector<qsizetype> lengths;
        for (qsizetype n = 4; n <= data_offset_ + 64; ++n) lengths.push_back(n);
        for (qsizetype n = data_offset_ + 64; n < bytes_.size(); n += 4093) lengths.push_back(n);
        lengths.push_back(data_end_ - 1);
        lengths.push_back(bytes_.size() - 1);
        int n_truncated = 0;
        for (qsizetype n : lengths) {
            QVERIFY(writeFileBytes(p, bytes_.left(n)));
            const Status s = openStatus(p);
            if (s.ok()) {
                QVERIFY2(n >= data_end_, qPrintable(QStringLiteral("a cut at %1 bytes opened").arg(n)));
                continue;
            }
            QVERIFY2(s.fault() == FileFault::truncated && s.code() == ErrorCode::corrupt,
                     qPrintable(QStringLiteral("cut at %1: %2").arg(n).arg(QString::fromUtf8(describe(s)))));
            ++n_truncated;
        }
        QVERIFY(n_truncated > 1000);
    }

    void unsupportedGguf_data() {
        QTest::addColumn<QByteArray>("magic");
        QTest::addColumn<uint>("version");
        QTest::addColumn<QString>("detail");
        QTest::newRow("version 4") << QByteArray("GGUF") << 4u << "GGUF version 4; Strata reads versions 2 and 3";
        QTest::newRow("version 1") << QByteArray("GGUF") << 1u
                                   << "GGUF version 1; Strata reads versions 2 and 3 (re-convert the model)";
        QTest::newRow("big-endian version") << QByteArray("GGUF") << 0x03000000u
                                            << "big-endian GGUF file; only little-endian GGUF files are supported";
        QTest::newRow("big-endian magic") << QByteArray("FUGG") << 3u
                                          << "big-endian GGUF file; only little-endian GGUF files are supported";
    }
    void unsupportedGguf() {
        QFETCH(QByteArray, magic);
        QFETCH(uint, version);
        QFETCH(QString, detail);
        QByteArray b = bytes_;
        b.replace(0, 4, magic);
        strata::test::putLe(b, 4, version, 4);
        const QString p = dir_.filePath(QStringLiteral("version.gguf"));
        QVERIFY(writeFileBytes(p, b));
        const Status s = openStatus(p);
        QCOMPARE(s.code(), ErrorCode::unsupported);
        QVERIFY2(s.fault() == FileFault::unsupported_gguf, describe(s).constData());
        QCOMPARE(QString::fromStdString(s.fault_detail()), detail);
    }

    void splitSet() {
        const QString folder = dir_.filePath(QStringLiteral("split"));
        QVERIFY(QDir().mkpath(folder));
        {
            auto f = GgufFile::open(model_.toStdString());
            QVERIFY(f.ok());
            auto written = gguf::write_split_set(**f, (folder + QStringLiteral("/set")).toStdString(), 3);
            QVERIFY2(written.ok(), written.status().message().c_str());
        }
        const QString first = folder + QStringLiteral("/set-00001-of-00003.gguf");
        const QString second = folder + QStringLiteral("/set-00002-of-00003.gguf");
        const QByteArray secondBytes = readFileBytes(second);
        QVERIFY(openStatus(first).ok());

        QVERIFY(QFile::remove(second));
        Status s = openStatus(first);
        QVERIFY2(s.fault() == FileFault::split_set_incomplete, describe(s).constData());
        QCOMPARE(s.code(), ErrorCode::not_found);
        QCOMPARE(QString::fromStdString(s.fault_detail()), second);

        QVERIFY(writeFileBytes(second, bytes_));  // a whole model where part 2 should be
        s = openStatus(first);
        QVERIFY2(s.fault() == FileFault::split_set_incomplete, describe(s).constData());
        QCOMPARE(QString::fromStdString(s.fault_detail()), second);

        QVERIFY(writeFileBytes(second, "hello, these are notes\n"));  // not the first part's fault
        s = openStatus(first);
        QVERIFY2(s.fault() == FileFault::split_set_incomplete, describe(s).constData());
        QCOMPARE(QString::fromStdString(s.fault_detail()), second);

        QVERIFY(writeFileBytes(second, secondBytes.left(secondBytes.size() / 2)));  // part 2 cut short
        s = openStatus(first);
        QVERIFY2(s.fault() == FileFault::truncated, describe(s).constData());
        QVERIFY2(s.message().find(second.toStdString()) != std::string::npos, s.message().c_str());

        QVERIFY(writeFileBytes(second, secondBytes));
        QVERIFY(openStatus(first).ok());
        const QString renamed = folder + QStringLiteral("/renamed.gguf");  // the others cannot be found
        QVERIFY(QFile::copy(second, renamed));
        s = openStatus(renamed);
        QVERIFY2(s.fault() == FileFault::split_set_incomplete, describe(s).constData());
        QCOMPARE(QString::fromStdString(s.fault_detail()), renamed);
    }

    // Errors that are not one of the faults carry none, so callers fall back to the message.
    void otherErrorsHaveNoFault() {
        gguf::GgufWriter w;
        w.set_u32("some.key", 1);
        const QString p = dir_.filePath(QStringLiteral("no-arch.gguf"));
        QVERIFY(w.write(p.toStdString()).ok());
        auto r = inspect_model_file(p.toStdString());
        QVERIFY(!r.ok());
        QVERIFY2(r.status().message().find("general.architecture") != std::string::npos, r.status().message().c_str());
        QCOMPARE(r.status().fault(), FileFault::none);

        QByteArray b = bytes_;
        const qsizetype type_at = 24 + 8 + qsizetype(strata::test::getLe(b, 24, 8));  // the first key's value type
        strata::test::putLe(b, type_at, 13, 4);                                      // no such type
        QVERIFY(writeFileBytes(p, b));
        const Status s = openStatus(p);
        QVERIFY(!s.ok());
        QVERIFY2(s.fault() == FileFault::none, describe(s).constData());

        auto missing = inspect_model_file(dir_.filePath(QStringLiteral("absent.gguf")).toStdString());
        QCOMPARE(missing.status().code(), ErrorCode::not_found);
        QCOMPARE(missing.status().fault(), FileFault::none);
    }
};

QTEST_GUILESS_MAIN(TestFileFault)
#include "tst_file_fault.moc"
