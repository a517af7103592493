// ChatStore and Database: round trips of conversations and messages, the connection's pragmas,
// cascades, search, soft delete with undo, and the migration of a version-1 file written the
// way version 1 of the app wrote it.
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QtTest>

#include "allocation/allocation_store.h"
#include "storage/chat_store.h"
#include "storage/database.h"
#include "storage/schema.h"

using namespace strata::app;

namespace {

// The schema of version 1, as the app shipped it (kept here verbatim, not taken from the code
// under test, so a changed migration 1 cannot hide a broken upgrade).
const char* kV1Schema[] = {
    "CREATE TABLE conversations (id INTEGER PRIMARY KEY, title TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL)",
    "CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation_id INTEGER NOT NULL REFERENCES conversations(id)"
    " ON DELETE CASCADE, role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')), content TEXT NOT NULL,"
    " created_at INTEGER NOT NULL)",
    "CREATE INDEX messages_by_conversation ON messages (conversation_id, id)",
    "CREATE TABLE models (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, name TEXT NOT NULL, file_size INTEGER"
    " NOT NULL, architecture TEXT NOT NULL, n_params INTEGER NOT NULL, quantization TEXT NOT NULL, context_length"
    " INTEGER NOT NULL, n_layer INTEGER NOT NULL, added_at INTEGER NOT NULL)",
    "PRAGMA user_version = 1",
};

bool execAll(QSqlDatabase db, std::initializer_list<const char*> sql) {
    QSqlQuery q(db);
    for (const char* s : sql)
        if (!q.exec(QString::fromLatin1(s))) {
            qWarning() << s << q.lastError().text();
            return false;
        }
    return true;
}

}  // namespace

class TestChatStore : public QObject {
    Q_OBJECT
private slots:
    void init() {
        QVERIFY(m_dir.isValid());
        m_path = m_dir.filePath(QStringLiteral("t%1.sqlite3").arg(m_n++));
    }

    void opensWithWalAndForeignKeys() {
        Database db;
        QVERIFY2(db.open(m_path), qPrintable(db.lastError()));
        QCOMPARE(db.schemaVersion(), schema::kCurrentVersion);
        QCOMPARE(db.journalMode().toLower(), QStringLiteral("wal"));
        QVERIFY(db.foreignKeysEnabled());
    }

    void conversationRoundTrip() {
        SamplingSettings sampling;
        sampling.temperature = 0.25;
        sampling.topK = 12;
        sampling.topP = 0.8;
        sampling.minP = 0.1;
        sampling.repeatPenalty = 1.3;
        sampling.maxTokens = 77;
        sampling.jsonMode = true;
        sampling.seed = 0xfedcba9876543210ull;  // beyond a double's precision
        qint64 id = 0;
        {
            Database db;
            QVERIFY(db.open(m_path));
            ChatStore store(db);
            Conversation c;
            c.title = QStringLiteral("Über 日本語 ✓");
            c.modelPath = QStringLiteral("/m/a.gguf");
            c.systemPrompt = QStringLiteral("Be brief.");
            c.sampling = sampling;
            c.chatTemplate = QStringLiteral("{{ messages[0].content }}");
            const auto created = store.createConversation(c);
            QVERIFY2(created, qPrintable(store.lastError()));
            id = *created;
            QVERIFY(store.appendMessage(id, Role::system, QStringLiteral("sys")));
            QVERIFY(store.appendMessage(id, Role::user, QStringLiteral("line 1\nline 2 'quoted' \"double\"; DROP TABLE x;")));
            const auto answer = store.appendMessage(id, Role::assistant, QString(), MessageState::streaming);
            QVERIFY(answer);
            AnswerStats stats{42, 123.5, 17.25, QStringLiteral("max_tokens"), 2500};
            QVERIFY(store.updateMessage(*answer, QStringLiteral("**done**"), MessageState::complete, stats,
                                        QStringLiteral("first, think")));
        }
        Database db;  // reopened: everything came from the file
        QVERIFY(db.open(m_path));
        ChatStore store(db);
        const auto c = store.conversation(id);
        QVERIFY(c);
        QCOMPARE(c->title, QStringLiteral("Über 日本語 ✓"));
        QCOMPARE(c->modelPath, QStringLiteral("/m/a.gguf"));
        QCOMPARE(c->systemPrompt, QStringLiteral("Be brief."));
        QCOMPARE(c->sampling, sampling);
        QCOMPARE(c->chatTemplate, QStringLiteral("{{ messages[0].content }}"));
        QVERIFY(store.setConversationTemplate(id, QString()));
        QVERIFY(store.conversation(id)->chatTemplate.isEmpty());
        const QList<Message> m = store.messages(id);
        QCOMPARE(m.size(), 3);
        QCOMPARE(m[0].role, Role::system);
        QCOMPARE(m[1].content, QStringLiteral("line 1\nline 2 'quoted' \"double\"; DROP TABLE x;"));
        QCOMPARE(m[2].role, Role::assistant);
        QCOMPARE(m[2].content, QStringLiteral("**done**"));
        QCOMPARE(m[2].state, MessageState::complete);
        QCOMPARE(m[2].stats, (AnswerStats{42, 123.5, 17.25, QStringLiteral("max_tokens"), 2500}));
        QCOMPARE(m[2].reasoning, QStringLiteral("first, think"));
        QVERIFY(m[0].id < m[1].id && m[1].id < m[2].id);
    }

    void newestFirstAndSearch() {
        Database db;
        QVERIFY(db.open(m_path));
        ChatStore store(db);
        const qint64 a = *store.createConversation({0, QStringLiteral("Alpha"), {}, {}, {}, {}, {}});
        QTest::qWait(3);
        const qint64 b = *store.createConversation({0, QStringLiteral("Beta"), {}, {}, {}, {}, {}});
        QTest::qWait(3);
        QCOMPARE(store.conversations().first().id, b);
        QVERIFY(store.appendMessage(a, Role::user, QStringLiteral("the Quick brown fox")));  // a is now newest
        QCOMPARE(store.conversations().first().id, a);
        QCOMPARE(store.conversations(QStringLiteral("QUICK")).size(), 1);  // message text, any case
        QCOMPARE(store.conversations(QStringLiteral("bet")).first().id, b);  // title
        QCOMPARE(store.conversations(QStringLiteral("%")).size(), 0);        // no LIKE wildcards
        QCOMPARE(store.conversations(QStringLiteral("zebra")).size(), 0);
    }

    void softDeleteUndoAndPurge() {
        Database db;
        QVERIFY(db.open(m_path));
        ChatStore store(db);
        const qint64 id = *store.createConversation({0, QStringLiteral("Doomed"), {}, {}, {}, {}, {}});
        const qint64 msg = *store.appendMessage(id, Role::user, QStringLiteral("hi"));
        QVERIFY(store.deleteConversation(id));
        QCOMPARE(store.conversations().size(), 0);
        QVERIFY(store.restoreConversation(id));
        QCOMPARE(store.conversations().size(), 1);
        QVERIFY(store.deleteConversation(id));
        QVERIFY(store.purgeDeleted());
        QVERIFY(!store.conversation(id));
        QVERIFY(!store.message(msg));  // ON DELETE CASCADE with foreign keys on
    }

    void deleteMessagesFromAndInterrupted() {
        Database db;
        QVERIFY(db.open(m_path));
        ChatStore store(db);
        const qint64 id = *store.createConversation({0, QStringLiteral("c"), {}, {}, {}, {}, {}});
        const qint64 m1 = *store.appendMessage(id, Role::user, QStringLiteral("1"));
        const qint64 m2 = *store.appendMessage(id, Role::assistant, QStringLiteral("2"), MessageState::streaming);
        store.appendMessage(id, Role::user, QStringLiteral("3"));
        QCOMPARE(store.markInterruptedAnswers(), 1);
        QCOMPARE(store.message(m2)->state, MessageState::stopped);
        QVERIFY(store.deleteMessagesFrom(id, m2));
        QCOMPARE(store.messages(id).size(), 1);
        QCOMPARE(store.messages(id).first().id, m1);
        QVERIFY(!store.updateMessage(m2, QStringLiteral("x"), MessageState::complete));  // gone
    }

    // An answer the process died in the middle of: 'stopped' and interrupted (a Stop is not),
    // with the text and figures of its last save.
    void crashedAnswerIsInterruptedWithItsFigures() {
        Database db;
        QVERIFY(db.open(m_path));
        ChatStore store(db);
        Conversation c;
        c.title = QStringLiteral("crash");
        const qint64 id = *store.createConversation(c);
        store.appendMessage(id, Role::user, QStringLiteral("q"));
        const qint64 killed = *store.appendMessage(id, Role::assistant, QString(), MessageState::streaming);
        QVERIFY(store.updateMessage(killed, QStringLiteral("half an ans"), MessageState::streaming,
                                    AnswerStats{12, 150, 30.5, {}, 0}));
        const qint64 stopped = *store.appendMessage(id, Role::assistant, QStringLiteral("s"), MessageState::stopped);
        QCOMPARE(store.markInterruptedAnswers(), 1);
        const Message m = *store.message(killed);
        QCOMPARE(m.state, MessageState::stopped);
        QVERIFY(m.interrupted);
        QCOMPARE(m.content, QStringLiteral("half an ans"));
        QCOMPARE(m.stats, (AnswerStats{12, 150, 30.5, {}, 0}));
        QVERIFY(!store.message(stopped)->interrupted);
        QVERIFY(store.clearInterrupted(killed));
        QVERIFY(!store.message(killed)->interrupted);
    }

    // Alternatives: one shown per group, all kept, in order; showing another hides the rest.
    void answersKeptAsAlternatives() {
        Database db;
        QVERIFY(db.open(m_path));
        ChatStore store(db);
        Conversation c;
        c.title = QStringLiteral("alts");
        const qint64 id = *store.createConversation(c);
        store.appendMessage(id, Role::user, QStringLiteral("q"));
        const qint64 a1 = *store.appendMessage(id, Role::assistant, QStringLiteral("one"));
        QCOMPARE(store.message(a1)->altCount, 1);
        const qint64 a2 = *store.addAlternative(id, a1);
        QVERIFY(store.updateMessage(a2, QStringLiteral("two"), MessageState::complete));
        const qint64 a3 = *store.addAlternative(id, a2);
        QVERIFY(store.updateMessage(a3, QStringLiteral("three"), MessageState::complete));
        QList<Message> shown = store.messages(id);
        QCOMPARE(shown.size(), 2);
        QCOMPARE(shown[1].id, a3);
        QCOMPARE(shown[1].altIndex, 2);
        QCOMPARE(shown[1].altCount, 3);
        QVERIFY(store.showAlternative(id, a1));
        shown = store.messages(id);
        QCOMPARE(shown.size(), 2);
        QCOMPARE(shown[1].content, QStringLiteral("one"));
        QCOMPARE(shown[1].altIndex, 0);
        QCOMPARE(store.alternatives(id, a1).size(), 3);
        QCOMPARE(store.alternatives(id, a3).at(1).content, QStringLiteral("two"));
        QVERIFY(!store.addAlternative(id + 1, a1));  // not that conversation's
        QVERIFY(!store.showAlternative(id, shown[0].id));  // a question has no alternatives
        QVERIFY(store.deleteMessagesFrom(id, shown[0].id));  // edit-and-resend from the question
        QCOMPARE(store.alternatives(id, a1).size(), 0);
    }

    void foreignKeyRefusesOrphans() {
        Database db;
        QVERIFY(db.open(m_path));
        ChatStore store(db);
        QVERIFY(!store.appendMessage(987654, Role::user, QStringLiteral("orphan")));
        QVERIFY(store.lastError().contains(QLatin1String("FOREIGN KEY"), Qt::CaseInsensitive));
    }

    void migratesVersion1File() {
        {
            QSqlDatabase raw = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("v1"));
            raw.setDatabaseName(m_path);
            QVERIFY(raw.open());
            QSqlQuery q(raw);
            for (const char* s : kV1Schema) QVERIFY2(q.exec(QString::fromLatin1(s)), qPrintable(q.lastError().text()));
            QVERIFY(execAll(raw, {"INSERT INTO conversations VALUES (1, 'Old chat', 1000, 2000)",
                                  "INSERT INTO messages VALUES (1, 1, 'user', 'hello from v1', 1500)",
                                  "INSERT INTO messages VALUES (2, 1, 'assistant', 'an old answer', 1600)",
                                  "INSERT INTO models VALUES (1, '/m/old.gguf', 'Old', 10, 'llama', 5, 'Q4_0', 2048, 2, 900)"}));
            raw.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("v1"));

        Database db;
        QVERIFY2(db.open(m_path), qPrintable(db.lastError()));
        QCOMPARE(db.schemaVersion(), schema::kCurrentVersion);
        ChatStore store(db);
        const auto c = store.conversation(1);
        QVERIFY(c);
        QCOMPARE(c->title, QStringLiteral("Old chat"));
        QCOMPARE(c->modelPath, QString());
        QCOMPARE(c->sampling, SamplingSettings{});  // defaults for the new column
        const QList<Message> m = store.messages(1);
        QCOMPARE(m.size(), 2);
        QCOMPARE(m[0].content, QStringLiteral("hello from v1"));
        QCOMPARE(m[1].state, MessageState::complete);
        QCOMPARE(m[1].stats, AnswerStats{});
        // The new columns and table work on the migrated file.
        QVERIFY(store.setConversationSettings(1, QStringLiteral("/m/old.gguf"), QStringLiteral("sys"), {}));
        QVERIFY(store.updateMessage(2, QStringLiteral("edited"), MessageState::complete, {3, 1, 2, QStringLiteral("context_full")}));
        QCOMPARE(store.message(2)->stats.endReason, QStringLiteral("context_full"));
        QVERIFY(store.deleteConversation(1));
        AllocationStore alloc(db);
        AllocationSettings s;
        s.nCtx = 1234;
        QVERIFY(alloc.save(QStringLiteral("/m/old.gguf"), s));
        QCOMPARE(alloc.load(QStringLiteral("/m/old.gguf"))->nCtx, 1234);
        QSqlQuery q(db.connection());
        QVERIFY(q.exec(QStringLiteral("SELECT name, n_expert, n_expert_used FROM models WHERE id = 1")) && q.next());
        QCOMPARE(q.value(0).toString(), QStringLiteral("Old"));
        QCOMPARE(q.value(1).toInt(), 0);  // v4: models listed before experts were known are dense
        QCOMPARE(q.value(2).toInt(), 0);
    }

    void partialMigrationStopsAtRequestedVersion() {
        {
            Database db;
            QVERIFY(db.open(m_path, 1));
            QCOMPARE(db.schemaVersion(), 1);
        }
        {
            Database db;
            QVERIFY(db.open(m_path, 2));
            QCOMPARE(db.schemaVersion(), 2);
        }
        Database db;
        QVERIFY(db.open(m_path));
        QCOMPARE(db.schemaVersion(), schema::kCurrentVersion);
    }

    void refusesNewerFile() {
        {
            Database db;
            QVERIFY(db.open(m_path));
            QVERIFY(execAll(db.connection(), {"PRAGMA user_version = 99"}));
        }
        Database db;
        QVERIFY(!db.open(m_path));
        QVERIFY2(db.lastError().contains(QLatin1String("newer")), qPrintable(db.lastError()));
    }

    void twoConnectionsSeeEachOthersCommits() {
        Database a, b;
        QVERIFY(a.open(m_path));
        QVERIFY(b.open(m_path));
        ChatStore sa(a), sb(b);
        const qint64 id = *sa.createConversation({0, QStringLiteral("shared"), {}, {}, {}, {}, {}});
        QVERIFY(sa.appendMessage(id, Role::user, QStringLiteral("x")));
        QCOMPARE(sb.messages(id).size(), 1);
    }

private:
    QTemporaryDir m_dir;
    QString m_path;
    int m_n = 0;
};

QTEST_GUILESS_MAIN(TestChatStore)
#include "tst_chat_store.moc"
