// The planner's core: which device holds which layers, under each split mode.
//
// fewest: devices in priority order each take as many whole layers as fit (weights, KV cache and
//         scratch for the roles the device would play), the next device only when one is full.
// even:   the same fill with every device's budget scaled by one fill level λ, searched for the
//         smallest λ that still places every layer: each device ends up at most λ full, so layers
//         land in proportion to usable memory and no device (the smallest card included) is ever
//         filled past its capacity. It fits exactly when fewest fits (fewest is λ = 1).
// ratios: the user's ratios, largest-remainder rounded, never changed; overfilling = not fitting.
#include <algorithm>
#include <cmath>
#include <exception>
#include <numeric>

#include "plan/memory_estimate.h"
#include "plan/plan_internal.h"

namespace strata {

namespace plan_detail {

PlanCosts::PlanCosts(const PlanRequest& request) : r_(&request) {
    const auto& lb = request.model.layer_bytes;
    const auto& cb = request.model.cuda_layer_bytes;
    const bool have_cuda = cb.size() == lb.size();
    prefix_.assign(lb.size() + 1, 0);
    cuda_prefix_.assign(lb.size() + 1, 0);
    for (size_t i = 0; i < lb.size(); ++i) {
        prefix_[i + 1] = prefix_[i] + lb[i];
        cuda_prefix_[i + 1] = cuda_prefix_[i] + (have_cuda ? cb[i] : lb[i]);
    }
}

uint64_t PlanCosts::capacity(int device) const {
    const PlanDevice& d = r_->devices[static_cast<size_t>(device)];
    return d.info.free_memory > d.reserve_bytes ? d.info.free_memory - d.reserve_bytes : 0;
}

bool PlanCosts::on_cuda(int device) const {
    return device >= 0 && r_->devices[static_cast<size_t>(device)].info.type == DeviceType::cuda;
}

uint64_t PlanCosts::layer_bytes(int device, int begin, int count) const {
    const std::vector<uint64_t>& p = on_cuda(device) ? cuda_prefix_ : prefix_;
    return p[static_cast<size_t>(begin + count)] - p[static_cast<size_t>(begin)];
}

uint64_t PlanCosts::output_bytes(int device) const {
    const ModelFootprint& m = r_->model;
    return on_cuda(device) && m.cuda_output_bytes ? m.cuda_output_bytes : m.output_bytes;
}

uint64_t PlanCosts::weight_bytes(int device, int begin, int count, bool has_emb, bool has_out) const {
    const ModelFootprint& m = r_->model;
    uint64_t bytes = layer_bytes(device, begin, count);
    if (has_emb) bytes += on_cuda(device) && m.cuda_embedding_bytes ? m.cuda_embedding_bytes : m.embedding_bytes;
    if (has_out) bytes += m.output_norm_bytes + output_bytes(device);
    return bytes;
}

uint64_t PlanCosts::kv_bytes(int begin, int count) const {
    return kv_cache_bytes(r_->model, begin, count, r_->n_ctx, r_->n_batch, r_->n_seq, r_->kv_type);
}

uint64_t PlanCosts::scratch_bytes(int device, int count, bool has_emb, bool has_out) const {
    if (count == 0 && !has_emb && !has_out) return 0;
    const PlanDevice& d = r_->devices[static_cast<size_t>(device)];
    ScratchParams p;
    p.n_batch = r_->n_batch;
    p.n_ctx = r_->n_ctx;
    p.n_seq = r_->n_seq;
    p.first_stage = has_emb;
    p.last_stage = has_out;
    p.device_type = d.info.type;
    p.n_threads = std::max(1, d.n_threads);
    return make_scratch_layout(r_->model, p).total;
}

uint64_t PlanCosts::total(int device, int begin, int count, bool has_emb, bool has_out) const {
    return weight_bytes(device, begin, count, has_emb, has_out) + kv_bytes(begin, count) +
           scratch_bytes(device, count, has_emb, has_out);
}

std::vector<int> largest_remainder(int n, const std::vector<double>& weights) {
    std::vector<int> out(weights.size(), 0);
    double sum = 0;
    for (double w : weights) sum += w > 0 ? w : 0;
    if (sum <= 0 || n <= 0) return out;
    // Remainders are compared at 1e-9 resolution, so that equal shares computed with rounding
    // error (8 × 2/12 against 8 × 5/12) still tie and go to the earlier device.
    std::vector<int64_t> frac(weights.size(), -1);
    int given = 0;
    for (size_t i = 0; i < weights.size(); ++i) {
        if (!(weights[i] > 0)) continue;
        double q = static_cast<double>(n) * weights[i] / sum;
        if (std::abs(q - std::round(q)) < 1e-9 * std::max(1.0, q)) q = std::round(q);
        const double fl = std::floor(q);
        out[i] = static_cast<int>(fl);
        frac[i] = std::llround((q - fl) * 1e9);
        given += out[i];
    }
    std::vector<size_t> idx(weights.size());
    std::iota(idx.begin(), idx.end(), size_t{0});
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return frac[a] > frac[b]; });
    for (size_t k = 0; given < n && k < idx.size(); ++k) {
        if (frac[idx[k]] < 0) break;  // a zero weight never gets a remainder layer
        ++out[idx[k]];
        ++given;
    }
    for (size_t k = 0; given < n; k = (k + 1) % idx.size()) {  // rounding slack, if any
        if (frac[idx[k]] >= 0) { ++out[idx[k]]; ++given; }
    }
    return out;
}

std::vector<int> layer_begins(const Assignment& a) {
    std::vector<int> begins(a.counts.size(), 0);
    int b = 0;
    for (size_t d = 0; d < a.counts.size(); ++d) {
        begins[d] = b;
        b += a.counts[d];
    }
    return begins;
}

std::vector<DeviceBytes> device_bytes(const PlanCosts& costs, const Assignment& a) {
    std::vector<DeviceBytes> out(a.counts.size());
    const std::vector<int> begins = layer_begins(a);
    for (size_t d = 0; d < a.counts.size(); ++d) {
        const int di = static_cast<int>(d);
        const bool emb = a.emb_device == di, outr = a.out_device == di;
        out[d].weights = costs.weight_bytes(di, begins[d], a.counts[d], emb, outr);
        out[d].kv = costs.kv_bytes(begins[d], a.counts[d]);
        out[d].scratch = costs.scratch_bytes(di, a.counts[d], emb, outr);
    }
    return out;
}

void resolve_roles(Assignment& a) {
    int first = -1, last = -1;
    for (size_t d = 0; d < a.counts.size(); ++d) {
        if (a.counts[d] == 0) continue;
        if (first < 0) first = static_cast<int>(d);
        last = static_cast<int>(d);
    }
    if (!a.emb_pinned) a.emb_device = first;
    if (!a.out_pinned) a.out_device = last;
}

namespace {

bool all_within(const PlanCosts& costs, const Assignment& a, const std::vector<uint64_t>& budget) {
    const std::vector<DeviceBytes> bytes = device_bytes(costs, a);
    for (size_t d = 0; d < bytes.size(); ++d)
        if (bytes[d].total() > budget[d]) return false;
    return true;
}

// Budgets for a greedy fill: a device may take layers while the bytes of its layers (weights
// and KV cache) stay within `layers[d]` and everything it holds within `total[d]`.
struct Budget {
    std::vector<uint64_t> layers;
    std::vector<uint64_t> total;
};

// Devices in `order` each take as many whole layers as their budget allows, in turn. Returns the
// number of layers placed; a.counts holds the counts (roles resolved).
int greedy_fill(const PlanCosts& costs, const std::vector<int>& order, const Budget& budget,
                Assignment& a) {
    const int n = costs.n_layer();
    std::fill(a.counts.begin(), a.counts.end(), 0);
    int b = 0;
    for (int d : order) {
        const int rest = n - b;
        if (rest == 0) break;
        const size_t ds = static_cast<size_t>(d);
        auto fits = [&](int k) {
            const bool emb = a.emb_pinned ? a.emb_device == d : (b == 0 && k > 0);
            const bool out = a.out_pinned ? a.out_device == d : (b + k == n && k > 0);
            return costs.layer_bytes(d, b, k) + costs.kv_bytes(b, k) <= budget.layers[ds] &&
                   costs.total(d, b, k, emb, out) <= budget.total[ds];
        };
        int best = 0;
        if (fits(rest)) {
            best = rest;
        } else {
            // Below `rest` the roles are fixed, so the bytes grow with k: binary search.
            int lo = 0, hi = rest - 1;  // invariant: best fitting k in [lo, hi]
            while (lo < hi) {
                const int mid = lo + (hi - lo + 1) / 2;
                if (fits(mid)) lo = mid; else hi = mid - 1;
            }
            best = lo;
        }
        a.counts[ds] = best;
        b += best;
    }
    resolve_roles(a);
    return b;
}

std::vector<uint64_t> capacities(const PlanCosts& costs, double level) {
    std::vector<uint64_t> out(static_cast<size_t>(costs.n_device()));
    for (int d = 0; d < costs.n_device(); ++d) {
        const double b = std::floor(static_cast<double>(costs.capacity(d)) * level);
        out[static_cast<size_t>(d)] = b >= 1.8e19 ? UINT64_MAX : static_cast<uint64_t>(b);
    }
    return out;
}

void plan_fewest(const PlanCosts& costs, const std::vector<int>& order, CoreResult& res) {
    Assignment& a = res.assign;
    const Budget budget{std::vector<uint64_t>(a.counts.size(), UINT64_MAX), capacities(costs, 1.0)};
    const int placed = greedy_fill(costs, order, budget, a);
    if (placed < costs.n_layer()) {  // does not fit: the last device takes what is left
        a.counts[static_cast<size_t>(order.back())] += costs.n_layer() - placed;
        resolve_roles(a);
    }
}

// Each device's layers (weights + KV) may take a share λ of its usable memory, on top of its
// fixed costs (scratch, embedding, head) and never past its capacity; the smallest λ that places
// every layer spreads them in proportion to usable memory. At λ = 1 this is fewest, so even fits
// exactly when fewest does. When nothing fits, the capacity limit is dropped so the overfill is
// spread in the same proportion, to show where memory is short.
void plan_even(const PlanCosts& costs, const std::vector<int>& order, CoreResult& res) {
    Assignment& a = res.assign;
    const int n = costs.n_layer();
    const std::vector<uint64_t> cap = capacities(costs, 1.0);
    bool must_fit = true;
    auto placed_all = [&](double level) {
        const Budget budget{capacities(costs, level),
                            must_fit ? cap : std::vector<uint64_t>(cap.size(), UINT64_MAX)};
        if (greedy_fill(costs, order, budget, a) < n) return false;
        return !must_fit || all_within(costs, a, cap);
    };
    double lo = 0, hi = 1;
    if (!placed_all(1.0)) {
        must_fit = false;
        lo = 1;
        hi = 2;
        while (hi < 1e12 && !placed_all(hi)) hi *= 2;
        if (hi >= 1e12) {  // no usable memory anywhere: split the layers evenly by count
            std::vector<double> w(a.counts.size(), 0);
            for (int d : order) w[static_cast<size_t>(d)] = 1;
            a.counts = largest_remainder(n, w);
            resolve_roles(a);
            return;
        }
    }
    for (int it = 0; it < 60 && hi - lo > 1e-9 * hi; ++it) {
        const double mid = 0.5 * (lo + hi);
        if (placed_all(mid)) hi = mid; else lo = mid;
    }
    placed_all(hi);
    res.fill = hi;
}

void plan_ratios(const PlanCosts& costs, const std::vector<int>& order, CoreResult& res) {
    const PlanRequest& r = costs.request();
    std::vector<double> w(r.devices.size(), 0);
    double sum = 0;
    for (int d : order) {
        const double ratio = r.devices[static_cast<size_t>(d)].ratio;
        if (!std::isfinite(ratio) || ratio < 0) {
            res.errors.push_back("split ratio of " + r.devices[static_cast<size_t>(d)].info.id +
                                 " must be a number ≥ 0 (got " + std::to_string(ratio) + ")");
            return;
        }
        w[static_cast<size_t>(d)] = ratio;
        sum += ratio;
    }
    if (!(sum > 0)) {
        res.errors.push_back("split ratios are all 0 on the enabled devices: no device would get a layer");
        return;
    }
    res.assign.counts = largest_remainder(costs.n_layer(), w);
    resolve_roles(res.assign);
}

std::string check_request(const PlanRequest& r) {
    const ModelFootprint& m = r.model;
    if (m.n_layer <= 0) return "the model has no layers (n_layer " + std::to_string(m.n_layer) + ")";
    if (m.layer_bytes.size() != static_cast<size_t>(m.n_layer))
        return "the model footprint lists " + std::to_string(m.layer_bytes.size()) +
               " layer sizes for n_layer " + std::to_string(m.n_layer);
    if (m.n_embd <= 0 || m.n_embd_kv < 0 || m.n_ff < 0 || m.n_head < 0 || m.n_vocab < 0)
        return "the model footprint has a negative or zero dimension";
    if (r.n_ctx < 1 || r.n_ctx > kMaxCtx)
        return "context length must be 1 to " + std::to_string(kMaxCtx) + " (got " +
               std::to_string(r.n_ctx) + ")";
    if (r.n_batch < 1 || r.n_batch > kMaxBatch)
        return "batch size must be 1 to " + std::to_string(kMaxBatch) + " (got " +
               std::to_string(r.n_batch) + ")";
    if (r.n_seq < 1 || r.n_seq > kMaxSeq)
        return "parallel sequences must be 1 to " + std::to_string(kMaxSeq) + " (got " +
               std::to_string(r.n_seq) + ")";
    if (r.devices.empty()) return "no devices given";
    return {};
}

// Validates a pin; returns false (with an error) when it cannot be honoured.
bool check_pin(const PlanRequest& r, int pin, const char* what, std::vector<std::string>& errors) {
    if (pin < 0) return false;
    if (pin >= static_cast<int>(r.devices.size())) {
        errors.push_back(std::string(what) + " is pinned to device index " + std::to_string(pin) +
                         ", but there are only " + std::to_string(r.devices.size()) + " devices");
        return false;
    }
    if (!r.devices[static_cast<size_t>(pin)].enabled) {
        errors.push_back(std::string(what) + " is pinned to " + device_label(r, pin) +
                         ", which is disabled");
        return false;
    }
    return true;
}

}  // namespace

CoreResult plan_core(const PlanRequest& r) {
    CoreResult res;
    if (std::string problem = check_request(r); !problem.empty()) {
        res.errors.push_back(std::move(problem));
        return res;
    }
    std::vector<int> order;
    for (size_t d = 0; d < r.devices.size(); ++d)
        if (r.devices[d].enabled) order.push_back(static_cast<int>(d));
    if (order.empty()) {
        res.errors.push_back("every device is disabled");
        return res;
    }
    const PlanCosts costs(r);
    Assignment& a = res.assign;
    a.counts.assign(r.devices.size(), 0);
    a.emb_pinned = check_pin(r, r.embedding_device, "the token embedding", res.errors);
    a.out_pinned = check_pin(r, r.output_device, "the output head", res.errors);
    a.emb_device = a.emb_pinned ? r.embedding_device : -1;
    a.out_device = a.out_pinned ? r.output_device : -1;

    switch (r.mode) {
        case SplitMode::fewest: plan_fewest(costs, order, res); break;
        case SplitMode::even: plan_even(costs, order, res); break;
        case SplitMode::ratios: plan_ratios(costs, order, res); break;
    }
    if (std::accumulate(a.counts.begin(), a.counts.end(), 0) != r.model.n_layer) {
        a.counts.assign(r.devices.size(), 0);  // no layout to show (an error says why)
        a.emb_device = a.out_device = -1;
        return res;
    }
    res.fits = res.errors.empty() &&
               all_within(costs, a, capacities(costs, 1.0));
    return res;
}

int64_t find_max_ctx(const PlanRequest& request) {
    PlanRequest r = request;
    auto fits_at = [&](int64_t ctx) {
        r.n_ctx = ctx;
        return core_fits(r);
    };
    if (!fits_at(kCtxStep)) return 0;
    int64_t lo = kCtxStep;  // fits
    int64_t hi = lo;
    while (hi < kMaxCtx) {  // grow until one does not fit
        hi = std::min(kMaxCtx, hi * 2);
        if (!fits_at(hi)) break;
        lo = hi;
    }
    if (lo == kMaxCtx) return lo;
    while (hi - lo > kCtxStep) {  // lo fits, hi does not; both multiples of kCtxStep
        const int64_t mid = lo + (hi - lo) / 2 / kCtxStep * kCtxStep;
        if (fits_at(mid)) lo = mid; else hi = mid;
    }
    return lo;
}

namespace {

Plan materialize(const PlanRequest& r, const CoreResult& core) {
    Plan plan;
    plan.fits = core.fits;
    const Assignment& a = core.assign;
    if (a.counts.empty() || a.emb_device < 0) return plan;
    const int n = r.model.n_layer;
    const std::vector<int> begins = layer_begins(a);
    int first = -1, last = -1;
    for (size_t d = 0; d < a.counts.size(); ++d) {
        if (a.counts[d] == 0) continue;
        if (first < 0) first = static_cast<int>(d);
        last = static_cast<int>(d);
    }
    auto stage = [&](int d, int b, int e, bool emb, bool out) {
        StagePlan s;
        s.device = d;
        s.device_id = r.devices[static_cast<size_t>(d)].info.id;
        s.layer_begin = b;
        s.layer_end = e;
        s.has_embedding = emb;
        s.has_output = out;
        plan.stages.push_back(std::move(s));
    };
    if (a.emb_device != first) stage(a.emb_device, 0, 0, true, false);
    for (size_t d = 0; d < a.counts.size(); ++d) {
        if (a.counts[d] == 0) continue;
        const int di = static_cast<int>(d);
        stage(di, begins[d], begins[d] + a.counts[d], di == a.emb_device && di == first,
              di == a.out_device && di == last);
    }
    if (a.out_device != last) stage(a.out_device, n, n, false, true);

    const PlanCosts costs(r);
    const std::vector<DeviceBytes> bytes = device_bytes(costs, a);
    for (size_t d = 0; d < bytes.size(); ++d) {
        const int di = static_cast<int>(d);
        if (a.counts[d] == 0 && a.emb_device != di && a.out_device != di) continue;
        DeviceUse u;
        u.device = di;
        u.device_id = r.devices[d].info.id;
        u.capacity = costs.capacity(di);
        u.weight_bytes = bytes[d].weights;
        u.kv_bytes = bytes[d].kv;
        u.scratch_bytes = bytes[d].scratch;
        plan.devices.push_back(std::move(u));
    }
    return plan;
}

}  // namespace
}  // namespace plan_detail

Plan make_plan(const PlanRequest& request) {
    if (request.model.attention_sinks && !request.gpu_attention_sinks) {
        // gpt-oss: the CUDA attention kernels with sinks are experimental and used only on
        // request (PlanRequest::gpu_attention_sinks), so without it its layers stay off GPUs.
        bool dropped = false;
        PlanRequest cpu_only = request;
        for (PlanDevice& d : cpu_only.devices)
            if (d.enabled && d.info.type == DeviceType::cuda) d.enabled = false, dropped = true;
        if (dropped) {
            cpu_only.model.attention_sinks = false;
            Plan p = make_plan(cpu_only);
            p.decisions.insert(p.decisions.begin(),
                               "GPUs skipped: this model's attention sinks (gpt-oss) have experimental CUDA kernels "
                               "(never yet run on a GPU), used only with STRATA_CUDA_MOE=1, so its layers run on the CPU");
            return p;
        }
    }
    if (request.model.is_moe()) return plan_detail::plan_with_experts(request);
    return plan_detail::make_layer_plan(request);
}

Plan plan_detail::make_layer_plan(const PlanRequest& request) {
    using namespace plan_detail;
    try {
        const CoreResult core = plan_core(request);
        Plan plan = materialize(request, core);
        plan.max_ctx_that_fits = find_max_ctx(request);
        predict_speed(request, plan);
        explain_plan(request, core, plan);
        if (!plan.fits) {
            describe_shortfalls(request, core, plan);
            for (PlanSuggestion& s : suggest_fixes(request, plan))
                plan.suggestions.push_back(std::move(s.text));
        }
        return plan;
    } catch (const std::exception& e) {
        Plan plan;
        plan.shortfalls.push_back(std::string("planner failed: ") + e.what());
        return plan;
    }
}

}  // namespace strata
