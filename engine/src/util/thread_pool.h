// ThreadPool: a persistent set of worker threads for data-parallel loops (no thread creation
// per token). One pool per CPU device, and one for the quantizer (in util/ because both use it).
//
// parallel_for() blocks until every task has run. Calls from several threads are serialized (a
// device's stage thread runs ops, its loading thread repacks weights on the same pool), so only
// one job is in flight at a time. A task that throws (std::bad_alloc from a resize) never ends
// the process from a worker: the tasks not yet started are skipped and parallel_for rethrows the
// first exception on the calling thread, where the pipeline turns it into a Status. A task must
// not call parallel_for on the same pool.
//
// A decode step issues ~150 short parallel_for calls per token, so waking sleeping threads
// through a condition variable each time (tens of microseconds) would cost more than some of
// the matmuls. Workers therefore spin on an atomic job word for a short while (kSpinMicros)
// after each job before they sleep.
//
// Tasks are homed: thread t owns the contiguous tasks home_range(n_tasks, n_threads, t) and
// claims them first from its own counter (one cache line per thread, so claiming costs no
// traffic between cores); a thread that runs out takes the remaining tasks of the others, in
// order t+1, t+2, .... With every thread awake, task i therefore runs on the same thread in
// every call with the same n_tasks: the repack of a weight and its matmuls use one split, so the
// pages a thread first writes (and Linux places on that thread's NUMA node) are the pages it
// later reads. A worker must join a job before it claims any: once the owner has run out of
// tasks it closes the job and waits only for the workers that joined, never for one that is
// descheduled or still asleep (its home tasks were taken by others), which matters when the
// machine's cores are shared with other programs. One job is one barrier: the owner's wait.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
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

    // parallel_for calls so far that ran on the workers (each is one barrier); calls run inline
    // (one thread, one task) do not count. For tests that bound the barriers per op; read it from
    // the thread that calls parallel_for.
    uint64_t jobs_run() const { return jobs_run_; }

    // Thread t's home tasks [begin, end) of n_tasks (contiguous, in thread order, sizes within 1).
    static void home_range(int64_t n_tasks, int n_threads, int thread, int64_t& begin, int64_t& end) {
        begin = n_tasks * thread / n_threads;
        end = n_tasks * (thread + 1) / n_threads;
    }

    // Default thread count: the machine's hardware threads (at least 1).
    static int default_threads();

    // How long an idle worker spins before it sleeps on the condition variable.
    static constexpr int kSpinMicros = 300;

private:
    void worker_loop(int thread);
    void run_tasks(int thread);
    void skip_remaining_tasks();

    // One thread's home tasks: `next` is claimed with fetch_add up to `end` (set before the job
    // is published, read-only while it runs). Aligned so that no two threads' counters share a line.
    struct alignas(64) HomeTasks {
        std::atomic<int64_t> next{0};
        int64_t end = 0;
    };

    int n_threads_;
    std::vector<std::thread> workers_;
    std::mutex owner_mutex_;  // held by the thread inside parallel_for
    std::mutex mutex_;
    std::condition_variable wake_;
    std::mutex error_mutex_;
    std::exception_ptr error_;  // the current job's first exception (error_mutex_)
    const std::function<void(int64_t, int)>* job_ = nullptr;
    std::unique_ptr<HomeTasks[]> homes_;  // n_threads_ entries
    uint64_t jobs_run_ = 0;               // guarded by owner_mutex_
    // Job word: generation (bits 32..63, bumped under mutex_ for each job), closed flag (bit 31),
    // number of workers that joined the job (bits 0..30). On its own cache line, apart from
    // finished_: idle workers spin reading it while busy ones count themselves done.
    alignas(64) std::atomic<uint64_t> state_{0};
    alignas(64) std::atomic<int> finished_{0};  // joined workers that are done with the current job
    std::atomic<bool> stopping_{false};
    int sleepers_ = 0;              // guarded by mutex_
};

}  // namespace strata
