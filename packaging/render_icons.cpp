// strata-render-icons SVG OUTDIR SIZE...: writes OUTDIR/<N>x<N>/apps/strata.png for each size,
// the hicolor icon theme's layout, from the app's logo. A build step (packaging/CMakeLists.txt),
// so the PNGs are made from the one SVG the app itself shows, by the same renderer (Qt's SVG
// image plugin), rather than kept in the repository. Runs on the offscreen platform.
#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QGuiApplication>
#include <QImage>
#include <cstdio>

int main(int argc, char** argv) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() < 4) {
        std::fprintf(stderr, "usage: strata-render-icons SVG OUTDIR SIZE...\n");
        return 2;
    }
    QFile in(args[1]);
    if (!in.open(QIODevice::ReadOnly)) {
        std::fprintf(stderr, "strata-render-icons: cannot read %s\n", qPrintable(args[1]));
        return 1;
    }
    const QByteArray svg = in.readAll();
    for (int k = 3; k < args.size(); ++k) {
        bool ok = false;
        const int n = args[k].toInt(&ok);
        if (!ok || n < 8 || n > 1024) {
            std::fprintf(stderr, "strata-render-icons: bad size '%s'\n", qPrintable(args[k]));
            return 2;
        }
        // The logo declares 64×64; asking the plugin for N×N renders the vector at that size.
        QByteArray sized = svg;
        sized.replace("width=\"64\" height=\"64\"", QStringLiteral("width=\"%1\" height=\"%1\"").arg(n).toLatin1());
        QImage image;
        if (!image.loadFromData(sized, "SVG") || image.size() != QSize(n, n)) {
            std::fprintf(stderr, "strata-render-icons: cannot render %s at %d px (Qt's SVG image plugin missing?)\n",
                         qPrintable(args[1]), n);
            return 1;
        }
        const QString dir = QStringLiteral("%1/%2x%2/apps").arg(args[2]).arg(n);
        if (!QDir().mkpath(dir) || !image.save(dir + QStringLiteral("/strata.png"), "PNG")) {
            std::fprintf(stderr, "strata-render-icons: cannot write into %s\n", qPrintable(dir));
            return 1;
        }
    }
    return 0;
}
