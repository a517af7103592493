// LibraryView: the model library page — the table of models (with whether each fits), the
// selected model's details with Load / Unload and per-device progress, Open… / Add folder…,
// and the drop zone when the library is empty.
#pragma once

#include <QWidget>

class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QStackedWidget;
class QTableView;

namespace strata::app {
class ModelCatalog;
}

namespace strata::ui {

class DropZone;
class ModelDetails;

class LibraryView : public QWidget {
    Q_OBJECT
public:
    explicit LibraryView(app::ModelCatalog& catalog, QWidget* parent = nullptr);

    void selectPath(const QString& path);
    QString selectedPath() const;
    bool showsDropZone() const;
    DropZone* dropZone() const { return m_dropZone; }
    ModelDetails* details() const { return m_details; }
    QTableView* table() const { return m_table; }

signals:
    void openRequested();
    void addFolderRequested();
    void discoverRequested();
    void selectionChanged(const QString& path);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void fitColumns();  // hides the optional columns a narrow table has no room for
    void updatePage();
    void updateSummary();
    void showSelected();

    app::ModelCatalog& m_catalog;
    QSortFilterProxyModel* m_proxy;
    QStackedWidget* m_pages;
    DropZone* m_dropZone;
    QTableView* m_table;
    ModelDetails* m_details;
    QLabel* m_summary;
    QLineEdit* m_filter;
};

}  // namespace strata::ui
