// Theme: Fusion style with a hand-tuned light or dark palette and a small stylesheet.
//
// "System" follows the desktop: Qt 6.4 has no QStyleHints::colorScheme (6.5+), so the system's
// preference is read from the lightness of the platform palette's window colour at startup.
#pragma once

#include <QColor>
#include <QPalette>
#include <QString>

#include "settings.h"

class QApplication;

namespace strata::ui {

enum class ThemeKind { light, dark };

// Colours views draw with (bars, cards, badges), matching the palette.
struct ThemeColors {
    QColor window, surface, surfaceAlt, border, text, mutedText, accent, accentText;
    QColor weights, kvCache, scratch, free, overflow, good, bad, warning;
    QColor userBubble, codeBackground;
    QList<QColor> devicePalette;  // one colour per device in topology and layer strips
};

class Theme {
public:
    // Reads the system preference before the style is changed (call once, before apply()).
    static ThemeKind detectSystem(const QPalette& platformPalette);

    static ThemeKind resolve(app::ThemeChoice choice, ThemeKind system);
    static void apply(QApplication& app, ThemeKind kind);
    static QPalette palette(ThemeKind kind);
    static QString styleSheet(ThemeKind kind);
    static const ThemeColors& colors(ThemeKind kind);
};

// The colours of the theme the application currently uses (read from its palette).
const ThemeColors& currentColors();
bool isDark(const QPalette& palette);

}  // namespace strata::ui
