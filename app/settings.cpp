#include "settings.h"

#include <QStandardPaths>

#include "server/api_server.h"

namespace strata::app {

QString themeChoiceName(ThemeChoice t) {
    switch (t) {
        case ThemeChoice::system: return QStringLiteral("system");
        case ThemeChoice::light: return QStringLiteral("light");
        case ThemeChoice::dark: return QStringLiteral("dark");
    }
    return QStringLiteral("system");
}

ThemeChoice parseThemeChoice(const QString& text) {
    if (text == QLatin1String("light")) return ThemeChoice::light;
    if (text == QLatin1String("dark")) return ThemeChoice::dark;
    return ThemeChoice::system;
}

Settings::Settings(const QString& iniPath) : m_settings(iniPath, QSettings::IniFormat) {}

ThemeChoice Settings::theme() const { return parseThemeChoice(m_settings.value(QStringLiteral("ui/theme")).toString()); }
void Settings::setTheme(ThemeChoice t) { m_settings.setValue(QStringLiteral("ui/theme"), themeChoiceName(t)); }

QString Settings::lastModel() const { return m_settings.value(QStringLiteral("library/last_model")).toString(); }
void Settings::setLastModel(const QString& path) { m_settings.setValue(QStringLiteral("library/last_model"), path); }

bool Settings::apiServerEnabled() const { return m_settings.value(QStringLiteral("server/enabled"), false).toBool(); }
void Settings::setApiServerEnabled(bool enabled) { m_settings.setValue(QStringLiteral("server/enabled"), enabled); }

quint16 Settings::apiServerPort() const {
    bool ok = false;
    const int port = m_settings.value(QStringLiteral("server/port")).toInt(&ok);
    return ok && port > 0 && port <= 65535 ? quint16(port) : kDefaultApiPort;  // a hand-edited file may hold anything
}
void Settings::setApiServerPort(quint16 port) { m_settings.setValue(QStringLiteral("server/port"), port); }

QByteArray Settings::windowGeometry() const { return m_settings.value(QStringLiteral("ui/geometry")).toByteArray(); }
void Settings::setWindowGeometry(const QByteArray& g) { m_settings.setValue(QStringLiteral("ui/geometry"), g); }
QByteArray Settings::windowState() const { return m_settings.value(QStringLiteral("ui/state")).toByteArray(); }
void Settings::setWindowState(const QByteArray& s) { m_settings.setValue(QStringLiteral("ui/state"), s); }

QString defaultDataDir() {
    const QByteArray env = qgetenv("STRATA_DATA_DIR");
    if (!env.isEmpty()) return QString::fromLocal8Bit(env);
    return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation);
}

}  // namespace strata::app
