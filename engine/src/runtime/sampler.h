// Sampler: picks the next token from logits (logit bias → repetition, frequency and presence
// penalties → top-k → temperature softmax →
// top-p → min-p → draw). One per sequence; not thread-safe. Deterministic for a given seed: the
// random stream is a fixed generator (mt19937_64) and our own bits→[0,1) mapping, so results do
// not depend on the standard library's distributions.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "strata/sampling.h"

namespace strata {

class Sampler {
public:
    explicit Sampler(const SamplerParams& params);

    // Which tokens may be picked (JSON mode); empty: any.
    using TokenFilter = std::function<bool(int32_t)>;

    // logits: (n_vocab), modified in place by the bias and penalties. history: tokens so far
    // (prompt and generated); the last repeat_last_n are penalised. With `allow`, a drawn token
    // it refuses is taken out and the draw repeated among the rest; when the filters (top-k,
    // top-p, min-p) leave none it accepts, the most likely token it accepts is taken; -1 when it
    // accepts no token at all.
    int32_t sample(float* logits, int64_t n_vocab, const std::vector<int32_t>& history,
                   const TokenFilter& allow = {});

    const SamplerParams& params() const { return params_; }

private:
    double next_uniform();  // [0, 1)
    int32_t best_allowed(const float* logits, int64_t n_vocab, const TokenFilter& allow);

    SamplerParams params_;
    std::mt19937_64 rng_;
    struct Candidate { int32_t id; float logit; float p; };
    static bool by_logit(const Candidate& a, const Candidate& b);
    void load_candidates(const float* logits, int64_t n_vocab);  // every token, unsorted
    std::vector<Candidate> candidates_;
};

}  // namespace strata
