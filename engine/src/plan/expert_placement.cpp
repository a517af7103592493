// Expert placement for mixture-of-experts models. A MoE layer is two units: its attention
// (with its KV cache), and its router + experts, which hold most of its bytes but of which a
// token reads only n_expert_used / n_expert. The winning layout on a GPU box keeps every
// layer's attention and cache on the GPUs and as many experts as fit beside them; the rest
// sit in system memory and run on the CPU, and only the routed hidden states cross (one row
// of n_embd floats each way per layer and token). This file chooses which layers' experts go
// to that expert host, plans the layers with the ordinary layer planner on what remains, and
// accounts and explains the host. A MoE model's leading dense layers (GLM-4.5) have no experts
// unit: they are never hosted, and their "expert device" is their stage's.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "plan/memory_estimate.h"
#include "plan/plan_internal.h"

namespace strata {

const char* expert_mode_name(ExpertMode m) {
    switch (m) {
        case ExpertMode::automatic: return "automatic";
        case ExpertMode::cpu: return "all on the CPU";
        case ExpertMode::first_n: return "first layers on the CPU";
    }
    return "?";
}

namespace plan_detail {

namespace {

// The expert host is a CPU device: system memory is where experts go when GPUs are full.
bool can_host(const PlanDevice& d) { return d.info.type == DeviceType::cpu; }

// Devices with expert kernels (backend/device.h DeviceOps::moe_ffn): the CPU backend's, and
// CUDA's when the request opts in (ExpertPlacement::gpu_experts). The CUDA kernels read every
// format the CUDA backend holds weights in (backend/cuda/cuda_moe.cpp); files in others are
// converted at upload as dense layers' are, and the footprint's CUDA bytes count that.
bool runs_experts(const PlanRequest& r, const PlanDevice& d) {
    return d.info.type == DeviceType::cpu || (r.experts.gpu_experts && d.info.type == DeviceType::cuda);
}

// Why GPUs of this request run no experts (said where that moves experts to the host).
std::string why_no_gpu_experts() {
    return "the CUDA expert kernels are experimental (never run on a GPU yet): STRATA_CUDA_MOE=1 enables them";
}

std::string layer_ranges(const std::vector<bool>& set) {
    std::string out;
    const int n = static_cast<int>(set.size());
    for (int i = 0; i < n;) {
        if (!set[static_cast<size_t>(i)]) { ++i; continue; }
        int j = i;
        while (j + 1 < n && set[static_cast<size_t>(j + 1)]) ++j;
        out += (out.empty() ? "" : ", ") + (i == j ? std::to_string(i) : std::to_string(i) + "-" + std::to_string(j));
        i = j + 1;
    }
    return out;
}

// The request the layer planner sees: hosted layers without their experts, and the host kept
// for experts when other devices take the layers.
PlanRequest layers_request(const PlanRequest& r, const std::vector<bool>& hosted, int host, bool host_takes_layers) {
    PlanRequest q = r;
    ModelFootprint& m = q.model;
    for (size_t il = 0; il < hosted.size(); ++il) {
        if (!hosted[il]) continue;
        m.layer_bytes[il] -= std::min(m.layer_bytes[il], m.layer_expert_bytes[il]);
        m.layer_expert_bytes[il] = 0;
        if (il < m.cuda_layer_bytes.size() && il < m.cuda_layer_expert_bytes.size()) {
            m.cuda_layer_bytes[il] -= std::min(m.cuda_layer_bytes[il], m.cuda_layer_expert_bytes[il]);
            m.cuda_layer_expert_bytes[il] = 0;
        }
    }
    if (host >= 0 && !host_takes_layers) q.devices[static_cast<size_t>(host)].enabled = false;
    return q;
}

// Layers whose stage device has no expert kernels must host their experts; true if any changed.
bool host_where_needed(const PlanRequest& r, const Plan& p, std::vector<bool>& hosted) {
    bool changed = false;
    for (const StagePlan& s : p.stages) {
        if (runs_experts(r, r.devices[static_cast<size_t>(s.device)])) continue;
        for (int il = s.layer_begin; il < s.layer_end; ++il) {
            if (!hosted[static_cast<size_t>(il)] && r.model.layer_has_experts(static_cast<size_t>(il))) {
                hosted[static_cast<size_t>(il)] = true;
                changed = true;
            }
        }
    }
    return changed;
}

int stage_device_of(const Plan& p, int il) {
    for (const StagePlan& s : p.stages)
        if (il >= s.layer_begin && il < s.layer_end) return s.device;
    return -1;
}

}  // namespace

Plan plan_with_experts(const PlanRequest& r) {
    const ModelFootprint& m = r.model;
    const size_t n_layer = static_cast<size_t>(std::max(0, m.n_layer));
    if (m.layer_expert_bytes.size() != n_layer || m.n_expert_used <= 0) return make_layer_plan(r);

    // The expert host: the one asked for, else the first enabled CPU device.
    int host = -1;
    if (r.experts.host >= 0) {
        if (r.experts.host >= static_cast<int>(r.devices.size())) {
            Plan p;
            p.shortfalls.push_back("the expert device index " + std::to_string(r.experts.host) + " is not among the " +
                                   std::to_string(r.devices.size()) + " devices");
            return p;
        }
        const PlanDevice& d = r.devices[static_cast<size_t>(r.experts.host)];
        if (!d.enabled || !can_host(d)) {
            Plan p;
            p.shortfalls.push_back("experts cannot go to " + d.info.id + ": " +
                                   (!d.enabled ? std::string("it is disabled") : "the expert host must be a CPU device"));
            return p;
        }
        host = r.experts.host;
    } else {
        for (size_t d = 0; d < r.devices.size() && host < 0; ++d)
            if (r.devices[d].enabled && can_host(r.devices[d])) host = static_cast<int>(d);
    }

    if (host < 0) {
        // No CPU device to hold experts: layers go to devices that run them, experts with them.
        PlanRequest q = r;
        bool dropped = false;
        for (PlanDevice& d : q.devices)
            if (d.enabled && !runs_experts(r, d)) { d.enabled = false; dropped = true; }
        Plan p = make_layer_plan(q);
        if (dropped)
            p.decisions.insert(p.decisions.begin(), "GPUs run no experts here (" + why_no_gpu_experts() +
                                                        ") and no CPU device is enabled to hold the experts: enable "
                                                        "the CPU to use the GPUs");
        for (const StagePlan& s : p.stages)
            for (int il = s.layer_begin; il < s.layer_end; ++il) p.expert_device.resize(n_layer, -1), p.expert_device[static_cast<size_t>(il)] = s.device;
        return p;
    }

    if (r.experts.mode == ExpertMode::automatic) {
        // Everything beside its layer, when that fits on devices that all run experts: no
        // hand-offs at all.
        Plan local = make_layer_plan(r);
        bool capable = local.fits;
        for (const StagePlan& s : local.stages) capable = capable && runs_experts(r, r.devices[static_cast<size_t>(s.device)]);
        if (capable) {
            local.expert_device.assign(n_layer, -1);
            for (const StagePlan& s : local.stages)
                for (int il = s.layer_begin; il < s.layer_end; ++il) local.expert_device[static_cast<size_t>(il)] = s.device;
            local.decisions.push_back("every layer's " + std::to_string(m.n_expert) + " experts sit beside its attention (" +
                                      std::to_string(m.n_expert_used) + " read per token)");
            return local;
        }
    }

    int others = 0;
    for (size_t d = 0; d < r.devices.size(); ++d)
        if (r.devices[d].enabled && static_cast<int>(d) != host) ++others;
    const bool host_takes_layers = others == 0;  // the host alone: everything is local

    std::vector<bool> hosted(n_layer, false);
    if (!host_takes_layers) {
        switch (r.experts.mode) {
            case ExpertMode::automatic:
            case ExpertMode::cpu:
                for (size_t il = 0; il < n_layer; ++il) hosted[il] = m.layer_has_experts(il);
                break;
            case ExpertMode::first_n:  // layer indices, as --n-cpu-moe counts them: dense ones have none
                for (size_t il = 0; il < n_layer && static_cast<int>(il) < r.experts.n_host_layers; ++il)
                    hosted[il] = m.layer_has_experts(il);
                break;
        }
    }

    PlanRequest q = layers_request(r, hosted, host, host_takes_layers);
    Plan p = make_layer_plan(q);
    for (size_t round = 0; round < n_layer && host_where_needed(r, p, hosted); ++round) {
        q = layers_request(r, hosted, host, host_takes_layers);
        p = make_layer_plan(q);
    }
    if (r.experts.mode == ExpertMode::automatic && !host_takes_layers) {
        if (p.fits) {
            // Bring experts back beside their layers, in layer order, where the device runs
            // experts and has room after everything else it holds.
            const PlanCosts costs(r);
            std::vector<uint64_t> room(r.devices.size(), 0);
            for (const DeviceUse& u : p.devices)
                room[static_cast<size_t>(u.device)] = u.capacity - std::min(u.capacity, u.total());
            bool back = false;
            for (size_t il = 0; il < n_layer; ++il) {
                const int d = stage_device_of(p, static_cast<int>(il));
                if (d < 0 || d == host || !runs_experts(r, r.devices[static_cast<size_t>(d)])) continue;
                const uint64_t e = m.layer_expert_bytes[il];
                if (room[static_cast<size_t>(d)] < e) continue;
                room[static_cast<size_t>(d)] -= e;
                hosted[il] = false;
                back = true;
            }
            if (back) {
                q = layers_request(r, hosted, host, host_takes_layers);
                p = make_layer_plan(q);
                for (size_t round = 0; round < n_layer && host_where_needed(r, p, hosted); ++round) {
                    q = layers_request(r, hosted, host, host_takes_layers);
                    p = make_layer_plan(q);
                }
            }
        } else {
            // Even without experts the layers do not fit beside the host: run everything on the
            // devices that run experts (the host among them), each layer's experts with it.
            PlanRequest all = r;
            for (PlanDevice& d : all.devices)
                if (d.enabled && !runs_experts(r, d)) d.enabled = false;
            Plan fallback = make_layer_plan(all);
            if (fallback.fits) {
                fallback.decisions.insert(fallback.decisions.begin(),
                                          "the attention layers and KV caches do not fit on the GPUs even with every "
                                          "expert in system memory, so the model runs on the CPU alone");
                fallback.expert_device.assign(n_layer, -1);
                for (const StagePlan& s : fallback.stages)
                    for (int il = s.layer_begin; il < s.layer_end; ++il) fallback.expert_device[static_cast<size_t>(il)] = s.device;
                return fallback;
            }
        }
    }

    // The plan as run: each layer's experts with its stage or on the host.
    p.expert_device.assign(n_layer, -1);
    for (const StagePlan& s : p.stages)
        for (int il = s.layer_begin; il < s.layer_end; ++il)
            p.expert_device[static_cast<size_t>(il)] = hosted[static_cast<size_t>(il)] ? host : s.device;
    const int n_hosted = static_cast<int>(std::count(hosted.begin(), hosted.end(), true));
    if (n_hosted == 0) {
        if (m.n_expert > 0)
            p.decisions.push_back("every layer's " + std::to_string(m.n_expert) + " experts sit beside its attention (" +
                                  std::to_string(m.n_expert_used) + " read per token)");
        return p;
    }

    // The layer planner saw the host disabled; it is not: it holds experts.
    const std::string& host_id = r.devices[static_cast<size_t>(host)].info.id;
    for (std::string& d : p.decisions)
        if (d.starts_with(host_id + " (") && d.ends_with("skipped: disabled")) d = host_id + " runs no layers: it holds the experts";

    // Account the host: the hosted experts and the rows it is handed.
    uint64_t expert_bytes = 0;
    for (size_t il = 0; il < n_layer; ++il)
        if (hosted[il]) expert_bytes += m.layer_expert_bytes[il];
    const PlanCosts costs(r);
    DeviceUse use;
    use.device = host;
    use.device_id = r.devices[static_cast<size_t>(host)].info.id;
    use.capacity = costs.capacity(host);
    use.weight_bytes = expert_bytes;
    use.scratch_bytes = make_expert_scratch_layout(m, r.n_batch).total;
    auto at = std::find_if(p.devices.begin(), p.devices.end(), [&](const DeviceUse& u) { return u.device > host; });
    p.devices.insert(at, use);
    if (!use.fits()) {
        p.fits = false;
        p.shortfalls.push_back(use.device_id + ": the experts of " + std::to_string(n_hosted) + " layers need " +
                               format_bytes(use.total()) + ", " + format_bytes(use.capacity) + " is available");
    }

    // Speed: the host reads the chosen experts of its layers per token, and each hosted layer
    // on another kind of memory hands a row over and back.
    const DeviceInfo& hinfo = r.devices[static_cast<size_t>(host)].info;
    const double active = static_cast<double>(expert_bytes) * static_cast<double>(m.n_expert_used) /
                          static_cast<double>(m.n_expert);
    int crossings = 0;
    const double row = static_cast<double>(m.n_embd) * 4.0;
    // Each crossing hands the row to the host and takes the sum back, over the request's links
    // where it gives them (PlanRequest::links); without, the old assumption in its old arithmetic.
    bool links_known = false;
    double link_seconds = 0, link_wire_seconds = 0;
    for (size_t il = 0; il < n_layer; ++il) {
        const int d = stage_device_of(p, static_cast<int>(il));
        if (hosted[il] && d >= 0 && r.devices[static_cast<size_t>(d)].info.type != DeviceType::cpu) {
            ++crossings;
            const HandOffCost there = handoff_cost(r, d, host, row), back = handoff_cost(r, host, d, row);
            links_known = links_known || there.known || back.known;
            link_seconds += there.wire_seconds + there.latency_seconds + back.wire_seconds + back.latency_seconds;
            link_wire_seconds += there.wire_seconds + back.wire_seconds;
        }
    }
    // The raw prediction and the calibrated one (the host's decode factor on its expert reads)
    // take the same additions.
    const SpeedCalibration& hcal = r.devices[static_cast<size_t>(host)].calibration;
    auto add_decode = [&](double& tps, double factor) {
        if (tps <= 0) return;
        if (hinfo.memory_bandwidth_gbs > 0) {
            const double hand = links_known ? link_seconds
                                            : crossings * 2.0 * (row / kLinkBytesPerSecond + kLinkLatencySeconds);
            const double s = 1.0 / tps + active / (hinfo.memory_bandwidth_gbs * 1e9) / factor + hand;
            tps = 1.0 / s;
        } else {
            tps = 0;
        }
    };
    add_decode(p.predicted_decode_tps, hcal.decode > 0 ? hcal.decode : 1.0);
    add_decode(p.raw_predicted_decode_tps, 1.0);
    auto add_prefill = [&](double& tps) {
        if (tps > 0 && crossings > 0) {
            const double wire = links_known ? link_wire_seconds : crossings * 2.0 * row / kLinkBytesPerSecond;
            const double s = 1.0 / tps + wire;
            tps = 1.0 / s;
        }
    };
    add_prefill(p.predicted_prefill_tps);
    add_prefill(p.raw_predicted_prefill_tps);
    p.transfer_bytes_per_token += static_cast<uint64_t>(crossings) * 2 * static_cast<uint64_t>(row);

    std::string why;
    switch (r.experts.mode) {
        case ExpertMode::automatic: why = "the layers' attention and KV caches come first, then experts where room is left"; break;
        case ExpertMode::cpu: why = "as asked (--cpu-moe)"; break;
        case ExpertMode::first_n: why = "as asked (--n-cpu-moe " + std::to_string(r.experts.n_host_layers) + ")"; break;
    }
    bool forced = false;
    for (const StagePlan& s : p.stages)
        if (!runs_experts(r, r.devices[static_cast<size_t>(s.device)])) forced = true;
    p.decisions.push_back("experts of layers " + layer_ranges(hosted) + " (" + std::to_string(n_hosted) + " of " +
                          std::to_string(n_layer) + " layers, " + format_bytes(expert_bytes) + ") on " + use.device_id +
                          ": " + why + (forced ? "; GPUs run no experts here: " + why_no_gpu_experts() : std::string()));
    p.decisions.push_back("per token " + use.device_id + " reads " + std::to_string(m.n_expert_used) + " of " +
                          std::to_string(m.n_expert) + " experts in each of those layers (" +
                          format_bytes(static_cast<uint64_t>(active)) + ")" +
                          (crossings > 0 ? "; " + std::to_string(crossings) + " layers hand a " +
                                               format_bytes(static_cast<uint64_t>(row)) + " row over and back"
                                         : std::string()));
    return p;
}

}  // namespace plan_detail

void apply_cuda_moe_switch(PlanRequest& request) {
    const char* v = std::getenv("STRATA_CUDA_MOE");
    const bool on = v != nullptr && std::strcmp(v, "1") == 0;
    request.experts.gpu_experts = on;
    request.gpu_attention_sinks = on;
}

}  // namespace strata
