// DownloadsPanel: the model downloads, one row each — name, progress bar, size, speed and time
// left (or the state, or the error in words), and Pause / Resume / Cancel. It shows what the
// DownloadManager owns and sends the buttons' requests to it; it keeps no download state of its
// own. setItem() is also how the screenshot mode shows sample rows without a network.
#pragma once

#include <QHash>
#include <QWidget>

#include "hub/download_manager.h"

class QLabel;
class QProgressBar;
class QPushButton;
class QVBoxLayout;

namespace strata::ui {

class DownloadsPanel : public QWidget {
    Q_OBJECT
public:
    // `manager` may be null (screenshots): the buttons then do nothing.
    explicit DownloadsPanel(app::DownloadManager* manager, QWidget* parent = nullptr);

    // Shows (adds or updates) one download's row.
    void setItem(const app::DownloadItem& item);
    void removeItem(quint64 id);
    int rowCount() const { return int(m_rows.size()); }
    // The row's status words ("12.3 MiB/s · 0:42 left", "Paused", the error), for tests.
    QString statusText(quint64 id) const;

    // "1.2 GiB of 4.6 GiB · 38.0 MiB/s · 1:05 left" / the state in words.
    static QString describe(const app::DownloadItem& item);

private:
    struct Row {
        QWidget* widget = nullptr;
        QLabel* name = nullptr;
        QProgressBar* bar = nullptr;
        QLabel* status = nullptr;
        QPushButton* pause = nullptr;
        QPushButton* cancel = nullptr;
        app::DownloadState state = app::DownloadState::queued;
    };
    Row makeRow(quint64 id);

    app::DownloadManager* m_manager;
    QVBoxLayout* m_list = nullptr;
    QLabel* m_empty = nullptr;
    QPushButton* m_clear = nullptr;
    QHash<quint64, Row> m_rows;
};

}  // namespace strata::ui
