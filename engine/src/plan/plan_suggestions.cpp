// What would fit when a plan does not: each suggestion is a changed request that was re-planned
// and fits. Single changes first (shorter context, lower KV precision, fewer sequences, smaller
// batch, more devices, CPU offload, another split mode, ratios that fit, no pinning); if none of
// them is enough, all of them together; if even that does not fit, a plain statement saying so.
#include <algorithm>
#include <set>

#include "plan/memory_estimate.h"
#include "plan/plan_internal.h"

namespace strata::plan_detail {

namespace {

uint64_t total_kv(const PlanRequest& r) {
    return kv_cache_bytes(r.model, 0, r.model.n_layer, r.n_ctx, r.n_batch, r.n_seq, r.kv_type);
}

// Devices in a new order (CPU devices last, others as they were), pins following their device.
PlanRequest cpu_last(const PlanRequest& r) {
    std::vector<size_t> order;
    for (size_t d = 0; d < r.devices.size(); ++d)
        if (r.devices[d].info.type != DeviceType::cpu) order.push_back(d);
    for (size_t d = 0; d < r.devices.size(); ++d)
        if (r.devices[d].info.type == DeviceType::cpu) order.push_back(d);
    PlanRequest out = r;
    out.devices.clear();
    for (size_t k = 0; k < order.size(); ++k) {
        out.devices.push_back(r.devices[order[k]]);
        if (r.embedding_device == static_cast<int>(order[k])) out.embedding_device = static_cast<int>(k);
        if (r.output_device == static_cast<int>(order[k])) out.output_device = static_cast<int>(k);
    }
    return out;
}

std::string device_list(const PlanRequest& r, const std::vector<int>& devs) {
    std::string out;
    for (size_t i = 0; i < devs.size(); ++i) {
        if (i > 0) out += i + 1 == devs.size() ? " and " : ", ";
        out += device_label(r, devs[i]);
    }
    return out;
}

// The layer ranges a changed request puts on CPU devices, for the offload suggestion.
std::string cpu_layers(const PlanRequest& r) {
    const CoreResult core = plan_core(r);
    const std::vector<int> begins = layer_begins(core.assign);
    std::string out;
    for (size_t d = 0; d < core.assign.counts.size(); ++d) {
        if (core.assign.counts[d] == 0 || r.devices[d].info.type != DeviceType::cpu) continue;
        if (!out.empty()) out += ", ";
        out += layer_range_text(begins[d], begins[d] + core.assign.counts[d]) + " on " +
               r.devices[d].info.id;
    }
    return out;
}

// Layer counts as close to the user's ratios as fit: overfilled devices hand one layer at a time
// to the device (preferably one with a ratio) with the most room left. nullopt when stuck.
std::optional<std::vector<int>> fitting_counts(const PlanRequest& r, const CoreResult& core) {
    if (core.assign.counts.empty()) return std::nullopt;
    const PlanCosts costs(r);
    Assignment a = core.assign;
    const int n_dev = costs.n_device();
    for (int it = 0; it < 4 * r.model.n_layer + 8; ++it) {
        const std::vector<DeviceBytes> bytes = device_bytes(costs, a);
        int worst = -1;
        double worst_over = 0;
        for (int d = 0; d < n_dev; ++d) {
            const double cap = static_cast<double>(std::max<uint64_t>(1, costs.capacity(d)));
            const double over = (static_cast<double>(bytes[static_cast<size_t>(d)].total()) - cap) / cap;
            if (bytes[static_cast<size_t>(d)].total() > costs.capacity(d) && over > worst_over &&
                a.counts[static_cast<size_t>(d)] > 0) {
                worst = d;
                worst_over = over;
            }
        }
        if (worst < 0) {
            for (int d = 0; d < n_dev; ++d)
                if (bytes[static_cast<size_t>(d)].total() > costs.capacity(d)) return std::nullopt;
            return a.counts;
        }
        int best = -1;
        double best_room = -1;
        bool best_has_ratio = false;
        for (int d = 0; d < n_dev; ++d) {
            if (d == worst || !r.devices[static_cast<size_t>(d)].enabled) continue;
            Assignment t = a;
            --t.counts[static_cast<size_t>(worst)];
            ++t.counts[static_cast<size_t>(d)];
            resolve_roles(t);
            const uint64_t need = device_bytes(costs, t)[static_cast<size_t>(d)].total();
            if (need > costs.capacity(d)) continue;
            const double room = static_cast<double>(costs.capacity(d) - need) /
                                static_cast<double>(costs.capacity(d));
            const bool has_ratio = r.devices[static_cast<size_t>(d)].ratio > 0;
            if (best < 0 || (has_ratio && !best_has_ratio) ||
                (has_ratio == best_has_ratio && room > best_room)) {
                best = d;
                best_room = room;
                best_has_ratio = has_ratio;
            }
        }
        if (best < 0) return std::nullopt;
        --a.counts[static_cast<size_t>(worst)];
        ++a.counts[static_cast<size_t>(best)];
        resolve_roles(a);
    }
    return std::nullopt;
}

class Collector {
public:
    explicit Collector(const PlanRequest& r) : base_(r) {}
    // Adds the suggestion when the changed request fits. Returns whether it did.
    bool offer(PlanRequest changed, std::string text) {
        if (!core_fits(changed) || !seen_.insert(text).second) return false;
        out_.push_back({std::move(text), std::move(changed)});
        return true;
    }
    bool any() const { return !out_.empty(); }
    std::vector<PlanSuggestion> take() { return std::move(out_); }
    const PlanRequest& base() const { return base_; }

private:
    const PlanRequest& base_;
    std::set<std::string> seen_;
    std::vector<PlanSuggestion> out_;
};

void suggest_context(Collector& c, const Plan& plan) {
    const PlanRequest& r = c.base();
    if (plan.max_ctx_that_fits <= 0 || plan.max_ctx_that_fits >= r.n_ctx) return;
    PlanRequest t = r;
    t.n_ctx = plan.max_ctx_that_fits;
    c.offer(t, "a context of " + std::to_string(t.n_ctx) + " tokens fits (the longest with these "
               "settings; asked for " + std::to_string(r.n_ctx) + "): --ctx " + std::to_string(t.n_ctx));
}

void suggest_kv(Collector& c, const Plan& plan) {
    const PlanRequest& r = c.base();
    const uint64_t row = kv_row_bytes(r.model.n_embd_kv, r.kv_type);
    for (KvCacheType type : {KvCacheType::f16, KvCacheType::q8_0}) {
        if (type == r.kv_type || kv_row_bytes(r.model.n_embd_kv, type) >= row) continue;
        PlanRequest t = r;
        t.kv_type = type;
        const std::string name = kv_cache_type_name(type);
        if (c.offer(t, "KV cache " + name + " instead of " + kv_cache_type_name(r.kv_type) +
                           " fits (KV cache " + format_bytes(total_kv(r)) + " → " +
                           format_bytes(total_kv(t)) + ")"))
            return;
    }
    // Not at this context: the lowest precision with the longest context it allows.
    PlanRequest t = r;
    t.kv_type = KvCacheType::q8_0;
    if (kv_row_bytes(r.model.n_embd_kv, t.kv_type) >= row) return;
    const int64_t ctx = find_max_ctx(t);
    if (ctx <= plan.max_ctx_that_fits || ctx >= r.n_ctx) return;
    t.n_ctx = ctx;
    c.offer(t, "KV cache q8_0 with a context of " + std::to_string(ctx) + " tokens fits");
}

void suggest_seq_and_batch(Collector& c) {
    const PlanRequest& r = c.base();
    if (r.n_seq > 1) {
        PlanRequest t = r;
        int lo = 0, hi = r.n_seq - 1;  // largest fitting count in (lo, hi], 0 = none
        while (lo < hi) {
            t.n_seq = lo + (hi - lo + 1) / 2;
            if (core_fits(t)) lo = t.n_seq; else hi = t.n_seq - 1;
        }
        if (lo > 0) {
            t.n_seq = lo;
            c.offer(t, std::to_string(lo) + (lo == 1 ? " sequence" : " parallel sequences") +
                           " at once instead of " + std::to_string(r.n_seq) + " fits");
        }
    }
    if (r.n_batch > 1) {
        PlanRequest t = r;
        int64_t b = 1;
        while (b * 2 < r.n_batch) b *= 2;
        for (; b >= 1; b /= 2) {
            t.n_batch = b;
            if (c.offer(t, "a batch of " + std::to_string(b) + " tokens instead of " +
                               std::to_string(r.n_batch) + " fits (less scratch memory)"))
                break;
        }
    }
}

void suggest_devices(Collector& c, const CoreResult& core) {
    const PlanRequest& r = c.base();
    std::vector<int> disabled;
    for (size_t d = 0; d < r.devices.size(); ++d)
        if (!r.devices[d].enabled) disabled.push_back(static_cast<int>(d));
    bool one = false;
    for (int d : disabled) {
        PlanRequest t = r;
        t.devices[static_cast<size_t>(d)].enabled = true;
        one = c.offer(t, "enable " + device_label(r, d) + ": fits") || one;
    }
    if (!one && disabled.size() > 1) {
        PlanRequest t = r;
        for (PlanDevice& dev : t.devices) dev.enabled = true;
        c.offer(t, "enable " + device_list(r, disabled) + ": fits");
    }
    // CPU offload: everything enabled, GPUs first, CPU last, fewest mode.
    bool has_cpu = false;
    for (const PlanDevice& dev : r.devices) has_cpu = has_cpu || dev.info.type == DeviceType::cpu;
    if (has_cpu) {
        PlanRequest t = cpu_last(r);
        for (PlanDevice& dev : t.devices)
            if (dev.info.type == DeviceType::cpu) dev.enabled = true;
        t.mode = SplitMode::fewest;
        const std::string where = core_fits(t) ? cpu_layers(t) : std::string();
        if (!where.empty())
            c.offer(t, "offload what does not fit on the GPUs to the CPU (" + where +
                           "; fewest mode, CPU last in priority): fits, but runs slower");
    }
    // Pins: let the embedding and head go with their layers.
    if (r.embedding_device >= 0 || r.output_device >= 0) {
        PlanRequest t = r;
        t.embedding_device = t.output_device = -1;
        c.offer(t, "unpin the token embedding and output head (let them go with the first and "
                   "last layers): fits");
    }
    // Modes.
    for (SplitMode m : {SplitMode::fewest, SplitMode::even}) {
        if (m == r.mode) continue;
        PlanRequest t = r;
        t.mode = m;
        c.offer(t, std::string("split mode ") + split_mode_name(m) + " fits");
    }
    if (r.mode == SplitMode::ratios) {
        if (const auto counts = fitting_counts(r, core)) {
            PlanRequest t = r;
            std::string list;
            for (size_t d = 0; d < t.devices.size(); ++d) {
                t.devices[d].ratio = (*counts)[d];
                if (d > 0) list += ",";
                list += std::to_string((*counts)[d]);
            }
            c.offer(t, "ratios " + list + " fit (the nearest to yours; layers per device): --split " + list);
        }
    }
}

// Everything at once: every device (CPU last), fewest, no pins, the smallest KV cache type, one
// sequence, a small batch, and the longest context that then fits.
void suggest_combined(Collector& c) {
    const PlanRequest& r = c.base();
    PlanRequest t = cpu_last(r);
    for (PlanDevice& dev : t.devices) dev.enabled = true;
    t.mode = SplitMode::fewest;
    t.embedding_device = t.output_device = -1;
    if (kv_row_bytes(r.model.n_embd_kv, KvCacheType::q8_0) < kv_row_bytes(r.model.n_embd_kv, r.kv_type))
        t.kv_type = KvCacheType::q8_0;
    t.n_seq = 1;
    t.n_batch = std::min<int64_t>(r.n_batch, 32);
    const int64_t ctx = find_max_ctx(t);
    if (ctx > 0) {
        t.n_ctx = std::min(ctx, r.n_ctx);
        c.offer(t, "all of these together fit: every device enabled (CPU last), fewest mode, no "
                   "pinning, KV cache " + std::string(kv_cache_type_name(t.kv_type)) +
                   ", 1 sequence, a batch of " + std::to_string(t.n_batch) + " and a context of " +
                   std::to_string(t.n_ctx) + " tokens");
    }
}

}  // namespace

std::vector<PlanSuggestion> suggest_fixes(const PlanRequest& request, const Plan& plan) {
    const CoreResult core = plan_core(request);
    if (core.assign.counts.empty() && request.devices.empty()) return {};
    Collector c(request);
    if (!core.assign.counts.empty()) {
        suggest_context(c, plan);
        suggest_kv(c, plan);
        suggest_seq_and_batch(c);
    }
    suggest_devices(c, core);
    if (!c.any()) suggest_combined(c);
    std::vector<PlanSuggestion> out = c.take();
    if (out.empty() && request.model.layer_bytes.size() == static_cast<size_t>(request.model.n_layer) &&
        request.model.n_layer > 0) {
        const PlanCosts costs(request);
        uint64_t usable = 0;
        for (int d = 0; d < costs.n_device(); ++d) usable += costs.capacity(d);
        out.push_back({"nothing fits on these devices, not even with every device enabled, KV "
                       "cache q8_0, 1 sequence, a batch of " +
                           std::to_string(std::min<int64_t>(request.n_batch, 32)) +
                           " and a 256-token context: the weights alone are " +
                           format_bytes(costs.weight_bytes(-1, 0, request.model.n_layer, true, true)) +
                           " against " + format_bytes(usable) +
                           " usable on all devices; use a smaller quantization or more memory",
                       std::nullopt});
    }
    return out;
}

}  // namespace strata::plan_detail
