#include "runtime/batch_scheduler.h"

#include <algorithm>

namespace strata {

namespace {
// How long a step waits for generating sequences that have not handed in their next token. They
// normally do within microseconds of the last step's result (sampling one token); a sequence
// whose thread is busy elsewhere only delays the others by this much.
constexpr auto kGrace = std::chrono::milliseconds(3);
}  // namespace

struct BatchScheduler::Request {
    int slot = 0;
    const int32_t* tokens = nullptr;
    int64_t n_tok = 0;
    int64_t pos0 = 0;
    float* logits = nullptr;
    bool all_rows = false;
    int64_t taken = 0;  // tokens put into the batch
    bool done = false;
    Status status;
};

BatchScheduler::BatchScheduler(Pipeline& pipeline, int n_seq, int64_t n_batch)
    : pipeline_(pipeline),
      n_seq_(std::max(1, n_seq)),
      n_batch_(n_batch),
      n_lanes_(std::max(1, std::min(n_seq_, static_cast<int>(pipeline.stages().size())))),
      generating_(static_cast<size_t>(n_seq_), false),
      in_flight_(static_cast<size_t>(n_seq_), false),
      lane_busy_(static_cast<size_t>(n_lanes_), false),
      lane_tokens_(static_cast<size_t>(n_lanes_)) {
    thread_ = std::thread([this] { loop(); });
}

BatchScheduler::~BatchScheduler() {
    {
        std::unique_lock<std::mutex> lock(mutex_);
        stopping_ = true;
        wake_.notify_all();
        // Batches in flight call finish() from a stage thread: wait for them (none in normal use,
        // since every caller has returned).
        done_.wait(lock, [&] { return std::none_of(lane_busy_.begin(), lane_busy_.end(), [](bool b) { return b; }); });
    }
    thread_.join();
}

Result<int64_t> BatchScheduler::run(int slot, const int32_t* tokens, int64_t n_tok, int64_t pos0, float* logits,
                                    bool all_rows) {
    if (slot < 0 || slot >= n_seq_ || n_tok <= 0 || (all_rows && n_tok > n_batch_))
        return Status(ErrorCode::internal, "bad request to the batch scheduler (slot " + std::to_string(slot) + ", " +
                                               std::to_string(n_tok) + " tokens)");
    auto r = std::make_shared<Request>();
    r->slot = slot;
    r->tokens = tokens;
    r->n_tok = n_tok;
    r->pos0 = pos0;
    r->logits = logits;
    r->all_rows = all_rows;
    std::unique_lock<std::mutex> lock(mutex_);
    if (stopping_) return Status(ErrorCode::cancelled, "the model is being unloaded");
    waiting_.push_back(r);
    wake_.notify_all();
    done_.wait(lock, [&] { return r->done; });
    if (!r->status.ok()) return r->status;
    return r->taken;
}

void BatchScheduler::begin_generation(int slot) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (slot >= 0 && slot < n_seq_) generating_[static_cast<size_t>(slot)] = true;
}

void BatchScheduler::end_generation(int slot) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (slot >= 0 && slot < n_seq_) generating_[static_cast<size_t>(slot)] = false;
    }
    wake_.notify_all();  // a step may have been waiting for this sequence's next token
}

BatchScheduler::Stats BatchScheduler::stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
}

void BatchScheduler::loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    auto free_lane = [&] {
        for (int i = 0; i < n_lanes_; ++i)
            if (!lane_busy_[static_cast<size_t>(i)]) return i;
        return -1;
    };
    // Every generating sequence not in flight has handed in its next tokens.
    auto all_ready = [&] {
        for (int s = 0; s < n_seq_; ++s) {
            if (!generating_[static_cast<size_t>(s)] || in_flight_[static_cast<size_t>(s)]) continue;
            const bool has = std::any_of(waiting_.begin(), waiting_.end(), [s](const auto& r) { return r->slot == s; });
            if (!has) return false;
        }
        return true;
    };
    for (;;) {
        wake_.wait(lock, [&] { return stopping_ || (!waiting_.empty() && free_lane() >= 0); });
        if (stopping_) break;
        const auto deadline = std::chrono::steady_clock::now() + kGrace;
        while (!stopping_ && !all_ready())
            if (wake_.wait_until(lock, deadline) == std::cv_status::timeout) break;
        if (stopping_) break;
        const int lane = free_lane();
        std::vector<std::shared_ptr<Request>> taken;
        Batch batch;
        if (lane < 0 || !form_batch(lane, taken, batch, lane_tokens_[static_cast<size_t>(lane)])) continue;
        lane_busy_[static_cast<size_t>(lane)] = true;
        for (const auto& r : taken) in_flight_[static_cast<size_t>(r->slot)] = true;
        ++stats_.steps;
        stats_.rows += static_cast<uint64_t>(batch.n_tok());
        stats_.max_sequences = std::max<uint64_t>(stats_.max_sequences, taken.size());
        lock.unlock();
        pipeline_.submit(std::move(batch), [this, lane, taken](Status st) { finish(lane, taken, st); });
        lock.lock();
    }
    for (auto& r : waiting_) {
        r->done = true;
        r->status = Status(ErrorCode::cancelled, "the model is being unloaded");
    }
    waiting_.clear();
    done_.notify_all();
}

bool BatchScheduler::form_batch(int lane, std::vector<std::shared_ptr<Request>>& taken, Batch& batch,
                                std::vector<int32_t>& tokens) {
    batch = Batch{};
    batch.lane = lane;
    tokens.clear();
    auto take = [&](const std::shared_ptr<Request>& r, int64_t n) {
        r->taken = n;
        BatchSegment seg;
        seg.slot = r->slot;
        seg.pos0 = r->pos0;
        seg.n_tok = n;
        seg.logits = n == r->n_tok ? r->logits : nullptr;  // logits only once the last token ran
        batch.segments.push_back(seg);
        tokens.insert(tokens.end(), r->tokens, r->tokens + n);
        taken.push_back(r);
    };
    auto ready = [&](const std::shared_ptr<Request>& r) { return !in_flight_[static_cast<size_t>(r->slot)]; };

    // A request for every row's logits (perplexity) runs alone, in its turn.
    if (waiting_.front()->all_rows) {
        if (!ready(waiting_.front())) return false;
        take(waiting_.front(), waiting_.front()->n_tok);
        batch.all_rows = true;
        waiting_.pop_front();
        batch.tokens = tokens.data();
        return true;
    }
    const int generating = static_cast<int>(std::count(generating_.begin(), generating_.end(), true));
    // With several lanes, decoding sequences are split between them so the stages overlap.
    const int decode_cap = n_lanes_ == 1 ? n_seq_ : std::max(1, (std::max(generating, 1) + n_lanes_ - 1) / n_lanes_);
    int64_t budget = n_batch_;
    int decoders = 0;
    for (const auto& r : waiting_) {
        if (r->all_rows || r->n_tok != 1 || !ready(r) || decoders >= decode_cap || budget == 0) continue;
        take(r, 1);
        ++decoders;
        --budget;
    }
    for (const auto& r : waiting_) {
        if (r->all_rows || r->n_tok == 1 || !ready(r) || budget == 0) continue;
        // Others are decoding (now or in another lane): a bounded chunk, so they keep streaming.
        const bool others = decoders > 0 || generating > (generating_[static_cast<size_t>(r->slot)] ? 1 : 0);
        const int64_t chunk = std::min(budget, others ? kPrefillChunkWhileDecoding : n_batch_);
        const int64_t n = std::min(r->n_tok, chunk);
        take(r, n);
        budget -= n;
    }
    if (taken.empty()) return false;
    waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(),
                                  [&](const auto& r) { return std::find(taken.begin(), taken.end(), r) != taken.end(); }),
                   waiting_.end());
    batch.tokens = tokens.data();
    return true;
}

void BatchScheduler::finish(int lane, const std::vector<std::shared_ptr<Request>>& taken, const Status& st) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& r : taken) {
            r->done = true;
            r->status = st;
            in_flight_[static_cast<size_t>(r->slot)] = false;
        }
        lane_busy_[static_cast<size_t>(lane)] = false;
    }
    done_.notify_all();
    wake_.notify_all();
}

}  // namespace strata
