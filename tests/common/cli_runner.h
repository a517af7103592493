// Running a program from a test — strata-cli above all — and collecting its exit code and
// output, the one way every CLI test does it: a program that does not start, crashes or runs
// past the timeout (then killed) reports code -1, with what it wrote so far.
#pragma once

#include <QFileInfo>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <optional>

namespace strata::test {

struct CliRun {
    int code = -1;  // the exit code; -1 when it did not start, crashed or timed out
    QString out, err;
};

struct CliRunOptions {
    QByteArray input;                               // written to its stdin, which is then closed
    std::optional<QProcessEnvironment> environment; // unset: this process's
    QString workingDirectory;                       // empty: this process's
    int timeoutMs = 60000;
};

inline CliRun runProgram(const QString& program, const QStringList& args, const CliRunOptions& options = {}) {
    QProcess p;
    if (options.environment) p.setProcessEnvironment(*options.environment);
    if (!options.workingDirectory.isEmpty()) p.setWorkingDirectory(options.workingDirectory);
    p.start(program, args);
    CliRun r;
    if (!p.waitForStarted(10000)) {
        r.err = program + QStringLiteral(": ") + p.errorString();
        return r;
    }
    if (!options.input.isEmpty()) p.write(options.input);
    p.closeWriteChannel();
    const bool finished = p.waitForFinished(options.timeoutMs);
    if (!finished) {
        p.kill();
        p.waitForFinished(5000);
    }
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    if (!finished) r.err.prepend(QStringLiteral("timed out after %1 ms\n").arg(options.timeoutMs));
    else if (p.exitStatus() == QProcess::NormalExit) r.code = p.exitCode();
    return r;
}

// The strata-cli that ctest names in $STRATA_CLI; empty when unset or not executable (the test
// then skips, saying so).
inline QString strataCliPath() {
    const QString cli = qEnvironmentVariable("STRATA_CLI");
    return !cli.isEmpty() && QFileInfo(cli).isExecutable() ? cli : QString();
}

}  // namespace strata::test
