// ChatController with a worker thread and a scripted backend: a turn stores the question and
// the answer with its figures; the answer is on disk while it streams and when stopped;
// regenerate and edit-and-resend rewrite the history; a conversation keeps its model, system
// prompt and sampling; shutting down mid-answer keeps every token that arrived; a question the
// store refuses is not sent and comes back; an answer the token limit cut says so; two
// conversations are answered at once, each into its own messages; a device failure mid-answer
// is told in the chat with the new layout, and the answer completes.
#include <QSignalSpy>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QtTest>

#include "chat/chat_controller.h"
#include "storage/chat_store.h"
#include "storage/database.h"
#include "worker_fixture.h"

using namespace strata;
using namespace strata::app;
using strata::test::FakeScript;
using strata::test::WorkerFixture;

namespace {
FakeScript slowScript(int n, int delayMs) {
    FakeScript s;
    s.pieces.clear();
    for (int i = 0; i < n; ++i) s.pieces.push_back("w" + std::to_string(i) + " ");
    s.pieceDelayMs = delayMs;
    return s;
}
}  // namespace

class TestChatController : public QObject {
    Q_OBJECT
private slots:
    void init() {
        QVERIFY(m_dir.isValid());
        m_path = m_dir.filePath(QStringLiteral("chat%1.sqlite3").arg(m_n++));
        m_db = std::make_unique<Database>();
        QVERIFY(m_db->open(m_path));
        m_store = std::make_unique<ChatStore>(*m_db);
    }
    void cleanup() {
        m_store.reset();
        m_db.reset();
    }

    void turnStoresQuestionAndAnswer() {
        WorkerFixture f;
        ChatController chat(*m_store, *f.worker, *f.model);
        QSignalSpy finished(&chat, &ChatController::answerFinished);
        QVERIFY(chat.send(QStringLiteral("What is a GGUF file?")));
        QVERIFY(chat.isGenerating());
        QVERIFY(!chat.send(QStringLiteral("second while busy")));
        QTRY_COMPARE(finished.size(), 1);
        QVERIFY(!chat.isGenerating());
        const QList<Message> m = m_store->messages(chat.currentConversation());
        QCOMPARE(m.size(), 2);
        QCOMPARE(m[0].role, Role::user);
        QCOMPARE(m[1].content, QStringLiteral("Hello, world!"));
        QCOMPARE(m[1].state, MessageState::complete);
        QCOMPARE(m[1].stats.nTokens, 4);
        QCOMPARE(m_store->conversation(chat.currentConversation())->title, QStringLiteral("What is a GGUF file?"));
        QCOMPARE(chat.messages().last().content, QStringLiteral("Hello, world!"));
    }

    // A thinking model: the reasoning streams apart, is stored apart with how long it took, and
    // goes back to the template with the history; the answer's text is the answer only.
    void reasoningIsKeptApartAndTimed() {
        FakeScript script;
        script.reasoningPieces = {"Let me ", "think."};
        script.pieceDelayMs = 20;
        WorkerFixture f(script);
        ChatController chat(*m_store, *f.worker, *f.model);
        QSignalSpy reasoning(&chat, &ChatController::answerReasoningChanged);
        QSignalSpy finished(&chat, &ChatController::answerFinished);
        QVERIFY(chat.send(QStringLiteral("why?")));
        QTRY_COMPARE(finished.size(), 1);
        QVERIFY(reasoning.size() >= 2);
        QCOMPARE(reasoning.first().at(2).toBool(), true);   // thinking while it reasons
        QCOMPARE(reasoning.last().at(2).toBool(), false);   // over once the answer starts
        const Message answer = m_store->messages(chat.currentConversation()).last();
        QCOMPARE(answer.content, QStringLiteral("Hello, world!"));
        QCOMPARE(answer.reasoning, QStringLiteral("Let me think."));
        QVERIFY(answer.stats.thinkingMs >= 20);
        QCOMPARE(answer.stats.nTokens, 6);  // reasoning tokens count too

        QVERIFY(chat.send(QStringLiteral("and then?")));
        QTRY_COMPARE(finished.size(), 2);
        std::lock_guard lock(f.record->mutex);
        const std::vector<ChatMessage>& history = f.record->prompts.back();
        QCOMPARE(history.size(), size_t(3));
        QCOMPARE(history[1].content, std::string("Hello, world!"));
        QCOMPARE(history[1].reasoning, std::string("Let me think."));
    }

    void customTemplatePerConversation() {
        WorkerFixture f;
        ChatController chat(*m_store, *f.worker, *f.model);
        QSignalSpy finished(&chat, &ChatController::answerFinished);
        // Set before the first message (a draft), it is kept by the conversation that message makes.
        const auto bad = chat.setConversationTemplate(QStringLiteral("{% for m in messages %}"));
        QVERIFY(bad.has_value());
        QVERIFY2(bad->contains(QStringLiteral("does not parse")), qPrintable(*bad));
        const QString tmpl = QStringLiteral("{% for m in messages %}{{ m.content }}{% endfor %}");
        QVERIFY(!chat.setConversationTemplate(tmpl));
        QVERIFY(chat.send(QStringLiteral("hi")));
        QTRY_COMPARE(finished.size(), 1);
        QCOMPARE(m_store->conversation(chat.currentConversation())->chatTemplate, tmpl);
        {
            std::lock_guard lock(f.record->mutex);
            QCOMPARE(f.record->requests.back().custom_template, tmpl.toStdString());
        }
        QCOMPARE(chat.lastPrompt(chat.currentConversation()).templateName, QStringLiteral("a custom template"));
        // Cleared: the model's own again.
        QVERIFY(!chat.setConversationTemplate(QString()));
        QVERIFY(m_store->conversation(chat.currentConversation())->chatTemplate.isEmpty());
    }

    void builtInFallbackIsReported() {
        FakeScript script;
        script.templateWarning = "its chat template failed on this conversation (x)";
        WorkerFixture f(script);
        ChatController chat(*m_store, *f.worker, *f.model);
        QSignalSpy used(&chat, &ChatController::promptUsed);
        QSignalSpy finished(&chat, &ChatController::answerFinished);
        QVERIFY(chat.send(QStringLiteral("hi")));
        QTRY_COMPARE(finished.size(), 1);
        QCOMPARE(used.size(), 1);
        const auto info = used.first().at(1).value<PromptInfo>();
        QCOMPARE(info.templateName, QStringLiteral("built-in ChatML"));
        QVERIFY(info.warning.contains(QStringLiteral("failed on this conversation")));
        QCOMPARE(chat.lastPrompt(chat.currentConversation()).warning, info.warning);
    }

    void answerIsSavedWhileStreaming() {
        WorkerFixture f(slowScript(60, 40));  // 2.4 s of streaming
        ChatController chat(*m_store, *f.worker, *f.model);
        QVERIFY(chat.send(QStringLiteral("stream please")));
        const qint64 id = chat.streamingMessageId();
        QTest::qWait(ChatController::kSaveIntervalMs * 2 + 100);
        QVERIFY(chat.isGenerating());
        // Another connection (like a process after a crash) sees what streamed so far.
        Database other;
        QVERIFY(other.open(m_path));
        const auto saved = ChatStore(other).message(id);
        QVERIFY(saved);
        QCOMPARE(saved->state, MessageState::streaming);
        QVERIFY2(saved->content.size() > 10, qPrintable(saved->content));
        // The figures too: a crash keeps them as of this save.
        QVERIFY(saved->stats.nTokens >= saved->content.split(QLatin1Char(' '), Qt::SkipEmptyParts).size());
        QVERIFY(saved->stats.tokensPerSecond > 0);
        QVERIFY(saved->stats.timeToFirstTokenMs > 0);
        QVERIFY(chat.streamingText().startsWith(saved->content));
        // At most one save interval (plus a token) behind what the view has.
        const int behind = int(chat.streamingText().split(QLatin1Char(' '), Qt::SkipEmptyParts).size() -
                               saved->content.split(QLatin1Char(' '), Qt::SkipEmptyParts).size());
        QVERIFY2(behind <= ChatController::kSaveIntervalMs / 40 + 3, qPrintable(QString::number(behind)));
        chat.stop();
        QTRY_VERIFY(!chat.isGenerating());
    }

    void stopSavesThePartialAnswer() {
        WorkerFixture f(slowScript(200, 10));
        ChatController chat(*m_store, *f.worker, *f.model);
        QSignalSpy changed(&chat, &ChatController::answerTextChanged);
        QVERIFY(chat.send(QStringLiteral("long answer")));
        const qint64 id = chat.streamingMessageId();
        QTRY_VERIFY(changed.size() >= 5);
        chat.stop();
        QTRY_VERIFY(!chat.isGenerating());
        const auto m = m_store->message(id);
        QCOMPARE(m->state, MessageState::stopped);
        const QString shown = changed.last()[1].toString();
        QCOMPARE(m->content, shown);  // every token that reached the view is stored
        QVERIFY(m->content.size() < 200 * 3);
        QVERIFY(m->stats.nTokens > 0);
    }

    // Regenerate keeps the earlier answer as an alternative: the conversation shows (and sends
    // as history) the new one; showAlternative switches back; the choice outlives the session.
    void regenerateKeepsTheEarlierAnswer() {
        WorkerFixture f;
        qint64 conv = 0;
        qint64 first = 0;
        {
            ChatController chat(*m_store, *f.worker, *f.model);
            QSignalSpy done(&chat, &ChatController::answerFinished);
            QVERIFY(chat.send(QStringLiteral("q1")));
            QTRY_COMPARE(done.size(), 1);
            conv = chat.currentConversation();
            first = chat.messages().last().id;
            QVERIFY(m_store->updateMessage(first, QStringLiteral("the first answer"), MessageState::complete));
            QSignalSpy removed(&chat, &ChatController::messagesRemovedFrom);
            QVERIFY(chat.regenerate());
            QCOMPARE(removed.size(), 1);
            QCOMPARE(removed[0][0].toLongLong(), first);
            QTRY_COMPARE(done.size(), 2);
            QList<Message> m = m_store->messages(conv);
            QCOMPARE(m.size(), 2);  // the conversation: the question and the answer shown
            QCOMPARE(m[1].content, QStringLiteral("Hello, world!"));
            QCOMPARE(m[1].state, MessageState::complete);
            QCOMPARE(m[1].altIndex, 1);
            QCOMPARE(m[1].altCount, 2);
            QCOMPARE(chat.messages().last().altCount, 2);
            const QList<Message> alternatives = m_store->alternatives(conv, m[1].id);
            QCOMPARE(alternatives.size(), 2);
            QCOMPARE(alternatives[0].id, first);  // kept
            {
                std::lock_guard lock(f.record->mutex);
                QCOMPARE(f.record->prompts.size(), size_t(2));
                QCOMPARE(f.record->prompts[1].size(), size_t(1));  // the same history: just the question
            }
            QSignalSpy replaced(&chat, &ChatController::messageReplaced);
            QVERIFY(!chat.showAlternative(m[1].id, +1));  // there is no later one
            QVERIFY(chat.showAlternative(m[1].id, -1));
            QCOMPARE(replaced.size(), 1);
            QCOMPARE(chat.messages().last().id, first);
            QCOMPARE(chat.messages().last().altIndex, 0);
            QCOMPARE(m_store->messages(conv).last().content, QStringLiteral("the first answer"));
            // The next question goes with the answer shown.
            QVERIFY(chat.send(QStringLiteral("q2")));
            QTRY_COMPARE(done.size(), 3);
            std::lock_guard lock(f.record->mutex);
            QCOMPARE(f.record->prompts[2].size(), size_t(3));
            QCOMPARE(f.record->prompts[2][1].content, std::string("the first answer"));
        }
        // Another session: the same answer shown, its alternative still there.
        ChatController again(*m_store, *f.worker, *f.model);
        QVERIFY(again.selectConversation(conv));
        QCOMPARE(again.messages().size(), 4);
        QCOMPARE(again.messages()[1].id, first);
        QCOMPARE(again.messages()[1].altCount, 2);
        QVERIFY(again.showAlternative(first, +1));
        QCOMPARE(again.messages()[1].content, QStringLiteral("Hello, world!"));
    }

    // Continue carries a stopped answer on: the model gets the conversation and the answer so
    // far (as the start of its turn), and the same message grows; its figures add up.
    void continueCarriesOnTheStoppedAnswer() {
        WorkerFixture f(slowScript(60, 10));
        ChatController chat(*m_store, *f.worker, *f.model);
        QSignalSpy changed(&chat, &ChatController::answerTextChanged);
        QSignalSpy finished(&chat, &ChatController::answerFinished);
        QVERIFY(!chat.canContinue());
        QVERIFY(chat.send(QStringLiteral("long answer")));
        const qint64 id = chat.streamingMessageId();
        QTRY_VERIFY(changed.size() >= 5);
        chat.stop();
        QTRY_COMPARE(finished.size(), 1);
        const Message stopped = *m_store->message(id);
        QCOMPARE(stopped.state, MessageState::stopped);
        QVERIFY(!stopped.interrupted);
        QVERIFY(chat.canContinue());
        QVERIFY(chat.continueAnswer());
        QCOMPARE(chat.streamingMessageId(), id);
        QVERIFY(!chat.canContinue());
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 2, 10000);
        const Message done = *m_store->message(id);
        QCOMPARE(done.state, MessageState::complete);
        QVERIFY2(done.content.startsWith(stopped.content + QStringLiteral("w0 w1 w2 ")), qPrintable(done.content));
        QVERIFY(done.content.endsWith(QStringLiteral("w59 ")));
        QCOMPARE(done.content.split(QLatin1Char(' '), Qt::SkipEmptyParts).size(),
                 stopped.content.split(QLatin1Char(' '), Qt::SkipEmptyParts).size() + 60);
        QCOMPARE(done.stats.nTokens, stopped.stats.nTokens + 60);
        QCOMPARE(m_store->messages(chat.currentConversation()).size(), 2);
        std::lock_guard lock(f.record->mutex);
        QCOMPARE(f.record->requests.back().assistant_prefix, stopped.content.toStdString());
        QCOMPARE(f.record->requests.back().messages.size(), size_t(1));  // the question; the answer is the prefix
    }

    // Without a loaded model an answer has nowhere to come from, unless the conversation names
    // its model: then the app is asked to load it and the answer follows.
    void canAnswerOnlyWithAModel() {
        WorkerFixture f;
        ChatController chat(*m_store, *f.worker, *f.model);
        QVERIFY(!chat.canAnswer());
        chat.setDefaultModel(QStringLiteral("/models/own.gguf"));  // the last model: new chats name it
        QVERIFY(chat.canAnswer());
        QSignalSpy needed(&chat, &ChatController::modelNeeded);
        QVERIFY(chat.send(QStringLiteral("hi")));
        QCOMPARE(needed.size(), 1);
        QCOMPARE(needed[0][0].toString(), QStringLiteral("/models/own.gguf"));
        QTRY_VERIFY(!chat.isGenerating());
    }

    void editAndResendDropsLaterMessages() {
        WorkerFixture f;
        ChatController chat(*m_store, *f.worker, *f.model);
        QSignalSpy finished(&chat, &ChatController::answerFinished);
        QVERIFY(chat.send(QStringLiteral("first question")));
        QTRY_COMPARE(finished.size(), 1);
        QVERIFY(chat.send(QStringLiteral("second question")));
        QTRY_COMPARE(finished.size(), 2);
        const qint64 firstQuestion = chat.messages().first().id;
        QVERIFY(chat.editAndResend(firstQuestion, QStringLiteral("first question, edited")));
        QTRY_COMPARE(finished.size(), 3);
        const QList<Message> m = m_store->messages(chat.currentConversation());
        QCOMPARE(m.size(), 2);
        QCOMPARE(m[0].content, QStringLiteral("first question, edited"));
        std::lock_guard lock(f.record->mutex);
        QCOMPARE(f.record->prompts.back().size(), size_t(1));
        QCOMPARE(f.record->prompts.back()[0].content, std::string("first question, edited"));
    }

    void conversationKeepsModelPromptAndSampling() {
        WorkerFixture f;
        ChatController chat(*m_store, *f.worker, *f.model);
        QSignalSpy finished(&chat, &ChatController::answerFinished);
        QSignalSpy needed(&chat, &ChatController::modelNeeded);
        const qint64 id = chat.newConversation();
        SamplingSettings s;
        s.temperature = 0.125;
        s.topK = 7;
        s.maxTokens = 33;
        s.seed = 99;
        s.jsonMode = true;
        QVERIFY(chat.setConversationSettings(QStringLiteral("/m/chosen.gguf"), QStringLiteral("Answer in French."), s));
        chat.selectConversation(0);
        chat.selectConversation(id);  // reopened from the store
        QVERIFY(chat.send(QStringLiteral("hello")));
        QCOMPARE(needed.size(), 1);
        QCOMPARE(needed[0][0].toString(), QStringLiteral("/m/chosen.gguf"));
        QTRY_COMPARE(finished.size(), 1);
        std::lock_guard lock(f.record->mutex);
        const GenerateParams& p = f.record->params.back();
        QCOMPARE(p.sampler.temperature, 0.125f);
        QCOMPARE(p.sampler.top_k, 7);
        QCOMPARE(p.max_tokens, 33);
        QCOMPARE(p.sampler.seed, quint64(99));
        QVERIFY(p.json_object);
        QCOMPARE(f.record->prompts.back()[0].role, std::string("system"));
        QCOMPARE(f.record->prompts.back()[0].content, std::string("Answer in French."));
    }

    // An answer cut by the token limit is complete but says why it ended; one the model ended
    // says nothing.
    void tokenLimitIsRemembered() {
        WorkerFixture f(slowScript(10, 0));
        ChatController chat(*m_store, *f.worker, *f.model);
        QSignalSpy finished(&chat, &ChatController::answerFinished);
        chat.newConversation();
        SamplingSettings s;
        s.maxTokens = 4;
        QVERIFY(chat.setConversationSettings(QString(), QString(), s));
        QVERIFY(chat.send(QStringLiteral("long, please")));
        QTRY_COMPARE(finished.size(), 1);
        Message m = m_store->messages(chat.currentConversation()).last();
        QCOMPARE(m.state, MessageState::complete);
        QCOMPARE(m.stats.endReason, QStringLiteral("max_tokens"));
        QCOMPARE(finished[0][0].value<Message>().stats.endReason, QStringLiteral("max_tokens"));
        s.maxTokens = 100;
        QVERIFY(chat.setConversationSettings(QString(), QString(), s));
        QVERIFY(chat.regenerate());
        QTRY_COMPARE(finished.size(), 2);
        m = m_store->messages(chat.currentConversation()).last();
        QCOMPARE(m.stats.endReason, QString());
    }

    // Settings chosen on the empty "New chat" page go to the conversation its first message
    // creates, and only to that one.
    void settingsBeforeTheFirstMessage() {
        WorkerFixture f;
        ChatController chat(*m_store, *f.worker, *f.model);
        QSignalSpy finished(&chat, &ChatController::answerFinished);
        QCOMPARE(chat.currentConversation(), 0);
        QCOMPARE(chat.draft().sampling, SamplingSettings{});
        SamplingSettings s;
        s.temperature = 0.3;
        s.jsonMode = true;
        QVERIFY(chat.setConversationSettings(QString(), QStringLiteral("Be terse."), s));
        QCOMPARE(chat.draft().sampling, s);
        QVERIFY(chat.send(QStringLiteral("first")));
        QTRY_COMPARE(finished.size(), 1);
        const auto c = chat.current();
        QVERIFY(c);
        QCOMPARE(c->sampling, s);
        QCOMPARE(c->systemPrompt, QStringLiteral("Be terse."));
        {
            std::lock_guard lock(f.record->mutex);
            QCOMPARE(f.record->params.back().sampler.temperature, 0.3f);
            QVERIFY(f.record->params.back().json_object);
        }
        chat.selectConversation(0);
        QCOMPARE(chat.draft().sampling, SamplingSettings{});  // used up
    }

    // What App::shutdown does when the window closes mid-answer.
    void shutdownMidAnswerKeepsEveryArrivedToken() {
        WorkerFixture f(slowScript(300, 5));
        ChatController chat(*m_store, *f.worker, *f.model);
        QSignalSpy changed(&chat, &ChatController::answerTextChanged);
        QVERIFY(chat.send(QStringLiteral("go")));
        const qint64 id = chat.streamingMessageId();
        QTRY_VERIFY(changed.size() >= 10);
        f.worker->cancelAll();
        f.worker->waitForAnswers();
        f.thread.quit();
        f.thread.wait();
        QCoreApplication::sendPostedEvents(&chat);  // tokens and the finish the worker sent
        chat.abandonAnswer();
        QVERIFY(!chat.isGenerating());
        const auto m = m_store->message(id);
        QCOMPARE(m->state, MessageState::stopped);
        int sent = 0;
        {
            std::lock_guard lock(f.record->mutex);
            sent = f.record->generated;
        }
        QCOMPARE(m->content.split(QLatin1Char(' '), Qt::SkipEmptyParts).size(), sent);
    }

    // A second conversation asks while the first is answered: both answers stream at once, and
    // each lands in its own conversation, whole. Stop in one leaves the other.
    void twoConversationsAreAnsweredAtOnce() {
        WorkerFixture f(slowScript(20, 10));
        ChatController chat(*m_store, *f.worker, *f.model);
        QSignalSpy finished(&chat, &ChatController::answerFinished);
        QVERIFY(chat.send(QStringLiteral("first")));
        const qint64 first = chat.currentConversation();
        const qint64 firstAnswer = chat.streamingMessageId();
        QVERIFY(chat.newConversation());
        QVERIFY(!chat.isGenerating());  // the open conversation is not being answered
        QVERIFY(chat.isGenerating(first));
        QVERIFY(chat.send(QStringLiteral("second")));
        const qint64 second = chat.currentConversation();
        QVERIFY(second != first);
        QCOMPARE(chat.answersRunning(), 2);
        QTRY_COMPARE(finished.size(), 2);
        QVERIFY2(f.record->maxRunning.load() >= 2, "the answers ran one after another");
        QString expected;
        for (int i = 0; i < 20; ++i) expected += QStringLiteral("w%1 ").arg(i);
        for (qint64 conv : {first, second}) {
            const QList<Message> m = m_store->messages(conv);
            QCOMPARE(m.size(), 2);
            QCOMPARE(m[1].content, expected);
            QCOMPARE(m[1].state, MessageState::complete);
        }
        QCOMPARE(m_store->messages(first)[1].id, firstAnswer);
        QCOMPARE(m_store->messages(first)[0].content, QStringLiteral("first"));
        QCOMPARE(m_store->messages(second)[0].content, QStringLiteral("second"));

        // Stop the open conversation's answer; the other one (not shown) goes on to its end.
        QVERIFY(chat.send(QStringLiteral("again")));  // in `second`
        chat.selectConversation(first);
        QVERIFY(chat.send(QStringLiteral("again")));
        const qint64 stopped = chat.streamingMessageId();
        QTRY_VERIFY(chat.streamingText().size() > 6);
        chat.stop();
        QTRY_COMPARE(finished.size(), 4);
        QCOMPARE(m_store->message(stopped)->state, MessageState::stopped);
        QCOMPARE(m_store->messages(second).last().content, expected);
        QCOMPARE(m_store->messages(second).last().state, MessageState::complete);
    }

    // A device fails mid-answer: the chat says what happened and where the model runs now, and
    // the answer is whole.
    void deviceFailureIsToldAndTheAnswerGoesOn() {
        FakeScript script;
        script.deviceFailureAfter = 2;
        WorkerFixture f(script);
        ChatController chat(*m_store, *f.worker, *f.model);
        QSignalSpy finished(&chat, &ChatController::answerFinished);
        QSignalSpy recovered(&chat, &ChatController::deviceRecovered);
        QSignalSpy errors(&chat, &ChatController::errorOccurred);
        QVERIFY(chat.send(QStringLiteral("hi")));
        QTRY_COMPARE(finished.size(), 1);
        QCOMPARE(errors.size(), 0);
        QCOMPARE(recovered.size(), 1);
        QCOMPARE(recovered[0][0].toLongLong(), chat.currentConversation());
        const QString text = recovered[0][1].toString();
        QVERIFY2(text.contains(QLatin1String("cpu1 failed")) && text.contains(QStringLiteral("cpu: layers 0–2")),
                 qPrintable(text));
        QCOMPARE(chat.deviceNotice(chat.currentConversation()), text);  // shown again when reopened
        const QList<Message> m = m_store->messages(chat.currentConversation());
        QCOMPARE(m[1].content, QStringLiteral("Hello, world!"));
        QCOMPARE(m[1].state, MessageState::complete);
    }

    // A question the store cannot take (here a trigger refuses it as a full disk would) is not
    // sent, says why, and comes back through messageNotSaved; once writes work again it goes.
    void unsavedQuestionComesBack() {
        WorkerFixture f;
        ChatController chat(*m_store, *f.worker, *f.model);
        QSignalSpy errors(&chat, &ChatController::errorOccurred);
        QSignalSpy back(&chat, &ChatController::messageNotSaved);
        QSqlQuery q(m_db->connection());
        QVERIFY(q.exec(QStringLiteral("CREATE TRIGGER full BEFORE INSERT ON messages "
                                      "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")));
        QVERIFY(!chat.send(QStringLiteral("a long question I typed")));
        QVERIFY(!chat.isGenerating());
        QCOMPARE(back.size(), 1);
        QCOMPARE(back[0][0].toString(), QStringLiteral("a long question I typed"));
        QCOMPARE(errors.size(), 1);
        QVERIFY2(errors[0][0].toString().contains(QLatin1String("disk is full")), qPrintable(errors[0][0].toString()));
        QVERIFY(chat.messages().isEmpty());
        QVERIFY(q.exec(QStringLiteral("DROP TRIGGER full")));
        QSignalSpy finished(&chat, &ChatController::answerFinished);
        QVERIFY(chat.send(QStringLiteral("a long question I typed")));
        QTRY_COMPARE(finished.size(), 1);
        QCOMPARE(m_store->messages(chat.currentConversation()).size(), 2);
    }

private:
    QTemporaryDir m_dir;
    QString m_path;
    int m_n = 0;
    std::unique_ptr<Database> m_db;
    std::unique_ptr<ChatStore> m_store;
};

QTEST_GUILESS_MAIN(TestChatController)
#include "tst_chat_controller.moc"
