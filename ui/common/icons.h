// Icons drawn for Strata (resources/icons/*.svg, stroke="currentColor"), tinted to a colour.
// Rendered through Qt's SVG image-format plugin; without it icons are empty and buttons keep
// their text.
#pragma once

#include <QColor>
#include <QIcon>
#include <QString>

namespace strata::ui {

// `name` is the file's base name ("chat", "copy"); colour defaults to the palette's text.
QIcon icon(const QString& name, const QColor& color = {});
// A two-state icon for checkable buttons (normal / checked colours).
QIcon checkableIcon(const QString& name, const QColor& normal, const QColor& checked);
QPixmap iconPixmap(const QString& name, const QColor& color, int size, qreal dpr = 1.0);
QPixmap logoPixmap(int size, qreal dpr = 1.0);

}  // namespace strata::ui
