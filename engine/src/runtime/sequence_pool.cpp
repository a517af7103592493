#include "strata/sequence_pool.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace strata {

Result<std::unique_ptr<SequencePool>> SequencePool::create(Model& model, const Options& options) {
    std::unique_ptr<SequencePool> pool(new SequencePool(options.max_waiting));
    for (int i = 0; options.max_sequences <= 0 || i < options.max_sequences; ++i) {
        auto seq = model.create_sequence();
        if (!seq.ok()) {
            if (i == 0) return seq.status();
            break;  // as many as there were free slots
        }
        pool->entries_.push_back(Entry{std::move(seq).value(), false, 0});
    }
    return pool;
}

SequencePool::~SequencePool() {
    std::lock_guard<std::mutex> lock(mutex_);
    for ([[maybe_unused]] const Entry& e : entries_) assert(!e.lent && "a Lease outlived its SequencePool");
}

SequencePool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), seq_(std::exchange(other.seq_, nullptr)) {}

SequencePool::Lease& SequencePool::Lease::operator=(Lease&& other) noexcept {
    if (this != &other) {
        if (pool_ && seq_) pool_->release(seq_);
        pool_ = std::exchange(other.pool_, nullptr);
        seq_ = std::exchange(other.seq_, nullptr);
    }
    return *this;
}

SequencePool::Lease::~Lease() {
    if (pool_ && seq_) pool_->release(seq_);
}

int SequencePool::pick(const std::vector<int32_t>& prompt) const {
    // The free sequence whose cache shares the longest beginning with the prompt (a conversation
    // coming back; its history may have been re-tokenized differently after its first tokens,
    // so any shared beginning counts), the least recently used among equals. A shared first
    // token (BOS) alone is no match: it must not evict another conversation's cache when a
    // never-used or older sequence is free.
    int best = -1;
    size_t best_common = 0;
    for (size_t i = 0; i < entries_.size(); ++i) {
        const Entry& e = entries_[i];
        if (e.lent) continue;
        const std::vector<int32_t>& cached = e.seq->tokens();
        const size_t limit = std::min(cached.size(), prompt.size());
        size_t common = 0;
        while (common < limit && cached[common] == prompt[common]) ++common;
        if (common <= 1) common = 0;
        const bool better = best < 0 || common > best_common ||
                            (common == best_common && e.last_used < entries_[static_cast<size_t>(best)].last_used);
        if (better) {
            best = static_cast<int>(i);
            best_common = common;
        }
    }
    return best;
}

Result<SequencePool::Lease> SequencePool::acquire(const std::vector<int32_t>& prompt, const std::atomic<bool>* cancel,
                                                   std::chrono::milliseconds timeout) {
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    std::unique_lock<std::mutex> lock(mutex_);
    if (waiters_.empty()) {
        if (const int i = pick(prompt); i >= 0) {
            Entry& e = entries_[static_cast<size_t>(i)];
            e.lent = true;
            e.last_used = ++clock_;
            return Lease(this, e.seq.get());
        }
    }
    if (waiters_.size() >= max_waiting_) {
        return Status(ErrorCode::busy, "all " + std::to_string(entries_.size()) + " sequences are busy and " +
                                           std::to_string(waiters_.size()) + " requests are already waiting");
    }
    const uint64_t ticket = next_ticket_++;
    waiters_.push_back(ticket);
    for (;;) {
        if (waiters_.front() == ticket) {
            if (const int i = pick(prompt); i >= 0) {
                waiters_.pop_front();
                Entry& e = entries_[static_cast<size_t>(i)];
                e.lent = true;
                e.last_used = ++clock_;
                freed_.notify_all();  // the next in line may find another free sequence
                return Lease(this, e.seq.get());
            }
        }
        const bool cancelled = cancel && cancel->load();
        const bool timed_out = timeout.count() >= 0 && Clock::now() - t0 >= timeout;
        if (cancelled || timed_out) {
            waiters_.erase(std::find(waiters_.begin(), waiters_.end(), ticket));
            freed_.notify_all();
            if (cancelled) return Status(ErrorCode::cancelled, "cancelled while waiting for a free sequence");
            return Status(ErrorCode::cancelled, "no sequence became free within " + std::to_string(timeout.count()) +
                                                    " ms (all " + std::to_string(entries_.size()) + " are busy)");
        }
        freed_.wait_for(lock, std::chrono::milliseconds(50));
    }
}

void SequencePool::release(Sequence* seq) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (Entry& e : entries_) {
            if (e.seq.get() == seq) {
                e.lent = false;
                e.last_used = ++clock_;
            }
        }
    }
    freed_.notify_all();
}

int SequencePool::in_use() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<int>(std::count_if(entries_.begin(), entries_.end(), [](const Entry& e) { return e.lent; }));
}

size_t SequencePool::waiting() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return waiters_.size();
}

}  // namespace strata
