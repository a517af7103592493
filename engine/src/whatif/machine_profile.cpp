// Machine profiles and the GPU catalogue: JSON (nlohmann-json) to plain values, every field
// checked, every error naming the file and the field.
#include "strata/machine_profile.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace strata {

namespace {

using nlohmann::json;

constexpr size_t kMaxGpus = 16;

// Reads fields of one JSON object, remembering the first problem (with the field's path).
class Fields {
public:
    Fields(const json& obj, std::string path, std::string* error) : obj_(obj), path_(std::move(path)), error_(error) {
        if (!obj_.is_object()) fail("", "must be an object");
    }
    bool has(const char* key) const { return obj_.is_object() && obj_.contains(key) && !obj_.at(key).is_null(); }
    std::string where(const std::string& key) const {
        if (path_.empty()) return key.empty() ? "the top level" : key;
        return key.empty() ? path_ : path_ + "." + key;
    }
    void fail(const std::string& key, const std::string& what) const {
        if (error_->empty()) *error_ = where(key) + " " + what;
    }
    // A number > 0 (or ≥ 0 when zero_ok); `required` fields must be present.
    double number(const char* key, bool required, bool zero_ok = false, double max = 1e9) const {
        if (!has(key)) {
            if (required) fail(key, "is missing (a number)");
            return 0;
        }
        const json& v = obj_.at(key);
        if (!v.is_number()) {
            fail(key, "must be a number, not " + v.dump());
            return 0;
        }
        const double d = v.get<double>();
        if (!std::isfinite(d) || d < 0 || (!zero_ok && d == 0) || d > max) {
            char limit[32];
            std::snprintf(limit, sizeof limit, "%g", max);
            fail(key, std::string("must be a number ") + (zero_ok ? "≥ 0" : "> 0") + " and at most " + limit +
                          ", not " + v.dump());
            return 0;
        }
        return d;
    }
    std::string text(const char* key, bool required) const {
        if (!has(key)) {
            if (required) fail(key, "is missing (a string)");
            return {};
        }
        const json& v = obj_.at(key);
        if (!v.is_string() || (required && v.get<std::string>().empty())) {
            fail(key, "must be a non-empty string, not " + v.dump());
            return {};
        }
        return v.get<std::string>();
    }
    const json& at(const char* key) const { return obj_.at(key); }
    // Keys this object may have; anything else is a typo worth naming.
    void only(std::initializer_list<const char*> keys) const {
        if (!obj_.is_object()) return;
        for (auto it = obj_.begin(); it != obj_.end(); ++it) {
            if (std::find_if(keys.begin(), keys.end(), [&](const char* k) { return it.key() == k; }) == keys.end())
                fail(it.key(), "is not a known field (known: " + join(keys) + ")");
        }
    }

private:
    static std::string join(std::initializer_list<const char*> keys) {
        std::string out;
        for (const char* k : keys) out += (out.empty() ? "" : ", ") + std::string(k);
        return out;
    }
    const json& obj_;
    std::string path_;
    std::string* error_;
};

uint64_t gib_bytes(double gib) { return static_cast<uint64_t>(std::llround(gib * 1024.0 * 1024.0 * 1024.0)); }

GpuSpec read_gpu(const json& j, const std::string& path, bool catalogue, std::string* error) {
    Fields f(j, path, error);
    if (catalogue)
        f.only({"name", "aliases", "memory_gib", "bandwidth_gbs", "fp16_tflops", "int8_tflops", "power_w",
                "price_usd", "price_date", "cloud_usd_per_hour", "cloud_date", "comment"});
    else
        f.only({"name", "memory_gib", "bandwidth_gbs", "fp16_tflops", "int8_tflops", "power_w", "count", "comment"});
    GpuSpec g;
    g.name = f.text("name", true);
    g.memory_bytes = gib_bytes(f.number("memory_gib", true, false, 4096));
    g.bandwidth_gbs = f.number("bandwidth_gbs", true, false, 100000);
    g.fp16_tflops = f.number("fp16_tflops", true, false, 100000);
    g.int8_tflops = f.number("int8_tflops", false, true, 100000);
    g.power_w = f.number("power_w", true, false, 10000);
    if (catalogue) {
        if (f.has("aliases")) {
            const json& a = f.at("aliases");
            if (!a.is_array()) f.fail("aliases", "must be an array of strings");
            else
                for (size_t i = 0; i < a.size(); ++i) {
                    if (!a[i].is_string() || a[i].get<std::string>().empty())
                        f.fail("aliases[" + std::to_string(i) + "]", "must be a non-empty string");
                    else
                        g.aliases.push_back(a[i].get<std::string>());
                }
        }
        g.price_usd = f.number("price_usd", false, true, 1e7);
        g.price_date = f.text("price_date", false);
        g.cloud_usd_per_hour = f.number("cloud_usd_per_hour", false, true, 1000);
        g.cloud_date = f.text("cloud_date", false);
    }
    return g;
}

Link read_link(const json& j, const std::string& path, std::initializer_list<const char*> extra, std::string* error) {
    Fields f(j, path, error);
    std::vector<const char*> keys = {"kind", "gbs", "latency_us", "comment"};
    keys.insert(keys.end(), extra.begin(), extra.end());
    if (j.is_object())
        for (auto it = j.begin(); it != j.end(); ++it)
            if (std::find_if(keys.begin(), keys.end(), [&](const char* k) { return it.key() == k; }) == keys.end())
                f.fail(it.key(), "is not a known field of a link (kind, gbs, latency_us)");
    Link l;
    const std::string kind = f.text("kind", true);
    if (!kind.empty() && (!parse_link_kind(kind, l.kind) || l.kind == LinkKind::unknown))
        f.fail("kind", "must be one of nvlink, pcie-switch, host-bridge, cross-socket, staged, host-device, not \"" +
                           kind + "\"");
    l.gbs = f.number("gbs", true, false, 100000);
    l.latency_us = f.number("latency_us", true, false, 1e6);
    return l;
}

Result<json> parse_json(const std::string& text, const std::string& source) {
    try {
        return json::parse(text);
    } catch (const json::parse_error& e) {
        return Status(ErrorCode::invalid_argument, source + ": not valid JSON: " + e.what());
    }
}

Result<std::string> read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status(ErrorCode::not_found, path + ": cannot open the file");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return Status(ErrorCode::io, path + ": read failed");
    return ss.str();
}

// Lowercase, without spaces, dashes and underscores, and without the vendor words people add.
std::string name_key(const std::string& text) {
    std::string t;
    for (char c : text)
        if (!std::isspace(static_cast<unsigned char>(c)) && c != '-' && c != '_')
            t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* prefix : {"nvidia", "geforce"})
        if (t.rfind(prefix, 0) == 0) t = t.substr(std::string(prefix).size());
    return t;
}

}  // namespace

Result<MachineProfile> parse_machine_profile(const std::string& json_text, const std::string& source) {
    STRATA_ASSIGN_OR_RETURN(const json root, parse_json(json_text, source));
    std::string error;
    MachineProfile p;
    Fields top(root, "", &error);
    top.only({"name", "comment", "gpus", "host", "host_link", "links"});
    p.name = top.text("name", true);
    p.comment = top.text("comment", false);
    if (!top.has("gpus") || !top.at("gpus").is_array() || top.at("gpus").empty()) {
        top.fail("gpus", "must be a non-empty array of GPUs");
    } else {
        const json& gpus = top.at("gpus");
        for (size_t i = 0; i < gpus.size() && error.empty(); ++i) {
            const std::string path = "gpus[" + std::to_string(i) + "]";
            GpuSpec g = read_gpu(gpus[i], path, false, &error);
            Fields f(gpus[i], path, &error);
            const double count = f.has("count") ? f.number("count", true, false, kMaxGpus) : 1;
            if (count != std::floor(count)) f.fail("count", "must be a whole number");
            for (int k = 0; k < static_cast<int>(count) && error.empty(); ++k) p.gpus.push_back(g);
        }
        if (error.empty() && p.gpus.size() > kMaxGpus)
            top.fail("gpus", "lists " + std::to_string(p.gpus.size()) + " GPUs; at most " + std::to_string(kMaxGpus));
    }
    if (error.empty() && top.has("host")) {
        Fields h(top.at("host"), "host", &error);
        h.only({"cpu", "memory_gib", "bandwidth_gbs", "tflops", "threads", "comment"});
        HostSpec host;
        host.cpu = h.text("cpu", true);
        host.memory_bytes = gib_bytes(h.number("memory_gib", true, false, 1 << 20));
        host.bandwidth_gbs = h.number("bandwidth_gbs", true, false, 100000);
        host.tflops = h.number("tflops", false, true, 100000);
        host.threads = static_cast<int>(h.number("threads", false, true, 4096));
        p.host = host;
    }
    if (error.empty()) {
        if (top.has("host_link")) p.host_link = read_link(top.at("host_link"), "host_link", {}, &error);
        else top.fail("host_link", "is missing (how each GPU reaches host memory: a link)");
    }
    const size_t n = p.gpus.size();
    p.gpu_links.assign(n, std::vector<Link>(n));
    if (error.empty() && n > 1) {
        if (!top.has("links")) {
            top.fail("links", "is missing (the links between the GPUs: a default and pairs, or a matrix)");
        } else if (const json& links = top.at("links"); links.is_array()) {
            if (links.size() != n) top.fail("links", "matrix has " + std::to_string(links.size()) + " rows for " +
                                                         std::to_string(n) + " GPUs");
            for (size_t i = 0; i < links.size() && error.empty(); ++i) {
                const std::string row = "links[" + std::to_string(i) + "]";
                if (!links[i].is_array() || links[i].size() != n) {
                    top.fail(row, "must be an array of " + std::to_string(n) + " links (null on the diagonal)");
                    break;
                }
                for (size_t j = 0; j < n && error.empty(); ++j) {
                    const std::string cell = row + "[" + std::to_string(j) + "]";
                    if (i == j) {
                        if (!links[i][j].is_null()) top.fail(cell, "must be null (a GPU to itself)");
                        continue;
                    }
                    p.gpu_links[i][j] = read_link(links[i][j], cell, {}, &error);
                }
            }
        } else {
            Fields l(links, "links", &error);
            l.only({"default", "pairs", "comment"});
            std::vector<std::vector<bool>> given(n, std::vector<bool>(n, false));
            if (l.has("pairs")) {
                const json& pairs = l.at("pairs");
                if (!pairs.is_array()) l.fail("pairs", "must be an array");
                for (size_t k = 0; pairs.is_array() && k < pairs.size() && error.empty(); ++k) {
                    const std::string path = "links.pairs[" + std::to_string(k) + "]";
                    const Link link = read_link(pairs[k], path, {"between"}, &error);
                    Fields pf(pairs[k], path, &error);
                    const json* between = pf.has("between") ? &pf.at("between") : nullptr;
                    if (between == nullptr || !between->is_array() || between->size() != 2 ||
                        !(*between)[0].is_number_unsigned() || !(*between)[1].is_number_unsigned()) {
                        pf.fail("between", "must be two GPU indices, e.g. [0, 1]");
                        break;
                    }
                    const size_t a = (*between)[0].get<size_t>(), b = (*between)[1].get<size_t>();
                    if (a >= n || b >= n || a == b) {
                        pf.fail("between", "names GPUs " + between->dump() + "; indices are 0 to " +
                                               std::to_string(n - 1) + " and must differ");
                        break;
                    }
                    p.gpu_links[a][b] = p.gpu_links[b][a] = link;
                    given[a][b] = given[b][a] = true;
                }
            }
            if (error.empty() && l.has("default")) {
                const Link d = read_link(l.at("default"), "links.default", {}, &error);
                for (size_t i = 0; i < n; ++i)
                    for (size_t j = 0; j < n; ++j)
                        if (i != j && !given[i][j]) p.gpu_links[i][j] = d, given[i][j] = true;
            }
            for (size_t i = 0; i < n && error.empty(); ++i)
                for (size_t j = 0; j < n && error.empty(); ++j)
                    if (i != j && !given[i][j])
                        l.fail("", "say nothing of GPUs " + std::to_string(i) + " and " + std::to_string(j) +
                                       " (give a pair or a default)");
        }
    }
    if (!error.empty()) return Status(ErrorCode::invalid_argument, source + ": " + error);
    return p;
}

Result<MachineProfile> load_machine_profile(const std::string& path) {
    STRATA_ASSIGN_OR_RETURN(const std::string text, read_text(path));
    return parse_machine_profile(text, path);
}

DeviceInfo simulated_gpu(const GpuSpec& gpu, int index) {
    DeviceInfo d;
    d.id = "cuda" + std::to_string(index);
    d.name = gpu.name;
    d.type = DeviceType::cuda;
    d.total_memory = gpu.memory_bytes;
    d.free_memory = gpu.memory_bytes > kSimulatedDriverBytes ? gpu.memory_bytes - kSimulatedDriverBytes : 0;
    d.memory_bandwidth_gbs = gpu.bandwidth_gbs;
    d.matmul_tflops = gpu.fp16_tflops;
    d.note = "simulated";
    return d;
}

SimulatedMachine simulate_machine(const MachineProfile& profile, bool include_host) {
    SimulatedMachine m;
    const size_t n_gpu = profile.gpus.size();
    for (size_t i = 0; i < n_gpu; ++i) m.devices.push_back(simulated_gpu(profile.gpus[i], static_cast<int>(i)));
    const bool host = include_host && profile.host.has_value();
    if (host) {
        DeviceInfo d;
        d.id = "cpu";
        d.name = profile.host->cpu;
        d.type = DeviceType::cpu;
        d.total_memory = d.free_memory = profile.host->memory_bytes;
        d.memory_bandwidth_gbs = profile.host->bandwidth_gbs;
        d.matmul_tflops = profile.host->tflops;
        d.n_threads = profile.host->threads;
        d.note = "simulated";
        m.devices.push_back(d);
    }
    const size_t n = m.devices.size();
    m.links.assign(n, std::vector<Link>(n));
    for (size_t i = 0; i < n_gpu; ++i)
        for (size_t j = 0; j < n_gpu; ++j)
            if (i != j && i < profile.gpu_links.size() && j < profile.gpu_links[i].size())
                m.links[i][j] = profile.gpu_links[i][j];
    if (host)
        for (size_t i = 0; i < n_gpu; ++i) m.links[i][n_gpu] = m.links[n_gpu][i] = profile.host_link;
    return m;
}

Result<GpuCatalogue> parse_gpu_catalogue(const std::string& json_text, const std::string& source) {
    STRATA_ASSIGN_OR_RETURN(const json root, parse_json(json_text, source));
    std::string error;
    GpuCatalogue c;
    Fields top(root, "", &error);
    top.only({"comment", "gpus"});
    c.comment = top.text("comment", false);
    if (!top.has("gpus") || !top.at("gpus").is_array() || top.at("gpus").empty()) {
        top.fail("gpus", "must be a non-empty array of GPUs");
    } else {
        const json& gpus = top.at("gpus");
        for (size_t i = 0; i < gpus.size() && error.empty(); ++i)
            c.gpus.push_back(read_gpu(gpus[i], "gpus[" + std::to_string(i) + "]", true, &error));
    }
    if (!error.empty()) return Status(ErrorCode::invalid_argument, source + ": " + error);
    return c;
}

Result<GpuCatalogue> load_gpu_catalogue(const std::string& path) {
    STRATA_ASSIGN_OR_RETURN(const std::string text, read_text(path));
    return parse_gpu_catalogue(text, path);
}

Result<GpuSpec> find_gpu(const GpuCatalogue& catalogue, const std::string& query) {
    const std::string q = name_key(query);
    if (q.empty()) return Status(ErrorCode::invalid_argument, "no GPU name given");
    auto names = [](const GpuSpec& g) {
        std::vector<std::string> out{name_key(g.name)};
        for (const std::string& a : g.aliases) out.push_back(name_key(a));
        return out;
    };
    // An exact name or alias first; then names that contain the query ("4090" in "rtx4090").
    for (const GpuSpec& g : catalogue.gpus)
        for (const std::string& n : names(g))
            if (n == q) return g;
    std::vector<const GpuSpec*> partial;
    for (const GpuSpec& g : catalogue.gpus) {
        for (const std::string& n : names(g)) {
            if (n.find(q) != std::string::npos) {
                partial.push_back(&g);
                break;
            }
        }
    }
    if (partial.size() == 1) return *partial.front();
    std::string list;
    if (partial.size() > 1) {
        for (const GpuSpec* g : partial) list += (list.empty() ? "" : ", ") + g->name;
        return Status(ErrorCode::invalid_argument, "GPU \"" + query + "\" is ambiguous: " + list);
    }
    for (const GpuSpec& g : catalogue.gpus) list += (list.empty() ? "" : ", ") + g.name;
    return Status(ErrorCode::not_found, "unknown GPU \"" + query + "\"; the catalogue has: " + list);
}

std::string find_resource(const std::string& relative) {
    namespace fs = std::filesystem;
    std::vector<fs::path> roots;
    if (const char* env = std::getenv("STRATA_RESOURCES"); env != nullptr && *env != '\0') roots.emplace_back(env);
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) roots.push_back(exe.parent_path().parent_path() / "share" / "strata");
#ifdef STRATA_SOURCE_RESOURCES_DIR
    roots.emplace_back(STRATA_SOURCE_RESOURCES_DIR);
#endif
    for (const fs::path& r : roots) {
        const fs::path p = r / relative;
        if (fs::exists(p, ec)) return p.string();
    }
    return {};
}

}  // namespace strata
