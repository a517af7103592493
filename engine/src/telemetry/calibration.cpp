// The planner's speed calibration (strata/calibration.h): medians of measured/predicted from the
// bench log, per device class and phase; the seed file; applying them to a plan request.
#include "strata/calibration.h"

#include <algorithm>
#include <cctype>
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

Calibration calibrate(const std::vector<BenchRecord>& records, int recent) {
    struct Ratios {
        std::string label;
        std::vector<double> decode, prefill;  // oldest first
    };
    std::map<std::string, Ratios> by_class;
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
        const double md = r.measured_decode_tps(), mp = r.measured_prefill_tps();
        if (md > 0 && r.predicted_decode_tps > 0) it->second.decode.push_back(md / r.predicted_decode_tps);
        if (mp > 0 && r.predicted_prefill_tps > 0) it->second.prefill.push_back(mp / r.predicted_prefill_tps);
    }
    Calibration out;
    const size_t keep = static_cast<size_t>(std::max(1, recent));
    for (const std::string& cls : order) {
        Ratios& x = by_class[cls];
        ClassCalibration c;
        c.device_class = cls;
        c.label = x.label;
        c.factors.source = x.label;
        if (x.decode.size() > keep) x.decode.erase(x.decode.begin(), x.decode.end() - static_cast<long>(keep));
        if (x.prefill.size() > keep) x.prefill.erase(x.prefill.begin(), x.prefill.end() - static_cast<long>(keep));
        if (!x.decode.empty()) {
            c.factors.decode = median(x.decode);
            c.factors.decode_runs = static_cast<int>(x.decode.size());
        }
        if (!x.prefill.empty()) {
            c.factors.prefill = median(x.prefill);
            c.factors.prefill_runs = static_cast<int>(x.prefill.size());
        }
        if (c.factors.any()) out.classes.push_back(std::move(c));
    }
    return out;
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
        SpeedCalibration f;
        for (auto [key, factor, runs_key, runs] : {std::tuple{"decode", &f.decode, "decode_runs", &f.decode_runs},
                                                   std::tuple{"prefill", &f.prefill, "prefill_runs", &f.prefill_runs}}) {
            if (!e.contains(key)) continue;
            if (!e[key].is_number() || !(e[key].get<double>() > 0) || e[key].get<double>() > 100)
                return bad(at + "." + key + " must be a number above 0 and at most 100");
            *factor = e[key].get<double>();
            *runs = e.contains(runs_key) && e[runs_key].is_number_integer() ? std::max(1, e[runs_key].get<int>()) : 1;
        }
        const std::string name = e["gpu"].get<std::string>();
        f.source = name + (seed_source.empty() ? "" : " (" + seed_source + ")");
        std::vector<std::string> names{name};
        if (e.contains("aliases")) {
            if (!e["aliases"].is_array()) return bad(at + ".aliases must be an array of names");
            for (const json& a : e["aliases"]) {
                if (!a.is_string()) return bad(at + ".aliases must be an array of names");
                names.push_back(a.get<std::string>());
            }
        }
        for (const std::string& n : names) out.classes.push_back({"gpu|" + n, name, f});
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
        d.calibration = cc->factors;
        ++n;
    }
    return n;
}

}  // namespace strata
