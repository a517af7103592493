// Settings: the app's preferences (theme, window state, the last model), kept in an INI file in
// the data folder (no global QSettings: the file is passed in, so tests use a temporary one).
#pragma once

#include <QByteArray>
#include <QSettings>
#include <QString>

namespace strata::app {

enum class ThemeChoice { system, light, dark };
QString themeChoiceName(ThemeChoice t);
ThemeChoice parseThemeChoice(const QString& text);

class Settings {
public:
    explicit Settings(const QString& iniPath);

    ThemeChoice theme() const;
    void setTheme(ThemeChoice t);

    QString lastModel() const;
    void setLastModel(const QString& path);

    // The local API server (ApiServer): started with the app when enabled (default off), on
    // apiServerPort (default kDefaultApiPort, 8313).
    bool apiServerEnabled() const;
    void setApiServerEnabled(bool enabled);
    quint16 apiServerPort() const;
    void setApiServerPort(quint16 port);

    QByteArray windowGeometry() const;
    void setWindowGeometry(const QByteArray& g);
    QByteArray windowState() const;
    void setWindowState(const QByteArray& s);

    void sync() { m_settings.sync(); }

private:
    QSettings m_settings;
};

// Where Strata keeps its data: $STRATA_DATA_DIR, else the platform's app data folder
// (~/.local/share/strata on Linux).
QString defaultDataDir();

}  // namespace strata::app
