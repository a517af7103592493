// Pipeline: executes a plan's stages in order, each on its own thread, handing hidden states
// from stage to stage through Transports.
//
// Several sequences can be in flight at once: run() is thread-safe, and while stage i works on
// sequence A's micro-batch, stage i+1 can work on sequence B's. One sequence has at most one
// micro-batch in flight (run() blocks until its batch has left the last stage), so its hidden
// slot on each stage is never overwritten while in use.
//
// Ownership: the Pipeline owns its stages, transports and threads; destroying it stops the
// threads after the batches in flight finish.
#pragma once

#include <condition_variable>
#include <deque>
#include <future>
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

    // Runs one micro-batch (n_tok ≤ n_batch tokens of the sequence in `slot`, at positions
    // pos0..) through every stage; writes the last token's logits to `logits` when non-null
    // (every token's, n_tok × n_vocab, with all_rows). Blocks until done. A failing stage's
    // error is returned with its device named.
    Status run(int slot, const int32_t* tokens, int64_t n_tok, int64_t pos0, float* logits, bool all_rows = false);

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
