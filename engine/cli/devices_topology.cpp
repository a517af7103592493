// strata-cli devices: the GPUs' topology from NVML — a link matrix in the manner of
// `nvidia-smi topo -m` (NVLink count, or where two GPUs' PCIe paths meet, with P2P refusals
// marked), each GPU's PCIe link, NVLink, NUMA node and clocks, and the speeds the planner uses
// for each pair (nominal, or measured by `strata-cli probe links`).
#include "devices_topology.h"

#include <cstdio>

#include "strata/gpu_topology.h"
#include "strata/link_store.h"

namespace strata::cli {

namespace {

std::string cell(const std::string& s, size_t width) { return s.size() < width ? s + std::string(width - s.size(), ' ') : s + " "; }

std::string pcie_text(std::optional<unsigned> gen, std::optional<unsigned> width) {
    if (!gen && !width) return "?";
    return "gen " + (gen ? std::to_string(*gen) : std::string("?")) + " x" + (width ? std::to_string(*width) : std::string("?"));
}

std::string mhz(std::optional<unsigned> now, std::optional<unsigned> max) {
    if (!now && !max) return "?";
    return (now ? std::to_string(*now) : std::string("?")) + "/" + (max ? std::to_string(*max) : std::string("?")) + " MHz";
}

const char* nvlink_version_text(unsigned v) {
    static const char* kNames[] = {"?", "1.0", "2.0", "2.2", "3.0", "3.1", "4.0", "5.0"};
    return v < sizeof kNames / sizeof kNames[0] ? kNames[v] : "?";
}

}  // namespace

void print_gpu_topology(const std::vector<DeviceInfo>& cuda_gpus) {
    const GpuTopology t = read_gpu_topology();
    if (!t.ok()) {
        std::printf("%s\n", t.error.c_str());
        return;
    }
    if (t.gpus.empty()) return;
    // Each NVML GPU under its CUDA name where CUDA sees it (matched by bus id), else "nvmlN".
    std::vector<std::string> label(t.gpus.size());
    std::vector<DeviceInfo> devices;  // what the planner's links are computed over
    for (size_t i = 0; i < t.gpus.size(); ++i) {
        label[i] = "nvml" + std::to_string(i);
        for (const DeviceInfo& d : cuda_gpus)
            if (!d.pci_bus_id.empty() && t.find(d.pci_bus_id) == static_cast<int>(i)) label[i] = d.id;
        DeviceInfo d;
        d.id = label[i];
        d.name = t.gpus[i].name;
        d.type = DeviceType::cuda;
        d.pci_bus_id = t.gpus[i].pci_bus_id;
        devices.push_back(d);
    }
    const size_t w = 8;
    std::printf("\nlinks (NVML%s%s):\n%s", t.driver_version.empty() ? "" : ", driver ", t.driver_version.c_str(),
                cell("", w).c_str());
    for (const std::string& l : label) std::printf("%s", cell(l, w).c_str());
    std::printf("%s%s\n", cell("NUMA", 6).c_str(), "CPU affinity");
    bool any_refused = false;
    for (size_t a = 0; a < t.gpus.size(); ++a) {
        std::printf("%s", cell(label[a], w).c_str());
        for (size_t b = 0; b < t.gpus.size(); ++b) {
            std::string c = "X";
            if (const GpuPairTopology* p = t.pair(int(a), int(b))) {
                c = p->nvlinks                          ? "NV" + std::to_string(p->nvlinks)
                    : p->nvlink.state == P2PState::ok ? std::string("NVS")
                                                        : std::string(gpu_ancestor_code(p->ancestor));
                if (p->read.state == P2PState::not_supported || p->write.state == P2PState::not_supported) {
                    c += "*";
                    any_refused = true;
                }
            }
            std::printf("%s", cell(c, w).c_str());
        }
        const GpuTopologyEntry& g = t.gpus[a];
        std::printf("%s%s\n", cell(g.numa_node ? std::to_string(*g.numa_node) : "?", 6).c_str(),
                    g.cpu_affinity.empty() ? "?" : g.cpu_affinity.c_str());
    }
    std::printf("  NV#: that many NVLink links · NVS: NVLink through NVSwitches · BRD: same board · PIX: one PCIe switch · PXB: several switches · "
                "PHB: one host bridge · NODE: host bridges of one NUMA node · SYS: across NUMA nodes%s\n",
                any_refused ? " · *: no peer-to-peer (copies go through host memory)" : "");
    for (size_t a = 0; a < t.gpus.size(); ++a)
        for (size_t b = a + 1; b < t.gpus.size(); ++b)
            if (const GpuPairTopology* p = t.pair(int(a), int(b)); p && p->read.state == P2PState::not_supported)
                std::printf("  no P2P %s ↔ %s: %s\n", label[a].c_str(), label[b].c_str(), p->read.why.c_str());

    for (size_t a = 0; a < t.gpus.size(); ++a) {
        const GpuTopologyEntry& g = t.gpus[a];
        std::string nvlink = "none";
        unsigned active = 0, version = 0;
        for (const NvLinkLink& l : g.nvlinks)
            if (l.active) {
                ++active;
                if (l.version) version = std::max(version, *l.version);
            }
        if (active) nvlink = std::to_string(active) + " active, " + nvlink_version_text(version);
        std::printf("%s: %s · %s · PCIe %s now, %s max (%.1f GB/s) · NVLink %s · SM %s · memory %s\n", label[a].c_str(),
                    g.name.empty() ? "?" : g.name.c_str(), g.pci_bus_id.empty() ? "?" : g.pci_bus_id.c_str(),
                    pcie_text(g.pcie_gen, g.pcie_width).c_str(), pcie_text(g.pcie_gen_max, g.pcie_width_max).c_str(),
                    pcie_nominal_gbs(g.pcie_gen_max.value_or(0), g.pcie_width_max.value_or(0)), nvlink.c_str(),
                    mhz(g.sm_clock_mhz, g.sm_clock_max_mhz).c_str(), mhz(g.mem_clock_mhz, g.mem_clock_max_mhz).c_str());
        for (const std::string& m : g.missing) std::printf("  not reported: %s\n", m.c_str());
    }

    // The speeds the planner uses between these GPUs: nominal, or measured on this machine.
    const std::vector<DeviceInfo>& machine = cuda_gpus.empty() ? devices : cuda_gpus;
    const MachineLinks here = machine_links(devices, machine);
    const LinkMatrix& links = here.links;
    const std::vector<std::string>& notes = here.notes;
    if (devices.size() > 1) {
        std::printf("planner's link speeds, GB/s one way (%s):\n%s",
                    here.measured > 0 ? "measured where the probe ran, else nominal" : "nominal",
                    cell("", w).c_str());
        for (const std::string& l : label) std::printf("%s", cell(l, w).c_str());
        std::printf("\n");
        for (size_t a = 0; a < devices.size(); ++a) {
            std::printf("%s", cell(label[a], w).c_str());
            for (size_t b = 0; b < devices.size(); ++b) {
                char buf[32] = "X";
                if (a != b) {
                    const Link& l = links[a][b];
                    if (l.gbs > 0)
                        std::snprintf(buf, sizeof buf, "%.0f%s", l.gbs, l.kind == LinkKind::staged ? "*" : "");
                    else
                        std::snprintf(buf, sizeof buf, "?");
                }
                std::printf("%s", cell(buf, w).c_str());
            }
            std::printf("\n");
        }
    }
    for (size_t i = 1; i < notes.size(); ++i) std::printf("  %s\n", notes[i].c_str());
}

}  // namespace strata::cli
