// The hardware what-if: the planner on simulated cards, then the speed and cost arithmetic
// stated in strata/whatif.h.
#include "strata/whatif.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

namespace strata {

namespace {

std::string trim(const std::string& s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return s.substr(b, e - b);
}

// Experts run only on CPU devices in this build (CUDA has no expert kernels), so a MoE model on
// GPUs needs an expert host the catalogue does not describe: refused rather than planned wrongly.
Status check_model(const ModelFootprint& m) {
    if (m.is_moe())
        return Status(ErrorCode::unsupported,
                      "the what-if does not plan mixture-of-experts models yet: their experts run on a CPU "
                      "expert host in this build, which the GPU catalogue does not describe (use strata-cli plan "
                      "--simulate with a machine profile that has a host)");
    return {};
}

Status check_options(const WhatIfOptions& o) {
    auto bad = [](const std::string& what) { return Status(ErrorCode::invalid_argument, what); };
    if (o.n_ctx < 1 || o.n_ctx > (int64_t{1} << 22)) return bad("--ctx must be 1 to 4194304");
    if (o.users < 1 || o.users > 256) return bad("--users must be 1 to 256");
    if (!(o.hours_per_day > 0 && o.hours_per_day <= 24)) return bad("--hours-per-day must be more than 0 and at most 24");
    if (!(o.years > 0 && o.years <= 50)) return bad("--years must be more than 0 and at most 50");
    if (!(o.kwh_price >= 0 && o.kwh_price <= 100)) return bad("--kwh-price must be 0 to 100 (USD per kWh)");
    return {};
}

std::string device_text(const std::vector<GpuSpec>& gpus, size_t i) {
    return "cuda" + std::to_string(i) + " (" + gpus[i].name + ")";
}

// Plans the cards with `links` between them and fills in speed, power and cost.
WhatIfResult evaluate(const ModelFootprint& model, std::string label, std::vector<GpuSpec> gpus, LinkMatrix links,
                      const WhatIfOptions& o) {
    WhatIfResult res;
    res.label = std::move(label);
    res.gpus = std::move(gpus);
    PlanRequest& r = res.request;
    r.model = model;
    r.n_ctx = o.n_ctx;
    r.n_seq = o.users;
    r.kv_type = o.kv_type;
    r.mode = SplitMode::fewest;
    for (size_t i = 0; i < res.gpus.size(); ++i) {
        PlanDevice d;
        d.info = simulated_gpu(res.gpus[i], static_cast<int>(i));
        d.reserve_bytes = o.gpu_reserve;
        if (const ClassCalibration* c = find_gpu_calibration(o.calibration, res.gpus[i].name, res.gpus[i].aliases))
            d.calibration = c->for_weight_type(model.weight_type);
        r.devices.push_back(std::move(d));
    }
    r.links = std::move(links);
    res.plan = make_plan(r);
    res.fits = res.plan.fits;
    res.decode_tps = res.plan.predicted_decode_tps;
    res.prefill_tps = res.plan.predicted_prefill_tps;
    res.served_tps = res.decode_tps * o.users;
    if (res.prefill_tps > 0) res.served_tps = std::min(res.served_tps, res.prefill_tps);

    bool priced = true, cloud_priced = true;
    for (const GpuSpec& g : res.gpus) {
        res.power_w += g.power_w;
        res.purchase_usd += g.price_usd;
        res.cloud_usd_per_hour += g.cloud_usd_per_hour;
        priced = priced && g.price_usd > 0;
        cloud_priced = cloud_priced && g.cloud_usd_per_hour > 0;
    }
    if (!priced) res.purchase_usd = 0;
    if (!cloud_priced) res.cloud_usd_per_hour = 0;
    res.electricity_usd_per_hour = res.power_w / 1000.0 * o.kwh_price;
    if (priced)
        res.own_usd_per_hour = res.purchase_usd / (o.years * 365.0 * o.hours_per_day) + res.electricity_usd_per_hour;
    const double mtok_per_hour = res.served_tps * 3600.0 / 1e6;
    if (res.fits && mtok_per_hour > 0) {
        if (res.cloud_usd_per_hour > 0) {
            res.cloud_usd_per_mtok = res.cloud_usd_per_hour / mtok_per_hour;
            res.cloud_tokens_per_usd = 1e6 / res.cloud_usd_per_mtok;
        }
        if (res.own_usd_per_hour > 0) {
            res.own_usd_per_mtok = res.own_usd_per_hour / mtok_per_hour;
            res.own_tokens_per_usd = 1e6 / res.own_usd_per_mtok;
        }
    }

    // One card fails: the planner's recovery path plans again without it (Model::recover).
    // Identical cards fail alike, so one case per distinct card.
    if (res.gpus.size() > 1) {
        std::vector<std::string> seen;
        for (size_t i = 0; i < res.gpus.size(); ++i) {
            if (std::find(seen.begin(), seen.end(), res.gpus[i].name) != seen.end()) continue;
            seen.push_back(res.gpus[i].name);
            PlanRequest without = r;
            without.devices[i].enabled = false;
            const Plan p = make_plan(without);
            WhatIfFailure f;
            f.removed = static_cast<int>(i);
            f.removed_label = device_text(res.gpus, i);
            f.fits = p.fits;
            f.decode_tps = p.fits ? p.predicted_decode_tps : 0;
            f.prefill_tps = p.fits ? p.predicted_prefill_tps : 0;
            res.failures.push_back(std::move(f));
        }
    }
    return res;
}

}  // namespace

Result<GpuConfig> parse_gpu_config(const GpuCatalogue& catalogue, const std::string& text) {
    std::string t = trim(text);
    if (t.empty()) return Status(ErrorCode::invalid_argument, "--gpus: empty (give e.g. \"2x RTX 3090\")");
    GpuConfig c;
    // A leading count: "2x NAME", "2 x NAME", "2× NAME", "4x4090" (no GPU name starts with
    // digits and an x, so a bare "3090" stays a name).
    size_t i = 0;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
    size_t j = i;
    while (j < t.size() && t[j] == ' ') ++j;
    size_t marker = 0;
    if (j < t.size() && (t[j] == 'x' || t[j] == 'X')) marker = 1;
    else if (t.compare(j, 2, "\xC3\x97") == 0) marker = 2;  // ×
    if (i > 0 && marker > 0) {
        const long long n = i > 3 ? 1000 : std::atoll(t.substr(0, i).c_str());
        if (n < 1)
            return Status(ErrorCode::invalid_argument, "--gpus \"" + text + "\": the count must be 1 to " +
                                                           std::to_string(kWhatIfMaxCards));
        if (n > kWhatIfMaxCards)
            return Status(ErrorCode::invalid_argument, "--gpus \"" + text + "\": " + t.substr(0, i) +
                                                           " cards; the what-if takes at most " +
                                                           std::to_string(kWhatIfMaxCards) + " in one machine");
        c.count = static_cast<int>(n);
        t = trim(t.substr(j + marker));
        if (t.empty()) return Status(ErrorCode::invalid_argument, "--gpus \"" + text + "\": no GPU name after the count");
    }
    auto gpu = find_gpu(catalogue, t);
    if (!gpu.ok()) return Status(gpu.status().code(), "--gpus \"" + text + "\": " + gpu.status().message());
    c.gpu = *gpu;
    c.label = std::to_string(c.count) + "× " + c.gpu.name;
    return c;
}

Result<WhatIfResult> run_whatif(const ModelFootprint& model, const GpuConfig& config, const WhatIfOptions& options) {
    STRATA_RETURN_IF_ERROR(check_options(options));
    STRATA_RETURN_IF_ERROR(check_model(model));
    if (config.count < 1 || config.count > kWhatIfMaxCards)
        return Status(ErrorCode::invalid_argument, "a configuration needs 1 to " + std::to_string(kWhatIfMaxCards) +
                                                       " cards, not " + std::to_string(config.count));
    const size_t n = static_cast<size_t>(config.count);
    LinkMatrix links(n, std::vector<Link>(n, options.link));
    for (size_t i = 0; i < n; ++i) links[i][i] = Link{};
    return evaluate(model, config.label, std::vector<GpuSpec>(n, config.gpu), std::move(links), options);
}

Result<WhatIfResult> run_whatif(const ModelFootprint& model, const MachineProfile& machine,
                                const GpuCatalogue& catalogue, const WhatIfOptions& options) {
    STRATA_RETURN_IF_ERROR(check_options(options));
    STRATA_RETURN_IF_ERROR(check_model(model));
    if (machine.gpus.empty()) return Status(ErrorCode::invalid_argument, machine.name + ": no GPUs");
    std::vector<GpuSpec> gpus = machine.gpus;
    for (GpuSpec& g : gpus) {
        auto known = find_gpu(catalogue, g.name);
        if (known.ok()) {
            if (g.aliases.empty()) g.aliases = known->aliases;  // for the calibration's match
            g.price_usd = known->price_usd;
            g.price_date = known->price_date;
            g.cloud_usd_per_hour = known->cloud_usd_per_hour;
            g.cloud_date = known->cloud_date;
        }
    }
    return evaluate(model, machine.name, std::move(gpus), machine.gpu_links, options);
}

int cheapest_fitting(const std::vector<WhatIfResult>& results, double min_decode_tps) {
    int best = -1;
    auto cost = [](const WhatIfResult& r) { return r.own_usd_per_mtok > 0 ? r.own_usd_per_mtok : r.cloud_usd_per_mtok; };
    for (size_t i = 0; i < results.size(); ++i) {
        const WhatIfResult& r = results[i];
        if (!r.fits || cost(r) <= 0 || r.decode_tps < min_decode_tps) continue;
        if (best < 0 || cost(r) < cost(results[static_cast<size_t>(best)])) best = static_cast<int>(i);
    }
    return best;
}

}  // namespace strata
