// strata-cli whatif: would a model fit on GPUs we do not have, how fast, at what cost per million
// tokens, and what if a card fails. The planner on catalogue cards (strata/whatif.h states the
// arithmetic); nothing is loaded.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "strata/engine.h"
#include "strata/format.h"
#include "strata/whatif.h"

namespace strata::cli {

namespace {

constexpr size_t kMaxConfigs = 4;

const char* kHelp =
    "usage: strata-cli whatif --gpus \"2x RTX 3090\" [--gpus ...] (-m MODEL | --params 70B --type Q4_K_M) [options]\n\n"
    "Would this model fit on these GPUs, how fast would it run, and what does a million tokens cost?\n"
    "Plans the model on simulated cards from the GPU catalogue (nothing is loaded) and prints the\n"
    "configurations side by side, the cheapest one that fits, and what happens if one card fails.\n\n"
    "configurations (up to 4 in all):\n"
    "  --gpus \"N x NAME\"       N cards (1 to 8) from the catalogue: \"2x RTX 3090\", \"RTX 6000 Ada\", \"4x 4090\"\n"
    "  --simulate FILE         a machine profile (resources/machines/*.json): its GPUs and links\n"
    "  --link KIND:GBS[:US]    how --gpus cards hand over to each other (default staged:25:10, PCIe 4.0\n"
    "                          x16 without P2P; kinds: nvlink, pcie-switch, host-bridge, cross-socket, staged)\n"
    "  --catalogue FILE        the GPU catalogue (default: resources/gpus.json; edit its prices there)\n\n"
    "model:\n"
    "  -m, --model FILE        a GGUF file (only its header is read)\n"
    "  --params SIZE           or a llama-shaped model of this size: 8B, 70B, 405B, 1.5B ...\n"
    "  --type MIX              its quantization: Q4_K_M (default), Q8_0, Q5_K_M, F16, ...\n\n"
    "use:\n"
    "  --ctx N                 context length per user (default 4096)\n"
    "  --users N               users served at once, each with its own KV cache (default 1)\n"
    "  --kv-type f16|f32|q8_0  KV cache precision (default f16)\n"
    "  --min-tps T             the cheapest configuration must also decode at least T tok/s for one user\n\n"
    "cost:\n"
    "  --hours-per-day H       hours a day the cards serve (default 24)\n"
    "  --years Y               the purchase is spread over Y years (default 3)\n"
    "  --kwh-price P           electricity, USD per kWh (default 0.15)\n"
    "  --json                  print JSON instead of the table\n\n"
    "Speeds are the planner's predictions (memory bandwidth, FP16 throughput, link speeds). A card\n"
    "with bench runs (this machine's bench log, or the seed resources/calibration.json: the H100 run\n"
    "of docs/benchmarks.md) has them scaled by measured/predicted (the \"speed\" row says so); the\n"
    "others are upper bounds, which this engine's decode reached 12-60% of on an H100.\n"
    "STRATA_NO_CALIBRATION=1 shows the raw figures. Cost per million tokens counts decoded tokens at\n"
    "the predicted speed of all users together, so it is a lower bound.\n"
    "Exit status: 0 at least one configuration fits, 3 none fits, 1 error, 2 usage.\n";

int fail(const std::string& msg) {
    std::fprintf(stderr, "error: %s\n", msg.c_str());
    return 1;
}

int usage_error(const std::string& msg) {
    std::fprintf(stderr, "error: %s\n", msg.c_str());
    return 2;
}

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}
std::string tps(double v) { return v > 0 ? fmt(v < 10 ? "%.2f" : "%.1f", v) : "-"; }
std::string usd(double v) { return v > 0 ? (v < 1 ? fmt("$%.3f", v) : v < 100 ? fmt("$%.2f", v) : fmt("$%.0f", v)) : "-"; }
std::string count(double v) { return v > 0 ? (v >= 1e6 ? fmt("%.2fM", v / 1e6) : fmt("%.0f", v)) : "-"; }

bool parse_link(const std::string& text, Link& out) {
    const size_t a = text.find(':');
    if (a == std::string::npos || !parse_link_kind(text.substr(0, a), out.kind) || out.kind == LinkKind::unknown)
        return false;
    const size_t b = text.find(':', a + 1);
    char* end = nullptr;
    const std::string gbs = text.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
    out.gbs = std::strtod(gbs.c_str(), &end);
    if (gbs.empty() || *end != '\0' || !(out.gbs > 0)) return false;
    out.latency_us = 10;
    if (b != std::string::npos) {
        const std::string us = text.substr(b + 1);
        out.latency_us = std::strtod(us.c_str(), &end);
        if (us.empty() || *end != '\0' || !(out.latency_us > 0)) return false;
    }
    return true;
}

uint64_t used_bytes(const WhatIfResult& r, int device, uint64_t* capacity) {
    for (const DeviceUse& u : r.plan.devices)
        if (u.device == device) {
            *capacity = u.capacity;
            return u.total();
        }
    *capacity = r.request.devices[static_cast<size_t>(device)].info.free_memory -
                std::min(r.request.devices[static_cast<size_t>(device)].info.free_memory,
                         r.request.devices[static_cast<size_t>(device)].reserve_bytes);
    return 0;
}

std::string gib(uint64_t b) { return fmt("%.1f", static_cast<double>(b) / (1024.0 * 1024 * 1024)); }

nlohmann::json to_json(const WhatIfResult& r) {
    using nlohmann::json;
    json j;
    j["label"] = r.label;
    j["fits"] = r.fits;
    json devices = json::array();
    for (size_t d = 0; d < r.gpus.size(); ++d) {
        uint64_t cap = 0;
        const uint64_t used = used_bytes(r, static_cast<int>(d), &cap);
        devices.push_back({{"id", r.request.devices[d].info.id}, {"name", r.gpus[d].name}, {"used_bytes", used},
                           {"usable_bytes", cap}, {"fits", used <= cap}});
    }
    j["devices"] = devices;
    j["decode_tps"] = r.decode_tps;
    j["prefill_tps"] = r.prefill_tps;
    j["served_tps"] = r.served_tps;
    j["raw_decode_tps"] = r.plan.raw_predicted_decode_tps;
    j["raw_prefill_tps"] = r.plan.raw_predicted_prefill_tps;
    j["calibration"] = {{"decode", r.plan.calibration.decode}, {"decode_runs", r.plan.calibration.decode_runs},
                        {"prefill", r.plan.calibration.prefill}, {"prefill_runs", r.plan.calibration.prefill_runs},
                        {"source", r.plan.calibration.source}};
    j["power_w"] = r.power_w;
    j["purchase_usd"] = r.purchase_usd;
    j["cloud_usd_per_hour"] = r.cloud_usd_per_hour;
    j["electricity_usd_per_hour"] = r.electricity_usd_per_hour;
    j["own_usd_per_hour"] = r.own_usd_per_hour;
    j["cloud_usd_per_mtok"] = r.cloud_usd_per_mtok;
    j["own_usd_per_mtok"] = r.own_usd_per_mtok;
    j["cloud_tokens_per_usd"] = r.cloud_tokens_per_usd;
    j["own_tokens_per_usd"] = r.own_tokens_per_usd;
    json handoffs = json::array();
    for (const StageHandOff& h : r.plan.handoffs)
        handoffs.push_back({{"from", h.from_id}, {"to", h.to_id}, {"kind", link_kind_name(h.link.kind)}, {"gbs", h.gbs},
                            {"latency_us", h.latency_us}, {"seconds_per_token", h.decode_seconds_per_token}});
    j["handoffs"] = handoffs;
    json failures = json::array();
    for (const WhatIfFailure& f : r.failures)
        failures.push_back({{"removed", r.request.devices[static_cast<size_t>(f.removed)].info.id},
                            {"removed_name", r.gpus[static_cast<size_t>(f.removed)].name}, {"fits", f.fits},
                            {"decode_tps", f.decode_tps}, {"prefill_tps", f.prefill_tps}});
    j["if_one_card_fails"] = failures;
    j["shortfalls"] = r.plan.shortfalls;
    return j;
}

void print_table(const std::vector<WhatIfResult>& results, const WhatIfOptions& o) {
    std::vector<std::vector<std::string>> rows;
    auto row = [&](const std::string& name, auto cell) {
        std::vector<std::string> r{name};
        for (const WhatIfResult& w : results) r.push_back(cell(w));
        rows.push_back(std::move(r));
    };
    row("", [](const WhatIfResult& r) { return r.label; });
    row("fits", [](const WhatIfResult& r) { return std::string(r.fits ? "yes" : "NO"); });
    size_t max_cards = 0;
    for (const WhatIfResult& r : results) max_cards = std::max(max_cards, r.gpus.size());
    for (size_t d = 0; d < max_cards; ++d)
        row("  cuda" + std::to_string(d) + " GiB used/usable", [d](const WhatIfResult& r) {
            if (d >= r.gpus.size()) return std::string();
            uint64_t cap = 0;
            const uint64_t used = used_bytes(r, static_cast<int>(d), &cap);
            return gib(used) + "/" + gib(cap) + (used > cap ? " !" : "");
        });
    row("decode tok/s (1 user)", [](const WhatIfResult& r) { return tps(r.decode_tps); });
    row("prefill tok/s", [](const WhatIfResult& r) { return tps(r.prefill_tps); });
    row("speed", [](const WhatIfResult& r) {
        const SpeedCalibration& c = r.plan.calibration;
        if (c.decode_runs <= 0) return std::string("upper bound (uncalibrated)");
        return "calibrated ×" + fmt("%.2f", c.decode) + " (" + std::to_string(c.decode_runs) + " runs)";
    });
    row("served tok/s (" + std::to_string(o.users) + (o.users == 1 ? " user)" : " users)"),
        [](const WhatIfResult& r) { return tps(r.served_tps); });
    row("slowest hand-off ms/token", [](const WhatIfResult& r) {
        double worst = 0;
        std::string kind;
        for (const StageHandOff& h : r.plan.handoffs)
            if (h.decode_seconds_per_token > worst) worst = h.decode_seconds_per_token, kind = link_kind_name(h.link.kind);
        return worst > 0 ? fmt("%.3f", worst * 1e3) + " (" + kind + ")" : std::string("-");
    });
    row("power at board power W", [](const WhatIfResult& r) { return fmt("%.0f", r.power_w); });
    row("price to buy", [](const WhatIfResult& r) { return usd(r.purchase_usd); });
    row("cloud $/hour", [](const WhatIfResult& r) { return usd(r.cloud_usd_per_hour); });
    row("own $/hour (amortised+power)", [](const WhatIfResult& r) { return usd(r.own_usd_per_hour); });
    row("$/Mtok in a cloud", [](const WhatIfResult& r) { return usd(r.cloud_usd_per_mtok); });
    row("$/Mtok owned", [](const WhatIfResult& r) { return usd(r.own_usd_per_mtok); });
    row("tokens per $ (cloud)", [](const WhatIfResult& r) { return count(r.cloud_tokens_per_usd); });
    row("tokens per $ (owned)", [](const WhatIfResult& r) { return count(r.own_tokens_per_usd); });
    row("if one card fails", [](const WhatIfResult& r) {
        if (r.failures.empty()) return std::string("nothing left");
        std::string out;
        for (const WhatIfFailure& f : r.failures) {
            if (!out.empty()) out += "; ";
            if (r.failures.size() > 1) out += "without " + r.gpus[static_cast<size_t>(f.removed)].name + ": ";
            out += f.fits ? "fits, " + tps(f.decode_tps) + " tok/s" : "does not fit";
        }
        return out;
    });
    for (const auto& r : rows) {
        std::string line;
        for (size_t c = 0; c < r.size(); ++c) {
            std::string cell = r[c];
            // Pad by display columns (× and other UTF-8 count one column).
            size_t cols = 0;
            for (unsigned char ch : cell) cols += (ch & 0xC0) != 0x80;
            size_t wcols = 0;
            for (const auto& rr : rows) {
                size_t k = 0;
                for (unsigned char ch : rr[c]) k += (ch & 0xC0) != 0x80;
                wcols = std::max(wcols, k);
            }
            line += cell + std::string(wcols - cols + 2, ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        std::printf("%s\n", line.c_str());
    }
}

}  // namespace

int cmd_whatif(Args& args) {
    if (args.flag({"-h", "--help"})) {
        std::fprintf(stderr, "%s", kHelp);
        return 0;
    }
    const std::vector<std::string> gpus = args.values({"--gpus"});
    const std::vector<std::string> profiles = args.values({"--simulate"});
    const auto model_path = args.value({"-m", "--model"});
    const auto params = args.value({"--params"});
    const auto type = args.value({"--type"});
    const auto link = args.value({"--link"});
    const auto catalogue_path = args.value({"--catalogue"});
    const bool as_json = args.flag({"--json"});
    WhatIfOptions o;
    long long n = 0;
    double f = 0;
    if (auto v = args.value({"--ctx", "-c"})) {
        if (!Args::to_int(*v, "--ctx", n)) return 2;
        o.n_ctx = n;
    }
    if (auto v = args.value({"--users"})) {
        if (!Args::to_int(*v, "--users", n)) return 2;
        o.users = static_cast<int>(std::clamp<long long>(n, -1, 100000));
    }
    if (auto v = args.value({"--kv-type"}))
        if (!parse_kv_cache_type(*v, o.kv_type)) return usage_error("--kv-type must be f16, f32 or q8_0, not '" + *v + "'");
    if (auto v = args.value({"--hours-per-day"})) {
        if (!Args::to_float(*v, "--hours-per-day", f)) return 2;
        o.hours_per_day = f;
    }
    if (auto v = args.value({"--years"})) {
        if (!Args::to_float(*v, "--years", f)) return 2;
        o.years = f;
    }
    if (auto v = args.value({"--kwh-price"})) {
        if (!Args::to_float(*v, "--kwh-price", f)) return 2;
        o.kwh_price = f;
    }
    double min_tps = 0;
    if (auto v = args.value({"--min-tps"})) {
        if (!Args::to_float(*v, "--min-tps", min_tps)) return 2;
        if (!(min_tps >= 0)) return usage_error("--min-tps must be 0 or more");
    }
    if (link && !parse_link(*link, o.link))
        return usage_error("--link must be KIND:GBS[:LATENCY_US] with KIND one of nvlink, pcie-switch, host-bridge, "
                    "cross-socket, staged, host-device (e.g. nvlink:56.25:3), not '" + *link + "'");
    std::vector<std::string> rest;
    std::string err;
    if (!args.finish(rest, err)) return usage_error(err + " (see strata-cli whatif --help)");
    if (!rest.empty()) return usage_error("unexpected argument '" + rest[0] + "' (see strata-cli whatif --help)");
    if (gpus.empty() && profiles.empty())
        return usage_error("no GPUs given: --gpus \"2x RTX 3090\" or --simulate FILE (see strata-cli whatif --help)");
    if (gpus.size() + profiles.size() > kMaxConfigs)
        return usage_error("at most " + std::to_string(kMaxConfigs) + " configurations side by side (" +
                    std::to_string(gpus.size() + profiles.size()) + " given)");
    if (model_path.has_value() == params.has_value())
        return usage_error("give the model as -m FILE or as --params SIZE [--type MIX], one of the two");
    if (type && !params) return usage_error("--type goes with --params (a file says its own type)");

    const std::string cat_path = catalogue_path ? *catalogue_path : find_resource("gpus.json");
    if (cat_path.empty()) return fail("the GPU catalogue gpus.json was not found (set STRATA_RESOURCES or give --catalogue FILE)");
    auto catalogue = load_gpu_catalogue(cat_path);
    if (!catalogue.ok()) return fail(catalogue.status().message());
    o.calibration = load_calibration_with_seed();

    ModelFootprint model;
    std::string model_text;
    if (model_path) {
        auto fp = read_model_footprint(*model_path);
        if (!fp.ok()) return fail(fp.status().message());
        model = std::move(fp).value();
        model_text = *model_path;
    } else {
        auto p = parse_param_count(*params);
        if (!p.ok()) return fail(p.status().message());
        auto fp = synthetic_footprint(*p, type.value_or("Q4_K_M"), &model_text);
        if (!fp.ok()) return fail(fp.status().message());
        model = std::move(fp).value();
    }

    std::vector<WhatIfResult> results;
    for (const std::string& g : gpus) {
        auto config = parse_gpu_config(*catalogue, g);
        if (!config.ok()) return fail(config.status().message());
        auto r = run_whatif(model, *config, o);
        if (!r.ok()) return fail(r.status().message());
        results.push_back(std::move(r).value());
    }
    for (const std::string& path : profiles) {
        auto machine = load_machine_profile(path);
        if (!machine.ok()) return fail(machine.status().message());
        auto r = run_whatif(model, *machine, *catalogue, o);
        if (!r.ok()) return fail(r.status().message());
        results.push_back(std::move(r).value());
    }
    const int cheapest = cheapest_fitting(results, min_tps);
    bool any_fits = false;
    for (const WhatIfResult& r : results) any_fits = any_fits || r.fits;

    uint64_t weights = model.embedding_bytes + model.output_norm_bytes + (model.output_tied ? 0 : model.output_bytes);
    for (uint64_t b : model.layer_bytes) weights += b;
    if (as_json) {
        nlohmann::json j;
        j["model"] = {{"source", model_text}, {"n_layer", model.n_layer}, {"weight_bytes", weights}};
        j["options"] = {{"n_ctx", o.n_ctx}, {"min_tps", min_tps}, {"users", o.users}, {"kv_type", kv_cache_type_name(o.kv_type)},
                        {"hours_per_day", o.hours_per_day}, {"years", o.years}, {"kwh_price", o.kwh_price},
                        {"link", {{"kind", link_kind_name(o.link.kind)}, {"gbs", o.link.gbs}, {"latency_us", o.link.latency_us}}},
                        {"catalogue", cat_path}};
        j["configurations"] = nlohmann::json::array();
        for (const WhatIfResult& r : results) j["configurations"].push_back(to_json(r));
        j["cheapest_fitting"] = cheapest >= 0 ? nlohmann::json(results[static_cast<size_t>(cheapest)].label) : nlohmann::json();
        std::printf("%s\n", j.dump(2).c_str());
        return any_fits ? 0 : 3;
    }
    std::printf("model: %s (%s of weights, %d layers)\n", model_text.c_str(), format_bytes(weights).c_str(), model.n_layer);
    std::printf("use: context %lld × %d %s, KV cache %s; own cards %.3g h/day over %.3g years at $%.3g/kWh\n\n",
                static_cast<long long>(o.n_ctx), o.users, o.users == 1 ? "user" : "users", kv_cache_type_name(o.kv_type),
                o.hours_per_day, o.years, o.kwh_price);
    print_table(results, o);
    std::printf("\n");
    for (const WhatIfResult& r : results)
        if (r.plan.calibration.any())
            std::printf("%s: decode %s; prefill %s\n", r.label.c_str(), calibration_note(r.plan, false).c_str(),
                        calibration_note(r.plan, true).c_str());
    if (!gpus.empty())
        std::printf("--gpus cards hand over %s at %.3g GB/s (--link to change); prices from %s\n",
                    link_kind_description(o.link.kind), o.link.gbs, cat_path.c_str());
    if (cheapest >= 0) {
        const WhatIfResult& c = results[static_cast<size_t>(cheapest)];
        const std::string at_speed = min_tps > 0 ? " at " + tps(min_tps) + " tok/s or more" : "";
        std::printf("cheapest configuration that fits%s: %s at %s per million tokens owned (%s in a cloud), %s tok/s\n",
                    at_speed.c_str(), c.label.c_str(), usd(c.own_usd_per_mtok).c_str(), usd(c.cloud_usd_per_mtok).c_str(),
                    tps(c.decode_tps).c_str());
    } else if (any_fits && min_tps > 0) {
        std::printf("no configuration that fits decodes %s tok/s or more (predicted)\n", tps(min_tps).c_str());
    } else if (!any_fits) {
        std::printf("no configuration fits this model at this context and number of users\n");
        for (const WhatIfResult& r : results)
            for (const std::string& s : r.plan.shortfalls) std::printf("  %s: %s\n", r.label.c_str(), s.c_str());
    }
    return any_fits ? 0 : 3;
}

}  // namespace strata::cli
