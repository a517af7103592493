// The main window from the keyboard and to a screen reader: no two actions hold one shortcut
// (Ctrl+N used to do nothing: Qt found two owners and ran neither), Ctrl+N makes a chat,
// Ctrl+1…4 switch the views and are shown in the View menu, the shortcut sheet lists the menus'
// keys, Tab reaches every control of the Library, Allocate and Topology views and of Settings
// without being trapped, and every interactive control of the window (and of Settings) has an
// accessible name (the accessibility tree is walked; an unnamed control fails by name). Also
// what a newcomer meets there: File ▸ Open loads the model and opens the chat, the status bar
// says plainly that there is no GPU, the context box stops at the trained length unless asked,
// and at the window's minimum size the Allocate view cuts nothing off and Topology has one
// scroll area.
#include <QAbstractButton>
#include <QAction>
#include <QCheckBox>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QScrollArea>
#include <QScrollBar>
#include <QShortcut>
#include <QSpinBox>
#include <QTabBar>
#include <QTabWidget>
#include <QtTest>

#include "allocation/allocation_panel.h"
#include "allocation/fit_preview.h"
#include "chat/chat_controller.h"
#include "chat/chat_view.h"
#include "common/accessible_names.h"
#include "devices/device_monitor.h"
#include "library/library_view.h"
#include "library/model_catalog.h"
#include "library/model_importer.h"
#include "model_bar.h"
#include "performance/performance_view.h"
#include "settings/settings_dialog.h"
#include "storage/chat_store.h"
#include "test_models.h"
#include "topology/topology_view.h"
#include "window_fixture.h"

using namespace strata;
using namespace strata::app;
using namespace strata::ui;
using strata::test::UiFixture;

namespace {

QStringList g_warnings;
void captureWarnings(QtMsgType type, const QMessageLogContext&, const QString& msg) {
    if (type == QtWarningMsg) g_warnings << msg;
}

bool activate(QWidget* w) {
    w->activateWindow();
    w->raise();
    return QTest::qWaitForWindowActive(w);
}

// Controls Tab should reach in `page`: visible, enabled, taking focus by Tab.
QList<QWidget*> tabStops(QWidget* page) {
    QList<QWidget*> out;
    for (QWidget* w : page->findChildren<QWidget*>())
        if (w->isVisible() && w->isEnabled() && (w->focusPolicy() & Qt::TabFocus) && !w->focusProxy() &&
            isInteractiveControl(w))
            out << w;
    return out;
}

// Presses Tab up to `presses` times from `start`; returns the widgets that got focus. Fails
// (QVERIFY) when focus stops moving: a trap.
QSet<QWidget*> tabAround(QWidget* window, QWidget* start, int presses) {
    QSet<QWidget*> seen;
    start->setFocus(Qt::TabFocusReason);
    QWidget* last = QApplication::focusWidget();
    int stuck = 0;
    for (int i = 0; i < presses; ++i) {
        QTest::keyClick(QApplication::focusWidget() ? QApplication::focusWidget() : window, Qt::Key_Tab);
        QWidget* now = QApplication::focusWidget();
        if (now) seen.insert(now);
        stuck = now == last ? stuck + 1 : 0;
        if (stuck >= 2) {
            qWarning("Tab is trapped in %s '%s'", now ? now->metaObject()->className() : "nothing",
                     now ? qPrintable(now->objectName()) : "");
            return {};
        }
        last = now;
    }
    return seen;
}

}  // namespace

class TestKeyboard : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QVERIFY(m_files.isValid());
        RandomModelConfig cfg;
        cfg.n_layer = 4;
        QString error;
        m_model = QFileInfo(test::writeRandomModel(m_files, QStringLiteral("kbd"), cfg, &error)).canonicalFilePath();
        QVERIFY2(!m_model.isEmpty(), qPrintable(error));
        cfg.seed = 7;
        m_model2 = QFileInfo(test::writeRandomModel(m_files, QStringLiteral("kbd2"), cfg, &error)).canonicalFilePath();
        QVERIFY2(!m_model2.isEmpty(), qPrintable(error));
    }

    void noTwoActionsHoldOneShortcut() {
        UiFixture f;
        QMultiHash<QString, QString> owners;  // keys → who
        for (QAction* a : f.window->findChildren<QAction*>())
            if (!a->shortcut().isEmpty() && a->shortcutContext() != Qt::WidgetShortcut)
                owners.insert(a->shortcut().toString(), QStringLiteral("action '%1'").arg(a->text()));
        for (QAbstractButton* b : f.window->findChildren<QAbstractButton*>())
            if (!b->shortcut().isEmpty()) owners.insert(b->shortcut().toString(), QStringLiteral("button '%1'").arg(b->text()));
        for (QShortcut* s : f.window->findChildren<QShortcut*>())
            if (s->context() != Qt::WidgetShortcut) owners.insert(s->key().toString(), QStringLiteral("a QShortcut"));
        QStringList clashes;
        for (const QString& keys : owners.uniqueKeys())
            if (owners.count(keys) > 1) clashes << keys + QStringLiteral(": ") + QStringList(owners.values(keys)).join(QStringLiteral(", "));
        QVERIFY2(clashes.isEmpty(), qPrintable(clashes.join('\n')));
    }

    void ctrlNMakesANewChat() {
        UiFixture f;
        QVERIFY(activate(f.window.get()));
        g_warnings.clear();
        const QtMessageHandler old = qInstallMessageHandler(captureWarnings);
        const int before = int(f.app->chatStore().conversations().size());
        QTest::keySequence(f.window.get(), QKeySequence::New);
        qInstallMessageHandler(old);
        QVERIFY2(!g_warnings.join('\n').contains(QLatin1String("Ambiguous")), qPrintable(g_warnings.join('\n')));
        QCOMPARE(int(f.app->chatStore().conversations().size()), before + 1);
        QCOMPARE(f.window->currentPage(), MainWindow::ChatPage);
    }

    void ctrlNumbersSwitchViews() {
        UiFixture f;
        QVERIFY(activate(f.window.get()));
        const MainWindow::Page pages[] = {MainWindow::LibraryPage, MainWindow::AllocationPage, MainWindow::TopologyPage,
                                          MainWindow::ChatPage};
        for (MainWindow::Page p : pages) {
            QTest::keyClick(f.window.get(), Qt::Key(Qt::Key_1 + int(p)), Qt::ControlModifier);
            QCOMPARE(f.window->currentPage(), p);
            // The keyboard arrives in the view (Tab goes on from there), not on the rail.
            QWidget* view = p == MainWindow::LibraryPage      ? static_cast<QWidget*>(f.window->libraryView())
                            : p == MainWindow::AllocationPage ? static_cast<QWidget*>(f.window->allocationPanel())
                            : p == MainWindow::ChatPage       ? static_cast<QWidget*>(f.window->chatView())
                                                              : nullptr;
            if (view)
                QVERIFY2(view->isAncestorOf(QApplication::focusWidget()),
                         QApplication::focusWidget() ? QApplication::focusWidget()->metaObject()->className() : "no focus");
        }
        // The View menu shows them.
        QMenu* view = nullptr;
        for (QAction* a : f.window->menuBar()->actions())
            if (a->text().remove('&') == QLatin1String("View")) view = a->menu();
        QVERIFY(view);
        for (int i = 0; i < 4; ++i) QCOMPARE(view->actions()[i]->shortcut(), QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + i)));
    }

    void shortcutSheetListsTheMenus() {
        UiFixture f;
        const auto list = f.window->shortcutList();
        auto keysOf = [&](const QString& what) {
            for (const auto& [name, keys] : list)
                if (name == what) return keys;
            return QString();
        };
        QCOMPARE(keysOf(QStringLiteral("File ▸ New chat")), QKeySequence(QKeySequence::New).toString(QKeySequence::NativeText));
        QCOMPARE(keysOf(QStringLiteral("File ▸ Settings")), QKeySequence(Qt::CTRL | Qt::Key_Comma).toString(QKeySequence::NativeText));
        QCOMPARE(keysOf(QStringLiteral("View ▸ Topology")), QKeySequence(Qt::CTRL | Qt::Key_4).toString(QKeySequence::NativeText));
        QCOMPARE(keysOf(QStringLiteral("Chat ▸ Stop the answer")), QStringLiteral("Esc"));
    }

    void everyControlHasAName() {
        UiFixture f;
        f.app->importer().importPaths({m_model});
        QTRY_VERIFY(f.app->catalog().rowOfPath(m_model) >= 0);
        f.window->libraryView()->selectPath(m_model);
        f.window->allocationPanel()->selectModel(m_model);
        f.app->chat().newConversation();
        QTRY_VERIFY(!f.window->allocationPanel()->preview()->verdictText().isEmpty());
        for (int p = 0; p < 4; ++p) f.window->showPage(MainWindow::Page(p));  // every page polished
        const QStringList unnamed = unnamedControls(f.window.get());
        QVERIFY2(unnamed.isEmpty(), qPrintable(QStringLiteral("controls without an accessible name:\n") + unnamed.join('\n')));

        SettingsDialog dialog(f.app->settings().preferences(), f.app->monitor().devices(), f.window.get());
        dialog.show();
        const QStringList unnamedInSettings = unnamedControls(&dialog);
        QVERIFY2(unnamedInSettings.isEmpty(), qPrintable(unnamedInSettings.join('\n')));
    }

    void tabReachesEveryControl_data() {
        QTest::addColumn<int>("page");
        QTest::newRow("Library") << int(MainWindow::LibraryPage);
        QTest::newRow("Allocate") << int(MainWindow::AllocationPage);
        QTest::newRow("Topology") << int(MainWindow::TopologyPage);
        QTest::newRow("Speed") << int(MainWindow::PerformancePage);
    }
    void tabReachesEveryControl() {
        QFETCH(int, page);
        UiFixture f;
        f.app->importer().importPaths({m_model});
        QTRY_VERIFY(f.app->catalog().rowOfPath(m_model) >= 0);
        f.window->libraryView()->selectPath(m_model);
        QVERIFY(activate(f.window.get()));
        f.window->showPage(MainWindow::Page(page));
        QWidget* view = page == MainWindow::LibraryPage      ? static_cast<QWidget*>(f.window->libraryView())
                        : page == MainWindow::AllocationPage ? static_cast<QWidget*>(f.window->allocationPanel())
                        : page == MainWindow::PerformancePage ? static_cast<QWidget*>(f.window->performanceView())
                                                             : static_cast<QWidget*>(f.window->topologyView());
        QTRY_VERIFY(view->isVisible());
        const QList<QWidget*> stops = tabStops(view);
        const QSet<QWidget*> seen = tabAround(f.window.get(), f.window->modelBar(), 120);
        QVERIFY2(!seen.isEmpty(), "Tab is trapped");
        QStringList missed;
        for (QWidget* w : stops)
            if (!seen.contains(w)) missed << QStringLiteral("%1 '%2'").arg(w->metaObject()->className(), accessibleNameOf(w));
        QVERIFY2(missed.isEmpty(), qPrintable(QStringLiteral("Tab never reaches:\n") + missed.join('\n')));
    }

    void settingsTabsDoNotTrapTab() {
        UiFixture f;
        SettingsDialog dialog(f.app->settings().preferences(), f.app->monitor().devices(), f.window.get());
        dialog.show();
        QVERIFY(activate(&dialog));
        for (int t = 0; t < dialog.tabs()->count(); ++t) {
            dialog.tabs()->setCurrentIndex(t);
            const QList<QWidget*> stops = tabStops(dialog.tabs()->currentWidget());
            const QSet<QWidget*> seen = tabAround(&dialog, dialog.tabs()->tabBar(), 60);
            QVERIFY2(!seen.isEmpty(), qPrintable(dialog.tabs()->tabText(t)));
            for (QWidget* w : stops)
                QVERIFY2(seen.contains(w), qPrintable(dialog.tabs()->tabText(t) + QStringLiteral(": ") + accessibleNameOf(w)));
        }
    }

    // OK refuses what is invalid, names it, and saves nothing; fixed, it accepts.
    void settingsDialogValidates() {
        UiFixture f;
        SettingsDialog dialog(f.app->settings().preferences(), f.app->monitor().devices(), f.window.get());
        dialog.show();
        auto* origins = dialog.findChild<QPlainTextEdit*>();
        for (QPlainTextEdit* e : dialog.findChildren<QPlainTextEdit*>())
            if (e->accessibleName() == QLatin1String("Allowed origins")) origins = e;
        QVERIFY(origins);
        origins->setPlainText(QStringLiteral("localhost:3000"));
        dialog.accept();
        QVERIFY(dialog.isVisible());
        QVERIFY2(dialog.problemsText().contains(QLatin1String("localhost:3000")), qPrintable(dialog.problemsText()));
        origins->setPlainText(QStringLiteral("http://localhost:3000"));
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QCOMPARE(dialog.preferences().allowedOrigins, QStringList{"http://localhost:3000"});
        QCOMPARE(f.app->settings().preferences().allowedOrigins, QStringList{});  // the owner saves, not the dialog
    }

    void openModelLoadsItAndOpensTheChat() {
        UiFixture f;
        f.window->openModelFiles({m_model});
        QTRY_COMPARE(f.app->loadedPath(), m_model);
        QCOMPARE(f.window->currentPage(), MainWindow::ChatPage);
        // Another one replaces the loaded model (the command line would not).
        f.window->openModelFiles({m_model2});
        QTRY_COMPARE(f.app->loadedPath(), m_model2);
        // Already in the library: loaded again, no detour through the Library page.
        f.window->openModelFiles({m_model});
        QTRY_COMPARE(f.app->loadedPath(), m_model);
        QCOMPARE(f.window->currentPage(), MainWindow::ChatPage);
    }

    void statusBarSaysPlainlyThereIsNoGpu() {
        UiFixture f;
        QTRY_COMPARE(f.window->devicesLabel()->text(), QStringLiteral("No NVIDIA GPU found; running on the CPU"));
        QVERIFY2(f.window->devicesLabel()->toolTip().contains(QLatin1String("no CUDA devices found: fake")),
                 qPrintable(f.window->devicesLabel()->toolTip()));
    }

    void aboutShowsTheVersion() {
        UiFixture f;
        QApplication::setApplicationVersion(QStringLiteral("9.8.7"));
        QString text;
        QTimer::singleShot(0, [&] {
            for (QWidget* w : QApplication::topLevelWidgets())
                if (auto* box = qobject_cast<QMessageBox*>(w); box && box->isVisible()) {
                    text = box->text();
                    box->accept();
                }
        });
        QMenu* help = nullptr;
        for (QAction* a : f.window->menuBar()->actions())
            if (a->text().remove('&') == QLatin1String("Help")) help = a->menu();
        QVERIFY(help);
        for (QAction* a : help->actions())
            if (a->text().contains(QLatin1String("About"))) a->trigger();
        QVERIFY2(text.contains(QLatin1String("9.8.7")), qPrintable(text));
        QVERIFY2(text.contains(QLatin1String("<nobr><code>strata-cli")), qPrintable(text));
    }

    // The context box stops at the trained length until the user asks to go beyond; beyond it
    // the preview warns.
    void contextBeyondTheTrainedLengthIsAChoiceAndWarns() {
        UiFixture f;
        f.app->importer().importPaths({m_model});
        QTRY_VERIFY(f.app->catalog().rowOfPath(m_model) >= 0);
        AllocationPanel* panel = f.window->allocationPanel();
        panel->selectModel(m_model);
        QTRY_VERIFY(!panel->preview()->verdictText().isEmpty());
        const qint64 trained = read_model_footprint(m_model.toStdString())->n_ctx_train;
        QVERIFY(trained > 0);
        QCOMPARE(panel->contextBox()->maximum(), int(trained));
        QVERIFY(panel->beyondTrainedBox()->isVisibleTo(panel));
        QVERIFY(panel->preview()->contextWarningText().isEmpty());
        panel->contextBox()->setValue(int(trained * 4));
        QCOMPARE(panel->contextBox()->value(), int(trained));  // clamped
        panel->beyondTrainedBox()->setChecked(true);
        panel->contextBox()->setValue(int(trained * 4));
        QCOMPARE(panel->currentRequest().n_ctx, trained * 4);
        QVERIFY2(panel->preview()->contextWarningText().contains(QLocale().toString(trained)),
                 qPrintable(panel->preview()->contextWarningText()));
        panel->beyondTrainedBox()->setChecked(false);
        QCOMPARE(panel->currentRequest().n_ctx, trained);
        // The loaded model's warning reaches the model bar and the chat header.
        emit f.app->contextWarningChanged(QStringLiteral("beyond"));
        QCOMPARE(f.window->modelBar()->contextWarning(), QStringLiteral("beyond"));
        QCOMPARE(f.window->chatView()->contextWarning(), QStringLiteral("beyond"));
        emit f.app->contextWarningChanged(QString());
        QVERIFY(f.window->chatView()->contextWarning().isEmpty());
    }

    // At the window's minimum size: nothing in Allocate runs past its column (texts wrap or the
    // column scrolls), and Topology scrolls as one page.
    void minimumSizeCutsNothingOff() {
        UiFixture f;
        f.app->importer().importPaths({m_model});
        QTRY_VERIFY(f.app->catalog().rowOfPath(m_model) >= 0);
        f.window->resize(f.window->minimumSize());
        f.window->showPage(MainWindow::AllocationPage);
        AllocationPanel* panel = f.window->allocationPanel();
        panel->selectModel(m_model);
        QTRY_VERIFY(!panel->preview()->verdictText().isEmpty());
        QTest::qWait(50);
        QCOMPARE(f.window->size(), QSize(980, 640));
        for (QScrollArea* area : panel->findChildren<QScrollArea*>()) {
            QWidget* content = area->widget();
            QVERIFY2(content->width() <= area->viewport()->width() || area->horizontalScrollBar()->isVisible(),
                     qPrintable(QStringLiteral("%1 px of content in a %2 px column without a scroll bar")
                                    .arg(content->width())
                                    .arg(area->viewport()->width())));
        }
        for (QLabel* l : panel->findChildren<QLabel*>()) {
            if (!l->isVisible() || l->text().isEmpty()) continue;
            // Within what shows it: the panel, or the scrollable column it sits in.
            QWidget* container = panel;
            for (QWidget* p = l->parentWidget(); p && p != panel; p = p->parentWidget())
                if (auto* area = qobject_cast<QScrollArea*>(p)) {
                    container = area->widget();
                    break;
                }
            const QRect r(l->mapTo(container, QPoint(0, 0)), l->size());
            QVERIFY2(r.right() < container->width(), qPrintable(QStringLiteral("'%1' ends at %2 of %3")
                                                                   .arg(l->text().left(60))
                                                                   .arg(r.right())
                                                                   .arg(container->width())));
            QVERIFY2(l->wordWrap() || l->sizeHint().width() <= l->width() + 1,
                     qPrintable(QStringLiteral("'%1' is cut: needs %2 px, has %3").arg(l->text().left(60)).arg(l->sizeHint().width()).arg(l->width())));
        }
        for (QScrollArea* area : f.window->topologyView()->findChildren<QScrollArea*>())
            for (QWidget* p = area->parentWidget(); p && p != f.window->topologyView(); p = p->parentWidget())
                QVERIFY2(!qobject_cast<QScrollArea*>(p), "a scroll area inside Topology's scroll area");
    }

private:
    QTemporaryDir m_files;
    QString m_model;
    QString m_model2;
};

QTEST_MAIN(TestKeyboard)
#include "tst_keyboard.moc"
