// GpuTopology: how the NVIDIA GPUs of this machine are wired — each GPU's PCIe link (generation
// and width, current and the most it and its slot allow), its NVLink links and their peers, its
// NUMA node and CPU affinity, its clocks; for each pair the closest common ancestor in the PCIe
// tree and whether peer-to-peer reads and writes work. Read through NVML (dlopen()ed, like
// gpu_telemetry.h), mapped to the planner's LinkMatrix with nominal speeds.
//
//   GpuTopology t = read_gpu_topology();           // NVML loaded, read, shut down again
//   if (!t.ok()) say(t.error);                     // "topology unavailable: <why>"
//   LinkMatrix links = topology_links(devices, t); // for PlanRequest::links
//
// Every NVML entry point except init/count/handle is optional: a driver without one (or a GPU
// that answers Not Supported) leaves that field unset and says why in `missing`; nothing throws.
// Pure values; read_gpu_topology may be called from any thread (NVML is thread-safe and counts
// its inits); it takes a few milliseconds per GPU pair.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "strata/device_info.h"
#include "strata/plan.h"

namespace strata {

// NVML's nvmlGpuTopologyLevel_t: the closest common ancestor of two GPUs.
enum class GpuAncestor { unknown, internal, single_switch, multiple_switches, host_bridge, numa_node, system };
const char* gpu_ancestor_code(GpuAncestor a);         // as `nvidia-smi topo -m`: "PIX", "PXB", "PHB", "NODE", "SYS"
const char* gpu_ancestor_description(GpuAncestor a);  // "one PCIe switch", ...

// nvmlDeviceGetP2PStatus for one direction and capability.
enum class P2PState { unknown, ok, not_supported };
struct P2PStatus {
    P2PState state = P2PState::unknown;
    std::string why;  // not ok: "chipset not supported", ... or the NVML error
};

struct NvLinkLink {
    unsigned index = 0;
    bool active = false;
    std::optional<unsigned> version;  // nvmlNvlinkVersion_t (1 = 1.0, 2 = 2.0, 3 = 2.2, 4 = 3.0, 5 = 3.1, 6 = 4.0, 7 = 5.0)
    std::string remote_bus_id;        // the peer's PCI bus id, CUDA's spelling ("0000:3b:00.0"); "" = unknown
    int remote_gpu = -1;              // index into GpuTopology::gpus (-1: not a GPU here, e.g. an NVSwitch)
};

struct GpuTopologyEntry {
    unsigned nvml_index = 0;
    std::string name;
    std::string pci_bus_id;  // CUDA's spelling, lower case: "0000:3b:00.0"
    std::optional<unsigned> pcie_gen, pcie_width;          // the link now (GPUs drop to gen 1 when idle)
    std::optional<unsigned> pcie_gen_max, pcie_width_max;  // the most this GPU in this slot allows
    std::vector<NvLinkLink> nvlinks;                       // links NVML reported a state for
    std::optional<unsigned> numa_node;
    std::string cpu_affinity;                              // "0-15,32-47"; "" = not reported
    std::optional<unsigned> sm_clock_mhz, sm_clock_max_mhz, mem_clock_mhz, mem_clock_max_mhz;
    std::vector<std::string> missing;                      // "PCIe generation: Not Supported (...)"

    unsigned active_nvlinks_to(int gpu) const;
};

struct GpuPairTopology {
    GpuAncestor ancestor = GpuAncestor::unknown;
    std::string ancestor_missing;  // why ancestor is unknown
    P2PStatus read, write;
    P2PStatus nvlink;              // P2P over NVLink: ok also through NVSwitches (where nvlinks is 0)
    unsigned nvlinks = 0;          // active NVLink links from the first GPU straight to the second
};

struct GpuTopology {
    std::string error;                               // "" when read; else "topology unavailable: <why>"
    std::string driver_version;                      // "" = not reported
    std::vector<GpuTopologyEntry> gpus;              // NVML's order
    std::vector<std::vector<GpuPairTopology>> pairs; // [i][j], i != j
    bool ok() const { return error.empty(); }
    int find(const std::string& pci_bus_id) const;   // any spelling; -1 when absent
    const GpuPairTopology* pair(int a, int b) const;
};

// Reads the topology through `library` (default: GpuTelemetryReader::default_library(), which
// honours $STRATA_NVML_LIBRARY).
GpuTopology read_gpu_topology();
GpuTopology read_gpu_topology(const std::string& library);

// "00000000:3B:00.0" or "3b:00.0" → "0000:3b:00.0"; "" when it is not a PCI bus id.
std::string normalize_pci_bus_id(const std::string& text);

// Nominal unidirectional GB/s. PCIe: per-lane signalling rate after line coding (PCI-SIG: gen 1
// 2.5 GT/s and gen 2 5 GT/s with 8b/10b; gen 3 8 GT/s, gen 4 16, gen 5 32 with 128b/130b; gen 6
// 64 GT/s PAM4 with FLIT encoding, ~242/256) times width, times 0.8 for packet overhead (what
// cudaMemcpy from pinned memory reaches in practice: 4.0 x16 → 25.2 GB/s, the planner's
// unmeasured default). 0 for an unknown generation or width.
double pcie_nominal_gbs(unsigned gen, unsigned width);
// NVLink per link and direction (NVIDIA's product figures): 1.0 20 GB/s; 2.0, 2.2, 3.0, 3.1 and
// 4.0 25 GB/s (V100 6 × 25, A100 12 × 25, H100 18 × 25 per direction); 5.0 50 GB/s (B200 18 × 50),
// times `links`. Boards whose links are narrower (the RTX 3090 bridge: 4 × 14 GB/s) come out high:
// `strata-cli probe links` measures the truth. 0 for an unknown version.
double nvlink_nominal_gbs(unsigned nvml_version, unsigned links);

// The planner's links between `devices` (request order) from the topology: GPUs are matched by
// PCI bus id. GPU pairs: nvlink (active links between them, or P2P over NVLink through NVSwitches:
// the smaller GPU's active link count) / pcie-switch (common ancestor on the
// board or under PCIe switches, P2P read and write ok) / host-bridge (one host bridge or one NUMA
// node, P2P ok) / cross-socket (across NUMA nodes, P2P ok) / staged (P2P not supported either
// way); a GPU and a CPU device: host-device at the GPU's PCIe speed. Speeds are nominal (above),
// latency left unknown (the planner's default). Pairs it knows nothing of stay unknown.
LinkMatrix topology_links(const std::vector<DeviceInfo>& devices, const GpuTopology& topology);
Link topology_gpu_link(const GpuTopology& topology, int a, int b);  // indices into topology.gpus

}  // namespace strata
