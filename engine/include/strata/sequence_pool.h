// SequencePool: a model's sequence slots (KV caches) shared by many requests — chats, API calls.
//
//   auto pool = SequencePool::create(*model);               // takes every free slot of the model
//   auto lease = pool->acquire(prompt_tokens, &cancel);    // waits for a slot when all are lent
//   (*lease)->generate(prompt_tokens, params, on_text, &cancel);   // or run_chat_turn(.., **lease, ..)
//   // the lease's destructor returns the sequence, keeping its KV cache for the next request
//
// Which slot: among free sequences, the one whose cached tokens share the longest beginning
// with the request's prompt — a conversation that comes back finds its KV cache and only its new
// tokens are processed (GenerateStats::n_reused says how many were reused) — the least recently
// used one among equals, never-used ones first. A shared first token (BOS) alone is no match.
// Known limit: a new conversation that shares only a system prompt with cached ones takes the
// least recently used of those (its prefix is reused) even while a never-used sequence is free.
// Waiting requests are served first come, first served; past `max_waiting` of them acquire()
// refuses at once with ErrorCode::busy.
//
// Batching: sequences leased from one pool (from one model) that generate at the same time on
// different threads are run together, one batch per step through the layers (the model's
// scheduler: weights are read once for all of them; see Model in strata/engine.h).
//
// Threading: every method is thread-safe. A Lease is used by one thread at a time and must be
// destroyed before the pool; the pool before its Model. Destroying the pool while leases are
// out is a bug (asserted).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "strata/engine.h"

namespace strata {

class SequencePool {
public:
    struct Options {
        int max_sequences = 0;   // slots to take from the model (0: every free one)
        size_t max_waiting = 64; // acquire() callers allowed to wait; beyond: ErrorCode::busy
    };

    // Creates the pool's sequences. Fails when the model has no free slot.
    static Result<std::unique_ptr<SequencePool>> create(Model& model, const Options& options);
    static Result<std::unique_ptr<SequencePool>> create(Model& model) { return create(model, Options{}); }
    ~SequencePool();
    SequencePool(const SequencePool&) = delete;
    SequencePool& operator=(const SequencePool&) = delete;

    // A lent sequence; returns it to the pool when destroyed. Movable.
    class Lease {
    public:
        Lease() = default;
        Lease(Lease&& other) noexcept;
        Lease& operator=(Lease&& other) noexcept;
        ~Lease();
        Sequence& operator*() const { return *seq_; }
        Sequence* operator->() const { return seq_; }
        Sequence* get() const { return seq_; }
        explicit operator bool() const { return seq_ != nullptr; }

    private:
        friend class SequencePool;
        Lease(SequencePool* pool, Sequence* seq) : pool_(pool), seq_(seq) {}
        SequencePool* pool_ = nullptr;
        Sequence* seq_ = nullptr;
    };

    // Lends the free sequence that best matches `prompt` (see above), waiting in turn while all
    // are lent. Fails with ErrorCode::busy when max_waiting callers already wait, with
    // ErrorCode::cancelled when `cancel` is set while waiting (checked every 50 ms) or when the
    // timeout passes (negative: no timeout; then the message says how long it waited).
    Result<Lease> acquire(const std::vector<int32_t>& prompt, const std::atomic<bool>* cancel = nullptr,
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(-1));

    int size() const { return static_cast<int>(entries_.size()); }  // sequences in the pool
    int in_use() const;                                              // lent now
    size_t waiting() const;                                          // callers waiting in acquire()

private:
    struct Entry {
        std::unique_ptr<Sequence> seq;
        bool lent = false;
        uint64_t last_used = 0;  // a tick of the pool's clock: higher is more recent
    };
    SequencePool(size_t max_waiting) : max_waiting_(max_waiting) {}
    void release(Sequence* seq);
    // The index of the free entry for `prompt`, or -1 when none is free. Holds mutex_.
    int pick(const std::vector<int32_t>& prompt) const;

    mutable std::mutex mutex_;
    std::condition_variable freed_;
    std::vector<Entry> entries_;
    std::deque<uint64_t> waiters_;  // tickets of waiting acquire() calls, first come first
    uint64_t next_ticket_ = 1;
    uint64_t clock_ = 0;
    size_t max_waiting_;
};

}  // namespace strata
