#include "backend/moe_routing.h"

#include <cmath>
#include <limits>

namespace strata {

void route_token(const float* logits, const MoeRouting& r, int32_t* ids, float* weights) {
    const int64_t n = r.n_expert, k = r.n_used;
    // Softmax over every expert: the max is subtracted for range, in double for the sum.
    float mx = -std::numeric_limits<float>::infinity();
    for (int64_t e = 0; e < n; ++e)
        if (std::isfinite(logits[e]) && logits[e] > mx) mx = logits[e];
    double sum = 0.0;
    for (int64_t e = 0; e < n; ++e)
        if (std::isfinite(logits[e])) sum += std::exp(static_cast<double>(logits[e] - mx));
    // Top-k by selection (k is small: 2 to 8 of 8 to 128 experts); ties go to the lower index.
    // A logit's rank equals its probability's, so the choice is made on logits.
    for (int64_t j = 0; j < k; ++j) {
        int64_t best = -1;
        for (int64_t e = 0; e < n; ++e) {
            bool taken = false;
            for (int64_t i = 0; i < j; ++i) taken = taken || ids[i] == e;
            if (taken) continue;
            if (best < 0) { best = e; continue; }
            const bool fe = std::isfinite(logits[e]), fb = std::isfinite(logits[best]);
            if ((fe && !fb) || (fe && fb && logits[e] > logits[best])) best = e;
        }
        ids[j] = static_cast<int32_t>(best);
        const float l = logits[best];
        weights[j] = std::isfinite(l) && sum > 0.0 ? static_cast<float>(std::exp(static_cast<double>(l - mx)) / sum) : 0.0f;
    }
    double chosen = 0.0;
    for (int64_t j = 0; j < k; ++j) chosen += weights[j];
    const double div = r.normalize && chosen > 0.0 ? chosen : 1.0;
    for (int64_t j = 0; j < k; ++j) weights[j] = static_cast<float>(weights[j] / div * r.scale);
}

}  // namespace strata
