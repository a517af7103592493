#include "strata/gpu_topology.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>

#include "strata/gpu_telemetry.h"
#include "telemetry/nvml_library.h"

namespace strata {

namespace {

constexpr const char* kPrefix = "topology unavailable: ";

std::string text_of(const char* buf, size_t n) {
    size_t len = 0;
    while (len < n && buf[len]) ++len;
    return std::string(buf, len);
}

// Reads one optional unsigned figure: set, or a reason in `missing` (a driver without the entry
// point says so by name).
template <class Call>
void read_figure(const nvml::Library& s, bool present, const char* symbol, const char* what, std::optional<unsigned>& out,
                 std::vector<std::string>& missing, Call call) {
    if (!present) {
        missing.push_back(std::string(what) + ": this NVML has no " + symbol);
        return;
    }
    unsigned v = 0;
    if (const nvml::Return r = call(&v); r == nvml::kSuccess)
        out = v;
    else
        missing.push_back(std::string(what) + ": " + s.words(r));
}

// "0-3,8,10-11" from a bit mask of CPUs.
std::string cpu_ranges(const std::vector<unsigned long>& mask) {
    std::string out;
    const unsigned bits = static_cast<unsigned>(mask.size() * sizeof(unsigned long) * 8);
    auto set = [&](unsigned i) { return (mask[i / (sizeof(unsigned long) * 8)] >> (i % (sizeof(unsigned long) * 8))) & 1ul; };
    for (unsigned i = 0; i < bits;) {
        if (!set(i)) {
            ++i;
            continue;
        }
        unsigned j = i;
        while (j + 1 < bits && set(j + 1)) ++j;
        if (!out.empty()) out += ",";
        out += std::to_string(i);
        if (j > i) out += "-" + std::to_string(j);
        i = j + 1;
    }
    return out;
}

const char* p2p_words(int status) {
    switch (status) {
        case nvml::kP2PStatusChipsetNotSupported: return "the chipset does not support it";
        case nvml::kP2PStatusGpuNotSupported: return "the GPU does not support it";
        case nvml::kP2PStatusIohTopologyNotSupported: return "the I/O hub topology does not support it";
        case nvml::kP2PStatusDisabledByRegkey: return "disabled by a registry key";
        case nvml::kP2PStatusNotSupported: return "not supported";
        default: return "unknown";
    }
}

GpuAncestor ancestor_of(int level) {
    switch (level) {
        case nvml::kTopologyInternal: return GpuAncestor::internal;
        case nvml::kTopologySingle: return GpuAncestor::single_switch;
        case nvml::kTopologyMultiple: return GpuAncestor::multiple_switches;
        case nvml::kTopologyHostBridge: return GpuAncestor::host_bridge;
        case nvml::kTopologyNode: return GpuAncestor::numa_node;
        case nvml::kTopologySystem: return GpuAncestor::system;
        default: return GpuAncestor::unknown;
    }
}

GpuTopology read(const std::string& library) {
    GpuTopology t;
    nvml::Library s(library);  // opened, and NVML initialised, for this read only
    if (!s.loaded()) {
        t.error = std::string(kPrefix) + "cannot load " + library + " (" + s.load_error() + ")";
        return t;
    }
    if (const std::vector<std::string> missing = s.missing_required(); !missing.empty()) {
        std::string names;
        for (const std::string& m : missing) names += (names.empty() ? "" : ", ") + m;
        t.error = std::string(kPrefix) + library + " lacks " + names + " (driver too old, or not NVML)";
        return t;
    }
    if (const nvml::Return r = s.init(); r != nvml::kSuccess) {
        t.error = std::string(kPrefix) + "nvmlInit failed: " + s.words(r);
        return t;
    }
    const nvml::EntryPoints& f = s.fn();
    unsigned n = 0;
    if (const nvml::Return r = f.get_count(&n); r != nvml::kSuccess) {
        t.error = std::string(kPrefix) + "nvmlDeviceGetCount failed: " + s.words(r);
        return t;
    }

    const auto by_index = f.by_index;
    // The optional entry points (null: this driver predates them).
    const auto driver = f.driver_version;
    const auto get_name = f.get_name;
    const auto get_pci = f.get_pci;
    const auto gen_now = f.pcie_gen;
    const auto width_now = f.pcie_width;
    const auto gen_max = f.pcie_gen_max;
    const auto width_max = f.pcie_width_max;
    const auto numa = f.numa_node;
    const auto affinity = f.cpu_affinity;
    const auto clock = f.clock;
    const auto clock_max = f.clock_max;
    const auto link_state = f.nvlink_state;
    const auto link_version = f.nvlink_version;
    const auto link_remote = f.nvlink_remote_pci;
    const auto ancestor = f.common_ancestor;
    const auto p2p = f.p2p_status;

    if (driver) {
        char buf[96] = {};
        if (driver(buf, sizeof buf) == nvml::kSuccess) t.driver_version = text_of(buf, sizeof buf);
    }
    std::vector<nvml::Device> handles;
    for (unsigned i = 0; i < n; ++i) {
        GpuTopologyEntry g;
        g.nvml_index = i;
        nvml::Device h = nullptr;
        if (const nvml::Return r = by_index(i, &h); r != nvml::kSuccess) {
            g.missing.push_back("device: " + s.words(r));  // listed, with nothing known
            handles.push_back(nullptr);
            t.gpus.push_back(std::move(g));
            continue;
        }
        handles.push_back(h);
        if (get_name) {
            char buf[96] = {};
            if (get_name(h, buf, sizeof buf) == nvml::kSuccess) g.name = text_of(buf, sizeof buf);
        }
        if (!get_pci) {
            g.missing.push_back("PCI bus id: this NVML has no nvmlDeviceGetPciInfo_v3");
        } else {
            nvml::PciInfo pci{};
            if (const nvml::Return r = get_pci(h, &pci); r == nvml::kSuccess)
                g.pci_bus_id = normalize_pci_bus_id(text_of(pci.bus_id, sizeof pci.bus_id));
            else
                g.missing.push_back("PCI bus id: " + s.words(r));
        }
        read_figure(s, gen_now, "nvmlDeviceGetCurrPcieLinkGeneration", "PCIe generation", g.pcie_gen, g.missing,
                    [&](unsigned* v) { return gen_now(h, v); });
        read_figure(s, width_now, "nvmlDeviceGetCurrPcieLinkWidth", "PCIe width", g.pcie_width, g.missing,
                    [&](unsigned* v) { return width_now(h, v); });
        read_figure(s, gen_max, "nvmlDeviceGetMaxPcieLinkGeneration", "PCIe generation (max)", g.pcie_gen_max, g.missing,
                    [&](unsigned* v) { return gen_max(h, v); });
        read_figure(s, width_max, "nvmlDeviceGetMaxPcieLinkWidth", "PCIe width (max)", g.pcie_width_max, g.missing,
                    [&](unsigned* v) { return width_max(h, v); });
        read_figure(s, numa, "nvmlDeviceGetNumaNodeId", "NUMA node", g.numa_node, g.missing,
                    [&](unsigned* v) { return numa(h, v); });
        read_figure(s, clock, "nvmlDeviceGetClockInfo", "SM clock", g.sm_clock_mhz, g.missing,
                    [&](unsigned* v) { return clock(h, nvml::kClockSm, v); });
        read_figure(s, clock_max, "nvmlDeviceGetMaxClockInfo", "SM clock (max)", g.sm_clock_max_mhz, g.missing,
                    [&](unsigned* v) { return clock_max(h, nvml::kClockSm, v); });
        read_figure(s, clock, "nvmlDeviceGetClockInfo", "memory clock", g.mem_clock_mhz, g.missing,
                    [&](unsigned* v) { return clock(h, nvml::kClockMem, v); });
        read_figure(s, clock_max, "nvmlDeviceGetMaxClockInfo", "memory clock (max)", g.mem_clock_max_mhz, g.missing,
                    [&](unsigned* v) { return clock_max(h, nvml::kClockMem, v); });
        if (!affinity) {
            g.missing.push_back("CPU affinity: this NVML has no nvmlDeviceGetCpuAffinity");
        } else {
            std::vector<unsigned long> mask(16);  // 1024 CPUs
            if (const nvml::Return r = affinity(h, static_cast<unsigned>(mask.size()), mask.data()); r == nvml::kSuccess)
                g.cpu_affinity = cpu_ranges(mask);
            else
                g.missing.push_back("CPU affinity: " + s.words(r));
        }
        // NVLink: a board without it answers Not Supported for link 0 (no news, not listed);
        // beyond a driver's link count, Invalid Argument or Not Supported ends the walk.
        if (!link_state) {
            g.missing.push_back("NVLink: this NVML has no nvmlDeviceGetNvLinkState");
        } else {
            for (unsigned l = 0; l < nvml::kNvLinkMaxLinks; ++l) {
                unsigned state = 0;
                const nvml::Return r = link_state(h, l, &state);
                if (r == nvml::kErrorNotSupported || r == nvml::kErrorInvalidArgument) break;
                if (r != nvml::kSuccess) {
                    g.missing.push_back("NVLink " + std::to_string(l) + ": " + s.words(r));
                    continue;
                }
                NvLinkLink link;
                link.index = l;
                link.active = state == nvml::kFeatureEnabled;
                if (link.active && link_version) {
                    unsigned v = 0;
                    if (link_version(h, l, &v) == nvml::kSuccess) link.version = v;
                }
                if (link.active && link_remote) {
                    nvml::PciInfo pci{};
                    if (link_remote(h, l, &pci) == nvml::kSuccess)
                        link.remote_bus_id = normalize_pci_bus_id(text_of(pci.bus_id, sizeof pci.bus_id));
                }
                g.nvlinks.push_back(std::move(link));
            }
        }
        t.gpus.push_back(std::move(g));
    }
    for (GpuTopologyEntry& g : t.gpus)
        for (NvLinkLink& l : g.nvlinks)
            if (!l.remote_bus_id.empty()) l.remote_gpu = t.find(l.remote_bus_id);

    t.pairs.assign(n, std::vector<GpuPairTopology>(n));
    for (unsigned a = 0; a < n; ++a) {
        for (unsigned b = 0; b < n; ++b) {
            if (a == b) continue;
            GpuPairTopology& p = t.pairs[a][b];
            p.nvlinks = t.gpus[a].active_nvlinks_to(static_cast<int>(b));
            if (!handles[a] || !handles[b]) {
                p.ancestor_missing = "a GPU of the pair could not be opened";
                continue;
            }
            if (!ancestor) {
                p.ancestor_missing = "this NVML has no nvmlDeviceGetTopologyCommonAncestor";
            } else {
                int level = -1;
                if (const nvml::Return r = ancestor(handles[a], handles[b], &level); r == nvml::kSuccess)
                    p.ancestor = ancestor_of(level);
                else
                    p.ancestor_missing = s.words(r);
            }
            for (int cap : {nvml::kP2PCapsRead, nvml::kP2PCapsWrite, nvml::kP2PCapsNvLink}) {
                P2PStatus& st = cap == nvml::kP2PCapsRead ? p.read : cap == nvml::kP2PCapsWrite ? p.write : p.nvlink;
                if (!p2p) {
                    st.why = "this NVML has no nvmlDeviceGetP2PStatus";
                    continue;
                }
                int status = nvml::kP2PStatusUnknown;
                if (const nvml::Return r = p2p(handles[a], handles[b], cap, &status); r != nvml::kSuccess) {
                    st.why = s.words(r);
                } else if (status == nvml::kP2PStatusOk) {
                    st.state = P2PState::ok;
                } else if (status != nvml::kP2PStatusUnknown) {
                    st.state = P2PState::not_supported;
                    st.why = p2p_words(status);
                } else {
                    st.why = p2p_words(status);
                }
            }
        }
    }
    return t;
}

}  // namespace

const char* gpu_ancestor_code(GpuAncestor a) {
    switch (a) {
        case GpuAncestor::internal: return "BRD";
        case GpuAncestor::single_switch: return "PIX";
        case GpuAncestor::multiple_switches: return "PXB";
        case GpuAncestor::host_bridge: return "PHB";
        case GpuAncestor::numa_node: return "NODE";
        case GpuAncestor::system: return "SYS";
        default: return "?";
    }
}

const char* gpu_ancestor_description(GpuAncestor a) {
    switch (a) {
        case GpuAncestor::internal: return "the same board";
        case GpuAncestor::single_switch: return "one PCIe switch";
        case GpuAncestor::multiple_switches: return "several PCIe switches (no host bridge)";
        case GpuAncestor::host_bridge: return "one PCIe host bridge (the CPU)";
        case GpuAncestor::numa_node: return "host bridges of one NUMA node";
        case GpuAncestor::system: return "across NUMA nodes (CPU sockets)";
        default: return "unknown";
    }
}

unsigned GpuTopologyEntry::active_nvlinks_to(int gpu) const {
    unsigned n = 0;
    for (const NvLinkLink& l : nvlinks) n += l.active && l.remote_gpu == gpu && gpu >= 0;
    return n;
}

int GpuTopology::find(const std::string& pci_bus_id) const {
    const std::string want = normalize_pci_bus_id(pci_bus_id);
    if (want.empty()) return -1;
    for (size_t i = 0; i < gpus.size(); ++i)
        if (gpus[i].pci_bus_id == want) return static_cast<int>(i);
    return -1;
}

const GpuPairTopology* GpuTopology::pair(int a, int b) const {
    if (a < 0 || b < 0 || a == b || static_cast<size_t>(a) >= pairs.size() || static_cast<size_t>(b) >= pairs[a].size())
        return nullptr;
    return &pairs[a][b];
}

GpuTopology read_gpu_topology() { return read_gpu_topology(GpuTelemetryReader::default_library()); }

GpuTopology read_gpu_topology(const std::string& library) {
    try {
        return read(library);
    } catch (const std::exception& e) {
        GpuTopology t;
        t.error = std::string(kPrefix) + e.what();
        return t;
    }
}

std::string normalize_pci_bus_id(const std::string& text) {
    for (char c : text)  // sscanf's %x would take "0x" prefixes and signs
        if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return {};
    unsigned domain = 0, bus = 0, dev = 0, fn = 0;
    char tail = 0;
    if (std::sscanf(text.c_str(), "%x:%x:%x.%x%c", &domain, &bus, &dev, &fn, &tail) != 4) {
        domain = 0;
        if (std::sscanf(text.c_str(), "%x:%x.%x%c", &bus, &dev, &fn, &tail) != 3) return {};
    }
    if (bus > 0xff || dev > 0x1f || fn > 7 || domain > 0xffff) return {};
    char out[32];
    std::snprintf(out, sizeof out, "%04x:%02x:%02x.%x", domain, bus, dev, fn);
    return out;
}

double pcie_nominal_gbs(unsigned gen, unsigned width) {
    // GB/s per lane and direction after line coding (see the header).
    static const double kLane[] = {0, 0.25, 0.5, 8.0 * 128 / 130 / 8, 16.0 * 128 / 130 / 8, 32.0 * 128 / 130 / 8,
                                   64.0 * 242 / 256 / 8};
    if (gen == 0 || gen >= sizeof kLane / sizeof kLane[0] || width == 0 || width > 32) return 0;
    return kLane[gen] * width * 0.8;
}

double nvlink_nominal_gbs(unsigned nvml_version, unsigned links) {
    double per_link = 0;
    if (nvml_version == 1) per_link = 20;
    else if (nvml_version >= 2 && nvml_version <= 6) per_link = 25;
    else if (nvml_version == 7) per_link = 50;
    return per_link * links;
}

namespace {

// The PCIe speed a GPU can reach: the most its slot allows (the current link idles at gen 1).
double gpu_pcie_gbs(const GpuTopologyEntry& g) {
    const unsigned gen = g.pcie_gen_max.value_or(g.pcie_gen.value_or(0));
    const unsigned width = g.pcie_width_max.value_or(g.pcie_width.value_or(0));
    return pcie_nominal_gbs(gen, width);
}

}  // namespace

Link topology_gpu_link(const GpuTopology& t, int a, int b) {
    Link link;
    const GpuPairTopology* p = t.pair(a, b);
    if (!p) return link;
    if (p->nvlinks > 0) {
        link.kind = LinkKind::nvlink;
        unsigned version = 0;
        for (const NvLinkLink& l : t.gpus[static_cast<size_t>(a)].nvlinks)
            if (l.active && l.remote_gpu == b && l.version) version = std::max(version, *l.version);
        link.gbs = nvlink_nominal_gbs(version, p->nvlinks);
        return link;
    }
    if (p->nvlink.state == P2PState::ok) {
        // Through NVSwitches (the links end at a switch, not at the peer): as fast as the GPU
        // with fewer active links can send.
        unsigned version = 0, links[2] = {0, 0};
        for (int side = 0; side < 2; ++side)
            for (const NvLinkLink& l : t.gpus[static_cast<size_t>(side ? b : a)].nvlinks)
                if (l.active) {
                    ++links[side];
                    if (l.version) version = std::max(version, *l.version);
                }
        link.kind = LinkKind::nvlink;
        link.gbs = nvlink_nominal_gbs(version, std::min(links[0], links[1]));
        return link;
    }
    const double ga = gpu_pcie_gbs(t.gpus[static_cast<size_t>(a)]), gb = gpu_pcie_gbs(t.gpus[static_cast<size_t>(b)]);
    const double pcie = ga > 0 && gb > 0 ? std::min(ga, gb) : 0;
    const bool refused = p->read.state == P2PState::not_supported || p->write.state == P2PState::not_supported;
    if (refused) {
        link.kind = LinkKind::staged;  // two copies, each at the slower GPU's PCIe speed
        link.gbs = pcie;
        return link;
    }
    switch (p->ancestor) {
        case GpuAncestor::internal:
        case GpuAncestor::single_switch:
        case GpuAncestor::multiple_switches: link.kind = LinkKind::pcie_switch; break;
        case GpuAncestor::host_bridge:
        case GpuAncestor::numa_node: link.kind = LinkKind::host_bridge; break;
        case GpuAncestor::system: link.kind = LinkKind::cross_socket; break;
        default: break;  // P2P said nothing against it, but where the path runs is unknown
    }
    link.gbs = pcie;
    return link;
}

LinkMatrix topology_links(const std::vector<DeviceInfo>& devices, const GpuTopology& t) {
    LinkMatrix m(devices.size(), std::vector<Link>(devices.size()));
    if (!t.ok()) return m;
    std::vector<int> gpu(devices.size(), -1);
    for (size_t i = 0; i < devices.size(); ++i)
        if (devices[i].type == DeviceType::cuda) gpu[i] = t.find(devices[i].pci_bus_id);
    for (size_t i = 0; i < devices.size(); ++i) {
        for (size_t j = 0; j < devices.size(); ++j) {
            if (i == j) continue;
            if (gpu[i] >= 0 && gpu[j] >= 0) {
                m[i][j] = topology_gpu_link(t, gpu[i], gpu[j]);
            } else if ((gpu[i] >= 0 && devices[j].type == DeviceType::cpu) ||
                       (gpu[j] >= 0 && devices[i].type == DeviceType::cpu)) {
                const GpuTopologyEntry& g = t.gpus[static_cast<size_t>(gpu[i] >= 0 ? gpu[i] : gpu[j])];
                m[i][j].kind = LinkKind::host_device;
                m[i][j].gbs = gpu_pcie_gbs(g);
            }
        }
    }
    return m;
}

}  // namespace strata
