// Chat export: the Markdown and JSON a conversation becomes (order, roles, system prompt, the
// figures and states under answers), file names made from titles, and the writer: the format
// follows the suffix, an existing file is replaced whole, and a path that cannot be written
// gives a message naming the file and leaves what was there.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QtTest>

#include "chat/chat_export.h"
#include "storage/chat_store.h"
#include "storage/database.h"

using namespace strata::app;

class TestChatExport : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        QVERIFY2(m_db.open(m_dir.filePath(QStringLiteral("chats.sqlite3"))), qPrintable(m_db.lastError()));
        m_store = std::make_unique<ChatStore>(m_db);
        Conversation c;
        c.title = QStringLiteral("Splitting a 70B model");
        c.modelPath = QStringLiteral("/models/Llama-3.3-70B-Instruct-Q4_K_M.gguf");
        const auto id = m_store->createConversation(c);
        QVERIFY(id);
        m_id = *id;
        SamplingSettings s;
        s.temperature = 0.2;
        s.topK = 20;
        QVERIFY(m_store->setConversationSettings(m_id, c.modelPath, QStringLiteral("Be brief.\n\nAnswer in English."), s));
        QVERIFY(m_store->appendMessage(m_id, Role::user, QStringLiteral("How do I split it?")));
        const auto a = m_store->appendMessage(m_id, Role::assistant, QString());
        QVERIFY(a);
        AnswerStats st;
        st.nTokens = 42;
        st.tokensPerSecond = 21.75;
        st.timeToFirstTokenMs = 300;
        st.endReason = QStringLiteral("max_tokens");
        QVERIFY(m_store->updateMessage(*a, QStringLiteral("Layers 0–42 on the 4090.\n\n```bash\nstrata-cli run\n```"),
                                       MessageState::complete, st));
        QVERIFY(m_store->appendMessage(m_id, Role::user, QStringLiteral("And 32K?")));
        QVERIFY(m_store->appendMessage(m_id, Role::assistant, QStringLiteral("At 32K the"), MessageState::stopped));
    }

    void markdownKeepsTheConversation() {
        const QString md = conversationToMarkdown(*m_store->conversation(m_id), m_store->messages(m_id));
        QVERIFY2(md.startsWith(QStringLiteral("# Splitting a 70B model\n")), qPrintable(md));
        QVERIFY(md.contains(QStringLiteral("model Llama-3.3-70B-Instruct-Q4_K_M.gguf")));
        QVERIFY(md.contains(QStringLiteral("temperature 0.2, top-k 20")));
        QVERIFY2(md.contains(QStringLiteral("> Be brief.\n>\n> Answer in English.")), qPrintable(md));  // quoted whole
        // The turns in order, each under its heading, the code block intact.
        const qsizetype q1 = md.indexOf(QStringLiteral("## You\n\nHow do I split it?"));
        const qsizetype a1 = md.indexOf(QStringLiteral("## Assistant\n\nLayers 0–42 on the 4090.\n\n```bash\nstrata-cli run\n```"));
        const qsizetype q2 = md.indexOf(QStringLiteral("## You\n\nAnd 32K?"));
        const qsizetype a2 = md.indexOf(QStringLiteral("## Assistant\n\nAt 32K the"));
        QVERIFY2(q1 > 0 && a1 > q1 && q2 > a1 && a2 > q2, qPrintable(md));
        QVERIFY(md.contains(QStringLiteral("*42 tokens · 21.8 tok/s · reached the token limit*")));
        QVERIFY(md.mid(a2).contains(QStringLiteral("*stopped*")));  // an answer cut short says so
    }

    void jsonIsTheChatFormat() {
        const QJsonObject o = conversationToJson(*m_store->conversation(m_id), m_store->messages(m_id));
        QCOMPARE(o.value(QStringLiteral("title")).toString(), QStringLiteral("Splitting a 70B model"));
        QCOMPARE(o.value(QStringLiteral("sampling")).toObject().value(QStringLiteral("temperature")).toDouble(), 0.2);
        const QJsonArray m = o.value(QStringLiteral("messages")).toArray();
        QCOMPARE(m.size(), 5);  // the system prompt first, then the four turns
        const char* roles[] = {"system", "user", "assistant", "user", "assistant"};
        for (int i = 0; i < 5; ++i) QCOMPARE(m[i].toObject().value(QStringLiteral("role")).toString(), QString::fromLatin1(roles[i]));
        QCOMPARE(m[0].toObject().value(QStringLiteral("content")).toString(), QStringLiteral("Be brief.\n\nAnswer in English."));
        QCOMPARE(m[2].toObject().value(QStringLiteral("tokens")).toInt(), 42);
        QCOMPARE(m[2].toObject().value(QStringLiteral("end_reason")).toString(), QStringLiteral("max_tokens"));
        QVERIFY(!m[4].toObject().contains(QStringLiteral("end_reason")));
        QVERIFY(!m[2].toObject().contains(QStringLiteral("state")));  // complete is the default
        QCOMPARE(m[4].toObject().value(QStringLiteral("state")).toString(), QStringLiteral("stopped"));
    }

    void fileNamesFromTitles_data() {
        QTest::addColumn<QString>("title");
        QTest::addColumn<QString>("name");
        QTest::newRow("plain") << "Haiku about memory" << "Haiku about memory.md";
        QTest::newRow("separators") << "a/b\\c: why?" << "a-b-c- why-.md";
        QTest::newRow("hidden") << "..profile" << "profile.md";
        QTest::newRow("empty") << "   " << "Chat.md";
        QTest::newRow("newline") << "two\nlines" << "two lines.md";
        QTest::newRow("long") << QString(200, QLatin1Char('x')) << QString(80, QLatin1Char('x')) + ".md";
    }
    void fileNamesFromTitles() {
        QFETCH(QString, title);
        QFETCH(QString, name);
        QCOMPARE(exportFileName(title, ExportFormat::markdown), name);
        QVERIFY(exportFileName(title, ExportFormat::json).endsWith(QStringLiteral(".json")));
    }

    void writesTheFormatTheSuffixNames() {
        const QString md = m_dir.filePath(QStringLiteral("chat.md")), json = m_dir.filePath(QStringLiteral("chat.JSON"));
        {
            QFile old(md);  // an older, longer export is replaced whole
            QVERIFY(old.open(QIODevice::WriteOnly));
            old.write(QByteArray(100000, 'x'));
        }
        QCOMPARE(exportConversation(*m_store, m_id, md), QString());
        QFile f(md);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(QString::fromUtf8(f.readAll()), conversationToMarkdown(*m_store->conversation(m_id), m_store->messages(m_id)));
        QCOMPARE(exportConversation(*m_store, m_id, json), QString());
        QFile j(json);
        QVERIFY(j.open(QIODevice::ReadOnly));
        QJsonParseError err;
        const QJsonDocument doc = QJsonDocument::fromJson(j.readAll(), &err);
        QCOMPARE(err.error, QJsonParseError::NoError);
        QCOMPARE(doc.object().value(QStringLiteral("messages")).toArray().size(), 5);
    }

    void failuresSayWhyAndKeepTheFile() {
        // A directory that does not exist (its "parent" is a regular file).
        const QString blocker = m_dir.filePath(QStringLiteral("not-a-dir"));
        {
            QFile f(blocker);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("keep");
        }
        const QString error = exportConversation(*m_store, m_id, blocker + QStringLiteral("/chat.md"));
        QVERIFY2(error.startsWith(QStringLiteral("Could not export to chat.md: ")) && error.size() > 30, qPrintable(error));
        QFile f(blocker);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray("keep"));
        // A conversation that is gone writes nothing.
        const QString gone = m_dir.filePath(QStringLiteral("gone.md"));
        QVERIFY(!exportConversation(*m_store, m_id + 1000, gone).isEmpty());
        QVERIFY(!QFile::exists(gone));
    }

private:
    QTemporaryDir m_dir;
    Database m_db;
    std::unique_ptr<ChatStore> m_store;
    qint64 m_id = 0;
};

QTEST_GUILESS_MAIN(TestChatExport)
#include "tst_chat_export.moc"
