// strata-cli probe links: times host ↔ device and every device ↔ device pair on this machine's
// GPUs (the CUDA module's strata_cuda_probe_links: peer copies where P2P works, staged through
// pinned host memory where not), prints the table and stores it under the user's data directory
// with the machine's fingerprint (strata/link_store.h), where the planner finds it: measured
// beats nominal. Without GPUs it says so and exits 0.
#include <dlfcn.h>

#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "backend/cuda/cuda_link_probe_abi.h"
#include "cli_common.h"
#include "cuda_module.h"
#include "strata/engine.h"
#include "strata/gpu_topology.h"
#include "strata/link_store.h"

namespace strata::cli {

namespace {

std::string utc_now() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char b[32];
    std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return b;
}

int probe_links(bool save) {
    Engine engine;
    std::vector<DeviceInfo> machine = engine.available_devices(), gpus;
    for (const DeviceInfo& d : machine)
        if (d.type == DeviceType::cuda) gpus.push_back(d);
    if (gpus.empty()) {
        std::printf("no GPUs: nothing to probe (%s)\n", engine.gpu_status().c_str());
        return 0;
    }
    std::string tried;
    void* module = open_cuda_module(tried);
    if (!module) {
        std::fprintf(stderr, "error: cannot load the CUDA module%s%s\n", tried.empty() ? "" : ": ", tried.c_str());
        return 1;
    }
    auto probe = reinterpret_cast<StrataCudaLinkProbeFn>(dlsym(module, STRATA_CUDA_LINK_PROBE_ENTRY));
    if (!probe) {
        std::fprintf(stderr, "error: the CUDA module has no %s (built from an older source?)\n", STRATA_CUDA_LINK_PROBE_ENTRY);
        return 1;
    }
    const int n = static_cast<int>(gpus.size());
    std::vector<StrataCudaLinkTiming> timings(static_cast<size_t>(2 * n + n * (n - 1)));
    int got = 0;
    char err[512] = {};
    std::printf("probing %d GPU%s: 64 MiB copies (best of 5) and 4 KiB copies (median of 50)...\n", n, n == 1 ? "" : "s");
    std::fflush(stdout);
    if (probe(timings.data(), static_cast<int>(timings.size()), &got, err, sizeof err) != 0) {
        std::fprintf(stderr, "error: link probe failed: %s\n", err);
        return 1;
    }

    const GpuTopology topology = read_gpu_topology();  // for the driver version (the fingerprint)
    LinkMeasurements m;
    m.machine = machine_fingerprint_text(machine, topology.driver_version);
    m.fingerprint = machine_fingerprint(m.machine);
    m.measured_at = utc_now();
    auto name = [&](int i) { return i < 0 ? std::string("host") : gpus[static_cast<size_t>(i)].id; };
    auto end = [&](int i) {
        return i < 0 ? std::string(kHostEndpoint) : normalize_pci_bus_id(gpus[static_cast<size_t>(i)].pci_bus_id);
    };
    std::printf("%-8s %-8s %-7s %10s %14s %12s\n", "from", "to", "path", "GB/s", "both ways GB/s", "4 KiB µs");
    bool unnamed = false;
    for (int k = 0; k < got; ++k) {
        const StrataCudaLinkTiming& t = timings[static_cast<size_t>(k)];
        const char* path = t.from < 0 || t.to < 0 ? "host" : t.peer ? "peer" : "staged";
        std::printf("%-8s %-8s %-7s %10.1f %14.1f %12.1f\n", name(t.from).c_str(), name(t.to).c_str(), path, t.gbs,
                    t.bidir_gbs, t.latency_us);
        if (end(t.from).empty() || end(t.to).empty()) {
            unnamed = true;  // a GPU without a PCI bus id: its links cannot be matched later
            continue;
        }
        m.links.push_back({end(t.from), end(t.to), t.peer != 0, t.gbs, t.bidir_gbs, t.latency_us});
    }
    if (unnamed) std::printf("(links of GPUs without a PCI bus id are shown but not stored)\n");
    if (!save) return 0;
    const std::string path = link_store_path(m.fingerprint);
    if (path.empty()) {
        std::fprintf(stderr, "error: no data directory (set XDG_DATA_HOME or HOME) to store the measurements in\n");
        return 1;
    }
    const Status s = save_link_measurements(m, path);
    if (!s.ok()) {
        std::fprintf(stderr, "error: %s\n", s.message().c_str());
        return 1;
    }
    std::printf("stored for this machine (%s) in %s; plans on these GPUs now use these speeds\n", m.machine.c_str(),
                path.c_str());
    return 0;
}

}  // namespace

int cmd_probe(Args& args) {
    if (args.flag({"-h", "--help"})) {
        std::fprintf(stderr,
                     "usage: strata-cli probe links [--no-save]\n\n"
                     "Times how fast data moves on this machine's GPUs: pinned host memory to and from each GPU,\n"
                     "and every GPU pair in both directions (one way and both ways at once, GB/s, and the\n"
                     "latency of a 4 KiB copy) — a peer copy where P2P can be enabled, staged through host\n"
                     "memory where not. The result is stored in $XDG_DATA_HOME/strata/links-<fingerprint>.json\n"
                     "(default ~/.local/share/strata), the fingerprint naming the GPUs, their PCI bus ids and\n"
                     "the driver version; plans on this machine then use the measured speeds for hand-offs\n"
                     "between stages instead of nominal ones.\n\n"
                     "  --no-save   print the table only\n\n"
                     "Without GPUs it says \"no GPUs: nothing to probe\" and exits 0.\n");
        return 0;
    }
    const bool no_save = args.flag({"--no-save"});
    std::vector<std::string> positionals;
    std::string error;
    if (!args.finish(positionals, error)) {
        std::fprintf(stderr, "error: %s\n", error.c_str());
        return 2;
    }
    if (positionals.size() != 1 || positionals[0] != "links") {
        std::fprintf(stderr, "error: say what to probe: strata-cli probe links\n");
        return 2;
    }
    return probe_links(!no_save);
}

}  // namespace strata::cli
