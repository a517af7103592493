// The measured-link store (strata/link_store.h): JSON (nlohmann-json) in the user's data
// directory, keyed by the machine's fingerprint, and its merge over the NVML topology's links.
#include "strata/link_store.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>
#include <utility>

#include <nlohmann/json.hpp>

#include "strata/gpu_telemetry.h"

namespace strata {

using nlohmann::json;

namespace {

constexpr int kFormatVersion = 1;

// "host" or a normalised bus id; "" for anything else.
std::string endpoint(const std::string& text) {
    if (text == kHostEndpoint) return text;
    return normalize_pci_bus_id(text);
}

// The endpoint a request device stands for: its bus id (GPUs), "host" (CPU devices), "" (a GPU
// without a bus id: nothing measured can be matched to it).
std::string endpoint_of(const DeviceInfo& d) {
    return d.type == DeviceType::cuda ? normalize_pci_bus_id(d.pci_bus_id) : std::string(kHostEndpoint);
}

}  // namespace

const MeasuredLink* LinkMeasurements::find(const std::string& from, const std::string& to) const {
    for (const MeasuredLink& l : links)
        if (l.from == from && l.to == to) return &l;
    return nullptr;
}

std::string machine_fingerprint_text(const std::vector<DeviceInfo>& machine, const std::string& driver_version) {
    std::vector<std::pair<std::string, std::string>> gpus;  // bus id, name
    for (const DeviceInfo& d : machine)
        if (d.type == DeviceType::cuda) gpus.emplace_back(normalize_pci_bus_id(d.pci_bus_id), d.name);
    std::sort(gpus.begin(), gpus.end());
    std::string text = "driver " + (driver_version.empty() ? std::string("unknown") : driver_version);
    for (const auto& [bus, name] : gpus) text += "; " + name + " @ " + (bus.empty() ? "?" : bus);
    return text;
}

std::string machine_fingerprint(const std::string& text) {
    uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a, 64 bit
    for (unsigned char c : text) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    char out[17];
    std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
    return out;
}

std::string strata_data_dir() {
    const char* xdg = std::getenv("XDG_DATA_HOME");
    if (xdg && xdg[0] == '/') return std::string(xdg) + "/strata";
    const char* home = std::getenv("HOME");
    if (home && *home) return std::string(home) + "/.local/share/strata";
    return {};
}

std::string link_store_path(const std::string& fingerprint) {
    const std::string dir = strata_data_dir();
    return dir.empty() ? std::string() : dir + "/links-" + fingerprint + ".json";
}

std::string link_measurements_to_json(const LinkMeasurements& m) {
    json links = json::array();
    for (const MeasuredLink& l : m.links)
        links.push_back({{"from", l.from}, {"to", l.to}, {"peer", l.peer}, {"gbs", l.gbs}, {"bidir_gbs", l.bidir_gbs},
                         {"latency_us", l.latency_us}});
    const json j = {{"format", kFormatVersion}, {"fingerprint", m.fingerprint}, {"machine", m.machine},
                    {"measured_at", m.measured_at}, {"links", links}};
    return j.dump(2) + "\n";
}

Result<LinkMeasurements> parse_link_measurements(const std::string& text, const std::string& source) {
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return Status(ErrorCode::corrupt, source + ": not a JSON object");
    auto bad = [&](const std::string& what) { return Status(ErrorCode::corrupt, source + ": " + what); };
    if (!j.contains("format") || !j["format"].is_number_integer() || j["format"].get<int>() != kFormatVersion)
        return bad("format must be " + std::to_string(kFormatVersion));
    LinkMeasurements m;
    for (const char* key : {"fingerprint", "machine", "measured_at"}) {
        if (!j.contains(key) || !j[key].is_string()) return bad(std::string(key) + " must be a string");
    }
    m.fingerprint = j["fingerprint"].get<std::string>();
    m.machine = j["machine"].get<std::string>();
    m.measured_at = j["measured_at"].get<std::string>();
    if (machine_fingerprint(m.machine) != m.fingerprint) return bad("fingerprint does not match the machine text");
    if (!j.contains("links") || !j["links"].is_array()) return bad("links must be an array");
    for (size_t i = 0; i < j["links"].size(); ++i) {
        const json& e = j["links"][i];
        const std::string at = "links[" + std::to_string(i) + "]";
        if (!e.is_object()) return bad(at + " must be an object");
        MeasuredLink l;
        for (const char* key : {"from", "to"}) {
            if (!e.contains(key) || !e[key].is_string() || endpoint(e[key].get<std::string>()).empty())
                return bad(at + "." + key + " must be \"host\" or a PCI bus id");
        }
        l.from = endpoint(e["from"].get<std::string>());
        l.to = endpoint(e["to"].get<std::string>());
        if (l.from == l.to) return bad(at + " links an end to itself");
        if (e.contains("peer")) {
            if (!e["peer"].is_boolean()) return bad(at + ".peer must be true or false");
            l.peer = e["peer"].get<bool>();
        }
        for (auto [key, field, required] : {std::tuple{"gbs", &l.gbs, true}, std::tuple{"bidir_gbs", &l.bidir_gbs, false},
                                            std::tuple{"latency_us", &l.latency_us, false}}) {
            if (!e.contains(key)) {
                if (required) return bad(at + "." + key + " is missing");
                continue;
            }
            if (!e[key].is_number() || !(e[key].get<double>() >= 0) || e[key].get<double>() > 1e6)
                return bad(at + "." + key + " must be a number from 0 to 1e6");
            *field = e[key].get<double>();
        }
        if (!(l.gbs > 0)) return bad(at + ".gbs must be > 0");
        m.links.push_back(std::move(l));
    }
    return m;
}

Status save_link_measurements(const LinkMeasurements& m, const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path p(path);
    if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
    if (ec) return Status(ErrorCode::io, "cannot create " + p.parent_path().string() + ": " + ec.message());
    const std::string partial = path + ".partial";
    {
        std::ofstream out(partial, std::ios::binary | std::ios::trunc);
        out << link_measurements_to_json(m);
        out.close();
        if (!out) {
            fs::remove(partial, ec);
            return Status(ErrorCode::io, "cannot write " + partial);
        }
    }
    fs::rename(partial, path, ec);
    if (ec) {
        fs::remove(partial, ec);
        return Status(ErrorCode::io, "cannot rename " + partial + " to " + path);
    }
    return Status::success();
}

Result<LinkMeasurements> load_link_measurements(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status(ErrorCode::not_found, path + ": cannot open");
    std::ostringstream text;
    text << in.rdbuf();
    return parse_link_measurements(text.str(), path);
}

int apply_link_measurements(LinkMatrix& links, const std::vector<DeviceInfo>& devices, const LinkMeasurements& m) {
    links.resize(devices.size());
    for (auto& row : links) row.resize(devices.size());
    int n = 0;
    for (size_t i = 0; i < devices.size(); ++i) {
        for (size_t j = 0; j < devices.size(); ++j) {
            if (i == j) continue;
            const std::string a = endpoint_of(devices[i]), b = endpoint_of(devices[j]);
            if (a.empty() || b.empty() || a == b) continue;  // two CPU devices share host memory
            const MeasuredLink* l = m.find(a, b);
            if (!l) continue;
            Link& link = links[i][j];
            link.gbs = l->gbs;
            if (l->latency_us > 0) link.latency_us = l->latency_us;
            if (a == kHostEndpoint || b == kHostEndpoint) {
                link.kind = LinkKind::host_device;
            } else if (!l->peer) {
                // Measured as two copies through host memory: gbs is the whole path's; the
                // planner counts two copies for staged, so each copy runs twice as fast.
                link.kind = LinkKind::staged;
                link.gbs = 2 * l->gbs;
                if (l->latency_us > 0) link.latency_us = l->latency_us / 2;
            } else if (link.kind == LinkKind::unknown || link.kind == LinkKind::staged) {
                link.kind = LinkKind::pcie_switch;
            }
            ++n;
        }
    }
    return n;
}

MachineLinks machine_links(const std::vector<DeviceInfo>& devices, const std::vector<DeviceInfo>& machine,
                           const std::string& nvml_library) {
    bool any_gpu = false;
    for (const DeviceInfo& d : devices) any_gpu |= d.type == DeviceType::cuda;
    if (!any_gpu) return {};
    return machine_links(devices, machine,
                         read_gpu_topology(nvml_library.empty() ? GpuTelemetryReader::default_library() : nvml_library));
}

MachineLinks machine_links(const std::vector<DeviceInfo>& devices, const std::vector<DeviceInfo>& machine,
                           const GpuTopology& topology) {
    MachineLinks out;
    bool any_gpu = false;
    for (const DeviceInfo& d : devices) any_gpu |= d.type == DeviceType::cuda;
    if (!any_gpu) return out;
    if (topology.ok()) {
        out.links = topology_links(devices, topology);
        out.notes.push_back("links: NVML topology (nominal speeds)");
    } else {
        out.links.assign(devices.size(), std::vector<Link>(devices.size()));
        out.notes.push_back("links: " + topology.error);
    }
    const std::string fingerprint = machine_fingerprint(machine_fingerprint_text(machine, topology.driver_version));
    const std::string path = link_store_path(fingerprint);
    if (path.empty() || !std::filesystem::exists(path)) {
        out.notes.push_back("links: not measured on this machine (strata-cli probe links)");
        return out;
    }
    auto stored = load_link_measurements(path);
    if (!stored.ok()) {
        out.notes.push_back("links: ignoring " + stored.status().message());
        return out;
    }
    out.measured = apply_link_measurements(out.links, devices, *stored);
    out.notes.push_back("links: " + std::to_string(out.measured) + " measured " + stored->measured_at + " (" + path + ")");
    return out;
}

}  // namespace strata
