// The newcomer's path through the REAL window on a real X server (Xvfb, the xcb platform — not
// the offscreen one the other UI tests use), with the real engine on virtual CPU devices and a
// fresh home folder: first start (empty library), a model named on the command line loads and
// opens the chat, a message gets an answer, File ▸ Open… through the real file dialog loads
// another model, Stop, Regenerate and switching chats, Settings opens with Ctrl+, and names every control, the window at its minimum
// size, and every view reached from the keyboard alone (Ctrl+1…4, Tab). Each step saves a
// screenshot of the screen into <build>/ui-screenshots (to look at; the README's come from
// there). Run by tests/ui/run_under_xvfb.sh, which skips (77) where Xvfb is missing.
#include <QAbstractButton>
#include <QFileDialog>
#include <QListView>
#include <QLineEdit>
#include <QScreen>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "allocation/allocation_panel.h"
#include "allocation/fit_preview.h"
#include "chat/chat_controller.h"
#include "chat/chat_view.h"
#include "chat/composer.h"
#include "chat/conversation_list_model.h"
#include "chat/conversation_sidebar.h"
#include "common/accessible_names.h"
#include "devices/device_monitor.h"
#include "engine/engine_worker.h"
#include "library/library_view.h"
#include "library/model_catalog.h"
#include "settings/settings_dialog.h"
#include "storage/chat_store.h"
#include "test_models.h"
#include "test_paths.h"
#include "window_fixture.h"

using namespace strata;
using namespace strata::app;
using namespace strata::ui;

namespace {

// Calls `act` on the first visible top-level widget of type T once one appears (a modal dialog's
// exec() blocks the caller, so this runs from the event loop). Gives up after ~20 s, closing
// whatever modal dialog is open so that the test fails instead of hanging.
template <class T>
void whenShown(std::function<void(T*)> act, int triesLeft = 400) {
    QTimer::singleShot(50, [act, triesLeft] {
        for (QWidget* w : QApplication::topLevelWidgets())
            if (auto* t = qobject_cast<T*>(w); t && t->isVisible()) {
                act(t);
                return;
            }
        if (triesLeft > 0) whenShown<T>(act, triesLeft - 1);
        else if (auto* modal = qobject_cast<QDialog*>(QApplication::activeModalWidget())) modal->reject();
    });
}

}  // namespace

class TestNewcomer : public QObject {
    Q_OBJECT

    QString shot(const QString& name) {
        QCoreApplication::processEvents();
        QTest::qWait(80);  // let the X server draw
        const QString path = QDir(m_shots).filePath(name + QStringLiteral(".png"));
        QScreen* screen = QGuiApplication::primaryScreen();
        const QRect frame = m_f->window->frameGeometry();
        screen->grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height()).save(path);
        return path;
    }

    // Without a window manager nobody hands activation back after a dialog closes: do it here.
    void activateMain() {
        m_f->window->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(m_f->window.get()));
    }

private slots:
    void initTestCase() {
        if (QGuiApplication::platformName() != QLatin1String("xcb"))
            QSKIP("needs a real X server: run through ctest (tests/ui/run_under_xvfb.sh starts Xvfb)");
        m_model = test::stories260kPath();
        QVERIFY(m_files.isValid());
        QString error;
        RandomModelConfig cfg;
        cfg.n_layer = 2;
        m_other = QFileInfo(test::writeRandomModel(m_files, QStringLiteral("tiny-random"), cfg, &error)).canonicalFilePath();
        QVERIFY2(!m_other.isEmpty(), qPrintable(error));
        if (m_model.isEmpty()) m_model = m_other;  // ../shared/models/stories260K.gguf is absent: any model does
        m_shots = QStringLiteral(STRATA_SCREENSHOT_DIR);
        QVERIFY(QDir().mkpath(m_shots));

        AppOptions o;
        std::vector<DeviceSpec> specs;
        std::string err;
        QVERIFY(parse_device_specs("cpu:60MiB,cpu:100MiB", specs, err));
        o.deviceSpecs = QList<DeviceSpec>(specs.begin(), specs.end());
        m_f = std::make_unique<test::UiFixture>(makeStrataBackend, o);
        QVERIFY(QTest::qWaitForWindowExposed(m_f->window.get()));
        m_f->window->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(m_f->window.get()));
    }

    void cleanupTestCase() { m_f.reset(); }

    void firstStartShowsTheLibrary() {
        QCOMPARE(m_f->app->catalog().rowCount(), 0);
        QCOMPARE(m_f->window->currentPage(), MainWindow::LibraryPage);
        QTRY_VERIFY(!m_f->app->monitor().devices().isEmpty());
        shot(QStringLiteral("01-first-start"));
    }

    void aModelFromTheCommandLineLoads() {
        m_f->window->openFromCommandLine({m_model});
        QTRY_COMPARE_WITH_TIMEOUT(m_f->app->loadedPath(), QFileInfo(m_model).canonicalFilePath(), 10000);
        QCOMPARE(m_f->window->currentPage(), MainWindow::ChatPage);
        shot(QStringLiteral("02-loaded-from-command-line"));
    }

    void aMessageGetsAnAnswer() {
        QSignalSpy finished(&m_f->app->chat(), &ChatController::answerFinished);
        QWidget* editor = m_f->window->chatView()->composer()->editor();
        QTRY_VERIFY(editor->hasFocus());
        QTest::keyClicks(editor, QStringLiteral("Once upon a time"));
        QTest::keyClick(editor, Qt::Key_Return);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() == 1, 15000);
        const QList<Message> stored = m_f->app->chatStore().messages(m_f->app->chat().currentConversation());
        QCOMPARE(stored.size(), 2);
        QVERIFY2(!stored.last().content.trimmed().isEmpty(), "the answer is empty");
        shot(QStringLiteral("03-answer"));
    }

    void fileOpenLoadsTheChosenModel() {
        bool sawDialog = false;
        whenShown<QFileDialog>([&](QFileDialog* d) {
            sawDialog = true;
            // What a person does: type the file's path into the name box and press Enter.
            auto* name = d->findChild<QLineEdit*>(QStringLiteral("fileNameEdit"));
            QVERIFY(name);
            name->setText(m_other);
            QTest::keyClick(name, Qt::Key_Return);
            if (d->isVisible()) static_cast<QDialog*>(d)->reject();  // not taken: fail below, don't hang
        });
        QTest::keySequence(m_f->window.get(), QKeySequence::Open);
        QVERIFY(sawDialog);
        QTRY_COMPARE_WITH_TIMEOUT(m_f->app->loadedPath(), m_other, 10000);
        QCOMPARE(m_f->window->currentPage(), MainWindow::ChatPage);
        shot(QStringLiteral("04-opened-with-file-open"));
    }

    // Stop (at once, so the test never races the model), Regenerate (the earlier answer is kept
    // as an alternative), a new chat with Ctrl+N and back to the first one from the sidebar.
    void stopRegenerateAndSwitchChats() {
        activateMain();
        m_f->window->showPage(MainWindow::ChatPage);
        ChatController& chat = m_f->app->chat();
        QSignalSpy finished(&chat, &ChatController::answerFinished);
        Composer* composer = m_f->window->chatView()->composer();
        composer->editor()->setFocus();
        QTest::keyClicks(composer->editor(), QStringLiteral("Tell me a story"));
        QTest::keyClick(composer->editor(), Qt::Key_Return);
        QVERIFY(chat.isGenerating());
        QTest::keyClick(m_f->window.get(), Qt::Key_Escape);  // Esc stops, as the Stop button does
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() == 1, 15000);
        const qint64 first = chat.currentConversation();
        QCOMPARE(m_f->app->chatStore().messages(first).last().state, MessageState::stopped);
        shot(QStringLiteral("04a-stopped"));

        QAbstractButton* regenerate = nullptr;
        for (QAbstractButton* b : m_f->window->chatView()->findChildren<QAbstractButton*>())
            if (b->isVisible() && b->text() == QLatin1String("Regenerate")) regenerate = b;
        QVERIFY(regenerate);
        QTest::mouseClick(regenerate, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() == 2, 15000);
        const Message shown = m_f->app->chatStore().messages(first).last();
        QCOMPARE(m_f->app->chatStore().alternatives(first, shown.id).size(), 2);
        shot(QStringLiteral("04b-regenerated"));

        QTest::keyClick(m_f->window.get(), Qt::Key_N, Qt::ControlModifier);
        QTRY_VERIFY(chat.currentConversation() != first);
        QListView* list = m_f->window->chatView()->sidebar()->listView();
        QModelIndex row;
        for (int r = 0; r < list->model()->rowCount(); ++r)
            if (list->model()->index(r, 0).data(ConversationListModel::IdRole).toLongLong() == first)
                row = list->model()->index(r, 0);
        QVERIFY(row.isValid());
        QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, list->visualRect(row).center());
        QTRY_COMPARE(chat.currentConversation(), first);
        shot(QStringLiteral("04c-switched-back"));
    }

    void settingsOpensWithCtrlComma() {
        activateMain();
        QStringList unnamed;
        bool saw = false;
        whenShown<SettingsDialog>([&](SettingsDialog* d) {
            saw = true;
            for (int t = 0; t < d->tabs()->count(); ++t) {
                d->tabs()->setCurrentIndex(t);
                QCoreApplication::processEvents();
                d->grab().save(QDir(m_shots).filePath(QStringLiteral("05-settings-%1.png").arg(t)));
            }
            unnamed = unnamedControls(d);
            d->reject();
        });
        QTest::keyClick(m_f->window.get(), Qt::Key_Comma, Qt::ControlModifier);
        QVERIFY(saw);
        QVERIFY2(unnamed.isEmpty(), qPrintable(unnamed.join('\n')));
    }

    void everyViewAtTheMinimumSizeFromTheKeyboard() {
        activateMain();
        m_f->window->resize(m_f->window->minimumSize());
        QTRY_COMPARE(m_f->window->size(), QSize(980, 640));
        const char* names[] = {"chat", "library", "allocate", "topology"};
        for (int p : {1, 2, 3, 0}) {
            QTest::keyClick(m_f->window.get(), Qt::Key(Qt::Key_1 + p), Qt::ControlModifier);
            QCOMPARE(int(m_f->window->currentPage()), p);
            if (p == MainWindow::AllocationPage) {
                QTRY_VERIFY(!m_f->window->allocationPanel()->preview()->verdictText().isEmpty());
                // With the real fonts both columns fit side by side: no sideways scrolling.
                for (QScrollArea* area : m_f->window->allocationPanel()->findChildren<QScrollArea*>())
                    QTRY_VERIFY2(!area->horizontalScrollBar()->isVisible(),
                                 qPrintable(QStringLiteral("%1 px of content (at least %3) in a %2 px column at x %4")
                                                .arg(area->widget()->width())
                                                .arg(area->viewport()->width())
                                                .arg(area->widget()->minimumSizeHint().width())
                                                .arg(area->x())));
            }
            // Three Tabs into the page: the focus ring shows where the keyboard is.
            for (int i = 0; i < 3; ++i) QTest::keyClick(QApplication::focusWidget(), Qt::Key_Tab);
            QVERIFY(QApplication::focusWidget());
            shot(QStringLiteral("06-min-size-%1").arg(QLatin1String(names[p])));
        }
        const QStringList unnamed = unnamedControls(m_f->window.get());
        QVERIFY2(unnamed.isEmpty(), qPrintable(unnamed.join('\n')));
    }

private:
    QTemporaryDir m_files;
    QString m_model;
    QString m_other;
    QString m_shots;
    std::unique_ptr<test::UiFixture> m_f;
};

// A fresh home folder, as a first start has: nothing from an earlier run is read.
int main(int argc, char** argv) {
    QTemporaryDir home;
    qputenv("HOME", home.path().toLocal8Bit());
    for (const char* v : {"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "STRATA_DATA_DIR"}) qunsetenv(v);
    // Qt's own file dialog, which the test can drive (a desktop's native one is a separate program).
    QCoreApplication::setAttribute(Qt::AA_DontUseNativeDialogs);
    QApplication app(argc, argv);
    TestNewcomer t;
    return QTest::qExec(&t, argc, argv);
}

#include "tst_newcomer_xvfb.moc"
