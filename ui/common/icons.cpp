#include "common/icons.h"

#include <QApplication>
#include <QFile>
#include <QPalette>
#include <QPixmap>

// strata.qrc is compiled into the strata_ui static library, whose resource initializer the
// linker would drop: register it explicitly (Q_INIT_RESOURCE must be used outside namespaces).
static void initStrataResources() { Q_INIT_RESOURCE(strata); }

namespace strata::ui {

namespace {

QByteArray svgData(const QString& name) {
    static const bool registered = (initStrataResources(), true);
    Q_UNUSED(registered);
    QFile f(QStringLiteral(":/icons/%1.svg").arg(name));
    if (!f.open(QIODevice::ReadOnly)) return {};
    return f.readAll();
}

}  // namespace

QPixmap iconPixmap(const QString& name, const QColor& color, int size, qreal dpr) {
    QByteArray svg = svgData(name);
    const QColor c = color.isValid() ? color : QApplication::palette().color(QPalette::Text);
    svg.replace("currentColor", c.name().toLatin1());
    const int px = qRound(size * dpr);
    svg.replace("width=\"24\" height=\"24\"", QStringLiteral("width=\"%1\" height=\"%1\"").arg(px).toLatin1());
    QPixmap pm;
    if (!pm.loadFromData(svg, "SVG")) return {};
    pm.setDevicePixelRatio(dpr);
    return pm;
}

QIcon icon(const QString& name, const QColor& color) {
    QIcon i;
    for (int size : {16, 20, 24, 32}) {
        i.addPixmap(iconPixmap(name, color, size, 1.0));
        i.addPixmap(iconPixmap(name, color, size, 2.0));
    }
    QColor disabled = color.isValid() ? color : QApplication::palette().color(QPalette::Text);
    disabled.setAlphaF(0.35f);
    for (int size : {16, 20, 24}) i.addPixmap(iconPixmap(name, disabled, size, 1.0), QIcon::Disabled);
    return i;
}

QIcon checkableIcon(const QString& name, const QColor& normal, const QColor& checked) {
    QIcon i;
    for (int size : {20, 24, 32}) {
        i.addPixmap(iconPixmap(name, normal, size, 1.0), QIcon::Normal, QIcon::Off);
        i.addPixmap(iconPixmap(name, checked, size, 1.0), QIcon::Normal, QIcon::On);
        i.addPixmap(iconPixmap(name, normal, size, 2.0), QIcon::Normal, QIcon::Off);
        i.addPixmap(iconPixmap(name, checked, size, 2.0), QIcon::Normal, QIcon::On);
    }
    return i;
}

QPixmap logoPixmap(int size, qreal dpr) {
    QByteArray svg = svgData(QStringLiteral("logo"));
    const int px = qRound(size * dpr);
    svg.replace("width=\"64\" height=\"64\"", QStringLiteral("width=\"%1\" height=\"%1\"").arg(px).toLatin1());
    QPixmap pm;
    if (!pm.loadFromData(svg, "SVG")) return {};
    pm.setDevicePixelRatio(dpr);
    return pm;
}

}  // namespace strata::ui
