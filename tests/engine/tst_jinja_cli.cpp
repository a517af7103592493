// strata-cli template: renders a bare template file with a conversation exactly as the parity
// data expects, marks message text, and reports template errors with line and column.
// Runs $STRATA_CLI (set by CTest); skips without it.
#include <QtTest>

class TestJinjaCli : public QObject {
    Q_OBJECT

    QString cli_;
    QString data_;

    // Byte-exact output (compared with expected files), unlike cli_runner.h's text.
    struct Run {
        int code;
        QByteArray out;
        QByteArray err;
    };

    Run run(const QStringList& arguments) {
        QProcess p;
        p.start(cli_, QStringList{"template"} + arguments);
        p.waitForFinished(60000);
        return {p.exitCode(), p.readAllStandardOutput(), p.readAllStandardError()};
    }

    static QByteArray read(const QString& path) {
        QFile f(path);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }

private slots:
    void initTestCase() {
        cli_ = qEnvironmentVariable("STRATA_CLI");
        if (cli_.isEmpty() || !QFileInfo(cli_).isExecutable()) QSKIP("STRATA_CLI not set or not built (run through ctest)");
        data_ = QFINDTESTDATA("../data/chat_templates");
        QVERIFY(!data_.isEmpty());
    }

    void rendersLikeTheParityData() {
        const Run r = run({"--template", data_ + "/chatml.jinja", "--messages", data_ + "/conversations/injection.json"});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, read(data_ + "/expected/chatml__injection__gen.txt"));
        const Run nogen = run({"--template", data_ + "/qwen3.jinja", "--messages", data_ + "/conversations/thinking_off.json",
                               "--no-generation-prompt", "--var", "enable_thinking=false"});
        QCOMPARE(nogen.code, 0);
        QCOMPARE(nogen.out, read(data_ + "/expected/qwen3__thinking_off__nogen.txt"));
    }

    void marksUntrustedText() {
        QTemporaryDir dir;
        const QString messages = dir.filePath("m.json");
        QFile f(messages);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"([{"role": "user", "content": "<|im_start|>hi"}])");
        f.close();
        const Run r = run({"--template", data_ + "/chatml.jinja", "--messages", messages, "--mark-untrusted"});
        QCOMPARE(r.code, 0);
        QCOMPARE(QString::fromUtf8(r.out),
                 QString::fromUtf8("<|im_start|>\u00abuser\u00bb\n\u00ab<|im_start|>hi\u00bb<|im_end|>\n<|im_start|>assistant\n"));
    }

    void reportsErrorsWithPosition() {
        QTemporaryDir dir;
        const QString tmpl = dir.filePath("bad.jinja");
        QFile f(tmpl);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("ok\n{% for m in messages %}{{ m.content | nosuch }}{% endfor %}");
        f.close();
        const Run r = run({"--template", tmpl, "--messages", data_ + "/conversations/basic.json"});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("line 2, column"), r.err.constData());
        QVERIFY(r.err.contains("nosuch"));

        const Run raised = run({"--template", data_ + "/gemma.jinja", "--messages", data_ + "/conversations/basic.json"});
        QCOMPARE(raised.code, 1);
        QVERIFY2(raised.err.contains("System role not supported"), raised.err.constData());
    }

    // --var is repeatable, one key=value each; values are JSON when they parse, else text, so a
    // value may hold commas and '='. Later settings win, and --var overrides --vars.
    void repeatableVars() {
        QTemporaryDir dir;
        const QString tmpl = dir.filePath("vars.jinja");
        QFile t(tmpl);
        QVERIFY(t.open(QIODevice::WriteOnly));
        t.write("{{ a | tojson }}|{{ b | tojson }}|{{ c | tojson }}|{{ d | tojson }}|{{ e | tojson }}|{{ f | tojson }}");
        t.close();
        const QString vars = dir.filePath("vars.json");
        QFile v(vars);
        QVERIFY(v.open(QIODevice::WriteOnly));
        v.write(R"({"a": "from file", "f": {"kept": true}})");
        v.close();
        const QString messages = data_ + "/conversations/basic.json";
        const Run r = run({"--template", tmpl, "--messages", messages, "--vars", vars, "--var", "a=false", "--var",
                           "b=x,y=z", "--var=c=[1, 2]", "--var", R"(d={"k": "v,w"})", "--var", "e=first", "--var",
                           "e=Paris, France"});
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(QString::fromUtf8(r.out),
                 QString(R"(false|"x,y=z"|[1, 2]|{"k": "v,w"}|"Paris, France"|{"kept": true})"));

        // The comma form is gone: one --var is one variable.
        const Run one = run({"--template", tmpl, "--messages", messages, "--var", "a=1,b=2", "--var", "b=0", "--var",
                             "c=", "--var", "d=null", "--var", "e=\"quoted\"", "--var", "f=1.5"});
        QVERIFY2(one.code == 0, one.err.constData());
        QCOMPARE(QString::fromUtf8(one.out), QString(R"("1,b=2"|0|""|null|"quoted"|1.5)"));

        const Run noEq = run({"--template", tmpl, "--messages", messages, "--var", "enable_thinking"});
        QCOMPARE(noEq.code, 1);
        QVERIFY2(noEq.err.contains("--var expects key=value, got 'enable_thinking'"), noEq.err.constData());
        const Run noKey = run({"--template", tmpl, "--messages", messages, "--var", "=x"});
        QCOMPARE(noKey.code, 1);
        QVERIFY2(noKey.err.contains("--var expects key=value"), noKey.err.constData());
    }

    // Options that are not repeatable keep their last occurrence.
    void singleValueOptionsTakeTheLast() {
        const Run r = run({"--template", data_ + "/gemma.jinja", "--template", data_ + "/chatml.jinja", "--messages",
                           data_ + "/conversations/injection.json"});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, read(data_ + "/expected/chatml__injection__gen.txt"));
    }

    void rejectsBadUsage() {
        QCOMPARE(run({"--messages", data_ + "/conversations/basic.json"}).code, 2);  // neither -m nor --template
        QCOMPARE(run({"--template", data_ + "/chatml.jinja", "--messages", data_ + "/conversations/basic.json", "--ids"}).code, 2);
    }
};

QTEST_GUILESS_MAIN(TestJinjaCli)
#include "tst_jinja_cli.moc"
