// An App (temporary data folder, scripted or real backend) and its main window, for UI tests,
// with the steps several of them share: a small model file for the library, adding it, and
// opening the Allocate page on it.
#pragma once

#include <QAbstractScrollArea>
#include <QApplication>
#include <QScrollBar>
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

// The scroll areas inside `page` that scroll sideways now (their horizontal scroll bar has
// somewhere to go): "" when none does. A page must show everything at the window's minimum size
// without that; a box that scrolls on purpose sets Qt::ScrollBarAlwaysOff or is left out here.
inline QString sidewaysScrolling(QWidget* page) {
    QCoreApplication::processEvents();  // the layouts' posted updates
    QStringList out;
    const auto areas = page->findChildren<QAbstractScrollArea*>();
    for (QAbstractScrollArea* a : areas) {
        const QScrollBar* bar = a->horizontalScrollBar();
        if (!a->isVisibleTo(page) || a->horizontalScrollBarPolicy() == Qt::ScrollBarAlwaysOff || bar->maximum() <= 0) continue;
        out.append(QStringLiteral("%1 %2 scrolls sideways (scroll bar maximum %3, viewport %4 px wide)")
                       .arg(QString::fromLatin1(a->metaObject()->className()), a->objectName())
                       .arg(bar->maximum())
                       .arg(a->viewport()->width()));
    }
    return out.join(QStringLiteral("; "));
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
