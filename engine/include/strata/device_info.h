// DeviceInfo: what the engine knows about one compute device, as shown to users and planners.
// Plain value type.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace strata {

enum class DeviceType { cpu, cuda };

struct DeviceInfo {
    std::string id;            // stable key: "cpu", "cpu1" (virtual devices), "cuda0"
    std::string name;          // "AMD EPYC 7B13 (2 threads)", "NVIDIA H100 80GB HBM3"
    DeviceType type = DeviceType::cpu;
    uint64_t total_memory = 0;  // bytes (for a capped virtual CPU device: the cap)
    uint64_t free_memory = 0;   // bytes free now (driver figure for GPUs; cap minus use for CPUs)
    double memory_bandwidth_gbs = 0;  // for speed predictions (measured or nominal; 0 = unknown)
    double matmul_tflops = 0;         // dense F16/F32 matrix throughput estimate (0 = unknown)
    int n_threads = 0;          // CPU devices: worker threads (sizes per-thread scratch)
    bool is_virtual = false;    // a CPU device carved out by --devices cpu:4GiB,...
    std::string pci_bus_id;     // GPUs: "0000:3b:00.0" (domain:bus:device.function, hex); "" = unknown
    std::string note;           // e.g. compute capability, driver version, why something is off
};

// Parses "cpu:4GiB,cpu:2GiB,cuda0,cuda1:20GiB" device specs. Each item names a device kind
// (cpu, or cudaN) and an optional memory cap with unit (B, KiB, MiB, GiB, TiB; KB/MB/GB accepted
// as the same binary units) and optional ":tN" thread count for CPU devices.
struct DeviceSpec {
    std::string kind;          // "cpu" or "cuda"
    int index = 0;             // cudaN's N (cpu: 0)
    uint64_t memory_cap = 0;   // 0 = no cap (all the device has)
    int n_threads = 0;         // CPU threads, 0 = default
    int fail_after_ops = 0;    // fault injection for tests: fail after this many ops (0 = never)
};

// "4GiB" → bytes; error text in `error` when malformed.
bool parse_byte_size(const std::string& text, uint64_t& bytes, std::string& error);
bool parse_device_specs(const std::string& text, std::vector<DeviceSpec>& out, std::string& error);

}  // namespace strata
