// `strata --screenshot DIR [--size WxH] [--theme light|dark]`: renders each main view with
// sample data to DIR/<view>-<theme>.png (offscreen; no model, no GPU needed).
#pragma once

#include <QSize>
#include <QStringList>

class QApplication;

namespace strata::ui {

struct ScreenshotOptions {
    QString dir;
    QSize size{1280, 800};
    QStringList themes{QStringLiteral("light"), QStringLiteral("dark")};
};

// Returns the process exit code; prints each file written.
int runScreenshots(QApplication& app, const ScreenshotOptions& options);

}  // namespace strata::ui
