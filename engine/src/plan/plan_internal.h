// Internals of the planner, shared by planner.cpp (assignment), plan_explain.cpp (decisions,
// shortfalls, speed), plan_suggestions.cpp (what would fit) and plan_format.cpp (tables).
// Everything here is a pure function of a PlanRequest; every byte figure comes from
// plan/memory_estimate.h, the formulas the runtime allocates with.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "strata/plan.h"

namespace strata::plan_detail {

// Requests beyond these are refused as invalid (they would overflow the byte arithmetic long
// before they could fit anywhere).
constexpr int64_t kMaxCtx = int64_t{1} << 24;       // also the ceiling of max_ctx_that_fits
constexpr int64_t kCtxStep = 256;                    // max_ctx_that_fits is a multiple of this
constexpr int64_t kMaxBatch = int64_t{1} << 20;
constexpr int kMaxSeq = 1 << 16;
// A hand-off between devices when nothing is measured: PCIe 4.0 x16, roughly.
constexpr double kLinkBytesPerSecond = 25e9;
constexpr double kLinkLatencySeconds = 10e-6;

// What handing `bytes` from device `from` to `to` costs (plan_links.cpp). A pair with no known
// link costs bytes / kLinkBytesPerSecond + kLinkLatencySeconds, as before links were known; a
// staged link (no P2P) pays its speed and latency twice.
struct HandOffCost {
    bool known = false;           // the request describes this link
    Link link;                    // as the request gave it
    double bytes_per_second = 0;  // of one copy
    double wire_seconds = 0;      // every copy's bytes
    double latency_seconds = 0;   // every copy's latency
};
const Link* find_link(const PlanRequest& r, int from, int to);
HandOffCost handoff_cost(const PlanRequest& r, int from, int to, double bytes);

// Bytes a device holds for a layer range and the roles it plays. O(1) per query (prefix sums).
class PlanCosts {
public:
    explicit PlanCosts(const PlanRequest& request);

    const PlanRequest& request() const { return *r_; }
    int n_layer() const { return r_->model.n_layer; }
    int n_device() const { return static_cast<int>(r_->devices.size()); }
    // free - reserve, 0 when the reserve exceeds what is free.
    uint64_t capacity(int device) const;
    // Weight bytes of layers [begin, begin + count) as `device` stores them (a CUDA device may
    // convert types its kernels cannot read; weight_storage.h); device < 0: as in the file.
    uint64_t layer_bytes(int device, int begin, int count) const;
    // Layers + token_embd (has_emb) + output norm and head (has_out). A tied head is held
    // apart from the embedding table even on the same device: the lookup reads rows in the
    // file's layout, the head's matmul a layout of its own (repacked on a CPU, split on a GPU).
    uint64_t weight_bytes(int device, int begin, int count, bool has_emb, bool has_out) const;
    // The head's bytes on `device` (device < 0: in the file).
    uint64_t output_bytes(int device) const;
    uint64_t kv_bytes(int begin, int count) const;  // layers [begin, begin + count)
    // make_scratch_layout(...).total for this device's type and stage roles; 0 when the device
    // holds nothing (no layers, no roles).
    uint64_t scratch_bytes(int device, int count, bool has_emb, bool has_out) const;
    uint64_t total(int device, int begin, int count, bool has_emb, bool has_out) const;

private:
    const PlanRequest* r_;
    bool on_cuda(int device) const;
    std::vector<uint64_t> prefix_;       // (n_layer + 1) prefix sums of layer bytes
    std::vector<uint64_t> cuda_prefix_;  // the same as a CUDA device stores them
};

// Who holds what: a layer count per request device (layers are laid out contiguously in device
// priority order), and the devices holding the embedding and the output head.
struct Assignment {
    std::vector<int> counts;  // (n_device)
    int emb_device = -1;
    int out_device = -1;
    bool emb_pinned = false;
    bool out_pinned = false;
};

// Sets the unpinned roles: the embedding goes with the first layer, the head with the last.
void resolve_roles(Assignment& a);

// The planner without its prose: what suggestions and the context search re-run.
struct CoreResult {
    Assignment assign;
    bool fits = false;
    std::vector<std::string> errors;  // problems with the request itself (bad pin, no device, ...)
    double fill = 0;                  // even mode: the fill level every device stays under
};

CoreResult plan_core(const PlanRequest& request);
inline bool core_fits(const PlanRequest& request) { return plan_core(request).fits; }

// First layer held by each device under `a` (devices without layers: where they would start).
std::vector<int> layer_begins(const Assignment& a);
// Per-device bytes of an assignment (index = request device; zero for devices holding nothing).
struct DeviceBytes {
    uint64_t weights = 0, kv = 0, scratch = 0;
    uint64_t total() const { return weights + kv + scratch; }
};
std::vector<DeviceBytes> device_bytes(const PlanCosts& costs, const Assignment& a);

// Longest context (multiple of kCtxStep, at most kMaxCtx) for which plan_core fits; 0 if none.
int64_t find_max_ctx(const PlanRequest& request);

// Largest-remainder split of n items by weights (non-negative; at least one positive).
// Ties go to the earlier index.
std::vector<int> largest_remainder(int n, const std::vector<double>& weights);

// ---- prose (plan_explain.cpp) ----
void explain_plan(const PlanRequest& request, const CoreResult& core, Plan& plan);
void predict_speed(const PlanRequest& request, Plan& plan);
void describe_shortfalls(const PlanRequest& request, const CoreResult& core, Plan& plan);

// ---- suggestions (plan_suggestions.cpp) ----
struct PlanSuggestion {
    std::string text;
    std::optional<PlanRequest> request;  // the changed request; re-planned, it fits (verified)
};
// What would fit instead of `request` (call when it does not fit). Every suggestion carrying a
// request was checked by re-running the planner; a last text without one says nothing fits.
std::vector<PlanSuggestion> suggest_fixes(const PlanRequest& request, const Plan& plan);

// ---- text (plan_format.cpp) ----
std::string format_bytes(uint64_t bytes);   // "21.3 GiB", "512.0 MiB", "181.5 KiB", "100 B"
std::string format_count(uint64_t n);       // "4,060,928" (for people; flags keep plain digits)
std::string device_label(const PlanRequest& request, int device);  // "cuda1 (RTX 4090)"
std::string layer_range_text(int begin, int end);                   // "layers 0–21", "layer 5"

// make_plan without expert placement: every layer's experts with the layer (planner.cpp).
Plan make_layer_plan(const PlanRequest& request);
// make_plan for MoE models: chooses which layers' experts go to the expert host, plans the rest
// with make_layer_plan and accounts the host (expert_placement.cpp).
Plan plan_with_experts(const PlanRequest& request);

}  // namespace strata::plan_detail
