#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace strata {

const char* stop_reason_name(StopReason r) {
    switch (r) {
        case StopReason::eos: return "end of text";
        case StopReason::stop_string: return "stop string";
        case StopReason::max_tokens: return "token limit";
        case StopReason::context_full: return "context full";
        case StopReason::cancelled: return "stopped";
        case StopReason::error: return "error";
    }
    return "?";
}

Sampler::Sampler(const SamplerParams& params) : params_(params), rng_(params.seed) {}

double Sampler::next_uniform() {
    // 53 random bits → a double in [0, 1), exactly reproducible across platforms.
    return static_cast<double>(rng_() >> 11) * (1.0 / 9007199254740992.0);
}

// Most likely first; ties to the lower id.
bool Sampler::by_logit(const Candidate& a, const Candidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

void Sampler::load_candidates(const float* logits, int64_t n_vocab) {
    candidates_.resize(static_cast<size_t>(n_vocab));
    for (int64_t i = 0; i < n_vocab; ++i) candidates_[i] = {static_cast<int32_t>(i), logits[i], 0.0f};
}

int32_t Sampler::best_allowed(const float* logits, int64_t n_vocab, const TokenFilter& allow) {
    load_candidates(logits, n_vocab);
    std::sort(candidates_.begin(), candidates_.end(), by_logit);
    for (const Candidate& c : candidates_)
        if (allow(c.id)) return c.id;
    return -1;
}

int32_t Sampler::sample(float* logits, int64_t n_vocab, const std::vector<int32_t>& history, const TokenFilter& allow) {
    for (const auto& [id, bias] : params_.logit_bias)
        if (id >= 0 && id < n_vocab) logits[id] += bias;
    const bool penalise = params_.repeat_penalty != 1.0f || params_.frequency_penalty != 0.0f ||
                          params_.presence_penalty != 0.0f;
    if (penalise && params_.repeat_last_n > 0) {
        const size_t n = std::min(history.size(), static_cast<size_t>(params_.repeat_last_n));
        std::unordered_map<int32_t, int> seen;  // recent token → how often
        for (auto it = history.end() - static_cast<std::ptrdiff_t>(n); it != history.end(); ++it) ++seen[*it];
        for (const auto& [id, count] : seen) {
            if (id < 0 || id >= n_vocab) continue;
            float& l = logits[id];
            l = l > 0 ? l / params_.repeat_penalty : l * params_.repeat_penalty;
            l -= static_cast<float>(count) * params_.frequency_penalty + params_.presence_penalty;
        }
    }
    if (params_.temperature <= 0.0f) {
        // Greedy; ties go to the lowest id, like a plain argmax.
        const auto best = static_cast<int32_t>(std::max_element(logits, logits + n_vocab) - logits);
        return !allow || allow(best) ? best : best_allowed(logits, n_vocab, allow);
    }

    load_candidates(logits, n_vocab);
    size_t n = candidates_.size();
    if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < n) {
        n = static_cast<size_t>(params_.top_k);
        std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<std::ptrdiff_t>(n),
                          candidates_.end(), by_logit);
    } else {
        std::sort(candidates_.begin(), candidates_.end(), by_logit);
    }
    candidates_.resize(n);

    // Softmax at temperature T over the kept candidates (sorted, so [0] is the max).
    const double inv_t = 1.0 / params_.temperature;
    double sum = 0;
    for (auto& c : candidates_) {
        c.p = static_cast<float>(std::exp((c.logit - candidates_[0].logit) * inv_t));
        sum += c.p;
    }
    for (auto& c : candidates_) c.p = static_cast<float>(c.p / sum);

    if (params_.top_p < 1.0f) {
        double cum = 0;
        size_t keep = candidates_.size();
        for (size_t i = 0; i < candidates_.size(); ++i) {
            cum += candidates_[i].p;
            if (cum >= params_.top_p) { keep = i + 1; break; }
        }
        candidates_.resize(keep);
    }
    if (params_.min_p > 0.0f) {
        const float floor = params_.min_p * candidates_[0].p;
        size_t keep = 1;
        while (keep < candidates_.size() && candidates_[keep].p >= floor) ++keep;
        candidates_.resize(keep);
    }
    int refused = 0;
    while (!candidates_.empty()) {
        double total = 0;
        for (const auto& c : candidates_) total += c.p;
        double r = next_uniform() * total;
        size_t pick = candidates_.size() - 1;
        for (size_t i = 0; i < candidates_.size(); ++i) {
            r -= candidates_[i].p;
            if (r < 0) {
                pick = i;
                break;
            }
        }
        if (!allow || allow(candidates_[pick].id)) return candidates_[pick].id;
        candidates_.erase(candidates_.begin() + static_cast<std::ptrdiff_t>(pick));  // refused: draw again
        // Most of the mass refused (each redraw costs a pass over the candidates): keep only
        // the allowed ones, so the next draw settles it. Same distribution among them.
        if (++refused == 8)
            candidates_.erase(std::remove_if(candidates_.begin(), candidates_.end(),
                                             [&](const Candidate& c) { return !allow(c.id); }),
                              candidates_.end());
    }
    return best_allowed(logits, n_vocab, allow);
}

}  // namespace strata
