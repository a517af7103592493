// ModelBar: the strip across the top of every page — which model is loaded and how it is
// spread, a picker to load another, Eject, and a progress bar per device while loading.
#pragma once

#include <QFrame>
#include <QHash>

class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QHBoxLayout;

namespace strata::app {
class ModelCatalog;
struct LoadedModel;
}  // namespace strata::app

namespace strata::ui {

class ModelBar : public QFrame {
    Q_OBJECT
public:
    explicit ModelBar(app::ModelCatalog& catalog, QWidget* parent = nullptr);

    void setLoading(const QString& path);
    void setLoaded(const app::LoadedModel* model);
    void setProgress(const QString& deviceId, quint64 done, quint64 total);
    QString statusText() const;
    QString chosenPath() const;  // the picker's model ("" when the library is empty)
    // The loaded model's context warning (App::contextWarning): a warning sign beside the
    // status, the sentence in its tooltip and accessible name; "" hides it.
    void setContextWarning(const QString& warning);
    QString contextWarning() const;
    void refresh() { updateButton(); }

signals:
    void loadRequested(const QString& path);
    void ejectRequested();
    void cancelRequested();

private:
    void reloadModels();
    void updateButton();
    void clearProgress();

    app::ModelCatalog& m_catalog;
    QString m_loading;
    QString m_loaded;
    QLabel* m_dot;
    QLabel* m_status;
    QLabel* m_ctxWarning;
    QHBoxLayout* m_progressLayout;
    QHash<QString, QProgressBar*> m_bars;
    QComboBox* m_picker;
    QPushButton* m_button;
};

}  // namespace strata::ui
