// A worker on its own thread around a FakeBackend, for the worker and controller tests.
#pragma once

#include <QThread>
#include <memory>

#include "engine/engine_worker.h"
#include "engine/model_state.h"
#include "fake_backend.h"

namespace strata::test {

struct WorkerFixture {
    explicit WorkerFixture(FakeScript script = {}) : record(std::make_shared<FakeRecord>()) {
        app::registerWorkerMetaTypes();
        worker = std::make_unique<app::EngineWorker>(std::make_unique<FakeBackend>(std::move(script), record));
        model = std::make_unique<app::ModelState>(*worker);
        worker->moveToThread(&thread);
        thread.start();
    }
    explicit WorkerFixture(std::unique_ptr<app::EngineBackend> backend) : record(std::make_shared<FakeRecord>()) {
        app::registerWorkerMetaTypes();
        worker = std::make_unique<app::EngineWorker>(std::move(backend));
        model = std::make_unique<app::ModelState>(*worker);
        worker->moveToThread(&thread);
        thread.start();
    }
    ~WorkerFixture() { stop(); }
    void stop() {
        if (!thread.isRunning()) return;
        worker->cancelAll();
        worker->waitForAnswers();
        thread.quit();
        thread.wait();
    }

    std::shared_ptr<FakeRecord> record;
    QThread thread;
    std::unique_ptr<app::EngineWorker> worker;
    std::unique_ptr<app::ModelState> model;  // what is loaded, on this (the GUI) thread
};

}  // namespace strata::test
