// An App (temporary data folder, scripted or real backend) and its main window, for UI tests,
// with the steps several of them share: a small model file for the library, adding it, and
// opening the Allocate page on it.
#pragma once

#include <QApplication>
#include <QTemporaryDir>
#include <QtTest>
#include <memory>

#include "allocation/allocation_panel.h"
#include "allocation/fit_preview.h"
#include "app.h"
#include "fake_backend.h"
#include "library/model_importer.h"
#include "main_window.h"
#include "test_models.h"

namespace strata::test {

// Writes a random model into `dir` as `name`.gguf and returns its canonical path (the library's
// key for it); "" with `error` set when it cannot be written.
inline QString writeLibraryModel(const QTemporaryDir& dir, const QString& name, const RandomModelConfig& cfg,
                                 QString* error) {
    const QString path = writeRandomModel(dir, name, cfg, error);
    return path.isEmpty() ? QString() : QFileInfo(path).canonicalFilePath();
}

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

    // Adds `model` (a canonical path) to the library and waits until its footprint is read.
    // Test-failure style (QTRY): check QTest::currentTestFailed() after it.
    void importModel(const QString& model) {
        app->importer().importPaths({model});
        QTRY_VERIFY(app->fits().hasFootprint(model));
    }
    // Shows the Allocate page on `model` (in the library) and waits until its fit preview has bars.
    void showAllocation(const QString& model) {
        window->showPage(ui::MainWindow::AllocationPage);
        ui::AllocationPanel* panel = window->allocationPanel();
        panel->selectModel(model);
        QTRY_COMPARE(panel->modelPath(), model);
        QTRY_VERIFY(!panel->preview()->bars().isEmpty());
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
