// strata: the desktop application. Builds the App (data file, engine worker thread, stores),
// applies the theme and shows the main window; or, with --screenshot, renders each view to PNG.
// --serve [PORT] also starts the local OpenAI-compatible API server; without a display it runs
// with a hidden window, so `strata --serve MODEL.gguf` works on a headless machine.
#include <QApplication>
#include <QCommandLineParser>
#include <QMessageBox>
#include <cstdio>
#include <cstring>

#include "app.h"
#include "common/theme.h"
#include "main_window.h"
#include "screenshot/screenshot_runner.h"
#include "server/api_server.h"
#include "settings.h"
#include "strata/device_info.h"

namespace {

bool hasArg(int argc, char** argv, const char* name) {
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], name) == 0 || std::strncmp(argv[i], name, std::strlen(name)) == 0) return true;
    return false;
}

// QCommandLineParser has no options with optional values: `--serve` alone becomes
// `--serve=0` (0: the saved port) and `--serve 8000` becomes `--serve=8000`, so the number is
// not taken for a model file.
QStringList normalizeServeArgument(QStringList args) {
    for (qsizetype i = 1; i < args.size(); ++i) {
        if (args[i] != QLatin1String("--serve")) continue;
        bool isPort = false;
        if (i + 1 < args.size()) args[i + 1].toUShort(&isPort);
        if (isPort) {
            args[i] += QLatin1Char('=') + args[i + 1];
            args.removeAt(i + 1);
        } else {
            args[i] += QLatin1String("=0");
        }
    }
    return args;
}

// Without a display Qt would abort; say what to do instead.
bool haveDisplay() {
    return !qEnvironmentVariableIsEmpty("DISPLAY") || !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY") ||
           !qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM");
}

}  // namespace

int main(int argc, char** argv) {
    const bool screenshot = hasArg(argc, argv, "--screenshot");
    const bool serve = hasArg(argc, argv, "--serve");
    const bool help = hasArg(argc, argv, "--help") || hasArg(argc, argv, "-h") || hasArg(argc, argv, "--version");
    // A server needs no screen: run with a hidden window where there is none.
    if ((screenshot || (serve && !haveDisplay())) && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    if (!screenshot && !help && !haveDisplay()) {
        std::fprintf(stderr,
                     "strata: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set), so the window cannot open.\n"
                     "For a chat in this terminal, use the command-line tool:\n"
                     "    strata-cli chat -m MODEL.gguf\n"
                     "(strata-cli --help lists its other commands; QT_QPA_PLATFORM=offscreen forces a hidden window;\n"
                     "strata --serve MODEL.gguf serves the model's OpenAI-compatible API without a window.)\n");
        return 2;
    }

    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("strata"));
    QApplication::setApplicationDisplayName(QStringLiteral("Strata"));
    QApplication::setApplicationVersion(QStringLiteral(STRATA_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("strata"));
    const strata::ui::ThemeKind systemTheme = strata::ui::Theme::detectSystem(QApplication::palette());

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Run large language models across the GPUs and CPU of this machine."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("files"), QStringLiteral("GGUF model files to add to the library (one file: also load it and open the chat)"), QStringLiteral("[files...]"));
    const QCommandLineOption devices(QStringLiteral("devices"),
                                     QStringLiteral("Devices in priority order, as for strata-cli: cuda0,cuda1,cpu or virtual "
                                                    "CPU devices such as cpu:4GiB,cpu:2GiB"),
                                     QStringLiteral("list"));
    const QCommandLineOption dataDir(QStringLiteral("data-dir"), QStringLiteral("Folder for the library and chats (default: %1)")
                                                                     .arg(strata::app::defaultDataDir()),
                                     QStringLiteral("dir"));
    const QCommandLineOption shots(QStringLiteral("screenshot"), QStringLiteral("Render each view with sample data to DIR/*.png and exit"),
                                   QStringLiteral("dir"));
    const QCommandLineOption size(QStringLiteral("size"), QStringLiteral("Window size for --screenshot (default 1280x800)"),
                                  QStringLiteral("WxH"));
    const QCommandLineOption theme(QStringLiteral("theme"), QStringLiteral("light or dark (default: the saved choice, or the system's)"),
                                   QStringLiteral("theme"));
    const QCommandLineOption serveOption(
        QStringLiteral("serve"),
        QStringLiteral("Also serve the OpenAI-compatible API on http://127.0.0.1:PORT/v1 (PORT may be left out: the "
                       "saved port, default %1)")
            .arg(strata::app::kDefaultApiPort),
        QStringLiteral("port"));
    const QCommandLineOption simulate(
        QStringLiteral("simulate"),
        QStringLiteral("Plan for the machine a profile describes instead of this one (e.g. resources/machines/"
                       "4x-rtx4090-pcie.json): its GPUs and links in every view; models are planned, never loaded"),
        QStringLiteral("file"));
    parser.addOptions({devices, dataDir, shots, size, theme, serveOption, simulate});
    parser.process(normalizeServeArgument(QCoreApplication::arguments()));

    if (parser.isSet(theme) && parser.value(theme) != QLatin1String("light") && parser.value(theme) != QLatin1String("dark")) {
        std::fprintf(stderr, "strata: --theme must be light or dark\n");
        return 2;
    }
    if (parser.isSet(shots)) {
        strata::ui::ScreenshotOptions o;
        o.dir = parser.value(shots);
        if (parser.isSet(size)) {
            const QStringList wh = parser.value(size).split(QLatin1Char('x'));
            if (wh.size() != 2 || wh[0].toInt() < 640 || wh[1].toInt() < 480) {
                std::fprintf(stderr, "strata: --size must be WxH, at least 640x480 (e.g. 1920x1080)\n");
                return 2;
            }
            o.size = QSize(wh[0].toInt(), wh[1].toInt());
        }
        if (parser.isSet(theme)) o.themes = {parser.value(theme)};
        return strata::ui::runScreenshots(app, o);
    }

    strata::app::AppOptions options;
    options.dataDir = parser.value(dataDir);
    if (parser.isSet(simulate)) {
        if (parser.isSet(devices) || parser.isSet(serveOption)) {
            std::fprintf(stderr, "strata: --simulate plans for another machine: it goes with neither --devices nor --serve\n");
            return 2;
        }
        auto profile = strata::load_machine_profile(parser.value(simulate).toStdString());
        if (!profile.ok()) {
            std::fprintf(stderr, "strata: --simulate: %s\n", profile.status().message().c_str());
            return 2;
        }
        options.simulate = std::move(profile).value();
    }
    if (parser.isSet(devices)) {
        std::vector<strata::DeviceSpec> specs;
        std::string error;
        if (!strata::parse_device_specs(parser.value(devices).toStdString(), specs, error)) {
            std::fprintf(stderr, "strata: --devices: %s\n", error.c_str());
            return 2;
        }
        options.deviceSpecs = QList<strata::DeviceSpec>(specs.begin(), specs.end());
    }
    strata::app::App core(options);
    if (!core.start()) {
        QMessageBox::critical(nullptr, QStringLiteral("Strata"),
                              QStringLiteral("Strata could not open its data file.\n\n%1").arg(core.errorString()));
        return 1;
    }
    const strata::app::ThemeChoice choice = parser.isSet(theme) ? strata::app::parseThemeChoice(parser.value(theme))
                                                                : core.settings().theme();
    strata::ui::Theme::apply(app, strata::ui::Theme::resolve(choice, systemTheme));
    if (parser.isSet(serveOption)) {
        bool ok = false;
        const quint16 port = parser.value(serveOption).toUShort(&ok);
        if (!ok) {
            std::fprintf(stderr, "strata: --serve takes a port number (1-65535)\n");
            return 2;
        }
        if (!core.startApiServer(port, /*commandLine=*/true)) {
            std::fprintf(stderr, "strata: %s\n", qPrintable(core.apiServer().errorString()));
            return 1;
        }
        std::fprintf(stderr, "strata: serving the OpenAI-compatible API on %s/v1\n", qPrintable(core.apiServer().url()));
        // Headless, the terminal is the only place to say whether the model is ready.
        QObject::connect(&core, &strata::app::App::modelLoaded, [](const QString& path) {
            std::fprintf(stderr, "strata: loaded %s\n", qPrintable(path));
        });
        QObject::connect(&core, &strata::app::App::loadFailed, [](const QString& path, const QString& message) {
            std::fprintf(stderr, "strata: could not load %s: %s\n", qPrintable(path), qPrintable(message));
        });
    }
    strata::ui::MainWindow window(core, systemTheme);
    // Where the user left off (the last chat, the last model if it loaded and still fits),
    // unless files named on the command line say what to open.
    if (parser.positionalArguments().isEmpty()) core.restoreSession();
    if (core.isSimulated())
        window.setWindowTitle(QStringLiteral("Strata — simulated: %1").arg(QString::fromStdString(options.simulate->name)));
    window.show();
    window.openFromCommandLine(parser.positionalArguments());
    const int rc = app.exec();
    core.shutdown();
    return rc;
}
