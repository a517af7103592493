// The chat page end to end: typing and Enter send through the worker thread, streamed tokens
// reach the transcript and the stored answer; Shift+Enter adds a line; Stop, Regenerate and
// edit-and-resend from the widgets; code blocks with a working Copy button; delete with Undo;
// closing the window mid-answer saves the partial answer; a question that cannot be stored
// returns to the composer; export to a file; a real turn on stories260K.
#include <QCheckBox>
#include <QLabel>
#include <QClipboard>
#include <QLineEdit>
#include <QTextFrame>
#include <QListView>
#include <QPushButton>
#include <QLayout>
#include <QScrollBar>
#include <QSpinBox>
#include <QSignalSpy>
#include <QSqlQuery>
#include <QToolButton>
#include <QtTest>

#include "chat/chat_controller.h"
#include "chat/chat_view.h"
#include "chat/code_block.h"
#include "chat/composer.h"
#include "chat/conversation_settings.h"
#include "chat/conversation_sidebar.h"
#include "chat/markdown_view.h"
#include "chat/message_widget.h"
#include "chat/transcript_view.h"
#include "common/message_banner.h"
#include "engine/engine_backend.h"
#include "engine/engine_worker.h"
#include "engine/model_state.h"
#include "library/model_catalog.h"
#include "storage/chat_store.h"
#include "storage/database.h"
#include "test_paths.h"
#include "window_fixture.h"

using namespace strata;
using namespace strata::app;
using namespace strata::ui;
using strata::test::FakeScript;
using strata::test::UiFixture;

namespace {

void typeAndSend(ChatView* view, const QString& text) {
    PromptEdit* edit = view->composer()->editor();
    edit->setFocus();
    QTest::keyClicks(edit, text);
    QTest::keyClick(edit, Qt::Key_Return);
}

MessageWidget* lastAnswer(ChatView* view) {
    const QList<MessageWidget*> all = view->transcript()->messageWidgets();
    for (int i = int(all.size()) - 1; i >= 0; --i)
        if (all[i]->role() == Role::assistant) return all[i];
    return nullptr;
}

QString renderedText(MessageWidget* w) {
    QStringList parts;
    for (QWidget* b : w->blockWidgets()) {
        if (auto* md = qobject_cast<MarkdownView*>(b)) parts << md->markdownText();
        if (auto* code = qobject_cast<CodeBlock*>(b)) parts << code->code();
    }
    return parts.join(QLatin1Char('\n'));
}

FakeScript slow(int n, int delayMs) {
    FakeScript s;
    s.pieces.clear();
    for (int i = 0; i < n; ++i) s.pieces.push_back("w" + std::to_string(i) + " ");
    s.pieceDelayMs = delayMs;
    return s;
}

// A chat window with a (scripted) model loaded: without one the composer says "Load a model
// first" and sends nothing.
struct ChatFixture : UiFixture {
    explicit ChatFixture(FakeScript script = {}) : UiFixture(std::move(script)) {
        QSignalSpy failed(app.get(), &App::loadFailed);
        app->loadModel(QStringLiteral("/models/scripted.gguf"));
        QTRY_VERIFY_WITH_TIMEOUT(!app->chat().loadedModelPath().isEmpty() || !failed.isEmpty(), 5000);
        if (!failed.isEmpty()) qFatal("the scripted model did not load: %s", qPrintable(failed[0][1].toString()));
    }
};

// Checks, whenever an answer's figures line is painted while it streams, that it lies below
// the answer's last block (what the user sees in that frame).
class FooterOverlapCheck : public QObject {
public:
    MessageWidget* answer = nullptr;
    int painted = 0;
    QStringList overlaps;
    bool check() {
        if (!answer || !answer->statsText().startsWith(QLatin1String("Generating"))) return true;
        const QList<QWidget*> blocks = answer->blockWidgets();
        QLabel* stats = nullptr;
        for (QLabel* l : answer->findChildren<QLabel*>())
            if (l->text() == answer->statsText()) stats = l;
        if (blocks.isEmpty() || !stats) return true;
        const int blockBottom = blocks.last()->mapTo(answer, QPoint(0, blocks.last()->height())).y();
        const int statsTop = stats->mapTo(answer, QPoint(0, 0)).y();
        if (blockBottom > statsTop) {
            overlaps << QStringLiteral("last block ends at %1, the figures start at %2").arg(blockBottom).arg(statsTop);
            QStringList d;
            d << QStringLiteral("answer %1x%2 hfw %3 min %4").arg(answer->width()).arg(answer->height())
                     .arg(answer->layout()->totalHeightForWidth(answer->width())).arg(answer->layout()->totalMinimumSize().height());
            for (QWidget* b : blocks) d << QStringLiteral("block y%1 h%2 w%3 min%4 max%5 hfw%6").arg(b->y()).arg(b->height()).arg(b->width())
                     .arg(b->minimumHeight()).arg(b->maximumHeight()).arg(b->heightForWidth(b->width()));
            d << QStringLiteral("stats y%1 h%2").arg(stats->y()).arg(stats->height());
            QWidget* col = answer->parentWidget();
            d << QStringLiteral("col %1x%2 hfw%3").arg(col->width()).arg(col->height()).arg(col->layout()->totalHeightForWidth(col->width()));
            QWidget* canvas = col->parentWidget();
            QWidget* vp = canvas->parentWidget();
            d << QStringLiteral("canvas %1x%2 hfw%3 minh%4 | viewport %5x%6").arg(canvas->width()).arg(canvas->height())
                     .arg(canvas->heightForWidth(canvas->width())).arg(canvas->minimumSizeHint().height()).arg(vp->width()).arg(vp->height());
            qWarning("%s", qPrintable(d.join(QLatin1String(" | "))));
        }
        return blockBottom <= statsTop;
    }

protected:
    bool eventFilter(QObject* o, QEvent* e) override {
        if (e->type() == QEvent::Paint && answer && o->parent() == answer) {
            ++painted;
            check();
        }
        return false;
    }
};

QToolButton* button(QWidget* in, const QString& text) {
    for (QToolButton* b : in->findChildren<QToolButton*>())
        if (b->text() == text) return b;
    return nullptr;
}

}  // namespace

class TestChatView : public QObject {
    Q_OBJECT
private slots:
    void enterSendsAndTokensReachTheView() {
        FakeScript script;
        script.pieces = {"Sure", ":", " here", " you", " go", "."};
        script.pieceDelayMs = 20;
        ChatFixture f(script);
        f.window->showPage(MainWindow::ChatPage);
        ChatView* view = f.window->chatView();
        QSignalSpy finished(&f.app->chat(), &ChatController::answerFinished);
        typeAndSend(view, QStringLiteral("Say something"));
        QVERIFY(view->composer()->editor()->toPlainText().isEmpty());
        QVERIFY(view->composer()->isGenerating());
        QTRY_VERIFY(lastAnswer(view) && renderedText(lastAnswer(view)).startsWith(QLatin1String("Sure")));
        QTRY_COMPARE(finished.size(), 1);
        MessageWidget* answer = lastAnswer(view);
        QCOMPARE(renderedText(answer), QStringLiteral("Sure: here you go."));
        QVERIFY2(answer->statsText().contains(QLatin1String("6 tokens")), qPrintable(answer->statsText()));
        QVERIFY(answer->statsText().contains(QLatin1String("tok/s")));
        QVERIFY(answer->statsText().contains(QLatin1String("to first token")));
        QVERIFY(!view->composer()->isGenerating());
        const QList<Message> stored = f.app->chatStore().messages(f.app->chat().currentConversation());
        QCOMPARE(stored.size(), 2);
        QCOMPARE(stored[0].content, QStringLiteral("Say something"));
        QCOMPARE(stored[1].content, renderedText(answer));
        QCOMPARE(view->sidebar()->listView()->model()->rowCount(), 1);
    }

    void shiftEnterAddsALine() {
        ChatFixture f;
        f.window->showPage(MainWindow::ChatPage);
        PromptEdit* edit = f.window->chatView()->composer()->editor();
        QSignalSpy sent(f.window->chatView()->composer(), &Composer::sendRequested);
        edit->setFocus();
        QTest::keyClicks(edit, QStringLiteral("line one"));
        QTest::keyClick(edit, Qt::Key_Return, Qt::ShiftModifier);
        QTest::keyClicks(edit, QStringLiteral("line two"));
        QCOMPARE(sent.size(), 0);
        QCOMPARE(edit->toPlainText(), QStringLiteral("line one\nline two"));
        const int oneLine = edit->minimumSizeHint().height();
        QVERIFY(edit->sizeHint().height() > oneLine);  // the box grew
        QTest::keyClick(edit, Qt::Key_Return);
        QCOMPARE(sent.size(), 1);
        QCOMPARE(sent[0][0].toString(), QStringLiteral("line one\nline two"));
    }

    void stopButtonStopsAndKeepsThePartialAnswer() {
        ChatFixture f(slow(500, 8));
        f.window->showPage(MainWindow::ChatPage);
        ChatView* view = f.window->chatView();
        typeAndSend(view, QStringLiteral("long"));
        QTRY_VERIFY(lastAnswer(view) && renderedText(lastAnswer(view)).size() > 20);
        QTest::mouseClick(view->composer()->sendButton(), Qt::LeftButton);  // now a Stop button
        QTRY_VERIFY(!f.app->chat().isGenerating());
        const Message m = f.app->chatStore().messages(f.app->chat().currentConversation()).last();
        QCOMPARE(m.state, MessageState::stopped);
        QCOMPARE(renderedText(lastAnswer(view)), m.content);
        QVERIFY(lastAnswer(view)->statsText().contains(QLatin1String("stopped")));
    }

    void regenerateAndEditFromTheWidgets() {
        ChatFixture f;
        f.window->showPage(MainWindow::ChatPage);
        ChatView* view = f.window->chatView();
        QSignalSpy finished(&f.app->chat(), &ChatController::answerFinished);
        typeAndSend(view, QStringLiteral("first"));
        QTRY_COMPARE(finished.size(), 1);
        QToolButton* regenerate = nullptr;
        for (QToolButton* b : lastAnswer(view)->findChildren<QToolButton*>())
            if (b->text() == QLatin1String("Regenerate")) regenerate = b;
        QVERIFY(regenerate && regenerate->isVisible());
        regenerate->click();
        QTRY_COMPARE(finished.size(), 2);
        QCOMPARE(view->transcript()->messageWidgets().size(), 2);

        MessageWidget* question = view->transcript()->messageWidgets().first();
        for (QToolButton* b : question->findChildren<QToolButton*>())
            if (b->text() == QLatin1String("Edit")) b->click();
        auto* editor = question->findChild<QPlainTextEdit*>();
        QVERIFY(editor && editor->isVisible());
        editor->setPlainText(QStringLiteral("first, edited"));
        for (QPushButton* b : question->findChildren<QPushButton*>())
            if (b->text() == QLatin1String("Send")) b->click();
        QTRY_COMPARE(finished.size(), 3);
        const QList<Message> stored = f.app->chatStore().messages(f.app->chat().currentConversation());
        QCOMPARE(stored.size(), 2);
        QCOMPARE(stored[0].content, QStringLiteral("first, edited"));
        QCOMPARE(view->transcript()->messageWidgets().size(), 2);
        std::lock_guard lock(f.record->mutex);
        QCOMPARE(f.record->prompts.back().back().content, std::string("first, edited"));
    }

    void markdownRendersCodeBlocksWithCopy() {
        FakeScript script;
        script.pieces = {"Use this:\n\n", "```python\n", "print('hi')\n", "```\n\n", "| a | b |\n|---|---|\n| 1 | 2 |\n"};
        ChatFixture f(script);
        f.window->showPage(MainWindow::ChatPage);
        ChatView* view = f.window->chatView();
        QSignalSpy finished(&f.app->chat(), &ChatController::answerFinished);
        typeAndSend(view, QStringLiteral("code please"));
        QTRY_COMPARE(finished.size(), 1);
        QTRY_COMPARE(lastAnswer(view)->blockWidgets().size(), 3);
        auto* code = qobject_cast<CodeBlock*>(lastAnswer(view)->blockWidgets()[1]);
        QVERIFY(code);
        QCOMPARE(code->code(), QStringLiteral("print('hi')"));
        code->copyButton()->click();
        QCOMPARE(QApplication::clipboard()->text(), QStringLiteral("print('hi')"));
        auto* table = qobject_cast<MarkdownView*>(lastAnswer(view)->blockWidgets()[2]);
        QVERIFY(table);
        QVERIFY(table->document()->rootFrame()->childFrames().size() == 1);  // a real table
        QVERIFY(table->height() > table->fontMetrics().height() * 2);      // not clipped to a line
    }

    void deleteWithUndo() {
        ChatFixture f;
        f.window->showPage(MainWindow::ChatPage);
        ChatView* view = f.window->chatView();
        QSignalSpy finished(&f.app->chat(), &ChatController::answerFinished);
        typeAndSend(view, QStringLiteral("keep me"));
        QTRY_COMPARE(finished.size(), 1);
        const qint64 id = f.app->chat().currentConversation();
        view->sidebar()->deleteConversation(id);
        QCOMPARE(view->sidebar()->listView()->model()->rowCount(), 0);
        QVERIFY(view->sidebar()->undoVisible());
        QCOMPARE(f.app->chat().currentConversation(), 0);
        view->sidebar()->undoDelete();
        QCOMPARE(view->sidebar()->listView()->model()->rowCount(), 1);
        QCOMPARE(f.app->chat().currentConversation(), id);
        QCOMPARE(f.app->chatStore().messages(id).size(), 2);
        view->sidebar()->searchField()->setText(QStringLiteral("no such text"));
        QCOMPARE(view->sidebar()->listView()->model()->rowCount(), 0);
        view->sidebar()->searchField()->setText(QStringLiteral("KEEP"));
        QCOMPARE(view->sidebar()->listView()->model()->rowCount(), 1);
    }

    // Export from the window: the file holds the turns and the banner says where it went; a
    // path that cannot be written says why in the banner.
    void exportWritesTheFileAndSaysWhere() {
        ChatFixture f;
        f.window->showPage(MainWindow::ChatPage);
        ChatView* view = f.window->chatView();
        QSignalSpy finished(&f.app->chat(), &ChatController::answerFinished);
        typeAndSend(view, QStringLiteral("export me"));
        QTRY_COMPARE(finished.size(), 1);
        const qint64 id = f.app->chat().currentConversation();
        const QString path = f.dir.filePath(QStringLiteral("out.md"));
        QVERIFY(f.window->exportConversation(id, path));
        QCOMPARE(f.window->banner()->kind(), MessageBanner::Kind::info);
        QVERIFY2(f.window->banner()->text().contains(QLatin1String("out.md")), qPrintable(f.window->banner()->text()));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QString md = QString::fromUtf8(file.readAll());
        QVERIFY2(md.contains(QLatin1String("## You\n\nexport me")) && md.contains(QLatin1String("## Assistant")), qPrintable(md));
        QVERIFY(!f.window->exportConversation(id, path + QStringLiteral("/below-a-file.md")));
        QCOMPARE(f.window->banner()->kind(), MessageBanner::Kind::error);
        QVERIFY(f.window->banner()->text().startsWith(QLatin1String("Could not export to below-a-file.md")));
    }

    // An answer that is a JSON object is one JSON code block, indentation and all.
    // A thinking model's reasoning: "Thinking…" while it reasons, then one collapsed line with
    // how long it took; a click opens it; the answer's text holds the answer only.
    void reasoningIsCollapsedWithItsDuration() {
        FakeScript script;
        script.reasoningPieces = {"Hmm, ", "a greeting."};
        script.pieceDelayMs = 30;
        ChatFixture f(script);
        f.window->showPage(MainWindow::ChatPage);
        ChatView* view = f.window->chatView();
        QSignalSpy finished(&f.app->chat(), &ChatController::answerFinished);
        typeAndSend(view, QStringLiteral("hello"));
        QTRY_VERIFY(lastAnswer(view) && lastAnswer(view)->reasoningSummary() == QStringLiteral("Thinking…"));
        QTRY_COMPARE(finished.size(), 1);
        MessageWidget* answer = lastAnswer(view);
        QVERIFY2(answer->reasoningSummary().startsWith(QLatin1String("Thought for")), qPrintable(answer->reasoningSummary()));
        QCOMPARE(renderedText(answer), QStringLiteral("Hello, world!"));
        auto* toggle = answer->findChild<QToolButton*>(QStringLiteral("reasoningToggle"));
        auto* text = answer->findChild<QLabel*>(QStringLiteral("reasoningText"));
        QVERIFY(toggle && text);
        QVERIFY(!answer->reasoningExpanded() && !text->isVisible());
        toggle->click();
        QVERIFY(answer->reasoningExpanded() && text->isVisible());
        QCOMPARE(text->text(), QStringLiteral("Hmm, a greeting."));
        // Reopened from the store: the same.
        f.app->chat().selectConversation(0);
        f.app->chat().selectConversation(f.app->chatStore().conversations().first().id);
        QTRY_VERIFY(lastAnswer(view) && lastAnswer(view)->reasoningSummary().startsWith(QLatin1String("Thought for")));
    }

    // A built-in format stood in for the model's template: the chat says so, and so does the
    // template line of the conversation settings.
    void templateFallbackIsShownInTheChat() {
        FakeScript script;
        script.templateWarning = "its chat template failed on this conversation (raise_exception: roles must alternate)";
        ChatFixture f(script);
        f.window->showPage(MainWindow::ChatPage);
        ChatView* view = f.window->chatView();
        auto* notice = view->findChild<QLabel*>(QStringLiteral("promptNotice"));
        QVERIFY(notice && !notice->isVisible());
        QSignalSpy finished(&f.app->chat(), &ChatController::answerFinished);
        typeAndSend(view, QStringLiteral("hello"));
        QTRY_COMPARE(finished.size(), 1);
        QTRY_VERIFY(notice->isVisible());
        QVERIFY2(notice->text().contains(QLatin1String("roles must alternate")), qPrintable(notice->text()));
        QVERIFY(notice->text().contains(QLatin1String("built-in ChatML")));
        QVERIFY2(view->settingsPanel()->templateStatusText().contains(QLatin1String("Warning")),
                 qPrintable(view->settingsPanel()->templateStatusText()));
        f.app->chat().newConversation();  // another conversation: nothing to warn about yet
        QVERIFY(!notice->isVisible());
    }

    // A device failed mid-answer: the chat says what failed and where the model runs now, the
    // answer is whole, and the model bar shows the new layout (one device).
    void deviceFailureIsToldInTheChat() {
        FakeScript script;
        script.deviceFailureAfter = 2;
        ChatFixture f(script);
        f.window->showPage(MainWindow::ChatPage);
        ChatView* view = f.window->chatView();
        auto* notice = view->findChild<QLabel*>(QStringLiteral("deviceNotice"));
        QVERIFY(notice && !notice->isVisible());
        QCOMPARE(f.app->model().loaded()->plan.stages.size(), size_t(2));
        QSignalSpy finished(&f.app->chat(), &ChatController::answerFinished);
        typeAndSend(view, QStringLiteral("hello"));
        QTRY_COMPARE(finished.size(), 1);
        QTRY_VERIFY(notice->isVisible());
        QVERIFY2(notice->text().contains(QLatin1String("cpu1 failed")) && notice->text().contains(QLatin1String("cpu: layers")),
                 qPrintable(notice->text()));
        QCOMPARE(finished[0][0].value<Message>().content, QStringLiteral("Hello, world!"));
        QCOMPARE(f.app->model().loaded()->plan.stages.size(), size_t(1));
        f.app->chat().newConversation();  // another conversation: nothing happened there
        QVERIFY(!notice->isVisible());
    }

    void jsonAnswerShownAsJson() {
        Message m;
        m.id = 8;
        m.role = Role::assistant;
        m.content = QStringLiteral(" {\n    \"a_b\": \"*x*\"\n}");
        MessageWidget w(m);
        const QList<QWidget*> blocks = w.blockWidgets();
        QCOMPARE(blocks.size(), 1);
        auto* code = qobject_cast<CodeBlock*>(blocks[0]);
        QVERIFY(code);
        QCOMPARE(code->code(), QStringLiteral("{\n    \"a_b\": \"*x*\"\n}"));
        m.content = QStringLiteral("Not JSON: {a}");
        w.setMessage(m);
        QVERIFY(qobject_cast<MarkdownView*>(w.blockWidgets().value(0)));
    }

    // The line under an answer: figures, and why it ended when the model did not end it.
    void answerFooterSaysWhyItEnded() {
        Message m;
        m.id = 7;
        m.role = Role::assistant;
        m.content = QStringLiteral("cut");
        m.stats = AnswerStats{1, 250, 0, QStringLiteral("max_tokens")};
        MessageWidget cut(m);
        QVERIFY2(cut.statsText().startsWith(QStringLiteral("1 token  ·  0.25 s to first token")), qPrintable(cut.statsText()));
        QVERIFY2(cut.statsText().contains(QLatin1String("cut at the token limit")), qPrintable(cut.statsText()));
        m.stats = AnswerStats{1200, 0, 12.5, QStringLiteral("context_full")};
        cut.setMessage(m);
        QVERIFY2(cut.statsText().contains(QLatin1String("the context is full")), qPrintable(cut.statsText()));
        // However long the line, it wraps instead of widening the message.
        cut.resize(300, cut.heightForWidth(300) > 0 ? cut.heightForWidth(300) : 200);
        QVERIFY2(cut.minimumSizeHint().width() <= 300, qPrintable(QString::number(cut.minimumSizeHint().width())));
        m.stats = AnswerStats{1200, 0, 12.5, {}};
        cut.setMessage(m);
        QCOMPARE(cut.statsText(), QStringLiteral("%1 tokens  ·  %2 tok/s").arg(QLocale().toString(1200), QLocale().toString(12.5, 'f', 1)));
    }

    // The settings panel edits the conversation's settings, JSON mode among them, and shows
    // them again when the conversation is reopened.
    void settingsPanelKeepsJsonMode() {
        UiFixture f;
        f.window->showPage(MainWindow::ChatPage);
        ChatView* view = f.window->chatView();
        // No conversation yet: the panel shows what the first message's chat will get, not
        // its spin boxes' minimums.
        QCOMPARE(f.app->chat().currentConversation(), 0);
        auto* maxTokens = view->settingsPanel()->findChild<QSpinBox*>(QStringLiteral("maxTokens"));
        QVERIFY(maxTokens);
        QCOMPARE(maxTokens->value(), SamplingSettings{}.maxTokens);
        const qint64 id = f.app->chat().newConversation();
        view->setSettingsVisible(true);
        QCheckBox* json = view->settingsPanel()->findChild<QCheckBox*>();
        QVERIFY(json && !json->isChecked());
        json->setChecked(true);  // a user's click
        QVERIFY(f.app->chatStore().conversation(id)->sampling.jsonMode);
        f.app->chat().selectConversation(0);
        f.app->chat().selectConversation(id);
        QTRY_VERIFY(json->isChecked());
    }

    // A question that cannot be stored goes back into the composer, and the banner says why.
    void unsavedQuestionReturnsToTheComposer() {
        ChatFixture f;
        f.window->showPage(MainWindow::ChatPage);
        ChatView* view = f.window->chatView();
        QSqlQuery q(f.app->database().connection());
        QVERIFY(q.exec(QStringLiteral("CREATE TRIGGER full BEFORE INSERT ON messages "
                                      "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")));
        typeAndSend(view, QStringLiteral("do not lose me"));
        QCOMPARE(view->composer()->editor()->toPlainText(), QStringLiteral("do not lose me"));
        QCOMPARE(f.window->banner()->kind(), MessageBanner::Kind::error);
        QVERIFY2(f.window->banner()->text().contains(QLatin1String("disk is full")), qPrintable(f.window->banner()->text()));
        QVERIFY(!f.app->chat().isGenerating());
    }

    void closingMidAnswerSavesWhatStreamed() {
        ChatFixture f(slow(2000, 5));
        f.window->showPage(MainWindow::ChatPage);
        ChatView* view = f.window->chatView();
        typeAndSend(view, QStringLiteral("never-ending"));
        QTRY_VERIFY(lastAnswer(view) && renderedText(lastAnswer(view)).size() > 30);
        const qint64 conversation = f.app->chat().currentConversation();
        QVERIFY(f.window->close());
        QVERIFY(!f.app->chat().isGenerating());
        int sent = 0;
        {
            std::lock_guard lock(f.record->mutex);
            sent = f.record->generated;
        }
        QVERIFY(sent < 2000);
        const Message m = f.app->chatStore().messages(conversation).last();
        QCOMPARE(m.state, MessageState::stopped);
        // Every token the worker produced before it stopped is in the stored answer.
        QCOMPARE(m.content.split(QLatin1Char(' '), Qt::SkipEmptyParts).size(), sent);
    }

    // While a long answer streams, its figures line stays under its last line (it used to be
    // drawn over it).
    void streamingFooterStaysBelowTheAnswer() {
        FakeScript script;
        script.pieces.clear();
        for (int i = 0; i < 400; ++i) {
            script.pieces.push_back("word" + std::to_string(i) + " ");
            if (i % 60 == 59) script.pieces.push_back("\n\n");
        }
        script.pieceDelayMs = 4;
        ChatFixture f(script);
        f.window->showPage(MainWindow::ChatPage);
        ChatView* view = f.window->chatView();
        QSignalSpy finished(&f.app->chat(), &ChatController::answerFinished);
        typeAndSend(view, QStringLiteral("a long one"));
        QTRY_VERIFY(lastAnswer(view));
        FooterOverlapCheck paints;
        paints.answer = lastAnswer(view);
        for (QLabel* l : paints.answer->findChildren<QLabel*>()) l->installEventFilter(&paints);
        int settled = 0;
        while (finished.isEmpty()) {
            QTest::qWait(25);
            for (QLabel* l : paints.answer->findChildren<QLabel*>()) l->installEventFilter(&paints);
            QVERIFY2(paints.check(), qPrintable(paints.overlaps.join(QLatin1String("; "))));  // after events settle
            ++settled;
        }
        QVERIFY2(paints.overlaps.isEmpty(), qPrintable(QStringLiteral("%1 of %2 frames: %3")
                                                          .arg(paints.overlaps.size()).arg(paints.painted)
                                                          .arg(paints.overlaps.value(0))));
        QVERIFY(settled >= 5);
        qInfo("%d paints of the figures line checked while streaming", paints.painted);
    }

    // No model loaded and none named by the chat: the composer says so and offers the
    // Library; nothing is sent (no chat with a failed answer). A chat that names its model
    // sends, and the app loads that model.
    void noModelSaysLoadFirst() {
        UiFixture f;
        f.window->showPage(MainWindow::ChatPage);
        ChatView* view = f.window->chatView();
        Composer* composer = view->composer();
        QVERIFY2(composer->blockedReason().startsWith(QLatin1String("Load a model first")), qPrintable(composer->blockedReason()));
        QVERIFY(composer->blockedAction()->isVisible());
        typeAndSend(view, QStringLiteral("hello?"));
        QCOMPARE(composer->editor()->toPlainText(), QStringLiteral("hello?"));  // kept, not sent
        QVERIFY(!composer->sendButton()->isEnabled());
        QCOMPARE(f.app->chatStore().conversations().size(), 0);
        QSignalSpy library(view, &ChatView::libraryRequested);
        QTest::mouseClick(composer->blockedAction(), Qt::LeftButton);
        QCOMPARE(library.size(), 1);
        QCOMPARE(f.window->currentPage(), MainWindow::LibraryPage);  // the window answers it
        f.window->showPage(MainWindow::ChatPage);

        f.app->chat().setDefaultModel(QStringLiteral("/models/own.gguf"));  // what the chat will name
        f.app->chat().newConversation();
        QVERIFY(composer->blockedReason().isEmpty());
        QVERIFY(!composer->blockedAction()->isVisible());
        QSignalSpy finished(&f.app->chat(), &ChatController::answerFinished);
        composer->editor()->setFocus();
        QTest::keyClick(composer->editor(), Qt::Key_Return);
        QTRY_COMPARE(finished.size(), 1);
        QCOMPARE(f.app->chat().loadedModelPath(), QStringLiteral("/models/own.gguf"));
        const Message answer = f.app->chatStore().messages(f.app->chat().currentConversation()).last();
        QCOMPARE(answer.state, MessageState::complete);
        QCOMPARE(answer.content, QStringLiteral("Hello, world!"));
    }

    // Edit opens the box in place, scrolled into view and focused, even at the bottom edge.
    void editBoxIsScrolledIntoViewAndFocused() {
        FakeScript script;
        script.pieces = {};
        for (int i = 0; i < 80; ++i) script.pieces.push_back("line " + std::to_string(i) + "\n\n");
        ChatFixture f(script);
        f.window->resize(1000, 640);
        f.window->showPage(MainWindow::ChatPage);
        ChatView* view = f.window->chatView();
        QSignalSpy finished(&f.app->chat(), &ChatController::answerFinished);
        typeAndSend(view, QStringLiteral("first"));
        QTRY_COMPARE(finished.size(), 1);
        typeAndSend(view, QStringLiteral("second"));
        QTRY_COMPARE(finished.size(), 2);
        MessageWidget* question = view->transcript()->messageWidgets()[2];
        QScrollBar* bar = view->transcript()->verticalScrollBar();
        // The question's Edit button just inside the bottom edge.
        QWidget* canvas = view->transcript()->widget();
        const int bottom = question->mapTo(canvas, QPoint(0, question->height())).y();
        bar->setValue(bottom - view->transcript()->viewport()->height() + 2);
        QTest::qWait(20);
        QToolButton* edit = button(question, QStringLiteral("Edit"));
        QVERIFY(edit);
        edit->click();
        auto* editor = question->findChild<QPlainTextEdit*>();
        QVERIFY(editor && editor->isVisible());
        QWidget* box = question->editBox();
        QTRY_VERIFY2(view->transcript()->viewport()->rect().contains(
                         QRect(box->mapTo(view->transcript()->viewport(), QPoint(0, 0)), box->size())),
                     "the edit box is not all in view");
        QCOMPARE(view->window()->focusWidget(), editor);
    }

    // A crashed answer reads "interrupted" with its saved figures, and Continue carries it on.
    void interruptedAnswerOffersContinue() {
        ChatFixture f;
        ChatStore& store = f.app->chatStore();
        Conversation c;
        c.title = QStringLiteral("crashed");
        const qint64 id = *store.createConversation(c);
        store.appendMessage(id, Role::user, QStringLiteral("tell me"));
        const qint64 answerId = *store.appendMessage(id, Role::assistant, QString(), MessageState::streaming);
        QVERIFY(store.updateMessage(answerId, QStringLiteral("Once upon "), MessageState::streaming, AnswerStats{12, 150, 30.5, {}, 0}));
        QCOMPARE(store.markInterruptedAnswers(), 1);  // as at the next start
        f.window->showPage(MainWindow::ChatPage);
        ChatView* view = f.window->chatView();
        f.app->chat().selectConversation(id);
        MessageWidget* answer = lastAnswer(view);
        QVERIFY(answer);
        QVERIFY2(answer->statsText().contains(QLatin1String("interrupted")), qPrintable(answer->statsText()));
        QVERIFY(answer->statsText().contains(QLatin1String("12 tokens")));
        QVERIFY(!answer->statsText().contains(QLatin1String("stopped")));
        QToolButton* cont = button(answer, QStringLiteral("Continue"));
        QVERIFY(cont);
        QTRY_VERIFY(cont->isVisible());
        QSignalSpy finished(&f.app->chat(), &ChatController::answerFinished);
        cont->click();
        QTRY_COMPARE(finished.size(), 1);
        const Message done = *store.message(answerId);
        QCOMPARE(done.content, QStringLiteral("Once upon Hello, world!"));
        QCOMPARE(done.state, MessageState::complete);
        QVERIFY(!done.interrupted);
        QTRY_COMPARE(renderedText(lastAnswer(view)), done.content);
        QVERIFY(!button(lastAnswer(view), QStringLiteral("Continue"))->isVisible());
        std::lock_guard lock(f.record->mutex);
        QCOMPARE(f.record->requests.back().assistant_prefix, std::string("Once upon "));
    }

    // Regenerate keeps the earlier answer: ‹ 2/2 › on the answer, and ‹ goes back to the first.
    void regeneratedAnswersAreAlternatives() {
        ChatFixture f;
        f.window->showPage(MainWindow::ChatPage);
        ChatView* view = f.window->chatView();
        QSignalSpy finished(&f.app->chat(), &ChatController::answerFinished);
        typeAndSend(view, QStringLiteral("pick one"));
        QTRY_COMPARE(finished.size(), 1);
        const qint64 first = lastAnswer(view)->messageId();
        QVERIFY(!button(lastAnswer(view), QStringLiteral("‹"))->isVisible());
        button(lastAnswer(view), QStringLiteral("Regenerate"))->click();
        QTRY_COMPARE(finished.size(), 2);
        QTRY_VERIFY(lastAnswer(view)->messageId() != first);
        MessageWidget* answer = lastAnswer(view);
        QToolButton* prev = button(answer, QStringLiteral("‹"));
        QVERIFY(prev && prev->isVisible() && prev->isEnabled());
        QVERIFY(!button(answer, QStringLiteral("›"))->isEnabled());
        QVERIFY(answer->findChildren<QLabel*>().size() > 0);
        bool sawCount = false;
        for (QLabel* l : answer->findChildren<QLabel*>()) sawCount = sawCount || l->text() == QLatin1String("2/2");
        QVERIFY(sawCount);
        prev->click();
        QTRY_COMPARE(lastAnswer(view)->messageId(), first);
        QCOMPARE(view->transcript()->messageWidgets().size(), 2);
        sawCount = false;
        for (QLabel* l : lastAnswer(view)->findChildren<QLabel*>()) sawCount = sawCount || l->text() == QLatin1String("1/2");
        QVERIFY(sawCount);
    }

    void realTurnOnStories260K() {
        const QString path = strata::test::stories260kPath();
        if (path.isEmpty()) QSKIP("stories260K.gguf not found (../shared/models)");
        UiFixture f(app::makeStrataBackend);
        QTRY_VERIFY(!f.app->fits().devices().isEmpty());
        CatalogEntry e;
        e.path = path;
        e.name = QStringLiteral("stories260K");
        e.nLayer = 5;
        e.contextLength = 512;
        e.addedAt = QDateTime::currentDateTime();
        QVERIFY(f.app->catalog().add(e) >= 0);
        AllocationSettings s = f.app->allocationFor(path);
        s.nCtx = 256;
        f.app->saveAllocation(path, s);
        QSignalSpy loaded(&f.app->worker(), &EngineWorker::loaded);
        f.app->loadModel(path);
        QTRY_COMPARE_WITH_TIMEOUT(loaded.size(), 1, 20000);
        // The spy sees the worker's signal at once; the chat (which decides whether the composer
        // may send) gets it queued.
        QTRY_COMPARE(f.app->chat().loadedModelPath(), path);
        f.window->showPage(MainWindow::ChatPage);
        ChatView* view = f.window->chatView();
        SamplingSettings sampling;
        sampling.temperature = 0;
        sampling.maxTokens = 48;
        f.app->chat().newConversation();
        QVERIFY(f.app->chat().setConversationSettings(path, QString(), sampling));
        int tokensSeen = 0;
        connect(&f.app->chat(), &ChatController::answerTextChanged, this, [&] { ++tokensSeen; });
        QSignalSpy finished(&f.app->chat(), &ChatController::answerFinished);
        typeAndSend(view, QStringLiteral("Once upon a time"));
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 30000);
        QVERIFY(tokensSeen > 1);  // streamed, not delivered at once
        const Message stored = f.app->chatStore().messages(f.app->chat().currentConversation()).last();
        QCOMPARE(stored.state, MessageState::complete);
        QVERIFY2(stored.content.trimmed().size() > 5, qPrintable(stored.content));
        QCOMPARE(lastAnswer(view)->message().content, stored.content);
        QCOMPARE(renderedText(lastAnswer(view)).trimmed(), stored.content.trimmed());  // what the view shows
        QVERIFY(stored.stats.nTokens > 0);
        QVERIFY(lastAnswer(view)->statsText().contains(QLatin1String("tokens")));
    }
};

QTEST_MAIN(TestChatView)
#include "tst_chat_view.moc"
