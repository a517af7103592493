#include "backend/moe_routing.h"

#include <cmath>
#include <limits>
#include <vector>

namespace strata {

namespace {

// Index of the best finite key among those not yet taken (ties to the lower index), or of the
// first untaken one when none is finite.
int64_t best_untaken(const double* key, int64_t n, const int32_t* taken, int64_t n_taken) {
    int64_t best = -1;
    for (int64_t e = 0; e < n; ++e) {
        bool used = false;
        for (int64_t i = 0; i < n_taken && !used; ++i) used = taken[i] == e;
        if (used) continue;
        if (best < 0) { best = e; continue; }
        const bool fe = std::isfinite(key[e]), fb = std::isfinite(key[best]);
        if ((fe && !fb) || (fe && fb && key[e] > key[best])) best = e;
    }
    return best;
}

}  // namespace

void route_token(const float* logits, const MoeRouting& r, const float* bias, int32_t* ids, float* weights) {
    const int64_t n = r.n_expert, k = r.n_used;
    // Scores in double: softmax with the max subtracted for range, or the sigmoid of each logit.
    // Per-thread buffers: no allocation per token once a thread has routed its first.
    thread_local std::vector<double> score, key, picked;
    score.assign(static_cast<size_t>(n), 0.0);
    key.assign(static_cast<size_t>(n), -std::numeric_limits<double>::infinity());
    if (r.gating == MoeGating::softmax) {
        float mx = -std::numeric_limits<float>::infinity();
        for (int64_t e = 0; e < n; ++e)
            if (std::isfinite(logits[e]) && logits[e] > mx) mx = logits[e];
        double sum = 0.0;
        for (int64_t e = 0; e < n; ++e)
            if (std::isfinite(logits[e])) sum += score[static_cast<size_t>(e)] = std::exp(static_cast<double>(logits[e] - mx));
        for (int64_t e = 0; e < n; ++e)
            if (sum > 0.0) score[static_cast<size_t>(e)] /= sum;
    } else {
        for (int64_t e = 0; e < n; ++e)
            if (std::isfinite(logits[e])) score[static_cast<size_t>(e)] = 1.0 / (1.0 + std::exp(-static_cast<double>(logits[e])));
    }
    // The choice key: the score plus the bias, or −inf for a non-finite logit. Without a bias a
    // softmax ranks as its logits do, and ranking on them keeps apart what underflows to 0.
    const bool by_logit = r.gating == MoeGating::softmax && bias == nullptr;
    for (int64_t e = 0; e < n; ++e) {
        if (!std::isfinite(logits[e])) continue;
        key[static_cast<size_t>(e)] = by_logit ? static_cast<double>(logits[e])
                                               : score[static_cast<size_t>(e)] + (bias ? static_cast<double>(bias[e]) : 0.0);
    }
    // Top-k by selection (k is small: 2 to 8 of 8 to 160 experts).
    picked.assign(static_cast<size_t>(k), 0.0);
    double chosen = 0.0;
    for (int64_t j = 0; j < k; ++j) {
        const int64_t e = best_untaken(key.data(), n, ids, j);
        ids[j] = static_cast<int32_t>(e);
        const double s = std::isfinite(key[static_cast<size_t>(e)]) ? score[static_cast<size_t>(e)] : 0.0;
        picked[static_cast<size_t>(j)] = s;
        chosen += s;
    }
    const double div = r.normalize && chosen > 0.0 ? chosen : 1.0;
    for (int64_t j = 0; j < k; ++j) weights[j] = static_cast<float>(picked[static_cast<size_t>(j)] / div * r.scale);
}

}  // namespace strata
