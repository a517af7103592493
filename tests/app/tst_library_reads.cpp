// One read per dropped file (issue #13): the App's importer reads a new model's header once,
// and the library's Fit column is filled from that same read — the fit service reads no
// footprint for it, nor when the footprint could not be computed, nor for a file it refuses.
// Models from an earlier run are read by the fit service, once each. Reads are counted by
// wrapping the engine's own functions.
#include <QFileInfo>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>

#include "app.h"
#include "fake_backend.h"
#include "library/model_catalog.h"
#include "../engine/gguf_test_util.h"
#include "test_models.h"

using namespace strata;
using namespace strata::app;

namespace {

struct Reads {
    std::atomic<int> inspections{0};  // the importer's reads (ModelInspector)
    std::atomic<int> footprints{0};   // the fit service's reads (FootprintReader)
};

// An App on `dataDir` with a scripted backend (one 8 GiB CPU) whose file reads are counted.
AppOptions countingOptions(const QString& dataDir, const std::shared_ptr<Reads>& reads,
                           ModelInspector inspect = strata::inspect_model_file) {
    AppOptions o;
    o.dataDir = dataDir;
    o.makeBackend = [] {
        return std::make_unique<strata::test::FakeBackend>(strata::test::FakeScript{},
                                                           std::make_shared<strata::test::FakeRecord>());
    };
    o.inspect = [reads, inspect](const std::string& p) {
        ++reads->inspections;
        return inspect(p);
    };
    o.readFootprint = [reads](const std::string& p) {
        ++reads->footprints;
        return strata::read_model_footprint(p);
    };
    return o;
}

}  // namespace

class TestLibraryReads : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QVERIFY(m_files.isValid());
        RandomModelConfig cfg;
        QString error;
        const QString written = strata::test::writeRandomModel(m_files, QStringLiteral("tiny"), cfg, &error);
        QVERIFY2(!written.isEmpty(), qPrintable(error));
        m_model = QFileInfo(written).canonicalFilePath();  // the catalog's key
    }

    void aNewFileIsReadOnce() {
        QTemporaryDir data;
        auto reads = std::make_shared<Reads>();
        App app(countingOptions(data.path(), reads));
        QVERIFY(app.start());
        QTRY_VERIFY(!app.fits().devices().isEmpty());
        app.importer().importPaths({m_model});
        QTRY_COMPARE(app.catalog().fitStatus(m_model).state, FitState::fits);
        QCOMPARE(reads->inspections.load(), 1);
        QCOMPARE(reads->footprints.load(), 0);
        // The footprint the fit service holds is the one the file has.
        auto expected = strata::read_model_footprint(m_model.toStdString());
        QVERIFY(expected.ok());
        QVERIFY(app.fits().hasFootprint(m_model));
        QCOMPARE(app.fits().footprint(m_model).layer_bytes, expected->layer_bytes);
        QCOMPARE(app.fits().footprint(m_model).n_vocab, expected->n_vocab);

        QSignalSpy duplicate(&app.importer(), &ModelImporter::duplicate);
        app.importer().importPaths({m_model});
        QCOMPARE(duplicate.size(), 1);
        QCOMPARE(reads->inspections.load(), 1);
        QCOMPARE(reads->footprints.load(), 0);
        app.shutdown();
    }

    // The inspection's footprint error is shown in the Fit column as a read failure would be,
    // without reading the file again to find it.
    void aFootprintErrorNeedsNoRead() {
        QTemporaryDir data;
        auto reads = std::make_shared<Reads>();
        const std::string why = m_model.toStdString() + ": no tensors for layer 1 (blk.1.*) of 2";
        App app(countingOptions(data.path(), reads, [why](const std::string& p) -> Result<ModelInspection> {
            auto r = strata::inspect_model_file(p);
            if (r.ok()) r->footprint = Status(ErrorCode::corrupt, why);
            return r;
        }));
        QVERIFY(app.start());
        QTRY_VERIFY(!app.fits().devices().isEmpty());
        app.importer().importPaths({m_model});
        QTRY_COMPARE(app.catalog().fitStatus(m_model).state, FitState::error);
        QCOMPARE(app.catalog().fitStatus(m_model).detail, QString::fromStdString(why));
        QCOMPARE(app.fits().failure(m_model), QString::fromStdString(why));
        QCOMPARE(reads->inspections.load(), 1);
        QCOMPARE(reads->footprints.load(), 0);
        app.shutdown();
    }

    // A file whose architecture Strata does not run, and whose footprint cannot be computed, is
    // refused with its support verdict: the missing footprint is no error of its own.
    void anUnrunnableFileIsRefusedOnItsVerdict() {
        QTemporaryDir data;
        auto reads = std::make_shared<Reads>();
        strata::test::TinyModel tm;
        tm.arch = "rwkv6";
        tm.skip = {"rwkv6.block_count"};
        const QString path = QFileInfo(m_files.filePath(QStringLiteral("rwkv.gguf"))).absoluteFilePath();
        QVERIFY(strata::test::writeTinyModel(path.toStdString(), tm).ok());
        auto inspection = strata::inspect_model_file(path.toStdString());
        QVERIFY2(inspection.ok(), inspection.status().message().c_str());
        QVERIFY(!inspection->info.support.ok());
        QVERIFY(!inspection->footprint.ok());

        App app(countingOptions(data.path(), reads));
        QVERIFY(app.start());
        QSignalSpy rejected(&app.importer(), &ModelImporter::rejected);
        app.importer().importPaths({path});
        QTRY_COMPARE(rejected.size(), 1);
        const QString message = rejected[0][1].toString();
        QCOMPARE(message, QStringLiteral("rwkv.gguf: ") + QString::fromStdString(inspection->info.support.message));
        QCOMPARE(app.catalog().rowCount(), 0);
        QCOMPARE(reads->inspections.load(), 1);
        QCOMPARE(reads->footprints.load(), 0);
        app.shutdown();
    }

    // The catalog persists info, not footprints: the next run's fit service reads each model's
    // footprint once, and the importer reads nothing.
    void modelsFromAnEarlierRunAreReadOnceByTheFitService() {
        QTemporaryDir data;
        {
            auto reads = std::make_shared<Reads>();
            App first(countingOptions(data.path(), reads));
            QVERIFY(first.start());
            first.importer().importPaths({m_model});
            QTRY_COMPARE(first.catalog().rowCount(), 1);
            first.shutdown();
        }
        auto reads = std::make_shared<Reads>();
        App second(countingOptions(data.path(), reads));
        QVERIFY(second.start());
        QTRY_COMPARE(second.catalog().fitStatus(m_model).state, FitState::fits);
        QCOMPARE(reads->inspections.load(), 0);
        QCOMPARE(reads->footprints.load(), 1);
        second.shutdown();
    }

private:
    QTemporaryDir m_files;
    QString m_model;
};

QTEST_GUILESS_MAIN(TestLibraryReads)
#include "tst_library_reads.moc"
