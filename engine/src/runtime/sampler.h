// Sampler: picks the next token from logits (repetition, frequency and presence penalties →
// top-k → temperature softmax →
// top-p → min-p → draw). One per sequence; not thread-safe. Deterministic for a given seed: the
// random stream is a fixed generator (mt19937_64) and our own bits→[0,1) mapping, so results do
// not depend on the standard library's distributions.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "strata/sampling.h"

namespace strata {

class Sampler {
public:
    explicit Sampler(const SamplerParams& params);

    // logits: (n_vocab), modified in place by the penalties. history: tokens so far (prompt and
    // generated); the last repeat_last_n are penalised.
    int32_t sample(float* logits, int64_t n_vocab, const std::vector<int32_t>& history);

    const SamplerParams& params() const { return params_; }

private:
    double next_uniform();  // [0, 1)

    SamplerParams params_;
    std::mt19937_64 rng_;
    struct Candidate { int32_t id; float logit; float p; };
    std::vector<Candidate> candidates_;
};

}  // namespace strata
