// Child process of tst_store_kill: writes messages and a streaming answer to the data file as
// fast as it can, printing a line after each commit, until it is killed.
//   store_kill_helper DB_PATH
// Lines: "message <id> <content>" after a message commit, "answer <id> <n_tokens>" after the
// answer's text ("t0 t1 ... t<n-1>") was saved.
#include <QCoreApplication>
#include <QThread>
#include <cstdio>

#include "storage/chat_store.h"
#include "storage/database.h"

using namespace strata::app;

static QString answerText(int n) {
    QStringList words;
    for (int i = 0; i < n; ++i) words.append(QStringLiteral("t%1").arg(i));
    return words.join(QLatin1Char(' '));
}

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    if (argc < 2) return 2;
    Database db;
    if (!db.open(QString::fromLocal8Bit(argv[1]))) {
        std::fprintf(stderr, "%s\n", qPrintable(db.lastError()));
        return 1;
    }
    ChatStore store(db);
    const auto conversation = store.createConversation({0, QStringLiteral("kill test"), {}, {}, {}, {}, {}});
    if (!conversation) return 1;
    const auto answer = store.appendMessage(*conversation, Role::assistant, QString(), MessageState::streaming);
    if (!answer) return 1;
    std::printf("answer %lld 0\n", static_cast<long long>(*answer));
    std::fflush(stdout);
    for (int i = 0;; ++i) {
        const QString content = QStringLiteral("message %1 ✓").arg(i);
        const auto id = store.appendMessage(*conversation, Role::user, content);
        if (!id) return 1;
        std::printf("message %lld %s\n", static_cast<long long>(*id), content.toUtf8().constData());
        if (!store.updateMessage(*answer, answerText(i + 1), MessageState::streaming)) return 1;
        std::printf("answer %lld %d\n", static_cast<long long>(*answer), i + 1);
        std::fflush(stdout);
    }
}
