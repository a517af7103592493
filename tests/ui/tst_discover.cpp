// The Discover flow end to end against a fake Hugging Face Hub on loopback
// (tests/engine/mock_hub.py, pointed at by $HF_ENDPOINT; no network): search → repository →
// every file's fit verdict from its header → Download → the model is in the library catalog,
// loads on the real engine, and a chat answer arrives. Also: pause (the transfer stops, the
// .part file stays) and resume (continues from it), cancel (the .part file goes), a dropped
// Hugging Face link opening the repository, the link parser, and a Hub that cannot be reached
// (told from the error's fault, with a Retry that works once it can be).
#include <QtTest>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableWidget>

#include "app.h"
#include "closed_port.h"
#include "chat/chat_controller.h"
#include "chat/composer.h"
#include "chat/chat_view.h"
#include "devices/device_monitor.h"
#include "common/theme.h"
#include "discover/discover_view.h"
#include "library/drop_zone.h"
#include "library/library_view.h"
#include "discover/downloads_panel.h"
#include "hub/download_manager.h"
#include "hub/hub_service.h"
#include "library/model_catalog.h"
#include "storage/chat_store.h"
#include "strata/hub/gguf_entries.h"
#include "test_models.h"
#include "window_fixture.h"

using namespace strata;
using namespace strata::app;
using namespace strata::ui;

class TestDiscover : public QObject {
    Q_OBJECT

    QTemporaryDir m_repo;   // the fake repository's files
    QProcess m_mock;
    QString m_endpoint;
    std::unique_ptr<test::UiFixture> m_f;
    const QString m_repoId = QStringLiteral("test/tiny-GGUF");

    void control(const QString& query) {
        const strata::hub::HttpClient http({});
        auto r = http.fetch((m_endpoint + QStringLiteral("/_control?") + query).toStdString());
        QVERIFY2(r.ok() && r->status == 200, "the fake Hub did not take the control request");
    }
    HubFileRow rowFor(const QString& fileName) {
        const strata::hub::HubClient client(m_f->app->hubConfig());
        auto files = client.list_files(m_repoId.toStdString());
        if (!files.ok()) return {};
        for (const HubFileRow& r : hubFileRows(strata::hub::gguf_entries(*files)))
            if (r.name == fileName) return r;
        return {};
    }

private slots:
    void initTestCase() {
        const QString python = QStandardPaths::findExecutable(QStringLiteral("python3"));
        if (python.isEmpty()) QSKIP("python3 not found (the fake Hub is a python script)");
        for (const char* name : {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "HF_TOKEN"}) qunsetenv(name);
        qputenv("no_proxy", "127.0.0.1,localhost");
        QVERIFY(m_repo.isValid());
        RandomModelConfig cfg;
        cfg.n_layer = 2;
        QString error;
        // Two models: the one the flow downloads, and one for pause / resume / cancel.
        QVERIFY2(!test::writeRandomModel(m_repo, QStringLiteral("tiny-Q8_0"), cfg, &error).isEmpty(), qPrintable(error));
        cfg.n_layer = 3;
        QVERIFY2(!test::writeRandomModel(m_repo, QStringLiteral("other-F16"), cfg, &error).isEmpty(), qPrintable(error));
        m_mock.setProgram(python);
        m_mock.setArguments({QStringLiteral(STRATA_MOCK_HUB), QStringLiteral("--repo"), m_repoId + QLatin1Char('=') + m_repo.path(),
                             QStringLiteral("--repo"), QStringLiteral("test/gated-GGUF=") + m_repo.path(),
                             QStringLiteral("--token"), QStringLiteral("hf_secret")});
        m_mock.start();
        QVERIFY(m_mock.waitForStarted(10000));
        QByteArray line;
        while (!line.contains('\n') && m_mock.waitForReadyRead(10000)) line += m_mock.readAllStandardOutput();
        const QStringList words = QString::fromUtf8(line).trimmed().split(QLatin1Char(' '));
        QVERIFY2(words.size() == 4 && words[0] == QLatin1String("HUB"), line.constData());
        m_endpoint = QStringLiteral("http://127.0.0.1:") + words[1];
        qputenv("HF_ENDPOINT", m_endpoint.toUtf8());

        AppOptions o;
        std::vector<DeviceSpec> specs;
        std::string err;
        QVERIFY(parse_device_specs("cpu", specs, err));
        o.deviceSpecs = QList<DeviceSpec>(specs.begin(), specs.end());
        m_f = std::make_unique<test::UiFixture>(makeStrataBackend, o);
        QTRY_VERIFY(!m_f->app->monitor().devices().isEmpty());
    }

    void cleanupTestCase() {
        m_f.reset();
        if (m_mock.state() != QProcess::NotRunning) {
            m_mock.closeWriteChannel();
            if (!m_mock.waitForFinished(3000)) {
                m_mock.kill();
                m_mock.waitForFinished();
            }
        }
    }

    void hubLinks() {
        auto l = parseHubLink(QUrl(QStringLiteral("https://huggingface.co/Qwen/Qwen3-8B-GGUF")), {});
        QVERIFY(l && l->repo == QLatin1String("Qwen/Qwen3-8B-GGUF") && l->file.isEmpty());
        l = parseHubLink(QUrl(QStringLiteral("https://huggingface.co/Qwen/Qwen3-8B-GGUF/blob/main/Q4/Qwen3-8B-Q4_K_M.gguf")), {});
        QVERIFY(l && l->file == QLatin1String("Q4/Qwen3-8B-Q4_K_M.gguf"));
        l = parseHubLink(QUrl(QStringLiteral("https://huggingface.co/a/b/resolve/main/x.gguf?download=true")), {});
        QVERIFY(l && l->repo == QLatin1String("a/b") && l->file == QLatin1String("x.gguf"));
        QVERIFY(!parseHubLink(QUrl(QStringLiteral("https://example.com/a/b")), {}));
        QVERIFY(!parseHubLink(QUrl(QStringLiteral("https://huggingface.co/datasets/a/b")), {}));
        QVERIFY(!parseHubLink(QUrl(QStringLiteral("https://huggingface.co/Qwen")), {}));
        QVERIFY(!parseHubLink(QUrl(QStringLiteral("file:///tmp/x.gguf")), {}));
        QVERIFY(parseHubLink(QUrl(m_endpoint + QStringLiteral("/a/b")), m_endpoint));
    }

    // The whole flow through the widgets, from the empty library's button.
    void searchOpenFitDownloadLoadChat() {
        QCOMPARE(m_f->window->currentPage(), MainWindow::LibraryPage);
        auto* find = m_f->window->libraryView()->dropZone()->findChild<QPushButton*>(QStringLiteral("discoverButton"));
        QVERIFY(find && find->isVisible());
        QTest::mouseClick(find, Qt::LeftButton);
        QCOMPARE(m_f->window->currentPage(), MainWindow::DiscoverPage);
        DiscoverView* d = m_f->window->discoverView();
        QTest::keyClicks(d->searchBox(), QStringLiteral("tiny"));
        QTest::keyClick(d->searchBox(), Qt::Key_Return);
        QTRY_COMPARE(d->resultsTable()->rowCount(), 1);
        QTableWidgetItem* repo = d->resultsTable()->item(0, DiscoverView::RepoColumn);
        QCOMPARE(repo->text(), m_repoId);
        QVERIFY(!d->resultsTable()->item(0, DiscoverView::DownloadsColumn)->text().isEmpty());
        QVERIFY(!d->resultsTable()->item(0, DiscoverView::UpdatedColumn)->text().isEmpty());

        // A click on a result opens its repository.
        QTest::mouseClick(d->resultsTable()->viewport(), Qt::LeftButton, {}, d->resultsTable()->visualItemRect(repo).center());
        QTRY_VERIFY(d->showsRepository());
        QTRY_COMPARE(d->filesTable()->rowCount(), 2);
        // Every file's verdict from its header (both fit the CPU: random models are small).
        for (int r = 0; r < 2; ++r)
            QTRY_VERIFY_WITH_TIMEOUT(d->filesTable()->item(r, DiscoverView::FileFitColumn)->text().contains(QLatin1String("fits on cpu")),
                                     10000);
        QVERIFY2(d->statusText().contains(QLatin1String("2 of 2 fit")), qPrintable(d->statusText()));
        QCOMPARE(d->filesTable()->item(0, DiscoverView::FileFitColumn)->foreground().color(), currentColors().good);
        int row = -1;
        for (int r = 0; r < 2; ++r)
            if (d->filesTable()->item(r, DiscoverView::FileNameColumn)->text() == QLatin1String("tiny-Q8_0.gguf")) row = r;
        QVERIFY(row >= 0);
        QCOMPARE(d->filesTable()->item(row, DiscoverView::FileQuantColumn)->text(), QStringLiteral("Q8_0"));

        auto* button = qobject_cast<QPushButton*>(d->filesTable()->cellWidget(row, DiscoverView::FileActionColumn));
        QVERIFY(button);
        QSignalSpy completed(&m_f->app->downloads(), &DownloadManager::completed);
        QTest::mouseClick(button, Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(completed.size(), 1, 10000);
        const QString path = QFileInfo(completed[0][1].toString()).canonicalFilePath();
        QCOMPARE(QFileInfo(path).fileName(), QStringLiteral("tiny-Q8_0.gguf"));
        QVERIFY(path.startsWith(QFileInfo(m_f->app->downloadFolder()).canonicalFilePath()));
        const quint64 id = completed[0][0].toULongLong();
        QVERIFY2(d->downloadsPanel()->statusText(id).startsWith(QLatin1String("Done")), qPrintable(d->downloadsPanel()->statusText(id)));
        // The importer (the catalog's writer) adds it to the library; it loads and answers.
        QTRY_VERIFY_WITH_TIMEOUT(m_f->app->catalog().rowOfPath(path) >= 0, 10000);
        m_f->app->loadModel(path);
        QTRY_COMPARE_WITH_TIMEOUT(m_f->app->loadedPath(), path, 10000);
        m_f->window->showPage(MainWindow::ChatPage);
        QSignalSpy finished(&m_f->app->chat(), &ChatController::answerFinished);
        QWidget* editor = m_f->window->chatView()->composer()->editor();
        editor->setFocus();
        QTest::keyClicks(editor, QStringLiteral("Hello"));
        QTest::keyClick(editor, Qt::Key_Return);
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() == 1, 15000);
        const QList<Message> stored = m_f->app->chatStore().messages(m_f->app->chat().currentConversation());
        QCOMPARE(stored.size(), 2);
        QVERIFY2(!stored.last().content.isEmpty(), "the answer is empty");
    }

    // Pause stops the transfer and keeps the .part file; Resume continues from it (a Range
    // request) to a verified file; Cancel deletes the .part file.
    void pauseResumeCancel() {
        DownloadManager& dm = m_f->app->downloads();
        const HubFileRow row = rowFor(QStringLiteral("other-F16.gguf"));
        QVERIFY(!row.parts.isEmpty());
        const QString part = QDir(m_f->app->downloadFolder()).filePath(QStringLiteral("other-F16.gguf.part"));
        control(QStringLiteral("stall=other-F16.gguf&count=1"));  // half the file, then silence
        const quint64 id = dm.start(m_repoId, row);
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(part).size() > 0 && dm.item(id)->state == DownloadState::running, 10000);
        dm.pause(id);
        QTRY_COMPARE_WITH_TIMEOUT(dm.item(id)->state, DownloadState::paused, 5000);
        const qint64 kept = QFileInfo(part).size();
        QVERIFY(kept > 0 && quint64(kept) < row.size);
        QVERIFY(m_f->window->discoverView()->downloadsPanel()->statusText(id).startsWith(QLatin1String("Paused")));
        QSignalSpy completed(&dm, &DownloadManager::completed);
        dm.resume(id);
        QTRY_COMPARE_WITH_TIMEOUT(completed.size(), 1, 10000);
        QVERIFY(!QFileInfo::exists(part));
        QCOMPARE(QFileInfo(completed[0][1].toString()).size(), qint64(row.size));
        bool resumed = false;
        const strata::hub::HttpClient http({});
        auto log = http.fetch((m_endpoint + QStringLiteral("/_log")).toStdString());
        QVERIFY(log.ok());
        resumed = QString::fromStdString(log->body).contains(QStringLiteral("bytes=%1-").arg(kept));
        QVERIFY2(resumed, "the resumed download did not continue from the .part file");

        // Cancel: a fresh copy of the same model into another folder, stalled, then cancelled.
        Preferences p = m_f->app->settings().preferences();
        QTemporaryDir other;
        p.downloadFolder = other.path();
        QVERIFY(m_f->app->settings().setPreferences(p));
        control(QStringLiteral("stall=other-F16.gguf&count=1"));
        dm.clearFinished();
        const quint64 id2 = dm.start(m_repoId, row);
        QVERIFY(id2 != id);
        const QString part2 = other.filePath(QStringLiteral("other-F16.gguf.part"));
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(part2).size() > 0, 10000);
        dm.cancel(id2);
        QTRY_COMPARE_WITH_TIMEOUT(dm.item(id2)->state, DownloadState::cancelled, 5000);
        QVERIFY(!QFileInfo::exists(part2));
        QVERIFY(!QFileInfo::exists(other.filePath(QStringLiteral("other-F16.gguf"))));
        p.downloadFolder.clear();
        QVERIFY(m_f->app->settings().setPreferences(p));
    }

    // A gated repository: refused in words without a token; the token of the settings opens it.
    void gatedRepositoryUsesTheSettingsToken() {
        HubService& hub = m_f->app->hub();
        QSignalSpy listed(&hub, &HubService::repositoryListed);
        quint64 id = hub.openRepository(QStringLiteral("test/gated-GGUF"));
        QTRY_COMPARE(listed.size(), 1);
        QCOMPARE(listed[0][0].toULongLong(), id);
        const HubError refused = listed[0][4].value<HubError>();
        QCOMPARE(refused.code, ErrorCode::invalid_argument);
        QCOMPARE(refused.netFault, NetFault::none);
        QVERIFY2(refused.message.contains(QLatin1String("token")), qPrintable(refused.message));
        Preferences p = m_f->app->settings().preferences();
        p.hubToken = QStringLiteral("hf_secret");
        QVERIFY(m_f->app->settings().setPreferences(p));
        id = hub.openRepository(QStringLiteral("test/gated-GGUF"));
        QTRY_COMPARE(listed.size(), 2);
        QCOMPARE(listed[1][0].toULongLong(), id);
        QVERIFY2(!listed[1][4].value<HubError>().isError(), qPrintable(listed[1][4].value<HubError>().message));
        QCOMPARE(listed[1][3].value<HubFileRows>().size(), 2);
        p.hubToken.clear();
        QVERIFY(m_f->app->settings().setPreferences(p));
    }

    // A Hugging Face link dropped on the window opens its repository, the file selected.
    // No connection: the search and the repository page say so in words chosen from the
    // error's fault (the engine's message is the tooltip), offer Retry, and Retry asks again:
    // here it succeeds because the endpoint has come back (the fake Hub).
    void unreachableHubSaysSoAndRetries() {
        const int port = test::closedLoopbackPort();
        QVERIFY(port > 0);
        const QString dead = QStringLiteral("http://127.0.0.1:%1").arg(port);
        QString endpoint = dead;
        HubService hub(
            [&endpoint] {
                strata::hub::HubConfig c;
                c.endpoint = endpoint.toStdString();
                return c;
            },
            {});
        DiscoverView view(&hub, nullptr);
        view.search(QStringLiteral("tiny"));
        QTRY_VERIFY2(view.statusText().startsWith(QStringLiteral("Can't reach 127.0.0.1 — check the network")),
                     qPrintable(view.statusText()));
        QVERIFY(!view.retryButton()->isHidden());
        QCOMPARE(view.resultsTable()->rowCount(), 0);
        QString detail;
        for (const QLabel* l : view.findChildren<QLabel*>())
            if (l->text() == view.statusText()) detail = l->toolTip();
        QVERIFY2(detail.startsWith(QLatin1String("searching the Hub: could not reach ") + dead), qPrintable(detail));
        endpoint = m_endpoint;
        view.retryButton()->click();
        QTRY_COMPARE(view.resultsTable()->rowCount(), 1);
        QVERIFY(view.retryButton()->isHidden());

        endpoint = dead;
        view.openRepository(m_repoId);
        QTRY_VERIFY2(view.statusText().startsWith(QStringLiteral("Can't reach 127.0.0.1")), qPrintable(view.statusText()));
        QVERIFY(!view.retryButton()->isHidden());
        endpoint = m_endpoint;
        view.retryButton()->click();
        QTRY_COMPARE(view.filesTable()->rowCount(), 2);
        QVERIFY(view.retryButton()->isHidden());
    }

    void droppedLinkOpensTheRepository() {
        auto* mime = new QMimeData;
        mime->setUrls({QUrl(m_endpoint + QStringLiteral("/") + m_repoId + QStringLiteral("/blob/main/tiny-Q8_0.gguf"))});
        m_f->window->showPage(MainWindow::ChatPage);
        // As a browser's drag delivers it: enter, move, drop, on a child of the window.
        QWidget* target = m_f->window->chatView();
        const QPoint at = target->rect().center();
        QDragEnterEvent enter(at, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
        QCoreApplication::sendEvent(target, &enter);
        QVERIFY(enter.isAccepted());
        QDragMoveEvent move(at, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
        QCoreApplication::sendEvent(target, &move);
        QDropEvent drop(QPointF(at), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
        QCoreApplication::sendEvent(target, &drop);
        delete mime;
        QCOMPARE(m_f->window->currentPage(), MainWindow::DiscoverPage);
        DiscoverView* d = m_f->window->discoverView();
        QCOMPARE(d->repository(), m_repoId);
        QTRY_COMPARE(d->filesTable()->rowCount(), 2);
        QTRY_VERIFY(!d->filesTable()->selectedItems().isEmpty());
        QCOMPARE(d->filesTable()->selectedItems().first()->text(), QStringLiteral("tiny-Q8_0.gguf"));
    }
};

QTEST_MAIN(TestDiscover)
#include "tst_discover.moc"
