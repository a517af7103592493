// `strata-cli gguf-split` and split sets through the other commands: the parts written, `info`
// on any part (one model, the total size, each part), `run` on a part (the single file's text),
// `quantize` of a set (a whole file, never over one of its parts), a missing part named with exit code 1, usage errors with
// exit code 2. Runs the built strata-cli named by $STRATA_CLI (set by CTest); skips without it.
#include <QtTest>
#include "cli_runner.h"

class TestGgufSplitCli : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString cli_;
    QString tiny_;      // a random-weight model written by gen-model
    QStringList parts_;  // tiny_ as 3 parts

    using Run = strata::test::CliRun;
    Run run(const QStringList& args) { return strata::test::runProgram(cli_, args); }
    // The value printed after a summary label ("layers           5" → "5").
    static QString field(const QString& out, const QString& label) {
        for (const QString& line : out.split('\n')) {
            if (line.startsWith(label + ' ')) return line.mid(label.size()).trimmed();
        }
        return QStringLiteral("<missing %1>").arg(label);
    }
    QString path(const QString& name) const { return dir_.filePath(name); }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        cli_ = qEnvironmentVariable("STRATA_CLI");
        if (cli_.isEmpty() || !QFileInfo(cli_).isExecutable()) QSKIP("STRATA_CLI not set or not built (run through ctest)");
        tiny_ = path("tiny.gguf");
        const Run g = run({"gen-model", "--vocab", "300", "--embd", "64", "--layers", "3", "--heads", "4",
                           "--kv-heads", "2", "--ff", "128", "--seed", "11", tiny_});
        QVERIFY2(g.code == 0, qPrintable(g.err));
    }

    // Three parts named as llama.cpp names them (a trailing .gguf on the prefix is dropped),
    // listed on stdout, no *.partial left.
    void writesTheParts() {
        const Run r = run({"gguf-split", tiny_, path("set.gguf"), "--parts", "3"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        for (int k = 1; k <= 3; ++k) parts_ << path(QStringLiteral("set-0000%1-of-00003.gguf").arg(k));
        const QStringList lines = r.out.trimmed().split('\n');
        QCOMPARE(lines.size(), 3);
        for (int k = 0; k < 3; ++k) {
            QVERIFY2(lines[k].startsWith(parts_[k] + "  "), qPrintable(lines[k]));
            QVERIFY(QFileInfo::exists(parts_[k]));
        }
        QCOMPARE(QDir(dir_.path()).entryList({"*.partial"}), QStringList());
    }

    // Any part describes the whole set: the first part's path, the total size, each part.
    void infoOnAnyPart() {
        if (parts_.isEmpty()) QSKIP("no set (writesTheParts failed)");
        qint64 total = 0;
        for (const QString& p : parts_) total += QFileInfo(p).size();
        const Run single = run({"info", tiny_});
        QCOMPARE(single.code, 0);
        QCOMPARE(field(single.out, "parts"), QStringLiteral("<missing parts>"));
        for (const QString& part : parts_) {
            const Run r = run({"info", part});
            QVERIFY2(r.code == 0, qPrintable(r.err));
            QCOMPARE(field(r.out, "file"), parts_[0]);
            QVERIFY2(field(r.out, "size").endsWith(QStringLiteral("(%1 bytes)").arg(total)), qPrintable(r.out));
            QCOMPARE(field(r.out, "parts"), QStringLiteral("3 (a split set)"));
            for (int k = 1; k <= 3; ++k)
                QVERIFY2(r.out.contains(QStringLiteral("set-0000%1-of-00003.gguf  ").arg(k)), qPrintable(r.out));
            QCOMPARE(field(r.out, "parameters"), field(single.out, "parameters"));
            QCOMPARE(field(r.out, "weights"), field(single.out, "weights"));
        }
        const Run all = run({"info", "--all", parts_[2]});
        QCOMPARE(all.code, 0);
        QVERIFY2(all.out.contains(QRegularExpression("tensors \\(\\d+ in 3 parts")), qPrintable(all.out));
        QVERIFY2(all.out.contains(QRegularExpression("token_embd\\.weight .* part 1\\n")), qPrintable(all.out));
        QVERIFY2(all.out.contains(QRegularExpression("\\.weight .* part 3\\n")), qPrintable(all.out));
        QVERIFY2(all.out.contains(QRegularExpression("split\\.count +3\\n")), qPrintable(all.out));
    }

    // Generation from a part is the single file's, token for token.
    void runFromAPart() {
        if (parts_.isEmpty()) QSKIP("no set (writesTheParts failed)");
        const QStringList args = {"-p", "hello", "--temp", "0", "-n", "12"};
        const Run one = run(QStringList{"run", "-m", tiny_} + args);
        QCOMPARE(one.code, 0);
        QVERIFY(!one.out.isEmpty());
        const Run set = run(QStringList{"run", "-m", parts_[1]} + args);
        QVERIFY2(set.code == 0, qPrintable(set.err));
        QCOMPARE(set.out, one.out);
    }

    // Quantizing a set writes a whole file: no split keys, no parts.
    void quantizeASet() {
        if (parts_.isEmpty()) QSKIP("no set (writesTheParts failed)");
        const QString out = path("q8.gguf");
        const Run q = run({"quantize", parts_[1], out, "Q8_0"});
        QVERIFY2(q.code == 0, qPrintable(q.err));
        const Run r = run({"info", "--all", out});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(field(r.out, "parts"), QStringLiteral("<missing parts>"));
        QVERIFY2(!r.out.contains("split."), qPrintable(r.out));
        QCOMPARE(field(r.out, "quantization"), QStringLiteral("Q8_0"));

        // Writing over another part of the input would break the set: refused, part untouched.
        const qint64 size = QFileInfo(parts_[2]).size();
        const Run over = run({"quantize", parts_[0], parts_[2], "Q8_0"});
        QCOMPARE(over.code, 2);
        QVERIFY2(over.err.contains("the output is a part of the input split set"), qPrintable(over.err));
        QCOMPARE(QFileInfo(parts_[2]).size(), size);
        QCOMPARE(run({"info", parts_[2]}).code, 0);
    }

    // A missing part: exit code 1 and the missing file named, for info and run alike.
    void missingPart() {
        if (parts_.isEmpty()) QSKIP("no set (writesTheParts failed)");
        const QString hidden = path("hidden.bin");
        QVERIFY(QFile::rename(parts_[1], hidden));
        const Run i = run({"info", parts_[0]});
        const Run r = run({"run", "-m", parts_[2], "-p", "hi", "-n", "2"});
        QVERIFY(QFile::rename(hidden, parts_[1]));
        QCOMPARE(i.code, 1);
        QVERIFY2(i.err.contains("part 2 of 3 of this split set is missing: " + parts_[1]), qPrintable(i.err));
        QVERIFY(r.code != 0);
        QVERIFY2(r.err.contains(parts_[1]), qPrintable(r.err));
    }

    void usageErrors_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("message");
        QTest::newRow("no --parts") << QStringList{"IN", "OUT"} << 2 << "usage: strata-cli gguf-split";
        QTest::newRow("one part") << QStringList{"IN", "OUT", "--parts", "1"} << 2 << "--parts must be between 2 and 65535";
        QTest::newRow("not a number") << QStringList{"IN", "OUT", "--parts", "three"} << 2 << "--parts";
        QTest::newRow("unknown option") << QStringList{"IN", "OUT", "--parts", "2", "--fast"} << 2 << "unknown option '--fast'";
        QTest::newRow("more parts than tensors") << QStringList{"IN", "OUT", "--parts", "500"} << 1
                                                 << "cannot split";
        QTest::newRow("missing input") << QStringList{"nope.gguf", "OUT", "--parts", "2"} << 1 << "nope.gguf";
    }
    void usageErrors() {
        QFETCH(QStringList, args);
        QFETCH(int, code);
        QFETCH(QString, message);
        args.replaceInStrings(QRegularExpression("^IN$"), tiny_);
        args.replaceInStrings(QRegularExpression("^OUT$"), path("bad"));
        const Run r = run(QStringList{"gguf-split"} + args);
        QCOMPARE(r.code, code);
        QVERIFY2(r.err.contains(message), qPrintable(r.err));
        QCOMPARE(QDir(dir_.path()).entryList({"bad*"}), QStringList());
    }

    void listedInHelp() {
        const Run r = run({"--help"});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.err.contains("gguf-split"), qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(TestGgufSplitCli)
#include "tst_gguf_split_cli.moc"
