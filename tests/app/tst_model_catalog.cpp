// ModelCatalog (checked by QAbstractItemModelTester) and ModelImporter: good files are added
// once and persist, duplicates select, bad files are rejected with a message naming the file
// and the reason — with a scripted inspector, and with the engine's inspect_model_file on real
// files (a random model, a text file, a truncated GGUF, a folder, a split set). The reasons are
// chosen by the engine's FileFault, not by its wording.
#include <QAbstractItemModelTester>
#include <QFile>
#include <QFileInfo>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "library/model_catalog.h"
#include "library/model_importer.h"
#include "storage/database.h"
#include "../engine/gguf_test_util.h"
#include "gguf/split_writer.h"
#include "test_models.h"

using namespace strata;
using namespace strata::app;

namespace {

ModelInfo info(const std::string& path, const std::string& arch = "llama") {
    ModelInfo i;
    i.path = path;
    i.name = "Model " + path.substr(path.rfind('/') + 1);
    i.architecture = arch;
    i.architecture_supported = arch == "llama";
    if (!i.architecture_supported)
        i.support = {Unsupported::architecture, arch, "The '" + arch + "' architecture is not supported yet"};
    i.file_size = 1234567;
    i.n_params = 260000;
    i.quantization = "Q8_0";
    i.context_length = 512;
    i.n_layer = 5;
    return i;
}

ModelFootprint footprintOf(const ModelInfo& i) {
    ModelFootprint f;
    f.architecture = i.architecture;
    f.n_layer = int(i.n_layer);
    f.layer_bytes.assign(i.n_layer, 1000);
    return f;
}

// Scripted: files whose name contains "bad" are not GGUF, "gpt" is another architecture (whose
// footprint cannot be computed, as for a real one Strata does not know).
Result<ModelInspection> scripted(const std::string& path) {
    if (path.find("bad") != std::string::npos)
        return Status(ErrorCode::corrupt, path + ": magic at offset 0: not a GGUF file (starts with 'hell', expected 'GGUF')")
            .with_fault(FileFault::not_gguf, "it starts with 'hell'");
    ModelInspection r;
    r.info = info(path, path.find("gpt") != std::string::npos ? "gpt2" : "llama");
    if (r.info.support.ok()) r.footprint = footprintOf(r.info);
    else r.footprint = Status(ErrorCode::corrupt, path + ": missing key gpt2.block_count");
    return r;
}

void touch(const QString& path, const QByteArray& data = "x") {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(data);
}

}  // namespace

class TestModelCatalog : public QObject {
    Q_OBJECT
private slots:
    void init() {
        QVERIFY(m_dir.isValid());
        m_db = std::make_unique<Database>();
        QVERIFY(m_db->open(m_dir.filePath(QStringLiteral("lib%1.sqlite3").arg(m_n++))));
    }
    void cleanup() { m_db.reset(); }

    void catalogModelAndPersistence() {
        {
            ModelCatalog catalog(*m_db);
            QAbstractItemModelTester tester(&catalog, QAbstractItemModelTester::FailureReportingMode::QtTest);
            QVERIFY(catalog.reload());
            QCOMPARE(catalog.rowCount(), 0);
            for (int i = 0; i < 3; ++i) {
                CatalogEntry e = CatalogEntry::fromModelInfo(info("/m/model" + std::to_string(i) + ".gguf"));
                e.path = QStringLiteral("/m/model%1.gguf").arg(i);
                e.addedAt = QDateTime::currentDateTime().addSecs(i);
                QCOMPARE(catalog.add(e), 0);  // newest at the top
            }
            QCOMPARE(catalog.add(catalog.entryAt(1)), 1);  // the same path: not added again
            QCOMPARE(catalog.rowCount(), 3);
            catalog.setFitStatus(QStringLiteral("/m/model1.gguf"), {FitState::doesNotFit, QStringLiteral("Too big"), QStringLiteral("why")});
            const int row = catalog.rowOfPath(QStringLiteral("/m/model1.gguf"));
            QCOMPARE(catalog.data(catalog.index(row, ModelCatalog::FitColumn)).toString(), QStringLiteral("Too big"));
            QCOMPARE(catalog.data(catalog.index(row, ModelCatalog::FitColumn), Qt::ToolTipRole).toString(), QStringLiteral("why"));
            QCOMPARE(catalog.data(catalog.index(row, ModelCatalog::QuantColumn)).toString(), QStringLiteral("Q8_0"));
            QVERIFY(catalog.removeAt(catalog.rowOfPath(QStringLiteral("/m/model0.gguf"))));
            for (int c = 0; c < catalog.columnCount(); ++c) QVERIFY(!catalog.headerData(c, Qt::Horizontal).toString().isEmpty());
        }
        ModelCatalog again(*m_db);
        QAbstractItemModelTester tester(&again, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(again.reload());
        QCOMPARE(again.rowCount(), 2);
        QCOMPARE(again.entryAt(0).path, QStringLiteral("/m/model2.gguf"));
        QCOMPARE(again.entryAt(0).nLayer, 5u);
        QCOMPARE(again.entryAt(0).contextLength, 512u);
        QCOMPARE(again.entryAt(0).fileSize, 1234567ull);
        QCOMPARE(again.entryAt(0).nExpert, 0u);  // dense
    }

    // A mixture-of-experts model's expert counts are stored with it.
    void expertCountsPersist() {
        {
            ModelCatalog catalog(*m_db);
            QVERIFY(catalog.reload());
            ModelInfo i = info("/m/moe.gguf");
            i.n_expert = 128;
            i.n_expert_used = 8;
            CatalogEntry e = CatalogEntry::fromModelInfo(i);
            e.path = QStringLiteral("/m/moe.gguf");
            QCOMPARE(e.nExpert, 128u);
            QCOMPARE(catalog.add(e), 0);
        }
        ModelCatalog again(*m_db);
        QVERIFY(again.reload());
        QCOMPARE(again.entryAt(0).nExpert, 128u);
        QCOMPARE(again.entryAt(0).nExpertUsed, 8u);
    }

    void importerWithScriptedInspector() {
        ModelCatalog catalog(*m_db);
        QAbstractItemModelTester tester(&catalog, QAbstractItemModelTester::FailureReportingMode::QtTest);
        ModelImporter importer(catalog, scripted);
        QSignalSpy imported(&importer, &ModelImporter::imported);
        QSignalSpy rejected(&importer, &ModelImporter::rejected);
        QSignalSpy duplicate(&importer, &ModelImporter::duplicate);
        QSignalSpy idle(&importer, &ModelImporter::idle);
        // `inspected` comes just before `imported`, with the footprint of the same read.
        QStringList inspectedPaths;
        QList<int> layersSeen;
        connect(&importer, &ModelImporter::inspected, this, [&](const QString& p, const ModelInspection& r) {
            QCOMPARE(imported.size(), inspectedPaths.size());
            inspectedPaths << p;
            layersSeen << (r.footprint.ok() ? r.footprint->n_layer : -1);
        });
        const QString good = m_dir.filePath(QStringLiteral("good.gguf"));
        const QString bad = m_dir.filePath(QStringLiteral("bad notes.txt"));
        const QString gpt = m_dir.filePath(QStringLiteral("gpt.gguf"));
        touch(good), touch(bad), touch(gpt);
        importer.importPaths({good, bad, gpt, good});  // the second `good` is in flight: ignored
        QTRY_VERIFY(idle.size() >= 1 && importer.pending() == 0);
        QCOMPARE(imported.size(), 1);
        QCOMPARE(inspectedPaths, QStringList{imported[0][0].toString()});
        QCOMPARE(layersSeen, QList<int>{5});
        QCOMPARE(catalog.rowCount(), 1);
        QCOMPARE(rejected.size(), 2);
        QStringList messages;
        for (const auto& r : rejected) messages << r[1].toString();
        messages.sort();
        QCOMPARE(messages[0], QStringLiteral("bad notes.txt is not a GGUF model file (no GGUF magic: it starts with 'hell')"));
        QCOMPARE(messages[1], QStringLiteral("gpt.gguf: The 'gpt2' architecture is not supported yet"));
        importer.importPaths({good});
        QCOMPARE(duplicate.size(), 1);  // known at once, not read again
        QCOMPARE(catalog.rowCount(), 1);
        QCOMPARE(inspectedPaths.size(), 1);
    }

    void importerScansFolders() {
        ModelCatalog catalog(*m_db);
        ModelImporter importer(catalog, scripted);
        QSignalSpy scanned(&importer, &ModelImporter::folderScanned);
        const QString folder = m_dir.filePath(QStringLiteral("models"));
        QVERIFY(QDir().mkpath(folder + QStringLiteral("/sub")));
        touch(folder + QStringLiteral("/a.gguf"));
        touch(folder + QStringLiteral("/sub/b.GGUF"));
        touch(folder + QStringLiteral("/readme.md"));
        importer.importPaths({folder});
        QCOMPARE(scanned.size(), 1);
        QCOMPARE(scanned[0][1].toInt(), 2);
        QTRY_COMPARE(catalog.rowCount(), 2);
    }

    // Status values as the engine makes them: the message, and the FileFault with its detail.
    void describesEngineErrors_data() {
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("message");
        QTest::addColumn<int>("fault");
        QTest::addColumn<QString>("detail");
        QTest::addColumn<QString>("expected");
        QTest::newRow("tiny file") << int(ErrorCode::corrupt)
                                   << QStringLiteral("/d/x.gguf: magic at offset 0: not a GGUF file (only 2 bytes long)")
                                   << int(FileFault::not_gguf) << QStringLiteral("it is only 2 bytes long")
                                   << QStringLiteral("x.gguf is not a GGUF model file (no GGUF magic: it is only 2 bytes long)");
        QTest::newRow("text file") << int(ErrorCode::corrupt)
                                   << QStringLiteral("/d/x.gguf: magic at offset 0: not a GGUF file (starts with 'hell', expected 'GGUF')")
                                   << int(FileFault::not_gguf) << QStringLiteral("it starts with 'hell'")
                                   << QStringLiteral("x.gguf is not a GGUF model file (no GGUF magic: it starts with 'hell')");
        QTest::newRow("truncated") << int(ErrorCode::corrupt)
                                   << QStringLiteral("/d/x.gguf: tensor count at offset 8: truncated: a 8-byte value needs 8 bytes but only 3 remain in the 11-byte file")
                                   << int(FileFault::truncated) << QString()
                                   << QStringLiteral("x.gguf is truncated: the download may be incomplete (tensor count at offset 8: truncated: a 8-byte value needs 8 bytes but only 3 remain in the 11-byte file)");
        QTest::newRow("counts past the end") << int(ErrorCode::corrupt)
                                             << QStringLiteral("/d/x.gguf: tensor count at offset 8: 21 tensors cannot fit in the 16 bytes that follow the header")
                                             << int(FileFault::truncated) << QString()
                                             << QStringLiteral("x.gguf is truncated: the download may be incomplete (tensor count at offset 8: 21 tensors cannot fit in the 16 bytes that follow the header)");
        QTest::newRow("big endian") << int(ErrorCode::unsupported)
                                    << QStringLiteral("/d/x.gguf: magic at offset 0: big-endian GGUF file; only little-endian GGUF files are supported")
                                    << int(FileFault::unsupported_gguf)
                                    << QStringLiteral("big-endian GGUF file; only little-endian GGUF files are supported")
                                    << QStringLiteral("x.gguf is a GGUF file Strata cannot read (big-endian GGUF file; only little-endian GGUF files are supported)");
        // Was "x.gguf cannot be run by Strata (version at offset 4: unsupported GGUF version 4
        // (versions 2 and 3 are))": the text did not say "magic at offset 0".
        QTest::newRow("newer version") << int(ErrorCode::unsupported)
                                       << QStringLiteral("/d/x.gguf: version at offset 4: unsupported GGUF version 4 (versions 2 and 3 are)")
                                       << int(FileFault::unsupported_gguf)
                                       << QStringLiteral("GGUF version 4; Strata reads versions 2 and 3")
                                       << QStringLiteral("x.gguf is a GGUF file Strata cannot read (GGUF version 4; Strata reads versions 2 and 3)");
        QTest::newRow("split part missing") << int(ErrorCode::not_found)
                                            << QStringLiteral("/d/x.gguf: part 2 of 3 of this split set is missing: /d/x-00002-of-00003.gguf")
                                            << int(FileFault::split_set_incomplete) << QStringLiteral("/d/x-00002-of-00003.gguf")
                                            << QStringLiteral("x.gguf is part of a split set that cannot be read whole (part 2 of 3 of this split set is missing: /d/x-00002-of-00003.gguf)");
        // The fault decides, not the words: a message that happens to say "truncated" or
        // "magic at offset 0" without a fault is not described as one.
        QTest::newRow("words without a fault") << int(ErrorCode::corrupt)
                                               << QStringLiteral("/d/x.gguf: magic at offset 0: key 'note' says truncated")
                                               << int(FileFault::none) << QString()
                                               << QStringLiteral("x.gguf is not a usable GGUF model (magic at offset 0: key 'note' says truncated)");
        QTest::newRow("other") << int(ErrorCode::corrupt) << QStringLiteral("/d/x.gguf: missing required key 'general.architecture'")
                               << int(FileFault::none) << QString()
                               << QStringLiteral("x.gguf is not a usable GGUF model (missing required key 'general.architecture')");
    }

    void describesEngineErrors() {
        QFETCH(int, code);
        QFETCH(QString, message);
        QFETCH(int, fault);
        QFETCH(QString, detail);
        QFETCH(QString, expected);
        touch(m_dir.filePath(QStringLiteral("x.gguf")));
        // The message names the file as the engine did: replace its folder with ours.
        const QString path = m_dir.filePath(QStringLiteral("x.gguf"));
        const QString engineMessage = QString(message).replace(QStringLiteral("/d/x.gguf"), path);
        const Status status = Status(ErrorCode(code), engineMessage.toStdString())
                                  .with_fault(FileFault(fault), detail.toStdString());
        QCOMPARE(describeRejection(path, status), expected);
    }

    // The real inspect_model_file on real files.
    void importerWithTheEngine() {
        ModelCatalog catalog(*m_db);
        ModelImporter importer(catalog, strata::inspect_model_file);
        QSignalSpy rejected(&importer, &ModelImporter::rejected);
        RandomModelConfig cfg;
        QString error;
        const QString good = strata::test::writeRandomModel(m_dir, QStringLiteral("tiny"), cfg, &error);
        QVERIFY2(!good.isEmpty(), qPrintable(error));
        const QString text = m_dir.filePath(QStringLiteral("notes.txt"));
        touch(text, "hello, these are notes\n");
        QFile g(good);
        QVERIFY(g.open(QIODevice::ReadOnly));
        const QByteArray bytes = g.readAll();
        const QString truncated = m_dir.filePath(QStringLiteral("truncated.gguf"));
        touch(truncated, bytes.left(40));                 // cut in the header
        const QString cut = m_dir.filePath(QStringLiteral("cut.gguf"));
        touch(cut, bytes.left(bytes.size() - 64));        // cut in the tensor data
        importer.importPaths({good, text, truncated, cut});
        QTRY_COMPARE(catalog.rowCount() + rejected.size(), 4);
        QCOMPARE(catalog.rowCount(), 1);
        QCOMPARE(catalog.entryAt(0).nLayer, quint32(cfg.n_layer));
        QCOMPARE(catalog.entryAt(0).nExpert, 0u);
        QStringList messages;
        for (const auto& r : rejected) messages << r[1].toString();
        messages.sort();
        QCOMPARE(messages.size(), 3);
        QVERIFY2(messages[0].startsWith(QLatin1String("cut.gguf is truncated")), qPrintable(messages[0]));
        QVERIFY2(messages[1].startsWith(QLatin1String("notes.txt is not a GGUF model file (no GGUF magic")), qPrintable(messages[1]));
        QVERIFY2(messages[2].startsWith(QLatin1String("truncated.gguf is truncated")), qPrintable(messages[2]));
    }

    // A generated qwen3moe file is accepted and listed with its expert counts.
    void importerStoresExpertCounts() {
        ModelCatalog catalog(*m_db);
        ModelImporter importer(catalog, strata::inspect_model_file);
        RandomModelConfig cfg;
        QVERIFY(random_model_arch("qwen3moe", cfg));
        QString error;
        const QString path = strata::test::writeRandomModel(m_dir, QStringLiteral("moe"), cfg, &error);
        QVERIFY2(!path.isEmpty(), qPrintable(error));
        importer.importPaths({path});
        QTRY_COMPARE(catalog.rowCount(), 1);
        QCOMPARE(catalog.entryAt(0).nExpert, quint32(cfg.n_expert));
        QCOMPARE(catalog.entryAt(0).nExpertUsed, quint32(cfg.n_expert_used));
        QVERIFY(catalog.entryAt(0).nExpert > 1);
    }

    // Any part of a split set adds the whole set once, under its first part's path, with the
    // total size; a later part of the same set is a duplicate; a folder holding the set adds it
    // once; a set with a part missing is refused naming that part.
    void splitSetIsOneEntry() {
        ModelCatalog catalog(*m_db);
        QAbstractItemModelTester tester(&catalog, QAbstractItemModelTester::FailureReportingMode::QtTest);
        ModelImporter importer(catalog, strata::inspect_model_file);
        QSignalSpy imported(&importer, &ModelImporter::imported);
        QSignalSpy duplicate(&importer, &ModelImporter::duplicate);
        QSignalSpy rejected(&importer, &ModelImporter::rejected);
        RandomModelConfig cfg;
        cfg.seed = 21;
        QString error;
        const QString single = strata::test::writeRandomModel(m_dir, QStringLiteral("split-source"), cfg, &error);
        QVERIFY2(!single.isEmpty(), qPrintable(error));
        auto file = gguf::GgufFile::open(single.toStdString());
        QVERIFY(file.ok());
        const QString folder = m_dir.filePath(QStringLiteral("split-set"));
        QVERIFY(QDir().mkpath(folder));
        auto written = gguf::write_split_set(**file, (folder + QStringLiteral("/model")).toStdString(), 3);
        QVERIFY2(written.ok(), written.status().message().c_str());
        QStringList parts;
        quint64 total = 0;
        for (const std::string& p : *written) {
            parts << QFileInfo(QString::fromStdString(p)).canonicalFilePath();
            total += quint64(QFileInfo(parts.back()).size());
        }
        QVERIFY(total > quint64(QFileInfo(single).size()));

        importer.importPaths({parts[1]});
        QTRY_COMPARE(imported.size(), 1);
        QCOMPARE(imported[0][0].toString(), parts[0]);
        QCOMPARE(catalog.rowCount(), 1);
        QCOMPARE(catalog.entryAt(0).path, parts[0]);
        QCOMPARE(catalog.entryAt(0).fileSize, total);
        QCOMPARE(catalog.entryAt(0).nLayer, quint32(cfg.n_layer));

        importer.importPaths({parts[2]});
        QTRY_COMPARE(duplicate.size(), 1);
        QCOMPARE(duplicate[0][0].toString(), parts[0]);
        QCOMPARE(catalog.rowCount(), 1);
        QCOMPARE(imported.size(), 1);

        QVERIFY(catalog.removeAt(0));
        importer.importPaths({folder});
        QTRY_COMPARE(imported.size(), 2);
        importer.waitForIdle();
        QCoreApplication::processEvents();
        QCOMPARE(catalog.rowCount(), 1);
        QCOMPARE(catalog.entryAt(0).path, parts[0]);
        QCOMPARE(duplicate.size(), 1);  // parts 2 and 3 were not read on their own

        QVERIFY(catalog.removeAt(0));
        QVERIFY(QFile::remove(parts[1]));
        importer.importPaths({parts[2]});
        QTRY_COMPARE(rejected.size(), 1);
        QCOMPARE(catalog.rowCount(), 0);
        QCOMPARE(rejected[0][1].toString(),
                 QStringLiteral("model-00003-of-00003.gguf is part of a split set that cannot be read whole "
                                "(part 2 of 3 of this split set is missing: %1)").arg(parts[1]));
    }

    // Files Strata cannot run are refused when dropped, with the reason, and never added; a
    // Mixtral-style file (llama with experts) runs now, and is listed with its expert counts.
    void refusesUnrunnableModelsOnDrop() {
        ModelCatalog catalog(*m_db);
        ModelImporter importer(catalog, strata::inspect_model_file);
        QSignalSpy rejected(&importer, &ModelImporter::rejected);
        QStringList paths;
        auto write = [&](const char* name, const char* arch, int experts) {
            strata::test::TinyModel tm;
            tm.arch = arch;
            tm.experts = experts;
            tm.pre = "qwen2";
            const QString p = m_dir.filePath(QString::fromLatin1(name));
            QVERIFY(strata::test::writeTinyModel(p.toStdString(), tm).ok());
            paths << p;
        };
        write("mixtral.gguf", "llama", 8);
        write("gemma-3n.gguf", "gemma3n", 0);
        write("deepseek.gguf", "deepseek2", 0);
        const int before = catalog.rowCount();
        importer.importPaths(paths);
        QTRY_COMPARE(rejected.size() + catalog.rowCount() - before, 3);
        QCOMPARE(rejected.size(), 2);
        QCOMPARE(catalog.rowCount(), before + 1);
        const int row = catalog.rowOfPath(QFileInfo(paths[0]).canonicalFilePath());
        QVERIFY(row >= 0);
        QCOMPARE(catalog.entryAt(row).nExpert, 8u);
        QCOMPARE(catalog.entryAt(row).nExpertUsed, 2u);
        QStringList messages;
        for (const auto& r : rejected) messages << r[1].toString();
        messages.sort();
        // (The list of architectures that follows grows with the engine.)
        QVERIFY2(messages[0].startsWith(QStringLiteral("deepseek.gguf: DeepSeek V2/V3 (deepseek2) is not supported yet; "
                                                       "Strata runs llama, ")),
                 qPrintable(messages[0]));
        QVERIFY2(messages[1].startsWith(QStringLiteral("gemma-3n.gguf: Gemma 3n (gemma3n) is not supported yet; "
                                                       "Strata runs llama, ")),
                 qPrintable(messages[1]));
    }

private:
    QTemporaryDir m_dir;
    std::unique_ptr<Database> m_db;
    int m_n = 0;
};

QTEST_GUILESS_MAIN(TestModelCatalog)
#include "tst_model_catalog.moc"
