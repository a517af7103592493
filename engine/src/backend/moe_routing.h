// Mixture-of-experts routing on the host: one token's router logits → chosen experts and their
// weights, as MoeRouting (backend/device.h) defines it. Written once for every backend that
// routes on the host (the CPU backend; others check their kernels against it). Pure; thread-safe.
#pragma once

#include <cstdint>

#include "backend/device.h"

namespace strata {

// logits: (r.n_expert); bias: (r.n_expert) choice bias or null; ids, weights: (r.n_used), by
// decreasing choice score (score + bias). Needs 1 ≤ n_used ≤ n_expert (callers check).
// Non-finite logits (or choice scores) rank below every finite one and weigh 0.
void route_token(const float* logits, const MoeRouting& r, const float* bias, int32_t* ids, float* weights);

}  // namespace strata
