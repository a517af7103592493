#include "settings.h"

#include <QDir>
#include <QHostAddress>
#include <QJsonDocument>
#include <QStandardPaths>
#include <QUrl>
#include <cmath>

#include "server/api_server.h"
#include "strata/engine.h"

namespace strata::app {

namespace {

// Keys of the preferences (the session state's are written where they are used).
const QString kModelFolders = QStringLiteral("library/folders");
const QString kDisabledDevices = QStringLiteral("allocation/disabled_devices");
const QString kGpuReserve = QStringLiteral("allocation/gpu_reserve_mib");
const QString kCpuReserve = QStringLiteral("allocation/cpu_reserve_mib");
const QString kContext = QStringLiteral("allocation/context");
const QString kKvType = QStringLiteral("allocation/kv_type");
const QString kParallel = QStringLiteral("allocation/parallel_answers");
const QString kSystemPrompt = QStringLiteral("chat/system_prompt");
const QString kSampling = QStringLiteral("chat/sampling");
const QString kServerEnabled = QStringLiteral("server/enabled");
const QString kServerPort = QStringLiteral("server/port");
const QString kServerAddress = QStringLiteral("server/address");
const QString kApiKey = QStringLiteral("server/api_key");
const QString kOrigins = QStringLiteral("server/allowed_origins");
const QString kTheme = QStringLiteral("ui/theme");
const QString kTelemetry = QStringLiteral("ui/telemetry_interval_ms");
const QString kRestore = QStringLiteral("session/restore");
const QString kDownloadFolder = QStringLiteral("hub/downloadFolder");
const QString kHubToken = QStringLiteral("hub/token");
const QStringList kPreferenceKeys = {kModelFolders, kDisabledDevices, kGpuReserve, kCpuReserve, kContext, kKvType, kParallel,
                                     kSystemPrompt, kSampling, kServerEnabled, kServerPort, kServerAddress, kApiKey,
                                     kOrigins, kTheme, kTelemetry, kRestore,
                                     kDownloadFolder, kHubToken};

QString kvName(strata::KvCacheType t) {
    switch (t) {
        case strata::KvCacheType::f32: return QStringLiteral("f32");
        case strata::KvCacheType::q8_0: return QStringLiteral("q8_0");
        case strata::KvCacheType::f16: break;
    }
    return QStringLiteral("f16");
}

strata::KvCacheType parseKv(const QString& s) {
    if (s == QLatin1String("f32")) return strata::KvCacheType::f32;
    if (s == QLatin1String("q8_0")) return strata::KvCacheType::q8_0;
    return strata::KvCacheType::f16;
}

bool inRange(double v, double lo, double hi) { return std::isfinite(v) && v >= lo && v <= hi; }

QStringList samplingProblems(const SamplingSettings& s) {
    QStringList out;
    if (!inRange(s.temperature, 0, 2)) out << QObject::tr("Temperature must be between 0 and 2.");
    if (!inRange(s.topP, 0, 1)) out << QObject::tr("Top P must be between 0 and 1.");
    if (!inRange(s.minP, 0, 1)) out << QObject::tr("Min P must be between 0 and 1.");
    if (!inRange(s.repeatPenalty, 0.5, 2)) out << QObject::tr("Repeat penalty must be between 0.5 and 2.");
    if (s.topK < 0 || s.topK > 1000) out << QObject::tr("Top K must be between 0 (off) and 1000.");
    if (s.maxTokens < 1 || s.maxTokens > 32768) out << QObject::tr("Max tokens must be between 1 and 32,768.");
    return out;
}

// A string list as one INI value: QSettings writes lists of one item as a plain string.
QStringList readList(const QSettings& s, const QString& key) {
    const QVariant v = s.value(key);
    QStringList out = v.typeId() == QMetaType::QStringList ? v.toStringList() : QStringList{v.toString()};
    out.removeAll(QString());
    return out;
}

}  // namespace

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

bool isValidOrigin(const QString& origin) {
    if (origin == QLatin1String("*")) return true;
    const QUrl u(origin, QUrl::StrictMode);
    return u.isValid() && (u.scheme() == QLatin1String("http") || u.scheme() == QLatin1String("https")) &&
           !u.host().isEmpty() && (u.path().isEmpty() || u.path() == QLatin1String("/")) && !u.hasQuery() &&
           !u.hasFragment() && u.userInfo().isEmpty();
}

Preferences Preferences::defaults() {
    const strata::LoadOptions engine;
    Preferences p;
    p.gpuReserveMiB = qint64(engine.gpu_reserve >> 20);
    p.cpuReserveMiB = qint64(engine.cpu_reserve >> 20);
    p.serverPort = kDefaultApiPort;
    p.serverAddress = QStringLiteral("127.0.0.1");
    return p;
}

QStringList Preferences::problems() const {
    QStringList out;
    for (const QString& f : modelFolders)
        if (!QDir::isAbsolutePath(f)) out << QObject::tr("Model folder \"%1\" is not a full path.").arg(f);
    if (!downloadFolder.isEmpty() && !QDir::isAbsolutePath(downloadFolder))
        out << QObject::tr("The download folder \"%1\" is not a full path.").arg(downloadFolder);
    for (const QChar c : hubToken)
        if (c.unicode() < 0x21 || c.unicode() > 0x7e) {
            out << QObject::tr("The Hugging Face token may hold only visible ASCII characters, no spaces.");
            break;
        }
    if (gpuReserveMiB < 0 || gpuReserveMiB > kMaxReserveMiB) out << QObject::tr("The GPU reserve must be between 0 and 1 TiB.");
    if (cpuReserveMiB < 0 || cpuReserveMiB > kMaxReserveMiB) out << QObject::tr("The CPU reserve must be between 0 and 1 TiB.");
    if (defaultContext < 0 || defaultContext > kMaxDefaultContext)
        out << QObject::tr("The default context must be between 0 (the model's) and 16,777,216 tokens.");
    if (parallelAnswers < 1 || parallelAnswers > kMaxParallelAnswers)
        out << QObject::tr("Parallel answers must be between 1 and 64.");
    if (systemPrompt.size() > kMaxSystemPromptChars) out << QObject::tr("The system prompt is longer than 100,000 characters.");
    out << samplingProblems(sampling);
    if (serverPort == 0) out << QObject::tr("The server port must be between 1 and 65535.");
    if (QHostAddress(serverAddress).isNull())
        out << QObject::tr("The server address \"%1\" is not an IP address (127.0.0.1 serves this machine only).").arg(serverAddress);
    else if (apiKey.isEmpty() && strata::server::serve_address_needs_key(serverAddress.toStdString()))
        out << QObject::tr("Serving on %1 lets other machines use the API: set an API key first (or serve on 127.0.0.1).")
                   .arg(serverAddress);
    for (const QChar c : apiKey)
        if (c.unicode() < 0x21 || c.unicode() > 0x7e) {
            out << QObject::tr("The API key may hold only visible ASCII characters, no spaces.");
            break;
        }
    for (const QString& o : allowedOrigins)
        if (!isValidOrigin(o)) out << QObject::tr("\"%1\" is not an origin (e.g. http://localhost:3000, or * for any page).").arg(o);
    if (telemetryIntervalMs < kMinTelemetryMs || telemetryIntervalMs > kMaxTelemetryMs)
        out << QObject::tr("The telemetry interval must be between 0.25 and 60 seconds.");
    return out;
}

Settings::Settings(const QString& iniPath) : m_settings(iniPath, QSettings::IniFormat) {}

// Every value read is checked on its own: one bad value (a hand-edited file) falls back to its
// default and leaves the others as they are.
Preferences Settings::preferences() const {
    const Preferences d = Preferences::defaults();
    Preferences p = d;
    auto integer = [this](const QString& key, qint64 fallback, qint64 lo, qint64 hi) {
        bool ok = false;
        const qint64 v = m_settings.value(key).toLongLong(&ok);
        return ok && v >= lo && v <= hi ? v : fallback;
    };
    for (const QString& f : readList(m_settings, kModelFolders))
        if (QDir::isAbsolutePath(f) && !p.modelFolders.contains(f)) p.modelFolders << QDir::cleanPath(f);
    if (const QString f = m_settings.value(kDownloadFolder).toString(); QDir::isAbsolutePath(f)) p.downloadFolder = QDir::cleanPath(f);
    const QString token = m_settings.value(kHubToken).toString();
    Preferences tokenOnly = d;
    tokenOnly.hubToken = token;
    if (tokenOnly.problems().isEmpty()) p.hubToken = token;
    p.disabledDevices = readList(m_settings, kDisabledDevices);
    p.gpuReserveMiB = integer(kGpuReserve, d.gpuReserveMiB, 0, kMaxReserveMiB);
    p.cpuReserveMiB = integer(kCpuReserve, d.cpuReserveMiB, 0, kMaxReserveMiB);
    p.defaultContext = integer(kContext, d.defaultContext, 0, kMaxDefaultContext);
    p.kvType = parseKv(m_settings.value(kKvType).toString());
    p.parallelAnswers = int(integer(kParallel, d.parallelAnswers, 1, kMaxParallelAnswers));
    p.systemPrompt = m_settings.value(kSystemPrompt).toString().left(kMaxSystemPromptChars);
    const SamplingSettings sampling =
        SamplingSettings::fromJson(QJsonDocument::fromJson(m_settings.value(kSampling).toByteArray()).object());
    if (samplingProblems(sampling).isEmpty()) p.sampling = sampling;
    p.serverEnabled = apiServerEnabled();
    p.serverPort = apiServerPort();
    const QString key = m_settings.value(kApiKey).toString();
    Preferences keyOnly = d;
    keyOnly.apiKey = key;
    if (keyOnly.problems().isEmpty()) p.apiKey = key;
    // A hand-edited file that opens the API to the network without a key keeps it on loopback.
    const QString address = m_settings.value(kServerAddress).toString();
    if (!QHostAddress(address).isNull() &&
        (!p.apiKey.isEmpty() || !strata::server::serve_address_needs_key(address.toStdString())))
        p.serverAddress = address;
    for (const QString& o : readList(m_settings, kOrigins))
        if (isValidOrigin(o)) p.allowedOrigins << o;
    p.theme = theme();
    p.telemetryIntervalMs = int(integer(kTelemetry, d.telemetryIntervalMs, kMinTelemetryMs, kMaxTelemetryMs));
    p.restoreSession = m_settings.value(kRestore, d.restoreSession).toBool();
    return p;
}

bool Settings::setPreferences(const Preferences& p) {
    if (!p.problems().isEmpty()) return false;
    m_settings.setValue(kModelFolders, p.modelFolders);
    m_settings.setValue(kDownloadFolder, p.downloadFolder);
    m_settings.setValue(kHubToken, p.hubToken);
    m_settings.setValue(kDisabledDevices, p.disabledDevices);
    m_settings.setValue(kGpuReserve, p.gpuReserveMiB);
    m_settings.setValue(kCpuReserve, p.cpuReserveMiB);
    m_settings.setValue(kContext, p.defaultContext);
    m_settings.setValue(kKvType, kvName(p.kvType));
    m_settings.setValue(kParallel, p.parallelAnswers);
    m_settings.setValue(kSystemPrompt, p.systemPrompt);
    m_settings.setValue(kSampling, QJsonDocument(p.sampling.toJson()).toJson(QJsonDocument::Compact));
    m_settings.setValue(kServerEnabled, p.serverEnabled);
    m_settings.setValue(kServerPort, p.serverPort);
    m_settings.setValue(kServerAddress, p.serverAddress);
    m_settings.setValue(kApiKey, p.apiKey);
    m_settings.setValue(kOrigins, p.allowedOrigins);
    setTheme(p.theme);
    m_settings.setValue(kTelemetry, p.telemetryIntervalMs);
    m_settings.setValue(kRestore, p.restoreSession);
    return true;
}

void Settings::resetPreferences() {
    for (const QString& key : kPreferenceKeys) m_settings.remove(key);
}

ThemeChoice Settings::theme() const { return parseThemeChoice(m_settings.value(kTheme).toString()); }
void Settings::setTheme(ThemeChoice t) { m_settings.setValue(kTheme, themeChoiceName(t)); }

bool Settings::apiServerEnabled() const { return m_settings.value(kServerEnabled, false).toBool(); }
void Settings::setApiServerEnabled(bool enabled) { m_settings.setValue(kServerEnabled, enabled); }

quint16 Settings::apiServerPort() const {
    bool ok = false;
    const int port = m_settings.value(kServerPort).toInt(&ok);
    return ok && port > 0 && port <= 65535 ? quint16(port) : kDefaultApiPort;  // a hand-edited file may hold anything
}
void Settings::setApiServerPort(quint16 port) { m_settings.setValue(kServerPort, port); }

QString Settings::lastModel() const { return m_settings.value(QStringLiteral("library/last_model")).toString(); }
void Settings::setLastModel(const QString& path) { m_settings.setValue(QStringLiteral("library/last_model"), path); }
bool Settings::lastModelLoaded() const { return m_settings.value(QStringLiteral("session/last_model_loaded"), false).toBool(); }
void Settings::setLastModelLoaded(bool ok) { m_settings.setValue(QStringLiteral("session/last_model_loaded"), ok); }
qint64 Settings::lastConversation() const {
    bool ok = false;
    const qint64 id = m_settings.value(QStringLiteral("session/last_conversation")).toLongLong(&ok);
    return ok && id > 0 ? id : 0;
}
void Settings::setLastConversation(qint64 id) { m_settings.setValue(QStringLiteral("session/last_conversation"), id); }

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
