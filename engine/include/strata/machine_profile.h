// Machines Strata does not run on: JSON machine profiles (GPUs, the links between them, the host)
// that the planner plans for as if they were real (strata-cli plan --simulate, whatif), and the
// GPU catalogue (resources/gpus.json: spec-sheet figures and editable prices) the what-if picks
// cards from. Pure values and parsers; no device is touched. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "strata/device_info.h"
#include "strata/plan.h"
#include "strata/status.h"

namespace strata {

// One GPU as its spec sheet describes it. Prices are for the catalogue (0 = not given).
struct GpuSpec {
    std::string name;                  // "RTX 4090"
    std::vector<std::string> aliases;  // other spellings people type ("4090", "GeForce RTX 4090")
    uint64_t memory_bytes = 0;
    double bandwidth_gbs = 0;          // memory bandwidth, GB/s (1e9 bytes/s)
    double fp16_tflops = 0;            // dense FP16 tensor throughput, FP32 accumulate (no sparsity)
    double int8_tflops = 0;            // dense INT8 tensor throughput (TOPS)
    double power_w = 0;                // board power (TDP / TGP)
    double price_usd = 0;              // approximate street price to buy
    std::string price_date;            // when that price was read ("2025-06")
    double cloud_usd_per_hour = 0;     // approximate on-demand price of one card in a cloud
    std::string cloud_date;
};

struct HostSpec {
    std::string cpu;                   // "AMD EPYC 9454 (2 sockets)"
    uint64_t memory_bytes = 0;
    double bandwidth_gbs = 0;
    double tflops = 0;                 // 0 = unknown (prefill not predicted on it)
    int threads = 0;
};

struct MachineProfile {
    std::string name;
    std::string comment;               // where the figures come from
    std::vector<GpuSpec> gpus;         // cuda0, cuda1, ... in this order
    std::optional<HostSpec> host;      // its memory as a CPU device "cpu" after the GPUs
    LinkMatrix gpu_links;              // [i][j] GPU i → GPU j (diagonal unused)
    Link host_link;                    // each GPU ↔ host memory
};

// Parses a profile. Errors (ErrorCode::invalid_argument) name `source` and the field:
// "machines/x.json: gpus[1].bandwidth_gbs must be a number > 0".
//   { "name": "...", "comment": "...",
//     "gpus": [ { "name", "memory_gib", "bandwidth_gbs", "fp16_tflops", "int8_tflops", "power_w",
//                 "count" (optional, default 1) }, ... ],
//     "host": { "cpu", "memory_gib", "bandwidth_gbs", "tflops" (optional), "threads" (optional) },
//     "host_link": { "kind", "gbs", "latency_us" },
//     "links": { "default": LINK, "pairs": [ { "between": [0, 1], LINK fields }, ... ] }
//              or a matrix: [[null, LINK, ...], ...] (n × n, GPU i's row; null on the diagonal) }
// A LINK is { "kind": "nvlink|pcie-switch|host-bridge|cross-socket|staged|host-device",
// "gbs": unidirectional GB/s of one copy, "latency_us": per copy }. Pairs are symmetric.
// At most 16 GPUs.
Result<MachineProfile> parse_machine_profile(const std::string& json_text, const std::string& source);
Result<MachineProfile> load_machine_profile(const std::string& path);

// What the planner gets for a profile: cuda0..cudaN-1 (free memory = memory less the CUDA
// context's share, kSimulatedDriverBytes), then "cpu" when the profile has a host and
// include_host; links over those devices.
constexpr uint64_t kSimulatedDriverBytes = 450ull << 20;
struct SimulatedMachine {
    std::vector<DeviceInfo> devices;
    LinkMatrix links;
};
SimulatedMachine simulate_machine(const MachineProfile& profile, bool include_host);
DeviceInfo simulated_gpu(const GpuSpec& gpu, int index);

// ---- the GPU catalogue ----
struct GpuCatalogue {
    std::string comment;
    std::vector<GpuSpec> gpus;
};
// { "comment": "...", "gpus": [ { "name", "aliases": [...], "memory_gib", "bandwidth_gbs",
//   "fp16_tflops", "int8_tflops", "power_w", "price_usd", "price_date", "cloud_usd_per_hour",
//   "cloud_date" }, ... ] }
Result<GpuCatalogue> parse_gpu_catalogue(const std::string& json_text, const std::string& source);
Result<GpuCatalogue> load_gpu_catalogue(const std::string& path);
// By name or alias, ignoring case, spaces, dashes and a leading "NVIDIA"/"GeForce": "4090",
// "rtx 4090", "NVIDIA GeForce RTX 4090" all find "RTX 4090". ErrorCode::not_found names the
// closest entries when nothing matches; invalid_argument when several do ("A100" → 40GB or 80GB).
Result<GpuSpec> find_gpu(const GpuCatalogue& catalogue, const std::string& query);

// Where the shipped resources are: $STRATA_RESOURCES, else <exe dir>/../share/strata, else the
// source tree's resources/ (a build run in place). "" when none has `relative`.
std::string find_resource(const std::string& relative);

}  // namespace strata
