#include "util/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define STRATA_CPU_RELAX() _mm_pause()
#else
#define STRATA_CPU_RELAX() std::this_thread::yield()
#endif

namespace strata {

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)), homes_(new HomeTasks[n_threads_]) {
    workers_.reserve(n_threads_ - 1);
    for (int t = 1; t < n_threads_; ++t) workers_.emplace_back([this, t] { worker_loop(t); });
}

namespace {
constexpr uint64_t kClosed = uint64_t(1) << 31;
constexpr uint64_t kCountMask = kClosed - 1;
inline uint64_t generation_of(uint64_t state) { return state >> 32; }
}  // namespace

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_.store(true, std::memory_order_relaxed);
        const uint64_t gen = generation_of(state_.load(std::memory_order_relaxed)) + 1;
        state_.store((gen << 32) | kClosed, std::memory_order_release);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
}

int ThreadPool::default_threads() {
    return std::max(1u, std::thread::hardware_concurrency());
}

void ThreadPool::skip_remaining_tasks() {
    for (int v = 0; v < n_threads_; ++v) homes_[v].next.store(homes_[v].end, std::memory_order_relaxed);
}

void ThreadPool::run_tasks(int thread) {
    const auto& job = *job_;
    // Home tasks first, then the others' in thread order from the next one on.
    for (int k = 0; k < n_threads_; ++k) {
        HomeTasks& h = homes_[(thread + k) % n_threads_];
        // The plain load first: a finished home costs a shared read, not a write to its line.
        while (h.next.load(std::memory_order_relaxed) < h.end) {
            const int64_t task = h.next.fetch_add(1, std::memory_order_relaxed);
            if (task >= h.end) break;
            try {
                job(task, thread);
            } catch (...) {
                std::lock_guard<std::mutex> lock(error_mutex_);
                if (!error_) error_ = std::current_exception();
                skip_remaining_tasks();  // the job has failed: skip the rest
            }
        }
    }
}

void ThreadPool::worker_loop(int thread) {
    uint64_t seen = 0;  // generation last handled
    for (;;) {
        uint64_t s = state_.load(std::memory_order_acquire);
        if (generation_of(s) == seen) {
            // Spin a little: the next job usually follows within microseconds during decode.
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
            for (int i = 0; generation_of(s) == seen; ++i) {
                STRATA_CPU_RELAX();
                s = state_.load(std::memory_order_acquire);
                if ((i & 63) == 63 && std::chrono::steady_clock::now() > deadline) break;
            }
        }
        if (generation_of(s) == seen) {
            std::unique_lock<std::mutex> lock(mutex_);
            ++sleepers_;
            wake_.wait(lock, [&] { return generation_of(state_.load(std::memory_order_acquire)) != seen; });
            --sleepers_;
            s = state_.load(std::memory_order_acquire);
        }
        if (stopping_.load(std::memory_order_relaxed)) return;
        seen = generation_of(s);
        // Join unless the owner already closed the job (it ran every task itself).
        bool joined = false;
        while (!(s & kClosed) && generation_of(s) == seen) {
            if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
                joined = true;
                break;
            }
        }
        if (!joined) continue;
        run_tasks(thread);
        finished_.fetch_add(1, std::memory_order_release);
    }
}

void ThreadPool::parallel_for(int64_t n_tasks, const std::function<void(int64_t, int)>& fn) {
    if (n_tasks <= 0) return;
    std::lock_guard<std::mutex> owner(owner_mutex_);
    if (n_threads_ == 1 || n_tasks == 1) {
        for (int64_t t = 0; t < n_tasks; ++t) fn(t, 0);
        return;
    }
    job_ = &fn;
    ++jobs_run_;
    for (int t = 0; t < n_threads_; ++t) {
        int64_t begin, end;
        home_range(n_tasks, n_threads_, t, begin, end);
        homes_[t].next.store(begin, std::memory_order_relaxed);
        homes_[t].end = end;
    }
    finished_.store(0, std::memory_order_relaxed);
    bool notify;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        const uint64_t gen = generation_of(state_.load(std::memory_order_relaxed)) + 1;
        state_.store(gen << 32, std::memory_order_release);
        notify = sleepers_ > 0;
    }
    if (notify) wake_.notify_all();
    run_tasks(0);
    // No task is left to claim: close the job and wait for the workers that joined it.
    const auto joined = static_cast<int>(state_.fetch_or(kClosed, std::memory_order_acq_rel) & kCountMask);
    for (int i = 0; finished_.load(std::memory_order_acquire) != joined; ++i) {
        if (i < 4096) STRATA_CPU_RELAX();
        else std::this_thread::yield();  // a joined worker was descheduled mid-task
    }
    job_ = nullptr;
    std::exception_ptr error;
    {
        std::lock_guard<std::mutex> lock(error_mutex_);
        error = std::exchange(error_, nullptr);
    }
    if (error) std::rethrow_exception(error);
}

}  // namespace strata
