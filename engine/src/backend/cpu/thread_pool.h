// ThreadPool: a persistent set of worker threads for data-parallel loops (no thread creation
// per token). One pool per CPU device.
//
// parallel_for() is called from one owner thread at a time (the device's stage thread); it
// blocks until every task has run. Tasks must not throw (kernels do not); a task must not call
// parallel_for on the same pool.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace strata {

class ThreadPool {
public:
    // n_threads counts the calling thread, which works too: n_threads - 1 workers are started.
    explicit ThreadPool(int n_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int n_threads() const { return n_threads_; }

    // Runs fn(task, thread) for task in [0, n_tasks), spread over the threads; thread is in
    // [0, n_threads) and identifies per-thread scratch. Returns when all tasks are done.
    void parallel_for(int64_t n_tasks, const std::function<void(int64_t task, int thread)>& fn);

    // Default thread count: the machine's hardware threads (at least 1).
    static int default_threads();

private:
    void worker_loop(int thread);
    void run_tasks(int thread);

    int n_threads_;
    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    const std::function<void(int64_t, int)>* job_ = nullptr;
    int64_t n_tasks_ = 0;
    std::atomic<int64_t> next_task_{0};
    int busy_workers_ = 0;
    uint64_t generation_ = 0;
    bool stopping_ = false;
};

}  // namespace strata
