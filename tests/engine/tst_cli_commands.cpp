// strata-cli's generation and planning commands end to end: run (stdout carries the text and
// nothing else), chat (honours -n, exits on /quit), plan (exit code 3 when the model does not
// fit), bench (prints its pp/tg rows), gen-model and devices. Runs the built strata-cli named by
// $STRATA_CLI (set by CTest); skips without it. stories260K cases skip without ../shared.
#include <QTemporaryDir>
#include <QtTest>

#include "test_paths.h"
#include "cli_runner.h"

class TestCliCommands : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString cli_;
    QString tiny_;  // a random-weight model written by gen-model in initTestCase

    using Run = strata::test::CliRun;
    Run run(const QStringList& args, const QByteArray& stdinData = {}) {
        strata::test::CliRunOptions o;
        o.input = stdinData;
        return strata::test::runProgram(cli_, args, o);
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        // bench appends to the bench log in the data directory: a temporary one here.
        qputenv("XDG_DATA_HOME", dir_.filePath("xdg").toUtf8());
        cli_ = qEnvironmentVariable("STRATA_CLI");
        if (cli_.isEmpty() || !QFileInfo(cli_).isExecutable()) QSKIP("STRATA_CLI not set or not built (run through ctest)");
        tiny_ = dir_.filePath("tiny.gguf");
        const Run g = run({"gen-model", "--vocab", "300", "--embd", "64", "--layers", "3", "--heads", "4",
                           "--kv-heads", "2", "--ff", "128", "--seed", "7", tiny_});
        QVERIFY2(g.code == 0, qPrintable(g.err));
        QVERIFY(QFileInfo(tiny_).size() > 64 * 300 * 2);
    }

    // Greedy generation from BOS: stdout is exactly the model's text, the speed line goes to stderr.
    void runStoriesGreedy() {
        const QString model = strata::test::stories260kPath();
        if (model.isEmpty()) QSKIP("../shared/models/stories260K.gguf is absent");
        const Run r = run({"run", "-m", model, "-p", "", "--temp", "0", "-n", "20"});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, QString("Once upon a time, there was a little girl named Lily. She loved to play"));
        QVERIFY2(r.err.contains("tok/s"), qPrintable(r.err));
    }

    // The same text whatever the split: the devices change where layers run, not what comes out.
    void runTextIndependentOfSplit() {
        const QStringList base = {"run", "-m", tiny_, "-p", "hello", "--temp", "0", "-n", "12"};
        const Run one = run(base);
        QCOMPARE(one.code, 0);
        QVERIFY(!one.out.isEmpty());
        const Run three = run(base + QStringList{"--devices", "cpu:1GiB,cpu:1GiB,cpu:1GiB", "--split", "1,1,1"});
        QCOMPARE(three.code, 0);
        QCOMPARE(three.out, one.out);
    }

    // chat stops each answer after -n tokens and leaves on /quit with exit code 0.
    void chatHonoursTokenLimit() {
        const Run r = run({"chat", "-m", tiny_, "-n", "5", "--temp", "0"}, "hi\nagain\n/quit\n");
        QCOMPARE(r.code, 0);
        const QRegularExpression stats("\\[(\\d+) tokens,");
        auto it = stats.globalMatch(r.err);
        int answers = 0;
        while (it.hasNext()) {
            const int n = it.next().captured(1).toInt();
            QVERIFY2(n >= 1 && n <= 5, qPrintable(r.err));
            ++answers;
        }
        QCOMPARE(answers, 2);
    }

    // chat says which template it uses; with a template whose generation prompt opens a <think>
    // block, everything the model writes is reasoning: it goes to stderr, stdout stays empty.
    void chatTemplateAndReasoning() {
        const Run plain = run({"chat", "-m", tiny_, "-n", "4", "--temp", "0"}, "hi\n/quit\n");
        QCOMPARE(plain.code, 0);
        QVERIFY2(plain.err.contains("chat template: built-in plain: the model has no chat template"), qPrintable(plain.err));
        const QString tmpl = dir_.filePath("think.jinja");
        QFile f(tmpl);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}"
                "{% if add_generation_prompt %}assistant: <think>\n{% endif %}");
        f.close();
        const Run r = run({"chat", "-m", tiny_, "-n", "6", "--temp", "0", "--template", tmpl}, "hi\n/quit\n");
        QCOMPARE(r.code, 0);
        QVERIFY2(r.err.contains("chat template: a custom template"), qPrintable(r.err));
        QVERIFY2(r.err.contains("[thinking] "), qPrintable(r.err));
        QCOMPARE(r.out.trimmed(), QString());
        const Run bad = run({"chat", "-m", tiny_, "--template", dir_.filePath("missing.jinja")}, "hi\n");
        QCOMPARE(bad.code, 2);
    }

    void planFitsAndDoesNotFit() {
        const Run fits = run({"plan", "-m", tiny_, "--devices", "cpu:1GiB,cpu:1GiB", "--ctx", "256"});
        QCOMPARE(fits.code, 0);
        QVERIFY2(fits.out.contains("cpu0") || fits.out.contains("cpu:0") || fits.out.contains("cpu"), qPrintable(fits.out));
        // 64 KiB cannot hold even the token embedding (300 x 64 F16 = 38 KiB) plus the layers.
        const Run tight = run({"plan", "-m", tiny_, "--devices", "cpu:64KiB", "--ctx", "256"});
        QCOMPARE(tight.code, 3);
        QVERIFY2((tight.out + tight.err).contains("does not fit", Qt::CaseInsensitive),
                 qPrintable(tight.out + tight.err));
        // A model that does not fit is refused by run before anything is generated.
        const Run refused = run({"run", "-m", tiny_, "-p", "hi", "-n", "4", "--devices", "cpu:64KiB"});
        QVERIFY(refused.code != 0);
        QVERIFY(refused.out.isEmpty());
    }

    void benchPrintsRows() {
        const Run r = run({"bench", "-m", tiny_, "--pp", "8", "--tg", "4", "--repeats", "1", "--no-probe"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const QString all = r.out + r.err;
        QVERIFY2(all.contains("pp8"), qPrintable(all));
        QVERIFY2(all.contains("tg4"), qPrintable(all));
        // The planner's prediction beside the measurement, with their ratio.
        static const QRegularExpression predicted(R"(decode +predicted +[0-9.]+ tok/s, measured +[0-9.]+ tok/s \(tg4\): measured/predicted [0-9.]+)");
        QVERIFY2(predicted.match(all).hasMatch(), qPrintable(all));
        const Run sim = run({"bench", "-m", tiny_, "--simulate", "machine.json"});
        QCOMPARE(sim.code, 2);
        QVERIFY2(sim.err.contains("cannot run on a simulated one"), qPrintable(sim.err));
    }

    // bench stores a record in the bench log (not with --no-store); the next plan on the same
    // device is calibrated from it and says so; STRATA_NO_CALIBRATION=1 turns that off.
    void benchStoresAndPlanIsCalibrated() {
        const QString data = dir_.filePath("calib-xdg");
        strata::test::CliRunOptions o;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("XDG_DATA_HOME", data);
        env.remove("STRATA_NO_CALIBRATION");
        o.environment = env;
        const QString log = data + "/strata/bench-results.jsonl";
        const QStringList plan = {"plan", "-m", tiny_, "--devices", "cpu:t1", "--ctx", "64"};
        const auto before = strata::test::runProgram(cli_, plan, o);
        QVERIFY2(before.code == 0, qPrintable(before.err));
        QVERIFY2(before.out.contains("uncalibrated: an upper bound"), qPrintable(before.out));
        const QStringList bench = {"bench", "-m", tiny_, "--devices", "cpu:t1", "--pp", "8", "--tg", "4", "--repeats", "1", "--no-probe"};
        const auto unstored = strata::test::runProgram(cli_, bench + QStringList{"--no-store"}, o);
        QVERIFY2(unstored.code == 0, qPrintable(unstored.err));
        QVERIFY(!QFileInfo::exists(log));
        const auto b = strata::test::runProgram(cli_, bench, o);
        QVERIFY2(b.code == 0, qPrintable(b.err));
        QVERIFY2(b.out.contains("stored as "), qPrintable(b.out));
        QFile f(log);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = f.readAll().split('\n');
        QCOMPARE(lines.size(), 2);  // one record and the final newline
        QVERIFY2(lines[0].contains("\"tg4\"") && lines[0].contains("\"source\":\"cli\""), lines[0].constData());
        const auto after = strata::test::runProgram(cli_, plan, o);
        QVERIFY2(after.code == 0, qPrintable(after.err));
        // Calibrated per weight type: the bench record and the plan name the model's type alike.
        QVERIFY2(after.out.contains("calibrated from 1 F32 bench run on this CPU"), qPrintable(after.out));
        // `calibration` shows the fit and the run it came from, explained in-sample.
        const auto shown = strata::test::runProgram(cli_, {"calibration"}, o);
        QVERIFY2(shown.code == 0, qPrintable(shown.err));
        // This tiny model fits in any CPU's cache: its decode run is shown but not fitted where
        // the C library knows the cache size (strata/calibration.h).
        const bool decode_fitted = shown.out.contains("within 25% of the measurement: 2 of 2 fitted on all runs, 0 of 0 from");
        const bool decode_cached = shown.out.contains("within 25% of the measurement: 1 of 1 fitted on all runs, 0 of 0 from") &&
                                   shown.out.contains("in the CPU cache: not used");
        QVERIFY2(shown.out.contains("this CPU (") && shown.out.contains("F32 ×") && (decode_fitted || decode_cached),
                 qPrintable(shown.out));
        env.insert("STRATA_NO_CALIBRATION", "1");
        o.environment = env;
        const auto off = strata::test::runProgram(cli_, plan, o);
        QVERIFY2(off.out.contains("uncalibrated: an upper bound"), qPrintable(off.out));
        // An unwritable data directory is a warning; the bench still succeeds.
        QFile blocker(dir_.filePath("blocked"));
        QVERIFY(blocker.open(QIODevice::WriteOnly));
        blocker.close();
        env.insert("XDG_DATA_HOME", dir_.filePath("blocked"));
        o.environment = env;
        const auto warned = strata::test::runProgram(cli_, bench, o);
        QVERIFY2(warned.code == 0, qPrintable(warned.err));
        QVERIFY2(warned.err.contains("warning: the result was not stored"), qPrintable(warned.err));
    }

    // `calibration --log` on the H100 run on record: the fit explains all twelve runs; a log
    // that does not exist is an empty log; bad options are usage errors.
    void calibrationOfTheH100RunOnRecord() {
        const QString h100 = QFINDTESTDATA("../data/calibration/h100-2026-11-27.jsonl");
        QVERIFY(!h100.isEmpty());
        const Run r = run({"calibration", "--log", h100});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("decode: 51.3 µs per layer fixed"), qPrintable(r.out));
        QVERIFY2(r.out.contains("within 25% of the measurement: 12 of 12 fitted on all runs"), qPrintable(r.out));
        const Run none = run({"calibration", "--log", dir_.filePath("no-such.jsonl")});
        QCOMPARE(none.code, 0);
        QVERIFY2(none.out.contains("no single-device bench runs yet"), qPrintable(none.out));
        QCOMPARE(run({"calibration", "--runs", "0"}).code, 2);
        QCOMPARE(run({"calibration", "extra"}).code, 2);
    }

    void missingModelIsAOneLineError() {
        const Run r = run({"run", "-m", dir_.filePath("nope.gguf"), "-p", "hi"});
        QCOMPARE(r.code, 1);
        QVERIFY(r.out.isEmpty());
        QVERIFY2(r.err.contains("nope.gguf"), qPrintable(r.err));
    }

    // devices: without a GPU, one line says why and the exit status is 0; with GPUs, a table
    // (whose figures need NVML: a missing library is one more line, not a failure).
    void devicesListsGpusOrSaysWhyNot() {
        const Run r = run({"devices"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const QStringList lines = r.out.split('\n', Qt::SkipEmptyParts);
        QVERIFY2(!lines.isEmpty(), qPrintable(r.err));
        if (lines[0].startsWith("no NVIDIA GPU: ")) {
            QCOMPARE(lines.filter("GPU").size(), 1);
            QVERIFY2(lines.filter(QRegularExpression("^cpu: .* free of ")).size() == 1, qPrintable(r.out));
        } else {
            QVERIFY2(lines[0].startsWith("GPU") && lines[0].contains("memory used (all processes)"), qPrintable(r.out));
            QVERIFY2(lines.size() >= 2 && lines[1].startsWith("cuda0"), qPrintable(r.out));
        }
        QCOMPARE(run({"devices", "--watch", "0"}).code, 2);
        QCOMPARE(run({"devices", "extra"}).code, 2);
    }

    // devices prints the topology NVML reports (the fake's 4-GPU box: NVLink pairs 0-1 and 2-3,
    // host bridge elsewhere, 1-2 without P2P), with the planner's nominal link speeds.
    void devicesPrintsTopology() {
        QTemporaryDir data;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("STRATA_NVML_LIBRARY", STRATA_FAKE_NVML);
        env.insert("FAKE_NVML_DEVICES", "4");
        env.insert("XDG_DATA_HOME", data.path());
        strata::test::CliRunOptions o;
        o.environment = env;
        const auto r = strata::test::runProgram(cli_, {"devices"}, o);
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const QStringList lines = r.out.split('\n');
        QVERIFY2(lines.contains("links (NVML, driver 575.51.03):"), qPrintable(r.out));
        const QString row0 = lines.filter(QRegularExpression("^(cuda|nvml)0 +X ")).value(0).simplified();
        const QString row1 = lines.filter(QRegularExpression("^(cuda|nvml)1 +NV4 ")).value(0).simplified();
        QVERIFY2(row0.endsWith("X NV4 PHB PHB 0 0-15"), qPrintable(r.out));
        QVERIFY2(row1.endsWith("NV4 X PHB* PHB 0 0-15"), qPrintable(r.out));
        QVERIFY2(r.out.contains(QRegularExpression("no P2P (cuda|nvml)1 ↔ (cuda|nvml)2: the chipset does not support it")),
                 qPrintable(r.out));
        QVERIFY2(r.out.contains("gen 3 x8 max (6.3 GB/s) · NVLink 2 active, 3.0"), qPrintable(r.out));
        QVERIFY2(r.out.contains("planner's link speeds, GB/s one way (nominal)"), qPrintable(r.out));
        QVERIFY2(lines.filter(QRegularExpression("^(cuda|nvml)1 +100 +X +25\\* +6 *$")).size() == 1, qPrintable(r.out));
        QVERIFY2(r.out.contains("links: not measured on this machine (strata-cli probe links)"), qPrintable(r.out));
    }

    // probe links: without GPUs one line and exit 0 (with GPUs it measures: tests/gpu/device_check.sh).
    void probeLinksWithoutGpus() {
        if (!run({"devices"}).out.startsWith("no NVIDIA GPU: ")) QSKIP("this machine has GPUs: the probe runs in the GPU check");
        const Run r = run({"probe", "links"});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.startsWith("no GPUs: nothing to probe ("), qPrintable(r.out));
        QCOMPARE(run({"probe"}).code, 2);
        QCOMPARE(run({"probe", "bandwidth"}).code, 2);
        QCOMPARE(run({"probe", "links", "--bogus"}).code, 2);
    }
};

QTEST_GUILESS_MAIN(TestCliCommands)
#include "tst_cli_commands.moc"
