// GPU test (CTest label gpu): runs `strata-cli selftest --quick` — every op on every device
// against references, and whole models on each GPU against the CPU — and requires "0 failed".
// Skips with the reason where no CUDA device exists.
#include <QProcess>
#include <QRegularExpression>
#include <QtTest>

#include "backend/registry.h"

using namespace strata;

class TestGpuSelftest : public QObject {
    Q_OBJECT

private slots:
    void quickSelftestPasses() {
        DeviceRegistry reg;
        int n_gpu = 0;
        for (const auto& d : reg.available()) n_gpu += d.type == DeviceType::cuda;
        if (n_gpu == 0) QSKIP(("no CUDA device: " + reg.gpu_status()).c_str());
        const QString cli = qEnvironmentVariable("STRATA_CLI");
        QVERIFY2(!cli.isEmpty(), "STRATA_CLI (the strata-cli path) is not set");
        QProcess p;
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(cli, {"selftest", "--quick"});
        QVERIFY2(p.waitForFinished(590000), "selftest did not finish");
        const QString out = QString::fromUtf8(p.readAll());
        const auto m = QRegularExpression(R"((\d+) passed, (\d+) failed)").match(out);
        if (!m.hasMatch() || m.captured(2) != "0" || p.exitCode() != 0) qWarning().noquote() << out;
        QVERIFY2(m.hasMatch(), "no \"N passed, M failed\" line");
        QCOMPARE(m.captured(2), QString("0"));
        QVERIFY(m.captured(1).toInt() > 0);
        QCOMPARE(p.exitCode(), 0);
    }
};

QTEST_GUILESS_MAIN(TestGpuSelftest)
#include "tst_gpu_selftest.moc"
