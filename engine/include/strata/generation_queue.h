// GenerationQueue: requests (chats, API calls) queued for a model's sequence slots.
//
// Each worker thread owns one Sequence (one KV slot); requests wait in FIFO order for a free
// worker. With several workers on a multi-stage model, the pipeline overlaps their micro-batches
// across stages. A worker keeps its sequence between requests, so a follow-up request that
// extends an earlier prompt reuses that prompt's KV cache when it lands on the same worker.
//
// Threading: submit()/cancel()/queued() are thread-safe. Callbacks run on the worker thread that
// serves the request. The queue must be destroyed before its Model; destruction cancels queued
// and running requests and waits for the workers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "strata/engine.h"

namespace strata {

class GenerationQueue {
public:
    using DoneCallback = std::function<void(const Result<GenerateStats>& result)>;

    // Creates up to n_workers sequences (0: as many as the model has free slots).
    static Result<std::unique_ptr<GenerationQueue>> create(Model& model, int n_workers = 0);
    ~GenerationQueue();
    GenerationQueue(const GenerationQueue&) = delete;
    GenerationQueue& operator=(const GenerationQueue&) = delete;

    // Queues a request; returns its id. `done` is always called exactly once (with
    // ErrorCode::cancelled when cancelled before it started).
    uint64_t submit(std::vector<int32_t> prompt, GenerateParams params, TextCallback on_text, DoneCallback done);
    // Cancels a queued or running request; false if it is unknown or already finished.
    bool cancel(uint64_t id);
    size_t queued() const;
    int workers() const { return static_cast<int>(workers_.size()); }

private:
    struct Request;
    GenerationQueue() = default;
    void worker_loop(Sequence& seq);

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::shared_ptr<Request>> queue_;
    std::vector<std::shared_ptr<Request>> running_;
    std::vector<std::unique_ptr<Sequence>> sequences_;
    std::vector<std::thread> workers_;
    uint64_t next_id_ = 1;
    bool stopping_ = false;
};

}  // namespace strata
