// ModelDetails: the selected library model — its facts (with its experts for a mixture-of-experts
// model), whether it fits, and Load / Unload with
// a progress bar per device while it loads.
#pragma once

#include <QFrame>
#include <QHash>

class QGridLayout;
class QLabel;
class QProgressBar;
class QPushButton;
class QVBoxLayout;

namespace strata::app {
struct CatalogEntry;
struct FitStatus;
}  // namespace strata::app

namespace strata::ui {

class ModelDetails : public QFrame {
    Q_OBJECT
public:
    explicit ModelDetails(QWidget* parent = nullptr);

    void setEntry(const app::CatalogEntry* entry);
    void setFit(const app::FitStatus& fit);
    // Which model is loading / loaded (paths; "" = none) — decides the buttons.
    void setLoadState(const QString& loadingPath, const QString& loadedPath);
    void setProgress(const QString& deviceId, quint64 done, quint64 total);
    void clearProgress();
    int progressBars() const { return int(m_bars.size()); }
    QString path() const { return m_path; }
    QProgressBar* progressBar(const QString& deviceId) const { return m_bars.value(deviceId); }
    // The value shown for a fact ("Parameters", "Layers", "Experts", ...); "" when hidden.
    QString factText(const QString& name) const;

signals:
    void loadRequested(const QString& path);
    void unloadRequested();
    void cancelLoadRequested();
    void allocateRequested(const QString& path);
    void removeRequested(const QString& path);

private:
    void updateButtons();

    QString m_path;
    QString m_loading;
    QString m_loaded;
    QLabel* m_name;
    QLabel* m_file;
    QLabel* m_fit;
    QLabel* m_fitDetail;
    QHash<QString, QLabel*> m_facts;
    QHash<QString, QLabel*> m_factKeys;
    QPushButton* m_load;
    QPushButton* m_allocate;
    QPushButton* m_remove;
    QVBoxLayout* m_progressLayout;
    QHash<QString, QProgressBar*> m_bars;
};

}  // namespace strata::ui
