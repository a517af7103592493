// `strata-cli info`: the summary, the tensor type table, --all, and one-line errors with exit
// code 1. Runs the built strata-cli named by $STRATA_CLI (set by CTest); skips without it.
#include <QtTest>

#include "gguf_test_util.h"
#include "test_paths.h"
#include "cli_runner.h"

class TestGgufCli : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString cli_;

    using Run = strata::test::CliRun;
    Run run(const QStringList& args) { return strata::test::runProgram(cli_, args); }
    // The value printed after a summary label ("layers           5" → "5").
    static QString field(const QString& out, const QString& label) {
        for (const QString& line : out.split('\n')) {
            if (line.startsWith(label + ' ')) return line.mid(label.size()).trimmed();
        }
        return QStringLiteral("<missing %1>").arg(label);
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        cli_ = qEnvironmentVariable("STRATA_CLI");
        if (cli_.isEmpty() || !QFileInfo(cli_).isExecutable()) QSKIP("STRATA_CLI not set or not built (run through ctest)");
    }

    void writtenModel() {
        const QString p = dir_.filePath("tiny.gguf");
        strata::test::TinyModel tm;
        tm.file_type = 15;
        QVERIFY(strata::test::writeTinyModel(p.toStdString(), tm).ok());
        const Run r = run({"info", p});
        QCOMPARE(r.code, 0);
        QVERIFY(r.err.isEmpty());
        QCOMPARE(field(r.out, "file"), p);
        QCOMPARE(field(r.out, "GGUF version"), QString("3"));
        QCOMPARE(field(r.out, "name"), QString("Tiny Test"));
        QCOMPARE(field(r.out, "architecture"), QString("qwen2"));
        QCOMPARE(field(r.out, "context length"), QString("4096"));
        QCOMPARE(field(r.out, "layers"), QString("2"));
        QCOMPARE(field(r.out, "embedding"), QString("256"));
        QCOMPARE(field(r.out, "FFN"), QString("512"));
        QCOMPARE(field(r.out, "heads"), QString("4 (kv heads 2)"));
        QCOMPARE(field(r.out, "rope"), QString("32 dims, base 1e+06"));
        QCOMPARE(field(r.out, "vocab"), QString("32 (tokenizer gpt2)"));
        QVERIFY(field(r.out, "chat template").startsWith("yes"));
        QCOMPARE(field(r.out, "quantization"), QString("Q4_K_M"));
        // The type table, largest first: "Q4_K  4  <bytes>".
        const QStringList lines = r.out.split('\n');
        const qsizetype header = lines.indexOf(QRegularExpression("^type\\s+tensors\\s+bytes$"));
        QVERIFY(header >= 0);
        QVERIFY2(lines[header + 1].simplified().startsWith("Q4_K 4 "), qPrintable(lines[header + 1]));
        QVERIFY(lines[header + 2].simplified().startsWith("Q6_K 2 "));
        QVERIFY(!r.out.contains("metadata ("));  // only with --all
    }

    void allListsKeysAndTensors() {
        const QString p = dir_.filePath("all.gguf");
        strata::test::TinyModel tm;
        tm.arch = "mamba";
        QVERIFY(strata::test::writeTinyModel(p.toStdString(), tm).ok());
        const Run r = run({"info", "--all", p});
        QCOMPARE(r.code, 0);
        QCOMPARE(field(r.out, "architecture"), QString("mamba (not supported yet)"));
        QVERIFY(r.out.contains(QRegularExpression("tokenizer\\.ggml\\.tokens\\s+\\[string × 32\\] \\[\"t0\", .*, \\.\\.\\.\\]")));
        QVERIFY(r.out.contains(QRegularExpression("mamba\\.block_count\\s+2\n")));
        QVERIFY(r.out.contains(QRegularExpression("blk\\.1\\.ffn_down\\.weight\\s+Q6_K\\s+\\[512, 256\\]\\s+105 KiB")));
        QVERIFY(r.out.contains("tensors (12,"));
    }

    void stories260k() {
        const QString p = strata::test::stories260kPath();
        if (p.isEmpty()) QSKIP("stories260K.gguf not found in ../shared/models");
        const Run r = run({"info", p});
        QCOMPARE(r.code, 0);
        QCOMPARE(field(r.out, "architecture"), QString("llama"));
        QCOMPARE(field(r.out, "layers"), QString("5"));
        QCOMPARE(field(r.out, "embedding"), QString("64"));
        QCOMPARE(field(r.out, "heads"), QString("8 (kv heads 4)"));
        QCOMPARE(field(r.out, "vocab"), QString("512 (tokenizer llama)"));
        QCOMPARE(field(r.out, "parameters"), QString("293K (292800)"));
    }

    void errors_data() {
        QTest::addColumn<QByteArray>("content");  // empty: the file is not created
        QTest::addColumn<QString>("expect");
        QTest::newRow("missing file") << QByteArray() << "cannot open";
        QTest::newRow("not gguf") << QByteArray("plain text\n") << "not a GGUF file";
        QTest::newRow("truncated") << QByteArray("GGUF\x03\x00\x00\x00\x01", 9) << "truncated";
    }
    void errors() {
        QFETCH(QByteArray, content);
        QFETCH(QString, expect);
        const QString p = dir_.filePath("bad.gguf");
        QFile::remove(p);
        if (!content.isEmpty()) QVERIFY(strata::test::writeFileBytes(p, content));
        const Run r = run({"info", p});
        QCOMPARE(r.code, 1);
        QVERIFY(r.out.isEmpty());
        QCOMPARE(r.err.count('\n'), 1);  // one line
        QVERIFY2(r.err.startsWith("error: ") && r.err.contains(p) && r.err.contains(expect), qPrintable(r.err));
    }

    void usage() {
        QCOMPARE(run({"info"}).code, 2);
        QCOMPARE(run({"info", "--bogus", "x.gguf"}).code, 2);
        QCOMPARE(run({"info", "--help"}).code, 0);
    }
};

QTEST_GUILESS_MAIN(TestGgufCli)
#include "tst_gguf_cli.moc"
