// The planner's speed calibration (strata/calibration.h): the per-class model fitted from the
// bench log (per-weight-type factors and a fixed per-layer decode time); the seed file; applying
// it to a plan request.
#include "strata/calibration.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include <nlohmann/json.hpp>

#include "strata/machine_profile.h"
#include "util/cpu_features.h"

namespace strata {

using nlohmann::json;

namespace {

// "Intel Xeon (2 threads, capped)" → "Intel Xeon".
std::string cpu_model_of(const std::string& name) {
    const size_t p = name.rfind(" (");
    return p != std::string::npos && !name.empty() && name.back() == ')' ? name.substr(0, p) : name;
}

std::string cpu_class(const std::string& name, const std::string& isa, int threads) {
    return "cpu|" + cpu_model_of(name) + "|" + isa + "|" + std::to_string(threads);
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

const ClassCalibration* Calibration::find(const std::string& device_class) const {
    for (const ClassCalibration& c : classes)
        if (c.device_class == device_class) return &c;
    return nullptr;
}

void Calibration::merge_missing(const Calibration& other) {
    for (const ClassCalibration& c : other.classes)
        if (!find(c.device_class)) classes.push_back(c);
    warnings.insert(warnings.end(), other.warnings.begin(), other.warnings.end());
}

std::string speed_class(const DeviceInfo& d) {
    if (d.type == DeviceType::cuda) return "gpu|" + d.name;
    return cpu_class(d.name, cpu_isa_env_name(cpu_isa()), std::max(1, d.n_threads));
}

std::string speed_class(const BenchRecordDevice& d) {
    if (d.kind == "cuda") return "gpu|" + d.name;
    return cpu_class(d.name, d.isa, std::max(1, d.threads));
}

namespace {

int record_layers(const BenchRecord& r) {
    int layers = 0;
    for (const BenchRecordStage& s : r.stages) layers += std::max(0, s.layer_end - s.layer_begin);
    return layers;
}

// Tokens per prefill step of a record's last prefill test: its prompt, in steps of the engine's
// default batch (LoadOptions::n_batch, 512; records do not carry the batch they ran with).
double prefill_step_tokens(const BenchRecord& r) {
    int tokens = 0;
    for (const BenchRecordTest& t : r.tests)
        if (t.prefill) tokens = t.tokens;
    return static_cast<double>(std::clamp(tokens, 1, 512));
}

// One single-device run's figures, as the fit needs them.
struct Run {
    std::string weight_type;
    double layers = 0;                  // the fixed term's multiplier: layers (decode), layers
                                        // per token of a batch step (prefill)
    double raw_s = 0, measured_s = 0;   // seconds per token: raw prediction, measurement
};

struct ClassRuns {
    std::string label;
    std::vector<Run> decode, prefill;  // oldest first
};

// The factor of `runs` (measured − c × layers explained by raw ÷ factor): the median of
// raw ÷ (measured − c × layers).
double factor_of(const std::vector<const Run*>& runs, double c) {
    std::vector<double> v;
    for (const Run* r : runs) v.push_back(r->raw_s / std::max(1e-12, r->measured_s - c * r->layers));
    return median(std::move(v));
}

// The class's last `keep` runs of any type, and each type's last `keep`.
struct Windows {
    std::vector<const Run*> any;
    std::vector<std::pair<std::string, std::vector<const Run*>>> by_type;  // in order first seen
};

Windows windows_of(const std::vector<Run>& runs, size_t keep) {
    Windows w;
    for (size_t i = runs.size() > keep ? runs.size() - keep : 0; i < runs.size(); ++i) w.any.push_back(&runs[i]);
    std::map<std::string, std::vector<const Run*>> all;
    for (const Run& r : runs) {
        auto [it, inserted] = all.try_emplace(r.weight_type);
        if (inserted) w.by_type.emplace_back(r.weight_type, std::vector<const Run*>());
        it->second.push_back(&r);
    }
    for (auto& [type, list] : w.by_type) {
        const std::vector<const Run*>& l = all[type];
        list.assign(l.size() > keep ? l.end() - static_cast<long>(keep) : l.begin(), l.end());
    }
    return w;
}

// Whether some weight type ran on models whose raw time per layer differs by 1.5× or more: only
// then can a fixed per-layer time be told from the bandwidth factor.
bool fixed_time_identifiable(const Windows& w) {
    for (const auto& [type, list] : w.by_type) {
        double lo = 0, hi = 0;
        for (const Run* r : list) {
            const double per_layer = r->raw_s / r->layers;
            lo = lo == 0 ? per_layer : std::min(lo, per_layer);
            hi = std::max(hi, per_layer);
        }
        if (lo > 0 && hi >= 1.5 * lo) return true;
    }
    return false;
}

// The squared relative errors of every type's runs predicted with fixed time c.
double fit_error(const Windows& w, double c) {
    double err = 0;
    for (const auto& [type, list] : w.by_type) {
        const double f = factor_of(list, c);
        for (const Run* r : list) {
            const double e = (c * r->layers + r->raw_s / f) / r->measured_s - 1;
            err += e * e;
        }
    }
    return err;
}

// The fixed per-layer decode time (seconds) that fits `w` best, 0 when it cannot be told apart.
double fit_layer_seconds(const Windows& w) {
    if (!fixed_time_identifiable(w)) return 0;
    double c_max = 0;
    for (const auto& [type, list] : w.by_type)
        for (const Run* r : list) {
            const double bound = 0.9 * r->measured_s / r->layers;
            c_max = c_max == 0 ? bound : std::min(c_max, bound);
        }
    // A grid, then a finer one around its best point: the error is not smooth in c (medians), so
    // no derivative; 2 × 201 evaluations of a few dozen runs.
    double best_c = 0, best_err = fit_error(w, 0);
    double lo = 0, hi = c_max;
    for (int round = 0; round < 2; ++round) {
        const double step = (hi - lo) / 200;
        for (int i = 0; i <= 200; ++i) {
            const double c = lo + step * i;
            const double e = fit_error(w, c);
            if (e < best_err) {
                best_err = e;
                best_c = c;
            }
        }
        lo = std::max(0.0, best_c - step);
        hi = std::min(c_max, best_c + step);
    }
    return best_c;
}

}  // namespace

SpeedCalibration ClassCalibration::for_weight_type(const std::string& weight_type) const {
    SpeedCalibration out = factors;
    for (const SpeedCalibration& t : weight_types) {
        if (t.weight_type != weight_type || weight_type.empty()) continue;
        out.weight_type = weight_type;
        if (t.decode_runs > 0) {
            out.decode = t.decode;
            out.decode_runs = t.decode_runs;
        }
        if (t.prefill_runs > 0) {
            out.prefill = t.prefill;
            out.prefill_runs = t.prefill_runs;
        }
    }
    return out;
}

bool calibrates_decode(const BenchRecord& r) {
    if (r.depth != 0 || r.stage_devices() != 1 || !(r.measured_decode_tps() > 0) || !(r.predicted_decode_tps > 0))
        return false;
    for (const BenchRecordDevice& d : r.devices)
        if (d.id == r.stages.front().device_id)
            return !(d.kind == "cpu" && d.cache_bytes > 0 && r.decode_bytes > 0 && r.decode_bytes <= d.cache_bytes);
    return false;
}

Calibration calibrate(const std::vector<BenchRecord>& records, int recent) {
    std::map<std::string, ClassRuns> by_class;
    std::vector<std::string> order;  // classes in the order first seen: deterministic output
    for (const BenchRecord& r : records) {
        if (r.depth != 0 || r.stage_devices() != 1) continue;
        const std::string& id = r.stages.front().device_id;
        const auto dev = std::find_if(r.devices.begin(), r.devices.end(), [&](const BenchRecordDevice& d) { return d.id == id; });
        if (dev == r.devices.end()) continue;
        const std::string cls = speed_class(*dev);
        auto [it, inserted] = by_class.try_emplace(cls);
        if (inserted) {
            order.push_back(cls);
            it->second.label = dev->kind == "cuda" ? dev->name
                                                   : "this CPU (" + dev->isa + ", " + std::to_string(dev->threads) + " threads)";
        }
        const double layers = std::max(1, record_layers(r));
        const double md = r.measured_decode_tps(), mp = r.measured_prefill_tps();
        if (calibrates_decode(r))
            it->second.decode.push_back({r.weight_type, layers, 1.0 / r.predicted_decode_tps, 1.0 / md});
        if (mp > 0 && r.predicted_prefill_tps > 0)
            it->second.prefill.push_back({r.weight_type, layers / prefill_step_tokens(r), 1.0 / r.predicted_prefill_tps, 1.0 / mp});
    }
    Calibration out;
    const size_t keep = static_cast<size_t>(std::max(1, recent));
    for (const std::string& cls : order) {
        const ClassRuns& x = by_class[cls];
        ClassCalibration c;
        c.device_class = cls;
        c.label = x.label;
        c.factors.source = x.label;
        const Windows dw = windows_of(x.decode, keep), pw = windows_of(x.prefill, keep);
        const double layer_s = fit_layer_seconds(dw), prefill_layer_s = fit_layer_seconds(pw);
        c.factors.decode_layer_seconds = layer_s;
        c.factors.prefill_layer_seconds = prefill_layer_s;
        if (!dw.any.empty()) {
            c.factors.decode = factor_of(dw.any, layer_s);
            c.factors.decode_runs = static_cast<int>(dw.any.size());
        }
        if (!pw.any.empty()) {
            c.factors.prefill = factor_of(pw.any, prefill_layer_s);
            c.factors.prefill_runs = static_cast<int>(pw.any.size());
        }
        std::vector<std::string> types;
        for (const Windows* w : {&dw, &pw})
            for (const auto& [type, list] : w->by_type)
                if (!type.empty() && std::find(types.begin(), types.end(), type) == types.end()) types.push_back(type);
        for (const std::string& type : types) {
            SpeedCalibration t;
            t.weight_type = type;
            t.source = x.label;
            t.decode_layer_seconds = layer_s;
            t.prefill_layer_seconds = prefill_layer_s;
            for (const auto& [name, list] : dw.by_type)
                if (name == type) {
                    t.decode = factor_of(list, layer_s);
                    t.decode_runs = static_cast<int>(list.size());
                }
            for (const auto& [name, list] : pw.by_type)
                if (name == type) {
                    t.prefill = factor_of(list, prefill_layer_s);
                    t.prefill_runs = static_cast<int>(list.size());
                }
            c.weight_types.push_back(std::move(t));
        }
        if (c.factors.any()) out.classes.push_back(std::move(c));
    }
    return out;
}

namespace {
const ClassCalibration* class_of(const BenchRecord& r, const Calibration& c) {
    if (r.stage_devices() != 1) return nullptr;
    const std::string& id = r.stages.front().device_id;
    for (const BenchRecordDevice& d : r.devices)
        if (d.id == id) return c.find(speed_class(d));
    return nullptr;
}
}  // namespace

double calibrated_decode_tps(const BenchRecord& r, const Calibration& c) {
    const ClassCalibration* cc = class_of(r, c);
    if (!cc || r.predicted_decode_tps <= 0) return 0;
    const SpeedCalibration f = cc->for_weight_type(r.weight_type);
    if (f.decode_runs <= 0 || f.decode <= 0) return 0;
    return 1.0 / (1.0 / r.predicted_decode_tps / f.decode + f.decode_layer_seconds * record_layers(r));
}

double calibrated_prefill_tps(const BenchRecord& r, const Calibration& c) {
    const ClassCalibration* cc = class_of(r, c);
    if (!cc || r.predicted_prefill_tps <= 0) return 0;
    const SpeedCalibration f = cc->for_weight_type(r.weight_type);
    if (f.prefill_runs <= 0 || f.prefill <= 0) return 0;
    return 1.0 / (1.0 / r.predicted_prefill_tps / f.prefill +
                  f.prefill_layer_seconds * record_layers(r) / prefill_step_tokens(r));
}

bool calibration_disabled() {
    const char* v = std::getenv("STRATA_NO_CALIBRATION");
    return v && *v && std::string(v) != "0";
}

Calibration load_calibration() {
    if (calibration_disabled()) return {};
    BenchLog log = read_bench_log(bench_log_path());
    Calibration c = calibrate(log.records);
    c.warnings = std::move(log.warnings);
    return c;
}

namespace {

// The phases' factors of a seed entry (`e` at `at`) into `f`; an error text, or "".
std::string read_seed_factors(const json& e, const std::string& at, SpeedCalibration& f) {
    for (auto [key, factor, runs_key, runs] : {std::tuple{"decode", &f.decode, "decode_runs", &f.decode_runs},
                                               std::tuple{"prefill", &f.prefill, "prefill_runs", &f.prefill_runs}}) {
        if (!e.contains(key)) continue;
        if (!e[key].is_number() || !(e[key].get<double>() > 0) || e[key].get<double>() > 100)
            return at + "." + key + " must be a number above 0 and at most 100";
        *factor = e[key].get<double>();
        *runs = e.contains(runs_key) && e[runs_key].is_number_integer() ? std::max(1, e[runs_key].get<int>()) : 1;
    }
    return "";
}

}  // namespace

Result<Calibration> parse_seed_calibration(const std::string& text, const std::string& source) {
    const json j = json::parse(text, nullptr, false);
    auto bad = [&](const std::string& what) { return Status(ErrorCode::corrupt, source + ": " + what); };
    if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
    if (!j.contains("classes") || !j["classes"].is_array()) return bad("classes must be an array");
    const std::string seed_source = j.contains("source") && j["source"].is_string() ? j["source"].get<std::string>() : "";
    Calibration out;
    for (size_t i = 0; i < j["classes"].size(); ++i) {
        const json& e = j["classes"][i];
        const std::string at = "classes[" + std::to_string(i) + "]";
        if (!e.is_object() || !e.contains("gpu") || !e["gpu"].is_string() || e["gpu"].get<std::string>().empty())
            return bad(at + ".gpu must be a GPU's name");
        const std::string name = e["gpu"].get<std::string>();
        const std::string f_source = name + (seed_source.empty() ? "" : " (" + seed_source + ")");
        SpeedCalibration f;
        if (std::string why = read_seed_factors(e, at, f); !why.empty()) return bad(why);
        if (e.contains("decode_layer_us")) {
            if (!e["decode_layer_us"].is_number() || !(e["decode_layer_us"].get<double>() >= 0) ||
                e["decode_layer_us"].get<double>() > 1e5)
                return bad(at + ".decode_layer_us must be a number from 0 to 100000");
            f.decode_layer_seconds = e["decode_layer_us"].get<double>() * 1e-6;
        }
        if (e.contains("prefill_layer_us")) {
            if (!e["prefill_layer_us"].is_number() || !(e["prefill_layer_us"].get<double>() >= 0) ||
                e["prefill_layer_us"].get<double>() > 1e6)
                return bad(at + ".prefill_layer_us must be a number from 0 to 1000000");
            f.prefill_layer_seconds = e["prefill_layer_us"].get<double>() * 1e-6;
        }
        f.source = f_source;
        std::vector<SpeedCalibration> types;
        if (e.contains("weight_types")) {
            if (!e["weight_types"].is_array()) return bad(at + ".weight_types must be an array");
            for (size_t k = 0; k < e["weight_types"].size(); ++k) {
                const json& w = e["weight_types"][k];
                const std::string wat = at + ".weight_types[" + std::to_string(k) + "]";
                if (!w.is_object() || !w.contains("type") || !w["type"].is_string() || w["type"].get<std::string>().empty())
                    return bad(wat + ".type must be a weight type such as Q4_K_M");
                SpeedCalibration t;
                t.weight_type = w["type"].get<std::string>();
                if (std::string why = read_seed_factors(w, wat, t); !why.empty()) return bad(why);
                t.decode_layer_seconds = f.decode_layer_seconds;
                t.prefill_layer_seconds = f.prefill_layer_seconds;
                t.source = f_source;
                types.push_back(std::move(t));
            }
        }
        std::vector<std::string> names{name};
        if (e.contains("aliases")) {
            if (!e["aliases"].is_array()) return bad(at + ".aliases must be an array of names");
            for (const json& a : e["aliases"]) {
                if (!a.is_string()) return bad(at + ".aliases must be an array of names");
                names.push_back(a.get<std::string>());
            }
        }
        for (const std::string& n : names) out.classes.push_back({"gpu|" + n, name, f, types});
    }
    return out;
}

Calibration load_seed_calibration() {
    if (calibration_disabled()) return {};
    const std::string path = find_resource("calibration.json");
    Calibration none;
    if (path.empty()) {
        none.warnings.push_back("no seed calibration (resources/calibration.json not found)");
        return none;
    }
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    auto seed = parse_seed_calibration(text.str(), path);
    if (!seed.ok()) {
        none.warnings.push_back("ignoring the seed calibration: " + seed.status().message());
        return none;
    }
    return std::move(seed).value();
}

Calibration load_calibration_with_seed() {
    Calibration c = load_calibration();
    c.merge_missing(load_seed_calibration());
    return c;
}

namespace {
std::string gpu_key(std::string s) {
    for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    for (const char* prefix : {"nvidia ", "geforce "})
        if (s.rfind(prefix, 0) == 0) s = s.substr(std::string(prefix).size());
    return s;
}
}  // namespace

const ClassCalibration* find_gpu_calibration(const Calibration& c, const std::string& name,
                                             const std::vector<std::string>& aliases) {
    std::vector<std::string> keys{gpu_key(name)};
    for (const std::string& a : aliases) keys.push_back(gpu_key(a));
    for (const ClassCalibration& cc : c.classes) {
        if (cc.device_class.rfind("gpu|", 0) != 0) continue;
        const std::string k = gpu_key(cc.device_class.substr(4));
        if (std::find(keys.begin(), keys.end(), k) != keys.end()) return &cc;
    }
    return nullptr;
}

int apply_calibration(PlanRequest& request, const Calibration& c) {
    int n = 0;
    for (PlanDevice& d : request.devices) {
        const ClassCalibration* cc = c.find(speed_class(d.info));
        if (!cc) continue;
        d.calibration = cc->for_weight_type(request.model.weight_type);
        ++n;
    }
    return n;
}

}  // namespace strata
