#include "common/accessible_names.h"

#include <QAbstractButton>
#include <QAbstractItemView>
#include <QAbstractSlider>
#include <QAbstractSpinBox>
#include <QAccessible>
#include <QComboBox>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QRegularExpression>
#include <QScrollBar>
#include <QTabBar>
#include <QTextEdit>

namespace strata::ui {

namespace {

// Parts of a compound control: its own accessibility describes them.
bool isPartOfControl(const QWidget* w) {
    for (const QWidget* p = w->parentWidget(); p; p = p->parentWidget()) {
        if (qobject_cast<const QAbstractSpinBox*>(p) || qobject_cast<const QComboBox*>(p) ||
            qobject_cast<const QLineEdit*>(p) || qobject_cast<const QTabBar*>(p) || qobject_cast<const QScrollBar*>(p))
            return true;
        if (p->isWindow()) break;
    }
    // An item view's viewport children are its editors and index widgets.
    if (const QWidget* p = w->parentWidget(); p && qobject_cast<const QAbstractItemView*>(p->parentWidget())) return true;
    return false;
}

QString describe(const QWidget* w) {
    QStringList path;
    for (const QWidget* p = w->parentWidget(); p && path.size() < 4; p = p->parentWidget())
        path << QString::fromLatin1(p->metaObject()->className());
    return QStringLiteral("%1 '%2' (tooltip '%3') in %4")
        .arg(QString::fromLatin1(w->metaObject()->className()), w->objectName(), w->toolTip(),
             path.join(QStringLiteral(" > ")));
}

void walk(QAccessibleInterface* iface, QStringList& out, int depth) {
    if (!iface || depth > 64) return;
    QWidget* w = qobject_cast<QWidget*>(iface->object());
    if (w && isInteractiveControl(w)) {
        if (iface->text(QAccessible::Name).trimmed().isEmpty()) out << describe(w);
        return;  // its children are its own parts
    }
    for (int i = 0; i < iface->childCount(); ++i) walk(iface->child(i), out, depth + 1);
}

}  // namespace

bool isInteractiveControl(const QWidget* w) {
    if (!w || qobject_cast<const QScrollBar*>(w) || isPartOfControl(w)) return false;
    if (const auto* t = qobject_cast<const QTextEdit*>(w)) return !t->isReadOnly();
    if (const auto* t = qobject_cast<const QPlainTextEdit*>(w)) return !t->isReadOnly();
    return qobject_cast<const QAbstractButton*>(w) || qobject_cast<const QComboBox*>(w) ||
           qobject_cast<const QLineEdit*>(w) || qobject_cast<const QAbstractSpinBox*>(w) ||
           qobject_cast<const QAbstractSlider*>(w) || qobject_cast<const QAbstractItemView*>(w) ||
           qobject_cast<const QTabBar*>(w);
}

QString accessibleNameOf(QWidget* w) {
    QAccessibleInterface* iface = QAccessible::queryAccessibleInterface(w);
    return iface ? iface->text(QAccessible::Name) : QString();
}

void nameFromVisibleLabel(QWidget* w) {
    if (!isInteractiveControl(w) || !w->accessibleName().isEmpty() || !accessibleNameOf(w).trimmed().isEmpty()) return;
    QString label = w->toolTip();
    if (label.isEmpty()) {
        if (const auto* e = qobject_cast<const QLineEdit*>(w)) label = e->placeholderText();
        else if (const auto* t = qobject_cast<const QPlainTextEdit*>(w)) label = t->placeholderText();
        else if (const auto* t = qobject_cast<const QTextEdit*>(w)) label = t->placeholderText();
    }
    static const QRegularExpression keys(QStringLiteral("\\s*\\([^()]*\\)\\s*$"));  // "Stop (Esc)" → "Stop"
    label.remove(keys);
    if (label.contains(QLatin1Char('<'))) label = QString();  // rich text is no name
    if (!label.trimmed().isEmpty()) w->setAccessibleName(label.trimmed());
}

QStringList unnamedControls(QWidget* root) {
    QStringList out;
    walk(QAccessible::queryAccessibleInterface(root), out, 0);
    return out;
}

}  // namespace strata::ui
