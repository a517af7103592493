// strata-cli probe links: times host ↔ device and every device ↔ device pair on this machine's
// GPUs (Engine::measure_links, strata/link_probe.h: peer copies where P2P works, staged through
// pinned host memory where not), prints the table and stores it under the user's data directory
// with the machine's fingerprint (strata/link_store.h), where the planner finds it: measured
// beats nominal. Without GPUs it says so and exits 0.
#include <cstdio>
#include <string>

#include "cli_common.h"
#include "strata/engine.h"
#include "strata/link_probe.h"

namespace strata::cli {

namespace {

int probe_links(bool save) {
    Engine engine;
    int n = 0;
    for (const DeviceInfo& d : engine.available_devices()) n += d.type == DeviceType::cuda;
    if (n == 0) {
        std::printf("no GPUs: nothing to probe (%s)\n", engine.gpu_status().c_str());
        return 0;
    }
    std::printf("probing %d GPU%s: 64 MiB copies (best of 5) and 4 KiB copies (median of 50)...\n", n, n == 1 ? "" : "s");
    std::fflush(stdout);
    auto report = engine.measure_links(save);
    if (!report.ok()) {
        std::fprintf(stderr, "error: %s\n", report.status().message().c_str());
        return 1;
    }
    std::printf("%-8s %-8s %-7s %10s %14s %12s\n", "from", "to", "path", "GB/s", "both ways GB/s", "4 KiB µs");
    for (const ProbedLink& l : report->links)
        std::printf("%-8s %-8s %-7s %10.1f %14.1f %12.1f\n", l.from.c_str(), l.to.c_str(), l.path.c_str(), l.gbs,
                    l.bidir_gbs, l.latency_us);
    if (report->unnamed) std::printf("(links of GPUs without a PCI bus id are shown but not stored)\n");
    if (save)
        std::printf("stored for this machine (%s) in %s; plans on these GPUs now use these speeds\n",
                    report->measurements.machine.c_str(), report->stored_at.c_str());
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
