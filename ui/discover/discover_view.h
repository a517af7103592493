// DiscoverView: models on the Hugging Face Hub — a search box; results with downloads, likes and
// when each repository was updated; a repository page with its card's first paragraph and its
// GGUF models (a split set as one), each with the planner's verdict on this machine's devices
// read from the file's header before any download (colour and words), and a Download button;
// and the downloads panel below.
//
// Network work is HubService's (worker threads); the view keeps the id of its latest request and
// ignores older answers. Downloads belong to the DownloadManager. The view writes no state but
// its own widgets; the showX() functions are also how the screenshot mode fills it from sample
// data without a network.
#pragma once

#include <QWidget>

#include "hub/hub_types.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QStackedWidget;
class QTableWidget;

namespace strata::app {
class DownloadManager;
class HubService;
}  // namespace strata::app

namespace strata::ui {

class DownloadsPanel;

class DiscoverView : public QWidget {
    Q_OBJECT
public:
    enum FileColumn { FileNameColumn, FileQuantColumn, FileSizeColumn, FileFitColumn, FileActionColumn, FileColumnCount };
    enum ResultColumn { RepoColumn, DownloadsColumn, LikesColumn, UpdatedColumn, ResultColumnCount };

    // Either may be null (screenshots): searching and downloading then do nothing.
    DiscoverView(app::HubService* hub, app::DownloadManager* downloads, QWidget* parent = nullptr);

    // Starts a search for `words` (what the Search button does with the box's text).
    void search(const QString& words);
    // Opens a repository's page; `file` (a dropped link to one file) is selected once listed.
    void openRepository(const QString& repo, const QString& file = {});
    // Starts downloading the model on row `row` of the repository page (its Download button).
    void downloadRow(int row);

    // A failed request (`error.isError()`) is told from its code and network fault, not its
    // message: no connection says so in a sentence and offers Retry; the message is the tooltip.
    void showResults(const app::HubRepoRows& rows, const app::HubError& error = {});
    void showRepository(const QString& repo, const QString& card, const app::HubFileRows& rows,
                        const app::HubError& error = {});
    void showVerdicts(const app::HubFileRows& rows);
    void showResultsPage();

    QLineEdit* searchBox() const { return m_search; }
    QTableWidget* resultsTable() const { return m_results; }
    QTableWidget* filesTable() const { return m_files; }
    DownloadsPanel* downloadsPanel() const { return m_downloadsPanel; }
    bool showsRepository() const;
    QString repository() const { return m_repo; }
    QString statusText() const;
    // The Retry button of the page shown (visible after a failure worth retrying).
    QPushButton* retryButton() const;

private:
    void fillFileRow(int row, const app::HubFileRow& f);

    app::HubService* m_hub;
    app::DownloadManager* m_downloads;
    QLineEdit* m_search = nullptr;
    QComboBox* m_sort = nullptr;
    QStackedWidget* m_pages = nullptr;
    QTableWidget* m_results = nullptr;
    QLabel* m_resultsStatus = nullptr;
    QPushButton* m_resultsRetry = nullptr;
    QLabel* m_repoTitle = nullptr;
    QLabel* m_card = nullptr;
    QLabel* m_repoStatus = nullptr;
    QPushButton* m_repoRetry = nullptr;
    QTableWidget* m_files = nullptr;
    DownloadsPanel* m_downloadsPanel = nullptr;
    quint64 m_searchId = 0;
    quint64 m_repoId = 0;
    QString m_searchedWords;  // of the latest search: what Retry searches again
    QString m_repo;
    QString m_wantedFile;
    app::HubFileRows m_rows;
};

}  // namespace strata::ui
