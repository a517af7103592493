// Accessible names: what a screen reader announces for a control. Qt finds a control's name in
// its accessibleName, a QLabel whose buddy it is (QFormLayout rows set that), or its own text
// (buttons, check boxes). Icon-only buttons and bare fields have none of these; their visible
// label is their tooltip or placeholder, which Qt announces only as a description. These
// helpers publish that label as the name, and find the controls that still have none (the
// accessibility test fails on them).
#pragma once

#include <QList>
#include <QString>

class QWidget;

namespace strata::ui {

// Interactive: a control the user operates (button, field, box, slider, list, tab bar), not a
// part of one (a spin box's line edit, a combo box's popup, a scroll bar).
bool isInteractiveControl(const QWidget* w);
// The name Qt's accessibility gives `w` ("" when none).
QString accessibleNameOf(QWidget* w);
// Sets `w`'s accessible name from its tooltip (without a trailing "(Ctrl+N)") or placeholder
// when it is an interactive control that has no name otherwise. Called for every widget of the
// main window when it is first shown (MainWindow's Polish filter), so widgets made later are
// named too.
void nameFromVisibleLabel(QWidget* w);
// Interactive controls under `root` (walking the accessibility tree, hidden pages included)
// that have no name, described as "ClassName 'objectName' in Parent > Parent".
QStringList unnamedControls(QWidget* root);

}  // namespace strata::ui
