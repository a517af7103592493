#include "backend/cpu/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define STRATA_CPU_RELAX() _mm_pause()
#else
#define STRATA_CPU_RELAX() std::this_thread::yield()
#endif

namespace strata {

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)) {
    workers_.reserve(n_threads_ - 1);
    for (int t = 1; t < n_threads_; ++t) workers_.emplace_back([this, t] { worker_loop(t); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_.store(true, std::memory_order_relaxed);
        generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
}

int ThreadPool::default_threads() {
    return std::max(1u, std::thread::hardware_concurrency());
}

void ThreadPool::run_tasks(int thread) {
    const auto& job = *job_;
    const int64_t n = n_tasks_;
    for (;;) {
        const int64_t task = next_task_.fetch_add(1, std::memory_order_relaxed);
        if (task >= n) break;
        job(task, thread);
    }
}

void ThreadPool::worker_loop(int thread) {
    uint64_t seen = 0;
    for (;;) {
        uint64_t gen = generation_.load(std::memory_order_acquire);
        if (gen == seen) {
            // Spin a little: the next job usually follows within microseconds during decode.
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
            for (int i = 0; gen == seen; ++i) {
                STRATA_CPU_RELAX();
                gen = generation_.load(std::memory_order_acquire);
                if ((i & 63) == 63 && std::chrono::steady_clock::now() > deadline) break;
            }
        }
        if (gen == seen) {
            std::unique_lock<std::mutex> lock(mutex_);
            ++sleepers_;
            wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
            --sleepers_;
            gen = generation_.load(std::memory_order_acquire);
        }
        if (stopping_.load(std::memory_order_relaxed)) return;
        seen = gen;
        run_tasks(thread);
        pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
}

void ThreadPool::parallel_for(int64_t n_tasks, const std::function<void(int64_t, int)>& fn) {
    if (n_tasks <= 0) return;
    if (n_threads_ == 1 || n_tasks == 1) {
        for (int64_t t = 0; t < n_tasks; ++t) fn(t, 0);
        return;
    }
    job_ = &fn;
    n_tasks_ = n_tasks;
    next_task_.store(0, std::memory_order_relaxed);
    pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
    bool notify;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        generation_.fetch_add(1, std::memory_order_release);
        notify = sleepers_ > 0;
    }
    if (notify) wake_.notify_all();
    run_tasks(0);
    for (int i = 0; pending_.load(std::memory_order_acquire) != 0; ++i) {
        if (i < 4096) STRATA_CPU_RELAX();
        else std::this_thread::yield();  // a worker was descheduled; do not burn its core
    }
    job_ = nullptr;
}

}  // namespace strata
