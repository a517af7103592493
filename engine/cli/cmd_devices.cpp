// strata-cli devices: the devices Strata can use and, for NVIDIA GPUs, what they are doing now
// (NVML: load, memory used by every process, temperature, power). --watch N repeats every N
// seconds. Then the GPUs' topology from NVML (devices_topology.cpp), also when CUDA sees none but
// NVML does. Without a driver or GPU it says so in one line; the exit status is 0 either way.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

#include "cli_common.h"
#include "devices_topology.h"
#include "plan/plan_internal.h"
#include "strata/engine.h"
#include "strata/gpu_telemetry.h"
#include "util/cpu_features.h"

namespace strata::cli {

namespace {

// Pads to `width` characters (UTF-8 code points, so "°" and "—" count once).
std::string pad(const std::string& s, size_t width, bool right = false) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    const std::string fill(n < width ? width - n : 0, ' ');
    return right ? fill + s : s + fill;
}

std::string gib(uint64_t bytes) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f", double(bytes) / double(1ull << 30));
    return b;
}

std::string figure(const GpuTelemetry* t, int which) {
    if (!t || !t->ok()) return "—";
    char b[64];
    switch (which) {
        case 0:
            if (!t->utilisation_percent) return "—";
            std::snprintf(b, sizeof b, "%u%%", *t->utilisation_percent);
            return b;
        case 1:
            if (!t->memory_used_bytes || !t->memory_total_bytes) return "—";
            return gib(*t->memory_used_bytes) + " / " + gib(*t->memory_total_bytes) + " GiB";
        case 2:
            if (!t->temperature_c) return "—";
            return std::to_string(*t->temperature_c) + " °C";
        default:
            if (!t->power_watts) return "—";
            std::snprintf(b, sizeof b, "%.1f W", *t->power_watts);
            return b;
    }
}

void print_table(const std::vector<DeviceInfo>& gpus, const std::vector<GpuTelemetry>& telemetry) {
    std::printf("%s  %s  %s  %s  %s  %s\n", pad("GPU", 6).c_str(), pad("load", 4, true).c_str(),
                pad("memory used (all processes)", 27).c_str(), pad("temp", 5, true).c_str(), pad("power", 8, true).c_str(),
                "name");
    std::vector<std::string> reasons;  // each once, after the table (no NVML at all: one line)
    for (const DeviceInfo& d : gpus) {
        const GpuTelemetry* t = nullptr;
        for (const GpuTelemetry& x : telemetry)
            if (x.device_id == d.id) t = &x;
        const std::string name = d.name + (d.pci_bus_id.empty() ? "" : " · " + d.pci_bus_id);
        std::printf("%s  %s  %s  %s  %s  %s\n", pad(d.id, 6).c_str(), pad(figure(t, 0), 4, true).c_str(),
                    pad(figure(t, 1), 27).c_str(), pad(figure(t, 2), 5, true).c_str(), pad(figure(t, 3), 8, true).c_str(),
                    name.c_str());
        if (t && !t->ok() && std::find(reasons.begin(), reasons.end(), t->error) == reasons.end()) reasons.push_back(t->error);
    }
    for (const std::string& r : reasons) std::printf("%s\n", r.c_str());
}

}  // namespace

int cmd_devices(Args& args) {
    if (args.flag({"-h", "--help"})) {
        std::fprintf(stderr,
                     "usage: strata-cli devices [--watch SECONDS [--count N]]\n\n"
                     "Lists the devices Strata can use. For NVIDIA GPUs it adds what each is doing now, read\n"
                     "through NVML (libnvidia-ml, part of the driver): load (share of time a kernel ran),\n"
                     "memory in use by all processes, temperature and power draw.\n\n"
                     "  --watch SECONDS  print the GPU figures again every SECONDS (1 or more) until Ctrl-C\n"
                     "  --count N        with --watch: stop after N tables\n\n"
                     "Then the GPUs' topology (NVML): a link matrix like `nvidia-smi topo -m` (NVLink, or where\n"
                     "their PCIe paths meet; * marks pairs without peer-to-peer), each GPU's PCIe generation and\n"
                     "width, NVLink, NUMA node and clocks, and the link speeds the planner uses (nominal, or\n"
                     "measured by `strata-cli probe links`).\n\n"
                     "STRATA_NVML_LIBRARY names another NVML library to load (default libnvidia-ml.so.1).\n"
                     "Exit status 0, also when there is no GPU or driver (it says so in one line).\n");
        return 0;
    }
    long long watch = 0, count = 0;
    if (auto v = args.value({"--watch", "-w"}); v && (!Args::to_int(*v, "--watch", watch) || watch < 1)) {
        std::fprintf(stderr, "error: --watch takes a whole number of seconds, 1 or more\n");
        return 2;
    }
    if (auto v = args.value({"--count", "-c"}); v && (!Args::to_int(*v, "--count", count) || count < 1)) {
        std::fprintf(stderr, "error: --count takes a number, 1 or more\n");
        return 2;
    }
    std::vector<std::string> positionals;
    std::string error;
    if (!args.finish(positionals, error) || !positionals.empty()) {
        std::fprintf(stderr, "error: %s\n", error.empty() ? "devices takes no file or other argument" : error.c_str());
        return 2;
    }

    Engine engine;
    std::vector<DeviceInfo> gpus, others;
    for (const DeviceInfo& d : engine.available_devices()) (d.type == DeviceType::cuda ? gpus : others).push_back(d);

    if (gpus.empty()) {
        std::printf("no NVIDIA GPU: %s\n", engine.gpu_status().c_str());
    } else {
        GpuTelemetryReader reader;  // honours $STRATA_NVML_LIBRARY
        for (long long i = 0;; ++i) {
            if (watch) {
                const std::time_t now = std::time(nullptr);
                char stamp[32];
                std::strftime(stamp, sizeof stamp, "%H:%M:%S", std::localtime(&now));
                std::printf("%s%s\n", i ? "\n" : "", stamp);
            }
            print_table(gpus, reader.read(gpus));
            std::fflush(stdout);
            if (!watch || (count && i + 1 >= count)) break;
            std::this_thread::sleep_for(std::chrono::seconds(watch));
        }
        if (watch) return 0;
    }
    // Topology: wherever NVML sees GPUs (without a driver that is one more line only when CUDA
    // saw GPUs; the "no NVIDIA GPU" line already says it otherwise).
    if (!gpus.empty() || GpuTelemetryReader().device_count() > 0) print_gpu_topology(gpus);
    for (const DeviceInfo& d : others)
        std::printf("%s: %s, %s free of %s\n", d.id.c_str(), d.name.c_str(), plan_detail::format_bytes(d.free_memory).c_str(),
                    plan_detail::format_bytes(d.total_memory).c_str());
    // The level the CPU kernels run at (capped by STRATA_CPU_ISA) and what the CPU offers.
    std::printf("cpu kernels: %s (STRATA_CPU_ISA=%s; CPU: %s)%s\n", cpu_isa_name(cpu_isa()), cpu_isa_env_name(cpu_isa()),
                cpu_features_string().c_str(), cpu_bf16_note());
    return 0;
}

}  // namespace strata::cli
