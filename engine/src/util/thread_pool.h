// ThreadPool: a persistent set of worker threads for data-parallel loops (no thread creation
// per token). One pool per CPU device, and one for the quantizer (in util/ because both use it).
//
// parallel_for() is called from one owner thread at a time (the device's stage thread); it
// blocks until every task has run. A task that throws (std::bad_alloc from a resize) never ends
// the process from a worker: the tasks not yet started are skipped and parallel_for rethrows the
// first exception on the calling thread, where the pipeline turns it into a Status. A task must
// not call parallel_for on the same pool.
//
// A decode step issues ~150 short parallel_for calls per token, so waking sleeping threads
// through a condition variable each time (tens of microseconds) would cost more than some of
// the matmuls. Workers therefore spin on an atomic job word for a short while (kSpinMicros)
// after each job before they sleep. Tasks are claimed from a shared counter, and a worker must
// join a job before it claims any: once the owner has run out of tasks it closes the job and
// waits only for the workers that joined, never for one that is descheduled or still asleep
// (which matters when the machine's cores are shared with other programs).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
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

    // How long an idle worker spins before it sleeps on the condition variable.
    static constexpr int kSpinMicros = 300;

private:
    void worker_loop(int thread);
    void run_tasks(int thread);

    int n_threads_;
    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::mutex error_mutex_;
    std::exception_ptr error_;  // the current job's first exception (error_mutex_)
    const std::function<void(int64_t, int)>* job_ = nullptr;
    int64_t n_tasks_ = 0;
    std::atomic<int64_t> next_task_{0};
    // Job word: generation (bits 32..63, bumped under mutex_ for each job), closed flag (bit 31),
    // number of workers that joined the job (bits 0..30).
    std::atomic<uint64_t> state_{0};
    std::atomic<int> finished_{0};  // joined workers that are done with the current job
    std::atomic<bool> stopping_{false};
    int sleepers_ = 0;              // guarded by mutex_
};

}  // namespace strata
