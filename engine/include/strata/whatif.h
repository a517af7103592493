// The hardware what-if: would this model fit on these GPUs, how fast would it run, what would a
// million tokens cost, and what if one card failed. Built on the planner (make_plan) with
// simulated devices from the GPU catalogue (strata/machine_profile.h); nothing is loaded and no
// device is touched. Pure functions; thread-safe.
//
// The arithmetic, stated once (whatif.cpp follows it; tst_whatif checks it by hand):
//   decode tok/s      the plan's predicted_decode_tps: one sequence, weight bytes read per token
//                     over each card's bandwidth, plus every stage hand-off over its link (a
//                     bound: on an H100 this engine measured 12-60% of it, docs/benchmarks.md)
//   prefill tok/s     the plan's predicted_prefill_tps: FLOPs per token over FP16 TFLOPS
//   served tok/s      users × decode tok/s, at most the prefill rate (batched decoding reads the
//                     weights once per step for every user, until compute is the limit; the KV
//                     cache reads of long contexts are not counted, so this is an upper bound)
//   power             every card at its board power (an upper bound: a pipeline's stages take turns)
//   cloud $/Mtok      cards × cloud $/h ÷ (served tok/s × 3600 ÷ 1e6)
//   own $/Mtok        (cards × price ÷ (years × 365 × hours per day) + power kW × $/kWh)
//                     ÷ (served tok/s × 3600 ÷ 1e6): the purchase spread over the hours it serves
//   tokens per $      1e6 ÷ $/Mtok
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "strata/calibration.h"
#include "strata/machine_profile.h"
#include "strata/plan.h"
#include "strata/status.h"

namespace strata {

constexpr int kWhatIfMaxCards = 8;

// "2x RTX 3090", "2× 4090", "RTX 6000 Ada", "4 x H100 SXM": a count (1 to kWhatIfMaxCards) and a
// catalogue name. Errors name the problem ("9 cards: at most 8", "unknown GPU ...").
struct GpuConfig {
    GpuSpec gpu;
    int count = 1;
    std::string label;  // "2× RTX 3090"
};
Result<GpuConfig> parse_gpu_config(const GpuCatalogue& catalogue, const std::string& text);

// "70B", "8b", "1.5B", "500M", "7e9" → parameters.
Result<double> parse_param_count(const std::string& text);

// A llama-shaped model of about `params` parameters stored as `quant` (a mix such as Q4_K_M,
// Q8_0, F16, as strata-cli quantize writes it: quant/quant_mix.h decides each tensor's type), as
// the planner sees it. The shape is a published one when params is within 15% of it —
// Llama 3.2 1B/3B, Llama 3.1 8B/70B/405B, Qwen 2.5 14B/32B — else the nearest of those (in log
// params) with its layer count scaled to the requested size. `shape` says which.
Result<ModelFootprint> synthetic_footprint(double params, const std::string& quant, std::string* shape);

struct WhatIfOptions {
    int64_t n_ctx = 4096;
    int users = 1;                      // sequences served at once (each has its KV cache)
    KvCacheType kv_type = KvCacheType::f16;
    uint64_t gpu_reserve = 512ull << 20;
    double hours_per_day = 24;          // hours a day the cards serve (amortisation)
    double years = 3;                   // the purchase is spread over this period
    double kwh_price = 0.15;            // USD per kWh
    // Between the cards of a configuration (the catalogue does not know how they are wired):
    // default, PCIe 4.0 x16 without P2P (staged through host memory), the common case for
    // consumer cards.
    Link link{LinkKind::staged, 25, 10};
    // Per-GPU speed factors (strata/calibration.h: load_calibration_with_seed()); a card whose
    // name or alias matches a class gets its factors, the others keep the raw prediction (an
    // upper bound). Empty: every prediction raw.
    Calibration calibration;
};

struct WhatIfFailure {
    int removed = -1;            // index of the card taken away (cuda<removed>)
    std::string removed_label;   // "cuda1 (RTX 3090)"
    bool fits = false;
    double decode_tps = 0;
    double prefill_tps = 0;
};

struct WhatIfResult {
    std::string label;           // "2× RTX 3090"
    std::vector<GpuSpec> gpus;   // one per card (cuda0, cuda1, ...)
    PlanRequest request;
    Plan plan;
    bool fits = false;
    double decode_tps = 0;       // one sequence
    double prefill_tps = 0;
    double served_tps = 0;       // all users together (see the arithmetic above)
    double power_w = 0;
    double purchase_usd = 0;     // 0 when a card has no price
    double cloud_usd_per_hour = 0;
    double own_usd_per_hour = 0;     // amortised purchase + electricity
    double electricity_usd_per_hour = 0;
    double cloud_usd_per_mtok = 0;   // 0 = unknown (no price, no speed or does not fit)
    double own_usd_per_mtok = 0;
    double cloud_tokens_per_usd = 0;
    double own_tokens_per_usd = 0;
    std::vector<WhatIfFailure> failures;  // one per distinct card type (identical cards: one)
};

// Plans `model` on the configuration's cards and works out speed and cost. Invalid options
// (0 users, negative years, ...) are ErrorCode::invalid_argument naming the option; a mixture-
// of-experts model is ErrorCode::unsupported (its experts need a CPU expert host in this build).
Result<WhatIfResult> run_whatif(const ModelFootprint& model, const GpuConfig& config, const WhatIfOptions& options);
// The same for a machine profile's GPUs and links (prices looked up in `catalogue` by GPU name;
// a card it does not know has no price).
Result<WhatIfResult> run_whatif(const ModelFootprint& model, const MachineProfile& machine,
                                const GpuCatalogue& catalogue, const WhatIfOptions& options);

// The index of the cheapest result that fits and decodes at least `min_decode_tps` for one user
// (own $/Mtok, else cloud $/Mtok); -1 when none does or none has a price.
int cheapest_fitting(const std::vector<WhatIfResult>& results, double min_decode_tps = 0);

}  // namespace strata
