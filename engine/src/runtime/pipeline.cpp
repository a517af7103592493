#include "runtime/pipeline.h"

#include <chrono>

namespace strata {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}
}  // namespace

struct Pipeline::Job {
    Batch batch;
    BatchDone done;
};

struct Pipeline::StageWorker {
    std::thread thread;
    mutable std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::shared_ptr<Job>> queue;
    bool stopping = false;
    StageStats stats;
    Clock::time_point idle_since = Clock::now();
};

Pipeline::Pipeline(std::vector<std::unique_ptr<Stage>> stages, std::vector<std::unique_ptr<Transport>> transports)
    : stages_(std::move(stages)), transports_(std::move(transports)) {
    for (size_t i = 0; i < stages_.size(); ++i) {
        auto w = std::make_unique<StageWorker>();
        w->stats.device_id = stages_[i]->device().id();
        w->stats.layer_begin = stages_[i]->plan().layer_begin;
        w->stats.layer_end = stages_[i]->plan().layer_end;
        if (i + 1 < stages_.size()) w->stats.transport = transports_[i]->kind();
        workers_.push_back(std::move(w));
    }
    for (size_t i = 0; i < stages_.size(); ++i) {
        workers_[i]->thread = std::thread([this, i] { worker_loop(i); });
    }
}

Pipeline::~Pipeline() {
    for (auto& w : workers_) {
        {
            std::lock_guard<std::mutex> lock(w->mutex);
            w->stopping = true;
        }
        w->wake.notify_all();
    }
    for (auto& w : workers_) w->thread.join();
    // Jobs left in queues (none in normal use: run() waits for its job) fail cleanly.
    for (auto& w : workers_)
        for (auto& job : w->queue) job->done(Status(ErrorCode::cancelled, "the model was unloaded"));
}

void Pipeline::submit(Batch batch, BatchDone done) {
    if (stages_.empty()) {
        done(Status(ErrorCode::internal, "pipeline has no stages"));
        return;
    }
    auto job = std::make_shared<Job>(Job{std::move(batch), std::move(done)});
    {
        std::lock_guard<std::mutex> lock(workers_[0]->mutex);
        if (!workers_[0]->stopping) {
            workers_[0]->queue.push_back(job);
            job.reset();
        }
    }
    if (job) {
        job->done(Status(ErrorCode::cancelled, "the model is being unloaded"));
        return;
    }
    workers_[0]->wake.notify_one();
}

// Runs one stage for a batch, turning anything it throws (std::bad_alloc from a resize) into a
// Status: a stage thread must never end the process.
static Status run_stage(Stage& stage, const Batch& batch) {
    try {
        return stage.run(batch);
    } catch (const std::bad_alloc&) {
        return Status(ErrorCode::out_of_memory, "out of host memory while running a batch on " + stage.device().id());
    } catch (const std::exception& e) {
        return Status(ErrorCode::internal, std::string("running a batch on ") + stage.device().id() + ": " + e.what());
    }
}

void Pipeline::worker_loop(size_t index) {
    StageWorker& w = *workers_[index];
    Stage& stage = *stages_[index];
    for (;;) {
        std::shared_ptr<Job> job;
        {
            std::unique_lock<std::mutex> lock(w.mutex);
            w.wake.wait(lock, [&] { return w.stopping || !w.queue.empty(); });
            if (w.queue.empty()) return;  // stopping with nothing left
            job = std::move(w.queue.front());
            w.queue.pop_front();
            w.stats.idle_seconds += seconds_since(w.idle_since);
        }
        const auto t0 = Clock::now();
        const bool last = index + 1 == stages_.size();
        Status st = run_stage(stage, job->batch);
        double transfer_s = 0;
        uint64_t transfer_bytes = 0;
        if (st.ok() && !last) {
            Stage& next = *stages_[index + 1];
            const auto t1 = Clock::now();
            transfer_bytes = stage.hidden_bytes(job->batch.n_tok());
            st = transports_[index]->copy(stage.scratch(), stage.hidden_offset(job->batch.lane), next.scratch(),
                                          next.hidden_offset(job->batch.lane), transfer_bytes);
            if (!st.ok()) st = st.with_context(std::string("transfer ") + stage.device().id() + " → " + next.device().id());
            transfer_s = seconds_since(t1);
        }
        {
            std::lock_guard<std::mutex> lock(w.mutex);
            w.stats.busy_seconds += seconds_since(t0);
            w.stats.batches += 1;
            w.stats.tokens += static_cast<uint64_t>(job->batch.n_tok());
            w.stats.transfer_bytes += transfer_bytes;
            w.stats.transfer_seconds += transfer_s;
            w.idle_since = Clock::now();
        }
        if (!st.ok() || last) {
            job->done(std::move(st));
            continue;
        }
        StageWorker& nw = *workers_[index + 1];
        {
            std::lock_guard<std::mutex> lock(nw.mutex);
            nw.queue.push_back(std::move(job));
        }
        nw.wake.notify_one();
    }
}

std::vector<StageStats> Pipeline::stats() const {
    std::vector<StageStats> out;
    for (const auto& w : workers_) {
        std::lock_guard<std::mutex> lock(w->mutex);
        out.push_back(w->stats);
    }
    return out;
}

void Pipeline::reset_stats() {
    for (auto& w : workers_) {
        std::lock_guard<std::mutex> lock(w->mutex);
        const StageStats keep = w->stats;
        w->stats = StageStats{};
        w->stats.device_id = keep.device_id;
        w->stats.layer_begin = keep.layer_begin;
        w->stats.layer_end = keep.layer_end;
        w->stats.transport = keep.transport;
        w->idle_since = Clock::now();
    }
}

}  // namespace strata
