#include "discover/discover_view.h"

#include <QComboBox>
#include <algorithm>
#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSplitter>
#include <QStackedWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include "common/icons.h"
#include "common/theme.h"
#include "discover/downloads_panel.h"
#include "hub/download_manager.h"
#include "hub/hub_service.h"

namespace strata::ui {

namespace {

QString bytes(quint64 n) { return QLocale().formattedDataSize(qint64(n), 1, QLocale::DataSizeIecFormat); }

QTableWidget* makeTable(int columns, const QStringList& headers, QWidget* parent) {
    auto* t = new QTableWidget(0, columns, parent);
    t->setHorizontalHeaderLabels(headers);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setSelectionMode(QAbstractItemView::SingleSelection);
    t->setShowGrid(false);
    t->setAlternatingRowColors(true);
    t->verticalHeader()->setVisible(false);
    t->verticalHeader()->setDefaultSectionSize(34);
    t->setWordWrap(false);
    return t;
}

QTableWidgetItem* cell(const QString& text, Qt::Alignment align = Qt::AlignLeft | Qt::AlignVCenter) {
    auto* i = new QTableWidgetItem(text);
    i->setTextAlignment(align);
    return i;
}

// "Nov 3, 2026" from the Hub's ISO 8601 time.
QString updatedText(const QString& iso) {
    const QDateTime t = QDateTime::fromString(iso, Qt::ISODateWithMs);
    const QDateTime t2 = t.isValid() ? t : QDateTime::fromString(iso, Qt::ISODate);
    return t2.isValid() ? QLocale().toString(t2.date(), QLocale::ShortFormat) : iso.left(10);
}

// Whether trying the same request again may help: the network, or the server, failed; not a
// missing repository or a refused token.
bool worthRetrying(const app::HubError& e) {
    return e.netFault != strata::NetFault::none || e.code == strata::ErrorCode::io;
}

// What to say about a failed request, chosen by its kind; `fallback` for the kinds that have no
// shorter words than the engine's message.
QString failureText(const app::HubError& e, const QString& fallback) {
    const QString host = e.host.isEmpty() ? DiscoverView::tr("the Hub") : e.host;
    switch (e.netFault) {
    case strata::NetFault::unreachable:
        return DiscoverView::tr("Can't reach %1 — check the network connection, or the proxy (https_proxy) if "
                                "this network needs one.").arg(host);
    case strata::NetFault::dropped:
        return DiscoverView::tr("The connection to %1 broke off before the answer was complete.").arg(host);
    case strata::NetFault::none: break;
    }
    return fallback;
}

// A small Retry button, hidden until a failure worth retrying.
QPushButton* makeRetryButton(const QString& objectName, QWidget* parent) {
    auto* b = new QPushButton(DiscoverView::tr("Retry"), parent);
    b->setObjectName(objectName);
    b->setAccessibleName(DiscoverView::tr("Retry"));
    b->hide();
    return b;
}

}  // namespace

DiscoverView::DiscoverView(app::HubService* hub, app::DownloadManager* downloads, QWidget* parent)
    : QWidget(parent), m_hub(hub), m_downloads(downloads) {
    setObjectName(QStringLiteral("discoverView"));
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(24, 18, 24, 14);
    v->setSpacing(10);

    auto* title = new QLabel(tr("Discover models"), this);
    title->setProperty("heading", true);
    v->addWidget(title);
    auto* intro = new QLabel(tr("GGUF models on Hugging Face. Whether a file fits this machine — which devices, how much "
                                "context, how fast — is read from its header before you download it."),
                             this);
    intro->setProperty("muted", true);
    intro->setWordWrap(true);
    v->addWidget(intro);

    auto* row = new QHBoxLayout();
    m_search = new QLineEdit(this);
    m_search->setPlaceholderText(tr("Search models, e.g. Qwen3 8B"));
    m_search->setClearButtonEnabled(true);
    m_search->setAccessibleName(tr("Search models"));
    m_sort = new QComboBox(this);
    m_sort->addItem(tr("Most downloaded"), int(strata::hub::SearchSort::downloads));
    m_sort->addItem(tr("Most liked"), int(strata::hub::SearchSort::likes));
    m_sort->addItem(tr("Recently updated"), int(strata::hub::SearchSort::updated));
    m_sort->setAccessibleName(tr("Sort by"));
    auto* go = new QPushButton(icon(QStringLiteral("search"), Qt::white), tr("Search"), this);
    go->setProperty("primary", true);
    row->addWidget(m_search, 1);
    row->addWidget(m_sort);
    row->addWidget(go);
    v->addLayout(row);

    auto* split = new QSplitter(Qt::Vertical, this);
    m_pages = new QStackedWidget(split);

    // Results.
    auto* resultsPage = new QWidget(m_pages);
    auto* rv = new QVBoxLayout(resultsPage);
    rv->setContentsMargins(0, 0, 0, 0);
    m_resultsStatus = new QLabel(tr("Search for a model by name; then open a repository to see which of its files fit."), resultsPage);
    m_resultsStatus->setProperty("muted", true);
    m_resultsStatus->setWordWrap(true);
    m_resultsRetry = makeRetryButton(QStringLiteral("discoverRetrySearch"), resultsPage);
    m_results = makeTable(ResultColumnCount, {tr("Repository"), tr("Downloads"), tr("Likes"), tr("Updated")}, resultsPage);
    m_results->setAccessibleName(tr("Search results"));
    m_results->horizontalHeaderItem(RepoColumn)->setTextAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    m_results->horizontalHeader()->setSectionResizeMode(RepoColumn, QHeaderView::Stretch);
    for (int c = DownloadsColumn; c < ResultColumnCount; ++c)
        m_results->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    auto* resultsStatusRow = new QHBoxLayout();
    resultsStatusRow->addWidget(m_resultsStatus, 1);
    resultsStatusRow->addWidget(m_resultsRetry);
    rv->addLayout(resultsStatusRow);
    rv->addWidget(m_results, 1);
    m_pages->addWidget(resultsPage);

    // A repository.
    auto* repoPage = new QWidget(m_pages);
    auto* pv = new QVBoxLayout(repoPage);
    pv->setContentsMargins(0, 0, 0, 0);
    auto* head = new QHBoxLayout();
    auto* back = new QPushButton(tr("‹ Results"), repoPage);
    back->setFlat(true);
    m_repoTitle = new QLabel(repoPage);
    m_repoTitle->setProperty("subheading", true);
    m_repoTitle->setTextInteractionFlags(Qt::TextSelectableByMouse);
    head->addWidget(back);
    head->addWidget(m_repoTitle, 1);
    pv->addLayout(head);
    m_card = new QLabel(repoPage);
    m_card->setWordWrap(true);
    m_card->setProperty("muted", true);
    pv->addWidget(m_card);
    m_repoStatus = new QLabel(repoPage);
    m_repoStatus->setWordWrap(true);
    m_repoRetry = makeRetryButton(QStringLiteral("discoverRetryRepository"), repoPage);
    auto* repoStatusRow = new QHBoxLayout();
    repoStatusRow->addWidget(m_repoStatus, 1);
    repoStatusRow->addWidget(m_repoRetry);
    pv->addLayout(repoStatusRow);
    m_files = makeTable(FileColumnCount, {tr("Model file"), tr("Quant"), tr("Size"), tr("Fit on this machine"), QString()}, repoPage);
    m_files->setAccessibleName(tr("Model files"));
    for (int c : {int(FileNameColumn), int(FileFitColumn)})
        m_files->horizontalHeaderItem(c)->setTextAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    m_files->verticalHeader()->setDefaultSectionSize(36);
    QHeaderView* fh = m_files->horizontalHeader();
    fh->setSectionResizeMode(FileNameColumn, QHeaderView::ResizeToContents);
    fh->setSectionResizeMode(FileQuantColumn, QHeaderView::ResizeToContents);
    fh->setSectionResizeMode(FileSizeColumn, QHeaderView::ResizeToContents);
    fh->setSectionResizeMode(FileFitColumn, QHeaderView::Stretch);
    fh->setSectionResizeMode(FileActionColumn, QHeaderView::ResizeToContents);
    pv->addWidget(m_files, 1);
    m_pages->addWidget(repoPage);

    m_downloadsPanel = new DownloadsPanel(m_downloads, split);
    split->addWidget(m_pages);
    split->addWidget(m_downloadsPanel);
    split->setChildrenCollapsible(false);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setSizes({380, 190});
    m_downloadsPanel->setMinimumHeight(150);
    v->addWidget(split, 1);

    connect(go, &QPushButton::clicked, this, [this] { search(m_search->text()); });
    connect(m_search, &QLineEdit::returnPressed, this, [this] { search(m_search->text()); });
    connect(back, &QPushButton::clicked, this, &DiscoverView::showResultsPage);
    connect(m_resultsRetry, &QPushButton::clicked, this, [this] { search(m_searchedWords); });
    connect(m_repoRetry, &QPushButton::clicked, this, [this] { openRepository(m_repo, m_wantedFile); });
    connect(m_results, &QTableWidget::cellActivated, this, [this](int r, int) {
        if (QTableWidgetItem* i = m_results->item(r, RepoColumn)) openRepository(i->data(Qt::UserRole).toString());
    });
    connect(m_results, &QTableWidget::cellClicked, this, [this](int r, int) {
        if (QTableWidgetItem* i = m_results->item(r, RepoColumn)) openRepository(i->data(Qt::UserRole).toString());
    });
    if (!m_hub) return;
    connect(m_hub, &app::HubService::searchFinished, this,
            [this](quint64 id, const app::HubRepoRows& rows, const app::HubError& error) {
                if (id == m_searchId) showResults(rows, error);
            });
    connect(m_hub, &app::HubService::repositoryListed, this,
            [this](quint64 id, const QString& repo, const QString& card, const app::HubFileRows& rows,
                   const app::HubError& error) {
                if (id == m_repoId) showRepository(repo, card, rows, error);
            });
    connect(m_hub, &app::HubService::verdictsReady, this, [this](quint64 id, const QString&, const app::HubFileRows& rows) {
        if (id == m_repoId) showVerdicts(rows);
    });
}

void DiscoverView::search(const QString& words) {
    if (m_search->text() != words) m_search->setText(words);
    showResultsPage();
    m_searchedWords = words;
    m_resultsRetry->hide();
    m_resultsStatus->setToolTip({});
    if (!m_hub) return;
    m_resultsStatus->setText(tr("Searching for “%1”…").arg(words.trimmed().toHtmlEscaped()));
    m_searchId = m_hub->search(words, strata::hub::SearchSort(m_sort->currentData().toInt()));
}

void DiscoverView::showResults(const app::HubRepoRows& rows, const app::HubError& error) {
    m_results->setRowCount(0);
    m_results->setRowCount(int(rows.size()));
    for (int r = 0; r < rows.size(); ++r) {
        const app::HubRepoRow& x = rows[r];
        auto* name = cell(x.gated ? tr("%1  (gated: needs a token)").arg(x.id) : x.id);
        name->setData(Qt::UserRole, x.id);
        name->setToolTip(tr("Open %1 to see which of its files fit").arg(x.id));
        m_results->setItem(r, RepoColumn, name);
        m_results->setItem(r, DownloadsColumn, cell(app::compactCount(x.downloads), Qt::AlignRight | Qt::AlignVCenter));
        m_results->setItem(r, LikesColumn, cell(app::compactCount(x.likes), Qt::AlignRight | Qt::AlignVCenter));
        m_results->setItem(r, UpdatedColumn, cell(updatedText(x.lastModified)));
    }
    m_resultsRetry->setVisible(error.isError() && worthRetrying(error));
    m_resultsStatus->setToolTip(error.message);
    if (error.isError()) m_resultsStatus->setText(failureText(error, tr("The search failed: %1").arg(error.message)));
    else if (rows.isEmpty()) m_resultsStatus->setText(tr("No GGUF repositories match “%1”.").arg(m_search->text()));
    else m_resultsStatus->setText(tr("%n repositories — open one to see its files and whether each fits this machine.", nullptr, int(rows.size())));
}

void DiscoverView::showResultsPage() { m_pages->setCurrentIndex(0); }
bool DiscoverView::showsRepository() const { return m_pages->currentIndex() == 1; }
QString DiscoverView::statusText() const { return showsRepository() ? m_repoStatus->text() : m_resultsStatus->text(); }
QPushButton* DiscoverView::retryButton() const { return showsRepository() ? m_repoRetry : m_resultsRetry; }

void DiscoverView::openRepository(const QString& repo, const QString& file) {
    if (repo.isEmpty()) return;
    m_repo = repo;
    m_wantedFile = file;
    m_rows.clear();
    m_files->setRowCount(0);
    m_repoTitle->setText(repo);
    m_card->clear();
    m_card->hide();
    m_pages->setCurrentIndex(1);
    m_repoRetry->hide();
    m_repoStatus->setToolTip({});
    m_repoStatus->setStyleSheet({});
    if (!m_hub) return;
    m_repoStatus->setText(tr("Listing the files of %1…").arg(repo));
    m_repoId = m_hub->openRepository(repo);
}

void DiscoverView::showRepository(const QString& repo, const QString& card, const app::HubFileRows& rows,
                                  const app::HubError& error) {
    m_repo = repo;
    m_repoTitle->setText(repo);
    m_pages->setCurrentIndex(1);
    m_card->setText(card);
    m_card->setVisible(!card.isEmpty());
    m_rows = rows;
    m_files->setRowCount(0);
    m_files->setRowCount(int(rows.size()));
    for (int r = 0; r < rows.size(); ++r) fillFileRow(r, rows[r]);
    m_repoRetry->setVisible(error.isError() && worthRetrying(error));
    m_repoStatus->setToolTip(error.message);
    if (error.isError()) {
        m_repoStatus->setText(failureText(error, error.message));
        m_repoStatus->setStyleSheet(QStringLiteral("color:%1").arg(currentColors().bad.name()));
        return;
    }
    m_repoStatus->setStyleSheet({});
    m_repoStatus->setText(tr("Reading each file's header to see whether it fits this machine…"));
    for (int r = 0; r < rows.size(); ++r)
        if (!m_wantedFile.isEmpty() && (rows[r].name == m_wantedFile ||
                                        std::any_of(rows[r].parts.begin(), rows[r].parts.end(),
                                                    [this](const app::HubPart& p) { return p.path == m_wantedFile; })))
            m_files->selectRow(r);
}

void DiscoverView::showVerdicts(const app::HubFileRows& rows) {
    m_rows = rows;
    int fits = 0;
    for (int r = 0; r < rows.size() && r < m_files->rowCount(); ++r) {
        fillFileRow(r, rows[r]);
        fits += rows[r].fit == app::HubFitState::fits;
    }
    m_repoStatus->setStyleSheet({});
    m_repoStatus->setText(fits == 0 ? tr("None of these files fits this machine's devices with the current settings.")
                                    : tr("%1 of %2 fit this machine — planned from each file's header, with your "
                                         "default allocation settings.").arg(fits).arg(rows.size()));
}

void DiscoverView::fillFileRow(int row, const app::HubFileRow& f) {
    const ThemeColors& c = currentColors();
    QString name = f.name.section(QLatin1Char('/'), -1);
    if (f.parts.size() > 1) name += tr("  (%n parts)", nullptr, int(f.parts.size()));
    auto* n = cell(name);
    n->setToolTip(f.name);
    m_files->setItem(row, FileNameColumn, n);
    m_files->setItem(row, FileQuantColumn, cell(f.quant.isEmpty() ? QStringLiteral("?") : f.quant));
    m_files->setItem(row, FileSizeColumn, cell(bytes(f.size), Qt::AlignRight | Qt::AlignVCenter));
    QString verdict;
    QColor colour = c.mutedText;
    switch (f.fit) {
    case app::HubFitState::pending: verdict = tr("reading the header…"); break;
    case app::HubFitState::fits: verdict = QStringLiteral("✓ ") + f.verdict; colour = c.good; break;
    case app::HubFitState::doesNotFit: verdict = QStringLiteral("✗ ") + f.verdict; colour = c.bad; break;
    case app::HubFitState::unknown: verdict = f.verdict; colour = c.warning; break;
    }
    auto* v = cell(verdict);
    v->setForeground(colour);
    v->setToolTip(f.verdict);
    v->setData(Qt::UserRole, int(f.fit));
    m_files->setItem(row, FileFitColumn, v);
    if (!m_files->cellWidget(row, FileActionColumn)) {
        auto* b = new QPushButton(tr("Download"), m_files);
        b->setFixedHeight(28);
        b->setToolTip(tr("Download %1 into the models folder and add it to the library").arg(name));
        connect(b, &QPushButton::clicked, this, [this, b] {
            for (int r = 0; r < m_files->rowCount(); ++r)
                if (m_files->cellWidget(r, FileActionColumn) == b) downloadRow(r);
        });
        m_files->setCellWidget(row, FileActionColumn, b);
    }
    m_files->cellWidget(row, FileActionColumn)->setEnabled(f.complete);
}

void DiscoverView::downloadRow(int row) {
    if (!m_downloads || row < 0 || row >= m_rows.size()) return;
    m_downloads->start(m_repo, m_rows[row]);
}

}  // namespace strata::ui
