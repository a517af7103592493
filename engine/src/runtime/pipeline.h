// Pipeline: executes a plan's stages in order, each on its own thread, handing hidden states
// from stage to stage through Transports.
//
// Several batches can be in flight at once: submit() is thread-safe, and while stage i
// works on one batch, stage i+1 can work on another. Batches in flight at the same time must use
// different lanes (runtime/batch.h), so a lane's hidden region on each stage is never
// overwritten while in use, and must not share a sequence (its KV cache is written in order).
// runtime/batch_scheduler.h keeps to both rules.
//
// Ownership: the Pipeline owns its stages, transports and threads; destroying it stops the
// threads after the batches in flight finish.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "backend/device.h"
#include "runtime/stage.h"

namespace strata {

struct StageStats {
    std::string device_id;
    int layer_begin = 0, layer_end = 0;
    double busy_seconds = 0;      // running batches
    double idle_seconds = 0;      // waiting for work (since the pipeline started)
    uint64_t batches = 0;
    uint64_t tokens = 0;
    uint64_t transfer_bytes = 0;  // hidden state sent to the next stage
    double transfer_seconds = 0;
    std::string transport;        // to the next stage ("" for the last)
};

class Pipeline {
public:
    Pipeline(std::vector<std::unique_ptr<Stage>> stages, std::vector<std::unique_ptr<Transport>> transports);
    ~Pipeline();
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    // Queues a batch (≤ n_batch rows) to run through every stage. `done` is called exactly once,
    // on a stage thread, when the batch has left the last stage (logits written where its
    // segments asked) or failed (a failing stage's error, with its device named). The batch's
    // tokens and logits memory must stay valid until then.
    using BatchDone = std::function<void(Status)>;
    void submit(Batch batch, BatchDone done);

    std::vector<StageStats> stats() const;
    void reset_stats();
    const std::vector<std::unique_ptr<Stage>>& stages() const { return stages_; }

private:
    struct Job;
    struct StageWorker;
    void worker_loop(size_t index);

    std::vector<std::unique_ptr<Stage>> stages_;
    std::vector<std::unique_ptr<Transport>> transports_;  // transports_[i]: stage i → i+1
    std::vector<std::unique_ptr<StageWorker>> workers_;
};

}  // namespace strata
