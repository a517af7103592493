#include "common/theme.h"

#include <QApplication>
#include <QFont>
#include <QStyleFactory>

namespace strata::ui {

namespace {

ThemeColors makeLight() {
    ThemeColors c;
    c.window = QColor(0xf4, 0xf5, 0xf7);
    c.surface = QColor(0xff, 0xff, 0xff);
    c.surfaceAlt = QColor(0xee, 0xf0, 0xf3);
    c.border = QColor(0xd8, 0xdb, 0xe1);
    c.text = QColor(0x1c, 0x1e, 0x23);
    c.mutedText = QColor(0x63, 0x68, 0x73);
    c.accent = QColor(0x2f, 0x6f, 0xe4);
    c.accentText = Qt::white;
    c.weights = QColor(0x3b, 0x7d, 0xf0);
    c.kvCache = QColor(0x1f, 0xa8, 0x8f);
    c.scratch = QColor(0xe0, 0x9b, 0x2d);
    c.free = QColor(0xe3, 0xe6, 0xeb);
    c.overflow = QColor(0xd9, 0x3c, 0x3c);
    c.good = QColor(0x1e, 0x8e, 0x4e);
    c.bad = QColor(0xc6, 0x2f, 0x2f);
    c.warning = QColor(0xb7, 0x6e, 0x00);
    c.userBubble = QColor(0xe4, 0xed, 0xfd);
    c.codeBackground = QColor(0xf3, 0xf4, 0xf7);
    c.devicePalette = {QColor(0x3b, 0x7d, 0xf0), QColor(0x1f, 0xa8, 0x8f), QColor(0xe0, 0x9b, 0x2d),
                       QColor(0x9b, 0x5d, 0xe5), QColor(0xe0, 0x5a, 0x8a), QColor(0x5f, 0x6b, 0x7a)};
    return c;
}

ThemeColors makeDark() {
    ThemeColors c;
    c.window = QColor(0x1b, 0x1c, 0x20);
    c.surface = QColor(0x24, 0x25, 0x2a);
    c.surfaceAlt = QColor(0x2c, 0x2e, 0x34);
    c.border = QColor(0x3a, 0x3d, 0x45);
    c.text = QColor(0xe7, 0xe8, 0xec);
    c.mutedText = QColor(0x9a, 0x9e, 0xa8);
    c.accent = QColor(0x5b, 0x8d, 0xef);
    c.accentText = Qt::white;
    c.weights = QColor(0x5b, 0x8d, 0xef);
    c.kvCache = QColor(0x34, 0xc0, 0xa4);
    c.scratch = QColor(0xe8, 0xa8, 0x3e);
    c.free = QColor(0x38, 0x3b, 0x43);
    c.overflow = QColor(0xef, 0x5b, 0x5b);
    c.good = QColor(0x4c, 0xc3, 0x7a);
    c.bad = QColor(0xef, 0x6b, 0x6b);
    c.warning = QColor(0xe8, 0xb0, 0x4a);
    c.userBubble = QColor(0x2d, 0x3b, 0x57);
    c.codeBackground = QColor(0x1a, 0x1b, 0x1f);
    c.devicePalette = {QColor(0x5b, 0x8d, 0xef), QColor(0x34, 0xc0, 0xa4), QColor(0xe8, 0xa8, 0x3e),
                       QColor(0xb0, 0x82, 0xf0), QColor(0xec, 0x76, 0xa3), QColor(0x8a, 0x93, 0xa2)};
    return c;
}

}  // namespace

bool isDark(const QPalette& palette) { return palette.color(QPalette::Window).lightnessF() < 0.5; }

ThemeKind Theme::detectSystem(const QPalette& platformPalette) {
    return isDark(platformPalette) ? ThemeKind::dark : ThemeKind::light;
}

ThemeKind Theme::resolve(app::ThemeChoice choice, ThemeKind system) {
    switch (choice) {
        case app::ThemeChoice::light: return ThemeKind::light;
        case app::ThemeChoice::dark: return ThemeKind::dark;
        case app::ThemeChoice::system: return system;
    }
    return system;
}

const ThemeColors& Theme::colors(ThemeKind kind) {
    static const ThemeColors light = makeLight();  // constant tables, not state
    static const ThemeColors dark = makeDark();
    return kind == ThemeKind::dark ? dark : light;
}

const ThemeColors& currentColors() {
    return Theme::colors(isDark(QApplication::palette()) ? ThemeKind::dark : ThemeKind::light);
}

QPalette Theme::palette(ThemeKind kind) {
    const ThemeColors& c = colors(kind);
    QPalette p;
    p.setColor(QPalette::Window, c.window);
    p.setColor(QPalette::WindowText, c.text);
    p.setColor(QPalette::Base, c.surface);
    p.setColor(QPalette::AlternateBase, c.surfaceAlt);
    p.setColor(QPalette::ToolTipBase, c.surface);
    p.setColor(QPalette::ToolTipText, c.text);
    p.setColor(QPalette::PlaceholderText, c.mutedText);
    p.setColor(QPalette::Text, c.text);
    p.setColor(QPalette::Button, kind == ThemeKind::dark ? c.surfaceAlt : c.surface);
    p.setColor(QPalette::ButtonText, c.text);
    p.setColor(QPalette::BrightText, Qt::white);
    p.setColor(QPalette::Highlight, c.accent);
    p.setColor(QPalette::HighlightedText, c.accentText);
    p.setColor(QPalette::Link, c.accent);
    p.setColor(QPalette::LinkVisited, c.accent);
    p.setColor(QPalette::Light, kind == ThemeKind::dark ? c.surfaceAlt.lighter(120) : Qt::white);
    p.setColor(QPalette::Midlight, c.surfaceAlt);
    p.setColor(QPalette::Mid, c.border);
    p.setColor(QPalette::Dark, c.border.darker(130));
    p.setColor(QPalette::Shadow, QColor(0, 0, 0, 90));
    for (QPalette::ColorRole r : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, r, c.mutedText);
    p.setColor(QPalette::Disabled, QPalette::Highlight, c.border);
    return p;
}

QString Theme::styleSheet(ThemeKind kind) {
    const ThemeColors& c = colors(kind);
    QString css = QStringLiteral(R"(
QToolTip { padding: 4px 6px; border: 1px solid %border; }
QPushButton { padding: 5px 14px; border: 1px solid %border; border-radius: 6px; background: %button; min-height: 18px; }
QPushButton:hover { border-color: %accent; }
QPushButton:pressed { background: %surfaceAlt; }
QPushButton:disabled { color: %muted; }
QPushButton[primary="true"] { background: %accent; color: white; border-color: %accent; font-weight: 600; }
QPushButton[primary="true"]:hover { background: %accentHover; }
QPushButton[primary="true"]:disabled { background: %border; border-color: %border; color: %muted; }
QPushButton[danger="true"] { color: %bad; }
QToolButton { border: none; border-radius: 6px; padding: 4px; }
QToolButton:hover { background: %surfaceAlt; }
QToolButton:checked { background: %surfaceAlt; }
QLineEdit, QPlainTextEdit, QTextEdit {
  border: 1px solid %border; border-radius: 6px; padding: 4px 6px; background: %surface; selection-background-color: %accent; }
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus { border-color: %accent; }
QPushButton:focus { border: 2px solid %accent; padding: 4px 13px; }
QPushButton[primary="true"]:focus { border: 2px solid %text; }
QToolButton:focus { border: 2px solid %accent; padding: 2px; }
QTableView:focus, QListView:focus, QTreeView:focus { border-color: %accent; }
QTableView, QListView, QTreeView { border: 1px solid %border; border-radius: 8px; background: %surface;
  alternate-background-color: %surfaceAlt; selection-background-color: %selection; selection-color: %text; outline: none; }
QHeaderView::section { background: %surface; color: %muted; border: none; border-bottom: 1px solid %border;
  padding: 6px 8px; font-weight: 600; }
QScrollArea { border: none; background: transparent; }
QScrollBar:vertical { width: 10px; background: transparent; margin: 2px; }
QScrollBar::handle:vertical { background: %border; border-radius: 3px; min-height: 32px; }
QScrollBar:horizontal { height: 10px; background: transparent; margin: 2px; }
QScrollBar::handle:horizontal { background: %border; border-radius: 3px; min-width: 32px; }
QScrollBar::add-line, QScrollBar::sub-line { width: 0; height: 0; }
QScrollBar::add-page, QScrollBar::sub-page { background: transparent; }
QProgressBar { border: 1px solid %border; border-radius: 4px; background: %surfaceAlt; text-align: center; max-height: 14px; font-size: 11px; }
QProgressBar::chunk { background: %accent; border-radius: 3px; }
QStatusBar { border-top: 1px solid %border; color: %muted; }
QMenuBar { border-bottom: 1px solid %border; }
QFrame[card="true"] { background: %surface; border: 1px solid %border; border-radius: 10px; }
QFrame[rail="true"] { background: %rail; border-right: 1px solid %border; }
QFrame[sidebar="true"] { background: %sidebar; border-right: 1px solid %border; }
QFrame[topbar="true"] { background: %surface; border-bottom: 1px solid %border; }
QLabel[muted="true"] { color: %muted; }
QLabel[heading="true"] { font-size: 17px; font-weight: 600; }
QLabel[subheading="true"] { font-size: 13px; font-weight: 600; }
QToolButton[nav="true"] { color: %muted; padding: 6px 2px; border-radius: 8px; font-size: 11px; }
QToolButton[nav="true"]:checked { color: %accent; background: %navChecked; }
QToolButton[nav="true"]:hover:!checked { background: %surfaceAlt; }
QToolButton[nav="true"]:focus { border: 2px solid %accent; padding: 4px 0px; }
)");
    const QColor selection = kind == ThemeKind::dark ? c.accent.darker(210) : c.accent.lighter(185);
    const QColor navChecked = kind == ThemeKind::dark ? QColor(0x2b, 0x35, 0x4d) : QColor(0xe3, 0xec, 0xfc);
    css.replace(QStringLiteral("%border"), c.border.name())
        .replace(QStringLiteral("%accentHover"), c.accent.lighter(112).name())
        .replace(QStringLiteral("%accent"), c.accent.name())
        .replace(QStringLiteral("%surfaceAlt"), c.surfaceAlt.name())
        .replace(QStringLiteral("%surface"), c.surface.name())
        .replace(QStringLiteral("%button"), (kind == ThemeKind::dark ? c.surfaceAlt : c.surface).name())
        .replace(QStringLiteral("%muted"), c.mutedText.name())
        .replace(QStringLiteral("%text"), c.text.name())
        .replace(QStringLiteral("%bad"), c.bad.name())
        .replace(QStringLiteral("%selection"), selection.name())
        .replace(QStringLiteral("%navChecked"), navChecked.name())
        .replace(QStringLiteral("%rail"), (kind == ThemeKind::dark ? c.window.darker(115) : c.surfaceAlt).name())
        .replace(QStringLiteral("%sidebar"), (kind == ThemeKind::dark ? c.window : c.window).name());
    return css;
}

void Theme::apply(QApplication& app, ThemeKind kind) {
    app.setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    QFont font = app.font();
    if (font.pointSizeF() < 10) {  // many desktops default to 9 pt: too small for reading chats
        font.setPointSizeF(10);
        app.setFont(font);
    }
    app.setPalette(palette(kind));
    app.setStyleSheet(styleSheet(kind));
}

}  // namespace strata::ui
