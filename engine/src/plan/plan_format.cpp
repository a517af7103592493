// Names, byte figures and the plan table printed by `strata-cli plan` and the logs.
#include <algorithm>
#include <cctype>
#include <cstdio>

#include "plan/plan_internal.h"

namespace strata {

const char* kv_cache_type_name(KvCacheType t) {
    switch (t) {
        case KvCacheType::f32: return "f32";
        case KvCacheType::f16: return "f16";
        case KvCacheType::q8_0: return "q8_0";
    }
    return "?";
}

bool parse_kv_cache_type(const std::string& text, KvCacheType& out) {
    std::string t;
    for (char c : text) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (t == "f32") { out = KvCacheType::f32; return true; }
    if (t == "f16") { out = KvCacheType::f16; return true; }
    if (t == "q8_0" || t == "q8") { out = KvCacheType::q8_0; return true; }
    return false;
}

const char* split_mode_name(SplitMode m) {
    switch (m) {
        case SplitMode::fewest: return "fewest";
        case SplitMode::even: return "even";
        case SplitMode::ratios: return "ratios";
    }
    return "?";
}

namespace plan_detail {

std::string format_count(uint64_t n) {
    std::string digits = std::to_string(n), out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string format_bytes(uint64_t bytes) {
    static const char* const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024) return std::to_string(bytes) + " B";
    double v = static_cast<double>(bytes) / 1024.0;
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    return buf;
}

std::string device_label(const PlanRequest& r, int device) {
    if (device < 0 || device >= static_cast<int>(r.devices.size()))
        return "device " + std::to_string(device);
    const DeviceInfo& info = r.devices[static_cast<size_t>(device)].info;
    if (info.name.empty() || info.name == info.id) return info.id;
    return info.id + " (" + info.name + ")";
}

std::string layer_range_text(int begin, int end) {
    if (end - begin == 1) return "layer " + std::to_string(begin);
    return "layers " + std::to_string(begin) + "–" + std::to_string(end - 1);
}

}  // namespace plan_detail

namespace {

// Cuts `s` to at most `width` bytes without splitting a UTF-8 sequence.
std::string clip(const std::string& s, size_t width) {
    if (s.size() <= width) return s;
    size_t n = width;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n);
}

std::string pad(const std::string& s, size_t width, bool right_align) {
    // Width in characters: count UTF-8 lead bytes only.
    size_t chars = 0;
    for (unsigned char c : s) chars += (c & 0xC0) != 0x80;
    if (chars >= width) return s;
    const std::string fill(width - chars, ' ');
    return right_align ? fill + s : s + fill;
}

std::string layers_cell(const Plan& plan, int device) {
    std::string out;
    for (const StagePlan& s : plan.stages) {
        if (s.device != device || s.layer_end == s.layer_begin) continue;
        if (!out.empty()) out += ",";
        out += s.layer_end - s.layer_begin == 1
                   ? std::to_string(s.layer_begin)
                   : std::to_string(s.layer_begin) + "-" + std::to_string(s.layer_end - 1);
    }
    return out.empty() ? "-" : out;
}

std::string roles_cell(const Plan& plan, int device) {
    bool emb = false, out = false;
    for (const StagePlan& s : plan.stages) {
        if (s.device != device) continue;
        emb = emb || s.has_embedding;
        out = out || s.has_output;
    }
    // A device holding experts of layers that run elsewhere (expert placement).
    bool hosts_experts = false;
    for (size_t il = 0; il < plan.expert_device.size() && !hosts_experts; ++il) {
        if (plan.expert_device[il] != device) continue;
        for (const StagePlan& s : plan.stages)
            if (static_cast<int>(il) >= s.layer_begin && static_cast<int>(il) < s.layer_end && s.device != device)
                hosts_experts = true;
    }
    std::string cell = emb && out ? "emb+out" : emb ? "emb" : out ? "out" : "";
    if (hosts_experts) cell += cell.empty() ? "experts" : "+exp";
    return cell;
}

std::string tps(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, v < 10 ? "%.2f" : "%.1f", v);
    return buf;
}

}  // namespace

std::string format_plan(const PlanRequest& request, const Plan& plan) {
    using plan_detail::format_bytes;
    using plan_detail::format_count;
    struct Col {
        const char* title;
        size_t width;
        bool right;
    };
    // The name column grows to the longest device name (CPU brand strings run long), capped so
    // that a row still fits a wide terminal.
    size_t name_width = 22;
    for (const DeviceUse& u : plan.devices)
        name_width = std::max(name_width, std::min<size_t>(44, request.devices[static_cast<size_t>(u.device)].info.name.size()));
    const Col cols[] = {{"device", 8, false}, {"name", name_width, false}, {"layers", 11, false},
                        {"hosts", 7, false},  {"weights", 10, true}, {"KV", 10, true},
                        {"scratch", 10, true}, {"total", 10, true}, {"usable", 10, true},
                        {"fits", 4, false}};
    auto row = [&](const std::vector<std::string>& cells) {
        std::string line;
        for (size_t i = 0; i < cells.size(); ++i) {
            if (i > 0) line += "  ";
            line += pad(clip(cells[i], cols[i].width), cols[i].width, cols[i].right);
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        return line + "\n";
    };
    std::string out = "plan: " + request.model.architecture + ", " +
                      std::to_string(request.model.n_layer) + " layers, context " +
                      std::to_string(request.n_ctx) + " × " + std::to_string(request.n_seq) +
                      ", KV " + kv_cache_type_name(request.kv_type) + ", batch " +
                      std::to_string(request.n_batch) + ", mode " + split_mode_name(request.mode) +
                      ": " + (plan.fits ? "FITS" : "DOES NOT FIT") + "\n\n";
    std::vector<std::string> header;
    for (const Col& c : cols) header.emplace_back(c.title);
    out += row(header);
    uint64_t sum[5] = {0, 0, 0, 0, 0};
    for (const DeviceUse& u : plan.devices) {
        const DeviceInfo& info = request.devices[static_cast<size_t>(u.device)].info;
        out += row({u.device_id, info.name, layers_cell(plan, u.device), roles_cell(plan, u.device),
                    format_bytes(u.weight_bytes), format_bytes(u.kv_bytes),
                    format_bytes(u.scratch_bytes), format_bytes(u.total()),
                    format_bytes(u.capacity), u.fits() ? "yes" : "NO"});
        sum[0] += u.weight_bytes;
        sum[1] += u.kv_bytes;
        sum[2] += u.scratch_bytes;
        sum[3] += u.total();
        sum[4] += u.capacity;
    }
    if (plan.devices.size() > 1)
        out += row({"all", "", "", "", format_bytes(sum[0]), format_bytes(sum[1]),
                    format_bytes(sum[2]), format_bytes(sum[3]), format_bytes(sum[4]),
                    plan.fits ? "yes" : "NO"});
    if (plan.devices.empty()) out += "(no device holds anything)\n";

    auto section = [&](const char* title, const std::vector<std::string>& lines) {
        if (lines.empty()) return;
        out += std::string("\n") + title + ":\n";
        for (const std::string& l : lines) out += "  - " + l + "\n";
    };
    section("decisions", plan.decisions);
    section("shortfalls", plan.shortfalls);
    section("suggestions", plan.suggestions);
    std::vector<std::string> predictions;
    predictions.push_back(plan.predicted_decode_tps > 0
                              ? "decode ~" + tps(plan.predicted_decode_tps) + " tok/s, " + calibration_note(plan, false)
                              : "decode: unknown (no memory bandwidth for a device)");
    predictions.push_back(plan.predicted_prefill_tps > 0
                              ? "prefill ~" + tps(plan.predicted_prefill_tps) + " tok/s, " + calibration_note(plan, true)
                              : "prefill: unknown (no matrix throughput for a device)");
    predictions.push_back(format_bytes(plan.transfer_bytes_per_token) +
                          " of hidden state cross devices per token");
    predictions.push_back(plan.max_ctx_that_fits > 0
                              ? "longest context that fits: " + format_count(plan.max_ctx_that_fits) +
                                    " tokens"
                              : "longest context that fits: none (not even 256 tokens)");
    section("predictions", predictions);
    return out;
}

std::string calibration_note(const Plan& plan, bool prefill) {
    const int runs = prefill ? plan.calibration.prefill_runs : plan.calibration.decode_runs;
    const double factor = prefill ? plan.calibration.prefill : plan.calibration.decode;
    if (runs <= 0) return "uncalibrated: an upper bound";
    char f[32];
    std::snprintf(f, sizeof f, "%.2f", factor);
    const std::string& type = plan.calibration.weight_type;
    std::string note = "calibrated from " + std::to_string(runs) + (type.empty() ? "" : " " + type) +
                       (runs == 1 ? " bench run on " : " bench runs on ") + plan.calibration.source + " (×" + f;
    const double layer_s = prefill ? plan.calibration.prefill_layer_seconds : plan.calibration.decode_layer_seconds;
    if (layer_s > 0) {
        char us[32];
        std::snprintf(us, sizeof us, "%.0f", layer_s * 1e6);
        note += std::string(", with ") + us + (prefill ? " µs per layer per batch fixed" : " µs per layer fixed");
    }
    return note + ")";
}

}  // namespace strata
