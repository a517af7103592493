// BatchScheduler: continuous batching. Sequences that generate at the same time (each on its own
// thread) hand their next tokens to the scheduler, which runs them together: every step is one
// batch through the pipeline with the next token of every decoding sequence and a chunk of any
// waiting prompt, so the weights are read once for all of them.
//
// How a step is formed: the scheduler waits until every sequence that is generating (between
// begin_generation and end_generation) and not already in flight has handed in its tokens, or
// a short grace period after the first one did (a sequence busy elsewhere, e.g. a slow client,
// does not hold the others back for longer). Decode tokens go first; prompts fill the rest of
// the batch, in arrival order, in chunks that keep decoding sequences streaming while a long
// prompt is processed (at most kPrefillChunkWhileDecoding tokens per step while others decode,
// n_batch otherwise). With a multi-stage pipeline, up to one batch per stage is in flight (each
// in its own lane), decoding sequences split between them, so stages overlap.
//
// Threading: run()/begin_generation()/end_generation() are called from sequence threads (one
// thread per slot at a time); the scheduler's own thread forms batches; completions arrive on
// the pipeline's last stage thread. The scheduler must be destroyed before its pipeline and
// after every caller has returned.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/pipeline.h"

namespace strata {

class BatchScheduler {
public:
    // Longest prompt chunk per step while other sequences are decoding.
    static constexpr int64_t kPrefillChunkWhileDecoding = 128;

    BatchScheduler(Pipeline& pipeline, int n_seq, int64_t n_batch);
    ~BatchScheduler();
    BatchScheduler(const BatchScheduler&) = delete;
    BatchScheduler& operator=(const BatchScheduler&) = delete;

    // Runs a prefix of the n_tok tokens of the sequence in `slot` (positions pos0..) in the next
    // step that has room and blocks until it ran; returns how many ran (≥ 1). Call again for
    // the rest. `logits` (n_vocab floats, or n_tok × n_vocab with all_rows) is written only
    // when the last of the tokens ran. all_rows requests run in a step of their own, whole
    // (n_tok ≤ n_batch).
    Result<int64_t> run(int slot, const int32_t* tokens, int64_t n_tok, int64_t pos0, float* logits, bool all_rows);

    // A sequence announces that it is generating (more tokens will follow each step's result),
    // so steps wait briefly for it; and that it stopped.
    void begin_generation(int slot);
    void end_generation(int slot);

    struct Stats {
        uint64_t steps = 0;
        uint64_t rows = 0;            // tokens run
        uint64_t max_sequences = 0;   // most sequences in one step
    };
    Stats stats() const;

private:
    struct Request;
    void loop();
    // Forms a batch for a free lane from the requests waiting; false when none. Holds mutex_.
    bool form_batch(int lane, std::vector<std::shared_ptr<Request>>& taken, Batch& batch, std::vector<int32_t>& tokens);
    void finish(int lane, const std::vector<std::shared_ptr<Request>>& taken, const Status& st);

    Pipeline& pipeline_;
    const int n_seq_;
    const int64_t n_batch_;
    const int n_lanes_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;   // the scheduler thread: new requests, a lane freed, stop
    std::condition_variable done_;   // callers: their request finished
    std::deque<std::shared_ptr<Request>> waiting_;
    std::vector<bool> generating_;   // (n_seq) slots between begin_ and end_generation
    std::vector<bool> in_flight_;    // (n_seq) slots with rows in a batch in flight
    std::vector<bool> lane_busy_;    // (n_lanes)
    std::vector<std::vector<int32_t>> lane_tokens_;  // (n_lanes) token ids of the lane's batch
    Stats stats_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace strata
