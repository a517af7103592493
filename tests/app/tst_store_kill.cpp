// A process writing to the data file is killed with SIGKILL in the middle of its writes; the
// file then opens cleanly and holds every message the process had reported as committed, and
// the streaming answer as of its last save (or a later one).
#include <QProcess>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QtTest>

#include "storage/chat_store.h"
#include "storage/database.h"

using namespace strata::app;

class TestStoreKill : public QObject {
    Q_OBJECT
private slots:
    void killedWriterLosesNothingCommitted_data() {
        QTest::addColumn<int>("commitsBeforeKill");
        QTest::newRow("early") << 3;
        QTest::newRow("later") << 400;
    }

    void killedWriterLosesNothingCommitted() {
        QFETCH(int, commitsBeforeKill);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("strata.sqlite3"));
        QProcess child;
        child.setProgram(QStringLiteral(STRATA_KILL_HELPER));
        child.setArguments({path});
        child.start();
        QVERIFY2(child.waitForStarted(10000), qPrintable(child.errorString()));

        QByteArray out;
        auto messagesSeen = [&] { return out.count("\nmessage ") + (out.startsWith("message ") ? 1 : 0); };
        QElapsedTimer clock;
        clock.start();
        while (messagesSeen() < commitsBeforeKill && clock.elapsed() < 30000) {
            child.waitForReadyRead(100);
            out += child.readAllStandardOutput();
        }
        QVERIFY2(messagesSeen() >= commitsBeforeKill, child.readAllStandardError().constData());
        child.kill();  // SIGKILL: no chance to flush or close anything
        QVERIFY(child.waitForFinished(10000));
        QCOMPARE(child.exitStatus(), QProcess::CrashExit);
        out += child.readAllStandardOutput();

        // Only complete lines were reported after their commit returned.
        QList<QByteArray> lines = out.split('\n');
        if (!out.endsWith('\n')) lines.removeLast();
        QHash<qint64, QString> committed;
        qint64 answerId = 0;
        int answerTokens = 0;
        for (const QByteArray& line : lines) {
            if (line.startsWith("message ")) {
                const int sp = line.indexOf(' ', 8);
                committed.insert(line.mid(8, sp - 8).toLongLong(), QString::fromUtf8(line.mid(sp + 1)));
            } else if (line.startsWith("answer ")) {
                const QList<QByteArray> f = line.split(' ');
                answerId = f[1].toLongLong();
                answerTokens = f[2].toInt();
            }
        }
        QVERIFY(committed.size() >= commitsBeforeKill);

        Database db;
        QVERIFY2(db.open(path), qPrintable(db.lastError()));
        QSqlQuery check(db.connection());
        QVERIFY(check.exec(QStringLiteral("PRAGMA integrity_check")) && check.next());
        QCOMPARE(check.value(0).toString(), QStringLiteral("ok"));
        ChatStore store(db);
        for (auto it = committed.cbegin(); it != committed.cend(); ++it) {
            const auto m = store.message(it.key());
            QVERIFY2(m, qPrintable(QStringLiteral("message %1 (%2) was lost").arg(it.key()).arg(it.value())));
            QCOMPARE(m->content, it.value());
        }
        // The answer holds what its last reported save wrote, or what a save after it wrote.
        const auto answer = store.message(answerId);
        QVERIFY(answer);
        const QStringList words = answer->content.split(QLatin1Char(' '), Qt::SkipEmptyParts);
        QVERIFY2(words.size() >= answerTokens, qPrintable(QStringLiteral("%1 < %2").arg(words.size()).arg(answerTokens)));
        for (int i = 0; i < words.size(); ++i) QCOMPARE(words[i], QStringLiteral("t%1").arg(i));
        QCOMPARE(answer->state, MessageState::streaming);  // a crash leaves it so; startup marks it
        QCOMPARE(store.markInterruptedAnswers(), 1);
    }
};

QTEST_GUILESS_MAIN(TestStoreKill)
#include "tst_store_kill.moc"
