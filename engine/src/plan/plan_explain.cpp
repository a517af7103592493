// The planner's prose and predictions: decisions (why each choice), shortfalls (what is short
// where), and the speed estimate.
#include <algorithm>
#include <cstdio>
#include <set>

#include "plan/memory_estimate.h"
#include "plan/plan_internal.h"

namespace strata::plan_detail {

namespace {


std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string tps_text(double tps) { return fixed(tps, tps < 10 ? 2 : 1) + " tok/s"; }

const DeviceUse* find_use(const Plan& plan, int device) {
    for (const DeviceUse& u : plan.devices)
        if (u.device == device) return &u;
    return nullptr;
}

bool is_gpu(const PlanRequest& r, int d) {
    return r.devices[static_cast<size_t>(d)].info.type == DeviceType::cuda;
}

// Weight bytes a stage reads per decoded token: its layers and, last, the head. (The embedding
// lookup reads one row: negligible.)
uint64_t stage_read_bytes(const PlanRequest& r, const PlanCosts& costs, const StagePlan& s) {
    uint64_t bytes = costs.layer_bytes(s.device, s.layer_begin, s.layer_end - s.layer_begin);
    // A MoE layer reads only the experts a token chose (n_expert_used of n_expert).
    const ModelFootprint& m = r.model;
    if (m.is_moe() && m.layer_expert_bytes.size() == static_cast<size_t>(m.n_layer)) {
        for (int il = s.layer_begin; il < s.layer_end; ++il) {
            const uint64_t e = m.layer_expert_bytes[static_cast<size_t>(il)];
            bytes -= std::min(bytes, e / static_cast<uint64_t>(m.n_expert) * static_cast<uint64_t>(m.n_expert - m.n_expert_used));
        }
    }
    if (s.has_output) bytes += costs.output_bytes(s.device) + r.model.output_norm_bytes;
    return bytes;
}

void note_reserves(const PlanRequest& r, Plan& plan) {
    // One line per device type when every enabled device of that type keeps the same reserve.
    for (DeviceType type : {DeviceType::cuda, DeviceType::cpu}) {
        std::set<uint64_t> reserves;
        std::vector<int> devs;
        for (size_t d = 0; d < r.devices.size(); ++d) {
            if (!r.devices[d].enabled || r.devices[d].info.type != type) continue;
            reserves.insert(r.devices[d].reserve_bytes);
            devs.push_back(static_cast<int>(d));
        }
        if (devs.empty() || (reserves.size() == 1 && *reserves.begin() == 0)) continue;
        if (reserves.size() == 1) {
            const std::string what = type == DeviceType::cuda
                                         ? (devs.size() > 1 ? "each GPU" : "the GPU")
                                         : (devs.size() > 1 ? "each CPU device" : "the CPU");
            plan.decisions.push_back("kept " + format_bytes(*reserves.begin()) + " reserve on " +
                                     what);
            continue;
        }
        for (int d : devs) {
            const uint64_t res = r.devices[static_cast<size_t>(d)].reserve_bytes;
            if (res > 0)
                plan.decisions.push_back("kept " + format_bytes(res) + " reserve on " +
                                         r.devices[static_cast<size_t>(d)].info.id);
        }
    }
}

void note_mode(const PlanRequest& r, const CoreResult& core, Plan& plan) {
    const Assignment& a = core.assign;
    switch (r.mode) {
        case SplitMode::fewest:
            plan.decisions.push_back("mode fewest: devices filled in priority order, as few as hold the model");
            break;
        case SplitMode::even:
            if (core.fits && core.fill > 0 && core.fill < 0.999)
                plan.decisions.push_back(
                    "mode even: layers spread in proportion to usable memory (their weights and KV "
                    "cache take at most " + fixed(core.fill * 100.0, 0) +
                    "% of each device's usable memory)");
            else
                plan.decisions.push_back("mode even: layers spread in proportion to usable memory");
            break;
        case SplitMode::ratios: {
            std::string ratios, counts;
            for (size_t d = 0; d < r.devices.size(); ++d) {
                if (!r.devices[d].enabled) continue;
                if (!ratios.empty()) { ratios += ":"; counts += ", "; }
                char buf[32];
                std::snprintf(buf, sizeof buf, "%g", r.devices[d].ratio);
                ratios += buf;
                counts += r.devices[d].info.id + " " +
                          (a.counts.empty() ? std::string("-") : std::to_string(a.counts[d]));
            }
            plan.decisions.push_back("mode ratios " + ratios + " → layers " + counts +
                                     " (largest remainder, as given)");
            break;
        }
    }
}

// Weight types a GPU stage converts on upload (weight_storage.h), with what that costs: the
// budget above already counts it, and this says why a GPU holds more than the file's size.
void note_cuda_conversions(const PlanRequest& r, Plan& plan) {
    bool gpu_holds_weights = false;
    for (const DeviceUse& u : plan.devices)
        if (u.weight_bytes > 0 && is_gpu(r, u.device)) gpu_holds_weights = true;
    if (!gpu_holds_weights) return;
    for (const ModelFootprint::CudaConversion& c : r.model.cuda_conversions) {
        std::string text = std::to_string(c.tensors) + " " + tensor_type_name(c.from) + " weight" +
                           (c.tensors == 1 ? " is" : "s are") + " stored as " + tensor_type_name(c.to) +
                           " on GPUs, which have no " + tensor_type_name(c.from) + " kernels in this build (" +
                           format_bytes(c.file_bytes) + " in the file, " + format_bytes(c.cuda_bytes) +
                           " on the GPU; the budgets count the larger size)";
        plan.decisions.push_back(std::move(text));
    }
}

void note_devices(const PlanRequest& r, const CoreResult& core, Plan& plan) {
    const Assignment& a = core.assign;
    const PlanCosts costs(r);
    bool cpu_has_layers = false, gpu_enabled = false;
    for (const StagePlan& s : plan.stages) {
        if (s.layer_end > s.layer_begin) {
            const DeviceUse* u = find_use(plan, s.device);
            std::string text = layer_range_text(s.layer_begin, s.layer_end) + " on " +
                               device_label(r, s.device);
            if (u != nullptr)
                text += (u->fits() ? ": fills " : ": needs ") + format_bytes(u->total()) + " of " +
                        format_bytes(u->capacity) + " usable";
            plan.decisions.push_back(std::move(text));
            if (!is_gpu(r, s.device)) cpu_has_layers = true;
        }
    }
    if (a.emb_device >= 0)
        plan.decisions.push_back("token embedding on " + r.devices[static_cast<size_t>(a.emb_device)].info.id +
                                 (a.emb_pinned ? " (pinned)" : " (with the first layers)"));
    if (a.out_device >= 0) {
        std::string text = "final norm and output head on " +
                           r.devices[static_cast<size_t>(a.out_device)].info.id +
                           (a.out_pinned ? " (pinned)" : " (with the last layers)");
        if (r.model.output_tied) {
            const std::string& id = r.devices[static_cast<size_t>(a.out_device)].info.id;
            const std::string copy = format_bytes(costs.output_bytes(a.out_device));
            text += a.out_device == a.emb_device
                        ? "; the head is tied to the token embedding, and " + id +
                              " holds the table twice: as rows for the lookup and laid out for "
                              "the head's matmul (" + copy + ")"
                        : "; the head is tied to the token embedding, so " + id +
                              " holds its own copy of the table (" + copy + ")";
        }
        plan.decisions.push_back(std::move(text));
    }
    note_cuda_conversions(r, plan);
    for (size_t d = 0; d < r.devices.size(); ++d) {
        const PlanDevice& dev = r.devices[d];
        const int di = static_cast<int>(d);
        if (dev.enabled && dev.info.type == DeviceType::cuda) gpu_enabled = true;
        if (!dev.enabled) {
            std::string text = device_label(r, di) + " skipped: disabled";
            if (r.mode == SplitMode::ratios && dev.ratio > 0) text += " (its split ratio is not used)";
            plan.decisions.push_back(std::move(text));
            continue;
        }
        if (a.counts.empty() || find_use(plan, di) != nullptr) continue;
        std::string why;
        if (costs.capacity(di) == 0)
            why = "no usable memory (" + format_bytes(dev.info.free_memory) + " free, " +
                  format_bytes(dev.reserve_bytes) + " reserve)";
        else if (r.mode == SplitMode::ratios && dev.ratio == 0)
            why = "its split ratio is 0";
        else if (r.mode == SplitMode::even && plan.fits)
            why = "its share of the layers comes to less than one layer";
        else if (plan.fits)
            why = "the model fits without it";
        else
            why = "not even one layer fits on it";
        plan.decisions.push_back(device_label(r, di) + " not used: " + why);
    }
    if (r.mode == SplitMode::even && cpu_has_layers && gpu_enabled)
        plan.decisions.push_back(
            "the CPU takes layers because even mode spreads over every enabled device; disable it "
            "or use fewest mode to keep the layers on the GPUs");
}

// "one GPU would be faster": a multi-device plan against each enabled device alone.
void note_single_device(const PlanRequest& r, Plan& plan) {
    std::set<int> used;
    for (const StagePlan& s : plan.stages) used.insert(s.device);
    if (used.size() < 2 || plan.predicted_decode_tps <= 0) return;
    int best = -1;
    double best_tps = 0;
    for (size_t d = 0; d < r.devices.size(); ++d) {
        const int di = static_cast<int>(d);
        if (!r.devices[d].enabled) continue;
        if ((r.embedding_device >= 0 && r.embedding_device != di) ||
            (r.output_device >= 0 && r.output_device != di))
            continue;  // a pin keeps part of the model elsewhere
        PlanRequest alone = r;
        alone.mode = SplitMode::fewest;
        for (size_t k = 0; k < alone.devices.size(); ++k) alone.devices[k].enabled = k == d;
        const CoreResult core = plan_core(alone);
        if (!core.fits) continue;
        Plan p;
        StagePlan s;
        s.device = di;
        s.layer_end = r.model.n_layer;
        s.has_embedding = s.has_output = true;
        p.stages.push_back(s);
        predict_speed(alone, p);
        if (p.predicted_decode_tps > best_tps) {
            best_tps = p.predicted_decode_tps;
            best = di;
        }
    }
    if (best >= 0 && best_tps > plan.predicted_decode_tps)
        plan.decisions.push_back(std::string(is_gpu(r, best) ? "one GPU" : "one device") +
                                 " would be faster: the model fits on " + device_label(r, best) +
                                 " alone (predicted " + tps_text(best_tps) + " against " +
                                 tps_text(plan.predicted_decode_tps) + " split)");
}

// One line per hand-off over a link the request describes ("cuda0→cuda1 goes through the CPU
// (no P2P: ...) at 12.0 GB/s: 0.012 ms per token"). Unknown links keep the plan's old text.
void note_handoffs(const PlanRequest& r, Plan& plan) {
    for (const StageHandOff& h : plan.handoffs) {
        if (!h.link.known()) continue;
        const double ms = h.decode_seconds_per_token * 1e3;
        std::string text = h.from_id + "→" + h.to_id + " goes " + link_kind_description(h.link.kind) + " at " +
                           fixed(h.gbs, h.gbs < 10 ? 1 : 0) + " GB/s, " + fixed(h.latency_us, h.latency_us < 10 ? 1 : 0) +
                           " µs latency: " + fixed(ms, ms < 0.1 ? 3 : 2) + " ms per token (" +
                           format_bytes(h.bytes_per_token) +
                           (h.link.copies() == 2 ? ", copied twice)" : ")");
        if (plan.predicted_decode_tps > 0) {
            const double share = h.decode_seconds_per_token * plan.predicted_decode_tps * 100.0;
            text += ", " + fixed(share, share < 1 ? 2 : 1) + "% of a decoded token's time";
        }
        plan.decisions.push_back(std::move(text));
    }
    static_cast<void>(r);
}

}  // namespace

void predict_speed(const PlanRequest& r, Plan& plan) {
    plan.predicted_decode_tps = 0;
    plan.predicted_prefill_tps = 0;
    plan.raw_predicted_decode_tps = 0;
    plan.raw_predicted_prefill_tps = 0;
    plan.calibration = {};
    plan.transfer_bytes_per_token = 0;
    plan.handoffs.clear();
    if (plan.stages.empty() || r.model.layer_bytes.size() != static_cast<size_t>(r.model.n_layer))
        return;
    const PlanCosts costs(r);
    const uint64_t hidden_bytes = static_cast<uint64_t>(r.model.n_embd) * 4;
    double decode_s = 0, prefill_s = 0;          // calibrated (each stage's time ÷ its factor)
    double raw_decode_s = 0, raw_prefill_s = 0;  // as the devices' figures say
    bool decode_known = true, prefill_known = true;
    // The fewest runs behind any stage's factor; -1 until a stage is seen, 0 once one has none.
    int decode_runs = -1, prefill_runs = -1;
    std::string source, weight_type;  // of the first calibrated stage (explanations)
    double layer_seconds = 0, prefill_layer_seconds = 0;
    for (size_t i = 0; i < plan.stages.size(); ++i) {
        const StagePlan& s = plan.stages[i];
        const DeviceInfo& info = r.devices[static_cast<size_t>(s.device)].info;
        const SpeedCalibration& cal = r.devices[static_cast<size_t>(s.device)].calibration;
        decode_runs = decode_runs < 0 ? cal.decode_runs : std::min(decode_runs, cal.decode_runs);
        prefill_runs = prefill_runs < 0 ? cal.prefill_runs : std::min(prefill_runs, cal.prefill_runs);
        if (cal.any() && source.empty()) {
            source = cal.source;
            weight_type = cal.weight_type;
            layer_seconds = cal.decode_layer_seconds;
            prefill_layer_seconds = cal.prefill_layer_seconds;
        } else if (cal.any() && cal.weight_type != weight_type) {
            weight_type.clear();  // stages calibrated on different types: say none
        }
        const uint64_t read = stage_read_bytes(r, costs, s);
        if (read > 0) {
            if (info.memory_bandwidth_gbs > 0) {
                const double t = static_cast<double>(read) / (info.memory_bandwidth_gbs * 1e9);
                raw_decode_s += t;
                decode_s += cal.decode > 0 ? t / cal.decode : t;
                // The per-layer time no bandwidth explains (launches, barriers): calibrated only.
                if (cal.decode_runs > 0)
                    decode_s += cal.decode_layer_seconds * static_cast<double>(s.layer_end - s.layer_begin);
            } else {
                decode_known = false;
            }
        }
        const double flops = static_cast<double>(s.layer_end - s.layer_begin) *
                             static_cast<double>(r.model.layer_flops_per_token);
        if (flops > 0) {
            if (info.matmul_tflops > 0) {
                const double t = flops / (info.matmul_tflops * 1e12);
                raw_prefill_s += t;
                prefill_s += cal.prefill > 0 ? t / cal.prefill : t;
                if (cal.prefill_runs > 0)
                    prefill_s += cal.prefill_layer_seconds * static_cast<double>(s.layer_end - s.layer_begin) /
                                 static_cast<double>(std::max<int64_t>(1, r.n_batch));
            } else {
                prefill_known = false;
            }
        }
        if (i > 0 && plan.stages[i - 1].device != s.device) {
            plan.transfer_bytes_per_token += hidden_bytes;
            const int from = plan.stages[i - 1].device;
            const HandOffCost c = handoff_cost(r, from, s.device, static_cast<double>(hidden_bytes));
            decode_s += c.wire_seconds + c.latency_seconds;
            raw_decode_s += c.wire_seconds + c.latency_seconds;
            // Prefill hands over a whole batch at once: the latency is shared by its tokens.
            const double prefill_hand = c.wire_seconds + c.latency_seconds / static_cast<double>(std::max<int64_t>(1, r.n_batch));
            prefill_s += prefill_hand;
            raw_prefill_s += prefill_hand;
            StageHandOff h;
            h.from = from;
            h.to = s.device;
            h.from_id = r.devices[static_cast<size_t>(from)].info.id;
            h.to_id = info.id;
            h.link = c.link;
            h.gbs = c.bytes_per_second / 1e9;
            h.latency_us = c.latency_seconds / c.link.copies() * 1e6;
            h.bytes_per_token = hidden_bytes;
            h.decode_seconds_per_token = c.wire_seconds + c.latency_seconds;
            plan.handoffs.push_back(std::move(h));
        }
    }
    if (decode_known && decode_s > 0) plan.predicted_decode_tps = 1.0 / decode_s;
    if (prefill_known && prefill_s > 0) plan.predicted_prefill_tps = 1.0 / prefill_s;
    if (decode_known && raw_decode_s > 0) plan.raw_predicted_decode_tps = 1.0 / raw_decode_s;
    if (prefill_known && raw_prefill_s > 0) plan.raw_predicted_prefill_tps = 1.0 / raw_prefill_s;
    // What the predictions carry: the overall factor (calibrated ÷ raw) when every stage device
    // is calibrated for that phase; a partly calibrated plan counts as uncalibrated.
    if (decode_runs > 0 && plan.raw_predicted_decode_tps > 0) {
        plan.calibration.decode = plan.predicted_decode_tps / plan.raw_predicted_decode_tps;
        plan.calibration.decode_runs = decode_runs;
    }
    if (prefill_runs > 0 && plan.raw_predicted_prefill_tps > 0) {
        plan.calibration.prefill = plan.predicted_prefill_tps / plan.raw_predicted_prefill_tps;
        plan.calibration.prefill_runs = prefill_runs;
    }
    if (plan.calibration.any()) {
        plan.calibration.source = source;
        plan.calibration.weight_type = weight_type;
        if (plan.calibration.decode_runs > 0) plan.calibration.decode_layer_seconds = layer_seconds;
        if (plan.calibration.prefill_runs > 0) plan.calibration.prefill_layer_seconds = prefill_layer_seconds;
    }
}

void explain_plan(const PlanRequest& r, const CoreResult& core, Plan& plan) {
    for (const std::string& e : core.errors) plan.decisions.push_back("not possible: " + e);
    if (core.assign.counts.empty()) return;
    note_mode(r, core, plan);
    note_devices(r, core, plan);
    note_reserves(r, plan);
    uint64_t kv = 0;
    for (const DeviceUse& u : plan.devices) kv += u.kv_bytes;
    plan.decisions.push_back("KV cache " + std::string(kv_cache_type_name(r.kv_type)) + ": " +
                             format_bytes(kv) + " for " + std::to_string(r.n_ctx) +
                             " tokens × " + std::to_string(r.n_seq) +
                             (r.n_seq == 1 ? " sequence" : " sequences"));
    const int n_sliding = r.model.swa.count(0, r.model.n_layer);
    const int64_t ring = kv_layer_rows(r.model, 0, r.n_ctx, r.n_batch);
    if (n_sliding > 0 && ring < r.n_ctx) {
        const uint64_t full = kv_cache_bytes(r.model, 0, r.model.n_layer, r.n_ctx, r.n_ctx, r.n_seq, r.kv_type);
        plan.decisions.push_back(std::to_string(n_sliding) + " of " + std::to_string(r.model.n_layer) +
                                 " layers attend to a sliding window of " + format_count(r.model.swa.window) +
                                 " tokens and keep " + format_count(ring) + " positions each, not " +
                                 format_count(r.n_ctx) + ": the KV cache is " + format_bytes(kv) + " instead of " +
                                 format_bytes(full));
    }
    note_handoffs(r, plan);
    if (plan.transfer_bytes_per_token > 0)
    {
        const uint64_t n_cross = plan.transfer_bytes_per_token / (static_cast<uint64_t>(r.model.n_embd) * 4);
        plan.decisions.push_back("the hidden state crosses " + std::to_string(n_cross) +
                                 (n_cross == 1 ? " device boundary" : " device boundaries") +
                                 " per token (" + format_bytes(plan.transfer_bytes_per_token) + ")");
    }
    if (r.model.usable_context() > 0 && plan.max_ctx_that_fits > r.model.usable_context())
        plan.decisions.push_back("memory allows a context of " +
                                 format_count(plan.max_ctx_that_fits) + " tokens, beyond the " +
                                 format_count(r.model.usable_context()) + " the model was trained on");
    if (plan.fits) note_single_device(r, plan);
    // Uncalibrated plans say so in format_plan's predictions only (their decisions stay as they were).
    if (plan.calibration.any())
        plan.decisions.push_back("predicted speed: decode ~" + tps_text(plan.predicted_decode_tps) + ", " +
                                 calibration_note(plan, false) + "; prefill ~" + tps_text(plan.predicted_prefill_tps) +
                                 ", " + calibration_note(plan, true));
}

void describe_shortfalls(const PlanRequest& r, const CoreResult& core, Plan& plan) {
    for (const std::string& e : core.errors) plan.shortfalls.push_back(e);
    for (const DeviceUse& u : plan.devices) {
        if (u.fits()) continue;
        plan.shortfalls.push_back(device_label(r, u.device) + ": needs " + format_bytes(u.total()) +
                                  " (weights " + format_bytes(u.weight_bytes) + ", KV cache " +
                                  format_bytes(u.kv_bytes) + ", scratch " +
                                  format_bytes(u.scratch_bytes) + "), has " +
                                  format_bytes(u.capacity) + " usable: " +
                                  format_bytes(u.total() - u.capacity) + " short");
    }
    if (core.assign.counts.empty()) return;
    int n_enabled = 0;
    uint64_t usable = 0;
    const PlanCosts costs(r);
    for (int d = 0; d < costs.n_device(); ++d) {
        if (!r.devices[static_cast<size_t>(d)].enabled) continue;
        ++n_enabled;
        usable += costs.capacity(d);
    }
    const uint64_t weights = costs.weight_bytes(-1, 0, r.model.n_layer, true, true);
    const uint64_t kv = costs.kv_bytes(0, r.model.n_layer);
    if (n_enabled > 1 && weights + kv > usable)
        plan.shortfalls.push_back("in all: weights " + format_bytes(weights) + " and KV cache " +
                                  format_bytes(kv) + " need " + format_bytes(weights + kv) +
                                  " before scratch; the " + std::to_string(n_enabled) +
                                  " enabled devices have " + format_bytes(usable) + " usable");
}

}  // namespace strata::plan_detail
