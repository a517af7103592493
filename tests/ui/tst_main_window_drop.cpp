// Dropping files on the main window (simulated QDropEvents with file URLs): a good model
// (random GGUF) lands in the library and is selected; a text file and a truncated GGUF are
// refused with a message naming each file and the reason; dropping a known file selects it;
// a drop on a child that takes text (the message box) still goes to the library.
#include <QFile>
#include <QMimeData>
#include <QSignalSpy>
#include <QtTest>

#include <mutex>

#include "chat/chat_view.h"
#include "chat/composer.h"
#include "common/message_banner.h"
#include "engine/engine_worker.h"
#include "gguf/gguf_file.h"
#include "gguf/split_writer.h"
#include "library/drop_zone.h"
#include "library/library_view.h"
#include "library/model_catalog.h"
#include "library/model_details.h"
#include "library/model_importer.h"
#include "test_models.h"
#include "window_fixture.h"

using namespace strata;
using namespace strata::app;
using namespace strata::ui;
using strata::test::UiFixture;

namespace {

// What a file manager's drag delivers: enter, move, drop, on `target` at its centre.
bool dropFiles(QWidget* target, const QStringList& paths) {
    auto* mime = new QMimeData;
    QList<QUrl> urls;
    for (const QString& p : paths) urls.append(QUrl::fromLocalFile(p));
    mime->setUrls(urls);
    const QPoint pos = target->rect().center();
    QDragEnterEvent enter(pos, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &enter);
    if (!enter.isAccepted()) {
        delete mime;
        return false;
    }
    QDragMoveEvent move(pos, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &move);
    QDropEvent drop(QPointF(pos), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &drop);
    delete mime;
    return drop.isAccepted();
}

void write(const QString& path, const QByteArray& data) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(data);
}

}  // namespace

class TestMainWindowDrop : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QVERIFY(m_files.isValid());
        RandomModelConfig cfg;
        cfg.n_layer = 3;
        QString error;
        m_good = strata::test::writeRandomModel(m_files, QStringLiteral("good-model"), cfg, &error);
        QVERIFY2(!m_good.isEmpty(), qPrintable(error));
        QFile g(m_good);
        QVERIFY(g.open(QIODevice::ReadOnly));
        const QByteArray bytes = g.readAll();
        m_truncated = m_files.filePath(QStringLiteral("half-download.gguf"));
        write(m_truncated, bytes.left(bytes.size() / 2));
        m_text = m_files.filePath(QStringLiteral("notes.txt"));
        write(m_text, "Remember to buy milk.\n");
    }

    void goodAndBadFiles() {
        UiFixture f;
        QVERIFY(f.window->libraryView()->showsDropZone());  // first run: the drop zone explains GGUF
        QSignalSpy idle(&f.app->importer(), &ModelImporter::idle);
        QVERIFY(dropFiles(f.window.get(), {m_good, m_text, m_truncated}));
        QTRY_VERIFY(f.app->importer().pending() == 0 && !idle.isEmpty());
        QTRY_COMPARE(f.app->catalog().rowCount(), 1);
        QCOMPARE(f.app->catalog().entryAt(0).path, QFileInfo(m_good).canonicalFilePath());
        QCOMPARE(f.app->catalog().entryAt(0).nLayer, 3u);
        QCOMPARE(f.window->currentPage(), MainWindow::LibraryPage);
        QVERIFY(!f.window->libraryView()->showsDropZone());
        QCOMPARE(f.window->libraryView()->selectedPath(), QFileInfo(m_good).canonicalFilePath());
        const QString message = f.window->banner()->text();
        QVERIFY(f.window->banner()->isVisible());
        QCOMPARE(f.window->banner()->kind(), MessageBanner::Kind::error);
        QVERIFY2(message.contains(QLatin1String("notes.txt is not a GGUF model file (no GGUF magic")), qPrintable(message));
        QVERIFY2(message.contains(QLatin1String("half-download.gguf is truncated")), qPrintable(message));
        // Whichever file finished first, the errors stay; the good file is only reported as added.
        for (const QString& line : message.split(QLatin1Char('\n')))
            if (line.contains(QLatin1String("good-model"))) QVERIFY2(line.startsWith(QLatin1String("Added ")), qPrintable(line));

        // The same file again: nothing added, the existing entry is selected.
        QVERIFY(dropFiles(f.window.get(), {m_good}));
        QCOMPARE(f.app->catalog().rowCount(), 1);
        QCOMPARE(f.window->libraryView()->selectedPath(), QFileInfo(m_good).canonicalFilePath());
        QVERIFY(f.window->banner()->text().contains(QLatin1String("already in the library")));

        // Persisted: a new app on the same data folder has it.
        const QString dataDir = f.dir.path();
        f.window.reset();
        f.app.reset();
        AppOptions o;
        o.dataDir = dataDir;
        App again(o);
        QVERIFY(again.start());
        QCOMPARE(again.catalog().rowCount(), 1);
    }

    // `strata model.gguf`: the one file named is added, loaded, and the chat opens; several
    // files, or a bad one, are only added (or reported), nothing is loaded.
    void commandLineModelLoadsAndOpensChat() {
        UiFixture f;
        QSignalSpy progress(&f.app->worker(), &app::EngineWorker::loadProgress);
        f.window->openFromCommandLine({m_good});
        QTRY_COMPARE(f.app->loadedPath(), QFileInfo(m_good).canonicalFilePath());
        QCOMPARE(f.window->currentPage(), MainWindow::ChatPage);
        QVERIFY(!progress.isEmpty());  // progress was shown while loading...
        QCOMPARE(f.window->libraryView()->details()->progressBars(), 0);  // ...and is gone once loaded
        {
            std::lock_guard<std::mutex> lock(f.record->mutex);
            QCOMPARE(int(f.record->loads.size()), 1);
        }
        // Named again while loaded (a second launch would pass it too): selected, not reloaded.
        f.window->openFromCommandLine({m_good});
        QTRY_VERIFY(f.window->banner()->text().contains(QLatin1String("already in the library")));
        std::lock_guard<std::mutex> lock(f.record->mutex);
        QCOMPARE(int(f.record->loads.size()), 1);
    }
    // `strata model-00002-of-00002.gguf`: a part of a split set loads the whole set.
    void commandLinePartOfASplitSetLoadsTheSet() {
        auto in = gguf::GgufFile::open(m_good.toStdString());
        QVERIFY(in.ok());
        const std::string prefix = m_files.filePath(QStringLiteral("split-model")).toStdString();
        auto parts = gguf::write_split_set(**in, prefix, 2);
        QVERIFY2(parts.ok(), parts.status().message().c_str());
        UiFixture f;
        f.window->openFromCommandLine({QString::fromStdString(parts->back())});
        QTRY_COMPARE(f.app->loadedPath(), QFileInfo(QString::fromStdString(parts->front())).canonicalFilePath());
        QCOMPARE(f.window->currentPage(), MainWindow::ChatPage);
    }

    void commandLineSeveralOrBadFilesLoadNothing() {
        UiFixture f;
        QSignalSpy idle(&f.app->importer(), &ModelImporter::idle);
        f.window->openFromCommandLine({m_truncated});
        QTRY_VERIFY(!idle.isEmpty() && f.app->importer().pending() == 0);
        QTRY_VERIFY(f.window->banner()->text().contains(QLatin1String("half-download.gguf is truncated")));
        f.window->openFromCommandLine({m_good, m_text});
        QTRY_COMPARE(f.app->catalog().rowCount(), 1);
        QTRY_VERIFY(f.app->importer().pending() == 0);
        QTest::qWait(200);  // a load would have started by now
        QVERIFY(f.app->loadedPath().isEmpty() && f.app->loadingPath().isEmpty());
        QCOMPARE(f.window->currentPage(), MainWindow::LibraryPage);
    }

    void dropOnATextFieldGoesToTheLibrary() {
        UiFixture f;
        f.window->showPage(MainWindow::ChatPage);
        QWidget* box = f.window->chatView()->composer()->editor()->viewport();
        QVERIFY(dropFiles(box, {m_good}));
        QTRY_COMPARE(f.app->catalog().rowCount(), 1);
        QVERIFY(f.window->chatView()->composer()->editor()->toPlainText().isEmpty());  // no path pasted
        QCOMPARE(f.window->currentPage(), MainWindow::LibraryPage);
    }

    void dropOfNonFilesIsIgnored() {
        UiFixture f;
        auto* mime = new QMimeData;
        mime->setText(QStringLiteral("just text"));
        QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(f.window.get(), &enter);
        QVERIFY(!enter.isAccepted());
        delete mime;
        QCOMPARE(f.app->catalog().rowCount(), 0);
    }

private:
    QTemporaryDir m_files;
    QString m_good, m_truncated, m_text;
};

QTEST_MAIN(TestMainWindowDrop)
#include "tst_main_window_drop.moc"
