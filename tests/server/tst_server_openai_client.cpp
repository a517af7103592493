// `strata-cli serve` as a user runs it: it refuses to listen beyond loopback without an API key,
// and it answers the official openai npm client (tests/server/openai_client/client.mjs: models,
// chat whole and streamed, completions, tools, JSON mode, errors) on a random-weight model. The
// client is installed with npm into the build folder; the test skips, saying so, only when npm
// cannot fetch it.
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include "cli_runner.h"

namespace {

using Run = strata::test::CliRun;

Run run(const QString& program, const QStringList& args, const QString& dir = {}, int timeout_ms = 60000) {
    strata::test::CliRunOptions o;
    o.workingDirectory = dir;
    o.timeoutMs = timeout_ms;
    return strata::test::runProgram(program, args, o);
}

}  // namespace

class TestServerOpenAiClient : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString cli_;
    QString model_;

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        cli_ = qEnvironmentVariable("STRATA_CLI");
        if (cli_.isEmpty() || !QFileInfo(cli_).isExecutable()) QSKIP("STRATA_CLI not set or not built (run through ctest)");
        model_ = dir_.filePath("tiny.gguf");
        const Run g = run(cli_, {"gen-model", "--vocab", "512", "--embd", "64", "--layers", "2", "--heads", "4",
                                 "--kv-heads", "2", "--ff", "128", "--seed", "7", model_});
        QVERIFY2(g.code == 0, qPrintable(g.err));
    }

    void refusesToListenBeyondLoopbackWithoutAKey() {
        const Run r = run(cli_, {"serve", "-m", model_, "--host", "0.0.0.0", "--port", "0"});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("--api-key") && r.err.contains("API key is required"), qPrintable(r.err));
    }

    void answersTheOpenAiClient() {
        // The client, installed into the build folder (npm's cache serves it without a network).
        const QString npmDir = QStringLiteral(STRATA_SERVER_NPM_DIR);
        QVERIFY(QDir().mkpath(npmDir));
        const QString src = QStringLiteral(STRATA_SERVER_TEST_DIR) + "/openai_client/";
        for (const char* f : {"package.json", "client.mjs"}) {
            QFile::remove(npmDir + "/" + f);
            QVERIFY(QFile::copy(src + f, npmDir + "/" + f));
        }
        if (!QFileInfo::exists(npmDir + "/node_modules/openai/package.json")) {
            const Run npm = run("npm", {"install", "--prefer-offline", "--no-audit", "--no-fund"}, npmDir, 180000);
            if (npm.code != 0)
                QSKIP(qPrintable("npm could not install the openai client: " + npm.err.left(400)));
        }

        QProcess serve;
        serve.setProcessChannelMode(QProcess::SeparateChannels);
        serve.start(cli_, {"serve", "-m", model_, "--port", "0", "--parallel", "2", "--api-key", "test-key", "--threads", "2"});
        QVERIFY(serve.waitForStarted(10000));
        QString url;
        for (int i = 0; i < 600 && url.isEmpty(); ++i) {
            serve.waitForReadyRead(100);
            const QString line = QString::fromUtf8(serve.readLine()).trimmed();
            if (line.startsWith("listening on ")) url = line.mid(13);
            if (serve.state() == QProcess::NotRunning) break;
        }
        QVERIFY2(!url.isEmpty(), serve.readAllStandardError().constData());

        const Run client = run("node", {"client.mjs", url + "/v1", "test-key"}, npmDir, 120000);
        ::kill(pid_t(serve.processId()), SIGTERM);
        QVERIFY(serve.waitForFinished(10000));
        QVERIFY2(client.code == 0, qPrintable(client.out + client.err));
        for (const char* check : {"models", "chat", "chat stream", "completions", "tools", "json mode", "errors"})
            QVERIFY2(client.out.contains(QStringLiteral("ok %1\n").arg(check)), qPrintable(client.out));
        QCOMPARE(serve.exitStatus(), QProcess::NormalExit);
        QCOMPARE(serve.exitCode(), 0);
        QVERIFY2(serve.readAllStandardError().contains("stopping (SIGTERM)"), "no orderly stop");
    }
};

QTEST_GUILESS_MAIN(TestServerOpenAiClient)
#include "tst_server_openai_client.moc"
