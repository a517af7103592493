// Batch: the rows one step runs through a model's stages — consecutive rows of one or more
// sequences, each at its own positions in its own KV slot (continuous batching).
// Plain value types; the pointers are borrowed from the caller for the step.
#pragma once

#include <cstdint>
#include <vector>

namespace strata {

// One sequence's consecutive rows in a batch.
struct BatchSegment {
    int slot = 0;              // the sequence's KV slot
    int64_t pos0 = 0;          // position of its first row
    int64_t n_tok = 0;
    // Host memory for the logits of its last row (n_vocab floats), or of every row (n_tok ×
    // n_vocab) when the batch has all_rows; null when not wanted.
    float* logits = nullptr;
};

struct Batch {
    // The hidden-state region the batch travels in on every stage (< n_seq): batches in flight
    // at the same time use different lanes.
    int lane = 0;
    const int32_t* tokens = nullptr;  // (Σ n_tok) token ids on the host, the segments' rows in order
    std::vector<BatchSegment> segments;
    bool all_rows = false;            // logits of every row (perplexity): one segment only

    int64_t n_tok() const {
        int64_t n = 0;
        for (const BatchSegment& s : segments) n += s.n_tok;
        return n;
    }
};

}  // namespace strata
