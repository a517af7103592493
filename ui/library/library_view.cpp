#include "library/library_view.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPainter>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QScrollBar>
#include <QSplitter>
#include <QStackedWidget>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QVBoxLayout>
#include <algorithm>

#include "common/icons.h"
#include "common/theme.h"
#include "library/drop_zone.h"
#include "library/model_catalog.h"
#include "library/model_details.h"

namespace strata::ui {

namespace {

// The Fit column: a coloured dot and the summary.
class FitDelegate : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override {
        QSize s = QStyledItemDelegate::sizeHint(option, index);
        s.rwidth() += 26;  // the dot and the padding
        return s;
    }
    void paint(QPainter* p, const QStyleOptionViewItem& option, const QModelIndex& index) const override {
        QStyleOptionViewItem opt = option;
        initStyleOption(&opt, index);
        const QString text = opt.text;
        opt.text.clear();
        opt.widget->style()->drawControl(QStyle::CE_ItemViewItem, &opt, p, opt.widget);
        const ThemeColors& c = currentColors();
        QColor dot = c.mutedText;
        switch (app::FitState(index.data(app::ModelCatalog::FitStateRole).toInt())) {
            case app::FitState::fits: dot = c.good; break;
            case app::FitState::doesNotFit: dot = c.bad; break;
            case app::FitState::error: dot = c.warning; break;
            case app::FitState::unknown: break;
        }
        p->save();
        p->setRenderHint(QPainter::Antialiasing);
        const QRect r = opt.rect.adjusted(8, 0, -6, 0);
        p->setPen(Qt::NoPen);
        p->setBrush(dot);
        p->drawEllipse(QPointF(r.left() + 4, r.center().y() + 0.5), 4, 4);
        p->setPen(opt.state & QStyle::State_Selected ? opt.palette.color(QPalette::HighlightedText) : c.text);
        p->drawText(r.adjusted(14, 0, 0, 0), Qt::AlignVCenter | Qt::AlignLeft,
                    opt.fontMetrics.elidedText(text, Qt::ElideRight, r.width() - 14));
        p->restore();
    }
};

}  // namespace

LibraryView::LibraryView(app::ModelCatalog& catalog, QWidget* parent) : QWidget(parent), m_catalog(catalog) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(24, 20, 24, 20);
    layout->setSpacing(14);

    auto* header = new QHBoxLayout();
    auto* titles = new QVBoxLayout();
    titles->setSpacing(2);
    auto* title = new QLabel(tr("Model library"), this);
    title->setProperty("heading", true);
    m_summary = new QLabel(this);
    m_summary->setProperty("muted", true);
    titles->addWidget(title);
    titles->addWidget(m_summary);
    header->addLayout(titles, 1);
    m_filter = new QLineEdit(this);
    m_filter->setPlaceholderText(tr("Filter models"));
    m_filter->setClearButtonEnabled(true);
    m_filter->addAction(icon(QStringLiteral("search"), currentColors().mutedText), QLineEdit::LeadingPosition);
    m_filter->setFixedWidth(220);
    auto* open = new QPushButton(icon(QStringLiteral("open")), tr("Open…"), this);
    open->setToolTip(tr("Add GGUF model files to the library"));
    auto* folder = new QPushButton(icon(QStringLiteral("folder")), tr("Add folder…"), this);
    folder->setToolTip(tr("Add every .gguf file in a folder and its subfolders"));
    header->addWidget(m_filter);
    header->addSpacing(8);
    header->addWidget(open);
    header->addWidget(folder);
    layout->addLayout(header);

    m_pages = new QStackedWidget(this);
    m_dropZone = new DropZone(m_pages);
    m_pages->addWidget(m_dropZone);

    auto* content = new QSplitter(Qt::Vertical, m_pages);
    content->setChildrenCollapsible(false);
    content->setHandleWidth(14);
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(&m_catalog);
    m_proxy->setSortRole(app::ModelCatalog::SortRole);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setFilterKeyColumn(-1);
    m_table = new QTableView(content);
    m_table->setModel(m_proxy);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAccessibleName(tr("Models in the library"));
    m_table->setTabKeyNavigation(false);  // arrows move between rows; Tab moves on to the details
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(app::ModelCatalog::AddedColumn, Qt::DescendingOrder);
    m_table->setShowGrid(false);
    m_table->setAlternatingRowColors(false);
    m_table->setWordWrap(false);
    m_table->setItemDelegateForColumn(app::ModelCatalog::FitColumn, new FitDelegate(m_table));
    m_table->verticalHeader()->setVisible(false);
    m_table->verticalHeader()->setDefaultSectionSize(34);
    m_table->horizontalHeader()->setHighlightSections(false);
    m_table->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    m_table->horizontalHeader()->setStretchLastSection(false);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(app::ModelCatalog::NameColumn, QHeaderView::Stretch);
    m_table->horizontalHeader()->setMinimumSectionSize(60);
    m_details = new ModelDetails(content);
    content->addWidget(m_table);
    content->addWidget(m_details);
    content->setStretchFactor(0, 3);
    content->setStretchFactor(1, 2);
    m_pages->addWidget(content);
    layout->addWidget(m_pages, 1);

    connect(open, &QPushButton::clicked, this, &LibraryView::openRequested);
    connect(folder, &QPushButton::clicked, this, &LibraryView::addFolderRequested);
    connect(m_dropZone, &DropZone::openRequested, this, &LibraryView::openRequested);
    connect(m_dropZone, &DropZone::addFolderRequested, this, &LibraryView::addFolderRequested);
    connect(m_dropZone, &DropZone::discoverRequested, this, &LibraryView::discoverRequested);
    connect(m_filter, &QLineEdit::textChanged, m_proxy, &QSortFilterProxyModel::setFilterFixedString);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &LibraryView::showSelected);
    connect(&m_catalog, &QAbstractItemModel::rowsInserted, this, &LibraryView::updatePage);
    connect(&m_catalog, &QAbstractItemModel::rowsRemoved, this, &LibraryView::updatePage);
    connect(&m_catalog, &QAbstractItemModel::modelReset, this, &LibraryView::updatePage);
    connect(&m_catalog, &QAbstractItemModel::dataChanged, this, [this] {
        const QString path = selectedPath();
        if (!path.isEmpty()) m_details->setFit(m_catalog.fitStatus(path));
        fitColumns();
    });
    m_table->installEventFilter(this);
    updatePage();
}

bool LibraryView::eventFilter(QObject* watched, QEvent* event) {
    if (watched == m_table && event->type() == QEvent::Resize) fitColumns();
    return QWidget::eventFilter(watched, event);
}

void LibraryView::fitColumns() {
    // A narrow window leaves out the columns the details below repeat (or that matter least),
    // in this order, until the rest fits beside a readable name: the table never scrolls sideways.
    using C = app::ModelCatalog;
    static const int kOptional[] = {C::AddedColumn, C::ArchitectureColumn, C::LayersColumn, C::ContextColumn};
    constexpr int kNameWidth = 180;
    QHeaderView* header = m_table->horizontalHeader();
    const int available = m_table->width() - 2 * m_table->frameWidth() - m_table->verticalScrollBar()->sizeHint().width();
    // What ResizeToContents would give each column: its header's or its widest cell's width.
    int width[C::ColumnCount] = {};
    int need = kNameWidth;
    for (int c = 0; c < C::ColumnCount; ++c) {
        width[c] = header->sectionSizeHint(c);
        for (int r = 0; r < m_proxy->rowCount(); ++r)
            width[c] = std::max(width[c], m_table->sizeHintForIndex(m_proxy->index(r, c)).width() + 1);
        if (c != C::NameColumn) need += width[c];
    }
    for (int c : kOptional) {
        const bool hide = need > available;
        header->setSectionHidden(c, hide);
        if (hide) need -= width[c];
    }
}

void LibraryView::updatePage() {
    m_pages->setCurrentIndex(m_catalog.rowCount() == 0 ? 0 : 1);
    fitColumns();
    m_filter->setVisible(m_catalog.rowCount() > 0);
    updateSummary();
    if (m_catalog.rowCount() > 0 && !m_table->selectionModel()->currentIndex().isValid())
        m_table->selectRow(0);
    showSelected();
}

void LibraryView::updateSummary() {
    quint64 bytes = 0;
    for (const app::CatalogEntry& e : m_catalog.entries()) bytes += e.fileSize;
    const int n = m_catalog.rowCount();
    m_summary->setText(n == 0 ? tr("No models yet")
                              : (n == 1 ? tr("1 model · %1 on disk") : tr("%1 models · %2 on disk").arg(n))
                                    .arg(QLocale().formattedDataSize(qint64(bytes), 1, QLocale::DataSizeIecFormat)));
}

void LibraryView::showSelected() {
    const QString path = selectedPath();
    const int row = m_catalog.rowOfPath(path);
    m_details->setEntry(row >= 0 ? &m_catalog.entryAt(row) : nullptr);
    if (row >= 0) m_details->setFit(m_catalog.fitStatus(path));
    emit selectionChanged(path);
}

void LibraryView::selectPath(const QString& path) {
    const int row = m_catalog.rowOfPath(path);
    if (row < 0) return;
    m_filter->clear();
    const QModelIndex proxyIndex = m_proxy->mapFromSource(m_catalog.index(row, 0));
    m_table->selectRow(proxyIndex.row());
    m_table->scrollTo(proxyIndex);
}

QString LibraryView::selectedPath() const {
    const QModelIndex i = m_table->selectionModel()->currentIndex();
    return i.isValid() ? i.data(app::ModelCatalog::PathRole).toString() : QString();
}

bool LibraryView::showsDropZone() const { return m_pages->currentIndex() == 0; }

}  // namespace strata::ui
