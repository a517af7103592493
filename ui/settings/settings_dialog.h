// SettingsDialog (Ctrl+,): the app's preferences in four tabs — General (theme, telemetry
// interval, reopening where the user left off, model folders), Models (default devices,
// reserves, context and KV cache type for models without their own allocation), New chats
// (system prompt and sampling), Server (on/off, port, address, API key, allowed origins).
// Edits a copy of app::Preferences: nothing is saved until OK, which refuses what
// Preferences::problems() names (listed in the dialog) and otherwise accepts; the owner saves
// preferences() and puts them into effect. "Reset to defaults" fills in the defaults (saved on
// OK like any edit).
#pragma once

#include <QDialog>

#include "allocation/allocation.h"
#include "settings.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QSpinBox;
class QTabWidget;
class QVBoxLayout;

namespace strata::ui {

class SettingsDialog : public QDialog {
    Q_OBJECT
public:
    SettingsDialog(const app::Preferences& current, const app::AppDevices& devices, QWidget* parent = nullptr);

    void setPreferences(const app::Preferences& p);
    app::Preferences preferences() const;
    QTabWidget* tabs() const { return m_tabs; }
    // The problems shown after a refused OK ("" when none).
    QString problemsText() const;

    void accept() override;

private:
    QWidget* buildGeneral();
    QWidget* buildModels();
    QWidget* buildChats();
    QWidget* buildServer();

    app::AppDevices m_devices;
    app::Preferences m_base;  // what the widgets do not show is kept from here
    QTabWidget* m_tabs;
    QLabel* m_problems;
    // General
    QComboBox* m_theme;
    QDoubleSpinBox* m_telemetry;
    QCheckBox* m_restore;
    QListWidget* m_folders;
    QLineEdit* m_downloadFolder;
    QLineEdit* m_hubToken;
    // Models
    QList<QCheckBox*> m_deviceBoxes;  // property "key": the device's key
    QSpinBox* m_gpuReserve;
    QSpinBox* m_cpuReserve;
    QSpinBox* m_context;
    QSpinBox* m_parallel;
    QComboBox* m_kv;
    // New chats
    QPlainTextEdit* m_system;
    QDoubleSpinBox* m_temperature;
    QDoubleSpinBox* m_topP;
    QSpinBox* m_topK;
    QDoubleSpinBox* m_minP;
    QDoubleSpinBox* m_repeat;
    QSpinBox* m_maxTokens;
    // Server
    QCheckBox* m_serverOn;
    QSpinBox* m_port;
    QComboBox* m_address;
    QLineEdit* m_apiKey;
    QPlainTextEdit* m_origins;
};

}  // namespace strata::ui
