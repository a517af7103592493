// An App (temporary data folder, scripted or real backend) and its main window, for UI tests.
#pragma once

#include <QApplication>
#include <QTemporaryDir>
#include <QtTest>
#include <memory>

#include "app.h"
#include "fake_backend.h"
#include "main_window.h"

namespace strata::test {

struct UiFixture {
    // A scripted backend; what it was asked lands in `record`.
    explicit UiFixture(FakeScript script = {}, app::AppOptions options = {}) : record(std::make_shared<FakeRecord>()) {
        options.makeBackend = [script, r = record] { return std::make_unique<FakeBackend>(script, r); };
        start(std::move(options));
    }
    // Any backend (the real engine: app::makeStrataBackend).
    explicit UiFixture(std::function<std::unique_ptr<app::EngineBackend>()> backend, app::AppOptions options = {})
        : record(std::make_shared<FakeRecord>()) {
        options.makeBackend = std::move(backend);
        start(std::move(options));
    }
    ~UiFixture() {
        window.reset();
        app.reset();
    }

    QTemporaryDir dir;
    std::shared_ptr<FakeRecord> record;
    std::unique_ptr<app::App> app;
    std::unique_ptr<ui::MainWindow> window;

private:
    void start(app::AppOptions options) {
        options.dataDir = dir.path();
        app = std::make_unique<app::App>(std::move(options));
        if (!app->start()) qFatal("App::start failed: %s", qPrintable(app->errorString()));
        ui::Theme::apply(*qApp, ui::ThemeKind::light);
        window = std::make_unique<ui::MainWindow>(*app, ui::ThemeKind::light);
        window->resize(1280, 800);
        window->show();
    }
};

}  // namespace strata::test
