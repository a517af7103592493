// Engine::measure_links: the CUDA module's link probe (a C entry point found in the module the
// registry loaded, so the engine library itself never links CUDA), turned into device ids for
// people and PCI bus ids for the store.
#include "backend/cuda/cuda_link_probe_abi.h"
#include "backend/registry.h"
#include "strata/engine.h"
#include "strata/gpu_topology.h"
#include "util/utc_time.h"

namespace strata {

Result<LinkProbeReport> Engine::measure_links(bool save) {
    const std::vector<DeviceInfo> machine = registry_->available();
    std::vector<DeviceInfo> gpus;
    for (const DeviceInfo& d : machine)
        if (d.type == DeviceType::cuda) gpus.push_back(d);
    if (gpus.empty()) return Status(ErrorCode::not_found, "no GPUs to measure (" + registry_->gpu_status() + ")");
    auto probe = reinterpret_cast<StrataCudaLinkProbeFn>(registry_->module_symbol(STRATA_CUDA_LINK_PROBE_ENTRY));
    if (!probe)
        return Status(ErrorCode::unsupported, std::string("the CUDA module has no ") + STRATA_CUDA_LINK_PROBE_ENTRY +
                                                  " (built from an older source?)");
    const int n = static_cast<int>(gpus.size());
    std::vector<StrataCudaLinkTiming> timings(static_cast<size_t>(2 * n + n * (n - 1)));
    int got = 0;
    char error[512] = {};
    if (probe(timings.data(), static_cast<int>(timings.size()), &got, error, sizeof error) != 0)
        return Status(ErrorCode::device_failure, std::string("the link probe failed: ") + error);

    LinkProbeReport report;
    // The driver version is part of the fingerprint: a new driver, new measurements.
    const GpuTopology topology = read_gpu_topology();
    report.measurements.machine = machine_fingerprint_text(machine, topology.driver_version);
    report.measurements.fingerprint = machine_fingerprint(report.measurements.machine);
    report.measurements.measured_at = utc_now("%Y-%m-%dT%H:%M:%SZ");
    auto id = [&](int i) { return i < 0 ? std::string("host") : gpus[static_cast<size_t>(i)].id; };
    auto bus = [&](int i) {
        return i < 0 ? std::string(kHostEndpoint) : normalize_pci_bus_id(gpus[static_cast<size_t>(i)].pci_bus_id);
    };
    for (int k = 0; k < got && k < static_cast<int>(timings.size()); ++k) {
        const StrataCudaLinkTiming& t = timings[static_cast<size_t>(k)];
        if (t.from >= n || t.to >= n) return Status(ErrorCode::internal, "the link probe named a GPU that does not exist");
        report.links.push_back({id(t.from), id(t.to), t.from < 0 || t.to < 0 ? "host" : t.peer ? "peer" : "staged",
                                t.gbs, t.bidir_gbs, t.latency_us});
        if (bus(t.from).empty() || bus(t.to).empty()) {
            report.unnamed = true;  // a GPU without a PCI bus id: its links could never be matched later
            continue;
        }
        report.measurements.links.push_back({bus(t.from), bus(t.to), t.peer != 0, t.gbs, t.bidir_gbs, t.latency_us});
    }
    if (!save) return report;
    const std::string path = link_store_path(report.measurements.fingerprint);
    if (path.empty())
        return Status(ErrorCode::io, "no data directory (set XDG_DATA_HOME or HOME) to store the measurements in");
    STRATA_RETURN_IF_ERROR(save_link_measurements(report.measurements, path));
    report.stored_at = path;
    return report;
}

}  // namespace strata
