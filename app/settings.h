// Settings: the app's preferences and where the user left off, kept in an INI file in the data
// folder (no global QSettings: the file is passed in, so tests use a temporary one).
//
// Preferences (what the Settings dialog edits) travel as one value, `Preferences`: read with
// preferences() — every value validated, so a hand-edited file holding nonsense gives the
// default for that value, never a crash or an out-of-range number — and written with
// setPreferences(), which refuses a value that problems() names. The session state (window,
// last model and chat) has its own accessors. Used on the GUI thread only.
#pragma once

#include <QByteArray>
#include <QSettings>
#include <QString>
#include <QStringList>

#include "chat/chat_types.h"
#include "strata/plan.h"

namespace strata::app {

enum class ThemeChoice { system, light, dark };
QString themeChoiceName(ThemeChoice t);
ThemeChoice parseThemeChoice(const QString& text);

struct Preferences {
    // ---- library
    QStringList modelFolders;     // scanned for new .gguf files at start and when changed
    // ---- the Hugging Face Hub (Discover)
    QString downloadFolder;       // where downloads go; "" = <data folder>/models (App::downloadFolder)
    QString hubToken;             // for gated repositories; "" = $HF_TOKEN or none. Sent only to the
                                  // Hub's own host (strata::hub::HttpClient's rule)

    // ---- defaults for a model's allocation (until it has its own, Allocate ▸ settings)
    QStringList disabledDevices;  // device keys ("cuda1", "cpu") off by default
    qint64 gpuReserveMiB = 512;   // memory kept free on each GPU (driver, other programs)
    qint64 cpuReserveMiB = 0;     // memory kept free on each CPU device
    qint64 defaultContext = 0;    // tokens; 0: the model's trained length, at most 4,096
    strata::KvCacheType kvType = strata::KvCacheType::f16;
    // "Parallel answers": sequence slots a model is loaded with, so that chats and API clients
    // are answered at once (each slot has its own KV cache, budgeted by the plan).
    int parallelAnswers = 4;

    // ---- new chats
    QString systemPrompt;
    SamplingSettings sampling;

    // ---- the local API server
    bool serverEnabled = false;
    quint16 serverPort = 0;       // 0 → kDefaultApiPort (filled in by defaults())
    QString serverAddress;        // "127.0.0.1" (this machine only) or another local address
    QString apiKey;               // "" = none
    QStringList allowedOrigins;   // browser origins ("http://localhost:3000", "*")

    // ---- appearance and behaviour
    ThemeChoice theme = ThemeChoice::system;
    int telemetryIntervalMs = 1000;
    bool restoreSession = true;   // reopen the last chat and reload the last model at start

    static Preferences defaults();
    // What is wrong, one sentence each naming the field ("Port must be between 1 and 65535");
    // empty when every value is valid.
    QStringList problems() const;
    bool operator==(const Preferences&) const = default;
};

// Limits the validation uses (the dialog's widgets use the same). Sampling limits are the chat
// settings panel's.
inline constexpr qint64 kMaxReserveMiB = 1 << 20;         // 1 TiB
inline constexpr qint64 kMaxDefaultContext = 1 << 24;     // 16 M tokens
inline constexpr int kMaxParallelAnswers = 64;
inline constexpr int kMinTelemetryMs = 250;
inline constexpr int kMaxTelemetryMs = 60000;
inline constexpr int kMaxSystemPromptChars = 100000;
// One allowed-origin entry: "*" or scheme://host[:port] (http or https, no path).
bool isValidOrigin(const QString& origin);

class Settings {
public:
    explicit Settings(const QString& iniPath);

    // ---- preferences (the Settings dialog)
    Preferences preferences() const;
    // Writes `p` when p.problems() is empty; otherwise writes nothing and returns false.
    bool setPreferences(const Preferences& p);
    // Forgets every preference (the defaults apply again); the session state stays.
    void resetPreferences();

    // Single preferences, for the menus that change one of them.
    ThemeChoice theme() const;
    void setTheme(ThemeChoice t);
    // The local API server (ApiServer): started with the app when enabled (default off), on
    // apiServerPort (default kDefaultApiPort, 8313).
    bool apiServerEnabled() const;
    void setApiServerEnabled(bool enabled);
    quint16 apiServerPort() const;
    void setApiServerPort(quint16 port);

    // ---- where the user left off
    QString lastModel() const;
    void setLastModel(const QString& path);
    // Whether lastModel() loaded successfully the last time it was loaded (a model that failed
    // or crashed the load is not reloaded by itself at the next start).
    bool lastModelLoaded() const;
    void setLastModelLoaded(bool ok);
    qint64 lastConversation() const;  // 0: none
    void setLastConversation(qint64 id);

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
