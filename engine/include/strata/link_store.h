// Measured links: what `strata-cli probe links` timed on this machine (host ↔ device and every
// device pair, GB/s and latency), stored as JSON under the user's data directory with the
// machine's fingerprint, and laid over the NVML topology's nominal speeds when the planner plans
// on the same machine — measured beats nominal.
//
//   $XDG_DATA_HOME/strata/links-<fingerprint>.json  (default ~/.local/share/strata/...)
//
// The fingerprint is a hash of the GPUs' names and PCI bus ids (in CUDA's order) and the driver
// version: a card moved, added or swapped, or a new driver, and the old measurements no longer
// apply (they stay on disk; nothing reads them). Pure functions and file I/O; no shared state.
#pragma once

#include <string>
#include <vector>

#include "strata/device_info.h"
#include "strata/gpu_topology.h"
#include "strata/plan.h"
#include "strata/status.h"

namespace strata {

inline constexpr const char* kHostEndpoint = "host";  // pinned host memory as a link's end

struct MeasuredLink {
    std::string from, to;  // a GPU's PCI bus id (CUDA's spelling) or kHostEndpoint
    bool peer = false;     // device → device: cudaMemcpyPeer with P2P enabled; false: staged through
                           // pinned host memory (two copies)
    double gbs = 0;        // one direction, large copies, GB/s (1e9 bytes/s)
    double bidir_gbs = 0;  // both directions at once, the sum, GB/s (0 = not measured)
    double latency_us = 0; // one small copy, end to end, µs
};

struct LinkMeasurements {
    std::string fingerprint;  // machine_fingerprint(machine)
    std::string machine;      // the text hashed: "driver 575.51.03; NVIDIA H100 @ 0000:18:00.0; ..."
    std::string measured_at;  // "2026-12-07T16:40:00Z"
    std::vector<MeasuredLink> links;
    const MeasuredLink* find(const std::string& from, const std::string& to) const;
};

// The machine's description from all its CUDA devices as CUDA lists them (Engine::
// available_devices(); other devices ignored), sorted by PCI bus id, and the driver version
// (NVML's; "" = unknown).
std::string machine_fingerprint_text(const std::vector<DeviceInfo>& machine, const std::string& driver_version);
// 16 hex digits (64-bit FNV-1a of the text).
std::string machine_fingerprint(const std::string& text);

// $XDG_DATA_HOME/strata (when set and absolute), else $HOME/.local/share/strata; "" when neither.
std::string strata_data_dir();
// <strata_data_dir()>/links-<fingerprint>.json ("" when there is no data directory).
std::string link_store_path(const std::string& fingerprint);

std::string link_measurements_to_json(const LinkMeasurements& m);
// Errors (ErrorCode::invalid_argument / corrupt) name `source` and the field.
Result<LinkMeasurements> parse_link_measurements(const std::string& json, const std::string& source);
// Writes path.partial and renames it over path (directories created).
Status save_link_measurements(const LinkMeasurements& m, const std::string& path);
Result<LinkMeasurements> load_link_measurements(const std::string& path);

// Measured beats nominal: each pair of `devices` (request order; GPUs by PCI bus id, CPU devices
// as the host) with a measurement gets its speed and latency, and the kind staged when the
// measurement was a staged copy (a nominal link's kind is kept otherwise; an unknown one becomes
// the measured path's: host-device, or pcie-switch for an unclassified peer copy). Returns how
// many links were set.
int apply_link_measurements(LinkMatrix& links, const std::vector<DeviceInfo>& devices, const LinkMeasurements& m);

// What the planner gets on this machine: the NVML topology's links (nominal) over `devices` (the
// request's), with the stored measurements of this machine (`machine`: every device CUDA lists,
// for the fingerprint) laid over them. Empty links when `devices` has no CUDA device (no NVML is
// loaded then). `notes` says what was used: "links: NVML topology (nominal speeds)",
// "links: 3 measured 2026-12-07T16:40:00Z (…/links-0123abcd.json)", or why not.
// `nvml_library` "" = GpuTelemetryReader::default_library().
struct MachineLinks {
    LinkMatrix links;
    std::vector<std::string> notes;
    int measured = 0;  // links set from this machine's stored measurements
};
MachineLinks machine_links(const std::vector<DeviceInfo>& devices, const std::vector<DeviceInfo>& machine,
                           const std::string& nvml_library = "");
// The same with a topology read before (read_gpu_topology); the stored measurements are read now.
MachineLinks machine_links(const std::vector<DeviceInfo>& devices, const std::vector<DeviceInfo>& machine,
                           const GpuTopology& topology);

}  // namespace strata
