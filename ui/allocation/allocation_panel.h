// AllocationPanel: how the selected model is spread over the devices — device list (on/off,
// order, reserve, manual shares), split mode, context length, KV cache type and batch size, and
// for a mixture-of-experts model where its experts go — with a live fit preview from the planner on every change. Apply reloads the model with the
// new plan; settings are kept per model (the owner persists settingsChanged).
#pragma once

#include <QTimer>
#include <QWidget>

#include "allocation/allocation.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;
class QScrollArea;
class QSpinBox;
class QVBoxLayout;

namespace strata::app {
class FitService;
class ModelCatalog;
}  // namespace strata::app

namespace strata::ui {

class DeviceRow;
class FitPreview;

class AllocationPanel : public QWidget {
    Q_OBJECT
public:
    AllocationPanel(app::FitService& fits, app::ModelCatalog& catalog, QWidget* parent = nullptr);

    // Shows `path`'s allocation (the owner answers modelSelected with setSettings()).
    void selectModel(const QString& path);
    void setSettings(const QString& path, const app::AllocationSettings& settings);
    void setLoadedModel(const QString& path);
    // Rebuilds the device rows and the preview (after a theme change).
    void refresh();

    QString modelPath() const { return m_path; }
    app::AllocationSettings settings() const { return m_settings; }
    strata::PlanRequest currentRequest() const;
    strata::Plan currentPlan() const { return m_plan; }

    FitPreview* preview() const { return m_preview; }
    QList<DeviceRow*> deviceRows() const { return m_rows; }
    QComboBox* modeBox() const { return m_mode; }
    QSpinBox* contextBox() const { return m_ctx; }
    // Lifts the context box's limit from the model's trained length (shown for models that
    // state one); a saved context beyond it ticks it.
    QCheckBox* beyondTrainedBox() const { return m_beyond; }
    static constexpr qint64 kMaxContext = 1 << 24;
    QComboBox* kvBox() const { return m_kv; }
    QSpinBox* batchBox() const { return m_batch; }
    QPushButton* applyButton() const { return m_apply; }
    // The expert placement (shown only for mixture-of-experts models).
    QWidget* expertCard() const { return m_expertCard; }
    QComboBox* expertModeBox() const { return m_expertMode; }
    QSpinBox* expertLayersBox() const { return m_expertLayers; }
    QComboBox* expertHostBox() const { return m_expertHost; }

signals:
    void modelSelected(const QString& path);
    void settingsChanged(const QString& path, const app::AllocationSettings& settings);
    void applyRequested(const QString& path, const app::AllocationSettings& settings);

private:
    void reloadModels();
    void modelChosen();
    void rebuildRows();
    void syncControls();
    void rebuildExpertHosts();
    void updateExpertCard();
    bool selectedIsMoe() const;
    qint64 trainedContext() const;  // the selected model's n_ctx_train (0: unknown)
    void updateContextRange();
    void updateLeftWidth();
    int selectedLayerCount() const;
    void collect();
    void move(const QString& key, int delta);
    void updatePreview();

    app::FitService& m_fits;
    app::ModelCatalog& m_catalog;
    QString m_path;
    QString m_loaded;
    app::AllocationSettings m_settings;
    strata::Plan m_plan;
    bool m_syncing = false;
    QTimer m_saveTimer;

    QComboBox* m_model;
    QScrollArea* m_leftScroll = nullptr;
    QVBoxLayout* m_rowLayout;
    QList<DeviceRow*> m_rows;
    QLabel* m_noDevices;
    QComboBox* m_mode;
    QLabel* m_modeHelp;
    QSpinBox* m_ctx;
    QPushButton* m_useLongest;
    QCheckBox* m_beyond;
    QComboBox* m_kv;
    QSpinBox* m_batch;
    QWidget* m_expertCard;
    QComboBox* m_expertMode;
    QLabel* m_expertHelp;
    QSpinBox* m_expertLayers;
    QLabel* m_expertHostLabel;
    QComboBox* m_expertHost;
    FitPreview* m_preview;
    QPushButton* m_apply;
    QPushButton* m_reset;
};

}  // namespace strata::ui
