// ConversationListModel: checked by QAbstractItemModelTester through inserts, moves (a
// conversation with a new message goes to the top), renames, deletes and searches.
#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "chat/conversation_list_model.h"
#include "storage/chat_store.h"
#include "storage/database.h"

using namespace strata::app;

class TestConversationModel : public QObject {
    Q_OBJECT
private slots:
    void init() {
        QVERIFY(m_dir.isValid());
        m_db = std::make_unique<Database>();
        QVERIFY(m_db->open(m_dir.filePath(QStringLiteral("c%1.sqlite3").arg(m_n++))));
        m_store = std::make_unique<ChatStore>(*m_db);
    }
    void cleanup() {
        m_store.reset();
        m_db.reset();
    }

    void tracksTheStore() {
        ConversationListModel model(*m_store);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(model.rowCount(), 0);
        QList<qint64> ids;
        for (int i = 0; i < 5; ++i) {
            ids.append(*m_store->createConversation(titled(QStringLiteral("chat %1").arg(i))));
            QTest::qWait(2);
            model.refresh();
        }
        QCOMPARE(model.rowCount(), 5);
        QCOMPARE(model.idAt(0), ids[4]);  // newest first

        QSignalSpy moved(&model, &QAbstractItemModel::rowsMoved);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QVERIFY(m_store->appendMessage(ids[1], Role::user, QStringLiteral("bump")));
        model.refresh();
        QCOMPARE(model.idAt(0), ids[1]);
        QCOMPARE(moved.size(), 1);
        QCOMPARE(reset.size(), 0);  // rows move, the view keeps its selection

        QVERIFY(model.setData(model.index(2), QStringLiteral("  Renamed   chat ")));
        QCOMPARE(m_store->conversation(model.idAt(2))->title, QStringLiteral("Renamed chat"));
        QVERIFY(!model.setData(model.index(2), QStringLiteral("   ")));  // empty titles are refused

        QVERIFY(m_store->deleteConversation(ids[3]));
        model.refresh();
        QCOMPARE(model.rowCount(), 4);
        QCOMPARE(model.rowOf(ids[3]), -1);

        QVERIFY(m_store->appendMessage(ids[0], Role::assistant, QStringLiteral("a needle in text")));
        model.setSearch(QStringLiteral("NEEDLE"));
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.idAt(0), ids[0]);
        model.setSearch(QString());
        QCOMPARE(model.rowCount(), 4);
        QVERIFY(m_store->restoreConversation(ids[3]));
        model.refresh();
        QCOMPARE(model.rowCount(), 5);
        QVERIFY(!model.data(model.index(0), ConversationListModel::UpdatedRole).toString().isEmpty());
    }

private:
    static Conversation titled(const QString& t) {
        Conversation c;
        c.title = t;
        return c;
    }
    QTemporaryDir m_dir;
    std::unique_ptr<Database> m_db;
    std::unique_ptr<ChatStore> m_store;
    int m_n = 0;
};

QTEST_GUILESS_MAIN(TestConversationModel)
#include "tst_conversation_model.moc"
