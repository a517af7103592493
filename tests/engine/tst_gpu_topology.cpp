// read_gpu_topology against the fake libnvidia-ml's 4-GPU box (fake_nvml.cpp: NVLink pairs 0-1
// and 2-3, the rest under the host bridge, 1-2 without P2P, GPU 3 in a PCIe 3.0 x8 slot), the
// same fake without the topology entry points (an older driver), and the mapping to the
// planner's LinkMatrix with its nominal speeds.
#include <algorithm>
#include <memory>

#include <QtTest>

#include "fake_nvml.h"
#include "fake_nvml_box.h"
#include "strata/gpu_topology.h"
#include "telemetry/nvml_library.h"

#ifndef STRATA_FAKE_NVML
#error "STRATA_FAKE_NVML (the fake library's path) is set by tests/CMakeLists.txt"
#endif

using namespace strata;

namespace {

// The fake's box (tests/common/fake_nvml_box.h): CUDA devices by bus id, and the host.
DeviceInfo gpu(const char* id, const char* bus_id) { return test::fakeNvmlGpu(id, bus_id); }
DeviceInfo cpu() { return test::fakeNvmlHost(); }
const auto& kBus = test::kFakeNvmlBus;

}  // namespace

class TestGpuTopology : public QObject {
    Q_OBJECT

    std::unique_ptr<FakeNvmlControls> fake_;

private slots:
    void initTestCase() {
        fake_ = std::make_unique<FakeNvmlControls>(STRATA_FAKE_NVML);
        QVERIFY2(fake_->error.empty(), fake_->error.c_str());
    }
    void cleanupTestCase() { fake_.reset(); }
    void init() { fake_->reset(3, 4); }

    void nominalSpeeds() {
        QCOMPARE(pcie_nominal_gbs(4, 16), 16.0 * 128 / 130 / 8 * 16 * 0.8);  // 25.2
        QVERIFY(std::abs(pcie_nominal_gbs(4, 16) - 25.2) < 0.05);
        QVERIFY(std::abs(pcie_nominal_gbs(3, 8) - 6.3) < 0.05);
        QVERIFY(std::abs(pcie_nominal_gbs(1, 16) - 3.2) < 1e-9);
        QVERIFY(std::abs(pcie_nominal_gbs(5, 16) - 50.4) < 0.05);
        QCOMPARE(pcie_nominal_gbs(0, 16), 0.0);
        QCOMPARE(pcie_nominal_gbs(9, 16), 0.0);
        QCOMPARE(pcie_nominal_gbs(4, 0), 0.0);
        QCOMPARE(nvlink_nominal_gbs(6, 18), 450.0);  // H100 SXM: 900 GB/s both ways
        QCOMPARE(nvlink_nominal_gbs(4, 12), 300.0);  // A100: 600 GB/s both ways
        QCOMPARE(nvlink_nominal_gbs(1, 4), 80.0);
        QCOMPARE(nvlink_nominal_gbs(7, 18), 900.0);
        QCOMPARE(nvlink_nominal_gbs(0, 4), 0.0);
    }

    void busIds() {
        QCOMPARE(normalize_pci_bus_id("00000000:3B:00.0"), std::string("0000:3b:00.0"));
        QCOMPARE(normalize_pci_bus_id("3b:00.0"), std::string("0000:3b:00.0"));
        QCOMPARE(normalize_pci_bus_id("0001:AF:1f.7"), std::string("0001:af:1f.7"));
        QCOMPARE(normalize_pci_bus_id("cuda0"), std::string());
        QCOMPARE(normalize_pci_bus_id("0000:3b:00.0x"), std::string());
        QCOMPARE(normalize_pci_bus_id("0000:3b:40.0"), std::string());  // device > 31
    }

    void readsTheBox() {
        const GpuTopology t = read_gpu_topology(STRATA_FAKE_NVML);
        QVERIFY2(t.ok(), t.error.c_str());
        QCOMPARE(t.driver_version, std::string("575.51.03"));
        QCOMPARE(t.gpus.size(), size_t(4));
        QCOMPARE(t.pairs.size(), size_t(4));
        for (int i = 0; i < 4; ++i) {
            const GpuTopologyEntry& g = t.gpus[size_t(i)];
            QVERIFY2(g.missing.empty(), g.missing.empty() ? "" : g.missing[0].c_str());
            QCOMPARE(g.pci_bus_id, std::string(kBus[i]));
            QCOMPARE(t.find(kBus[i]), i);
            QCOMPARE(g.name, "Fake GPU " + std::to_string(i));
            QCOMPARE(g.pcie_gen.value_or(0), 1u);  // idle
            QCOMPARE(g.pcie_gen_max.value_or(0), i == 3 ? 3u : 4u);
            QCOMPARE(g.pcie_width_max.value_or(0), i == 3 ? 8u : 16u);
            QCOMPARE(g.numa_node.value_or(9), i < 2 ? 0u : 1u);
            QCOMPARE(g.cpu_affinity, std::string(i < 2 ? "0-15" : "16-31"));
            QCOMPARE(g.sm_clock_mhz.value_or(0), 1410u);
            QCOMPARE(g.sm_clock_max_mhz.value_or(0), 1980u);
            QCOMPARE(g.mem_clock_max_mhz.value_or(0), 2619u);
        }
        QCOMPARE(t.find("00000000:AF:00.0"), 3);
        QCOMPARE(t.find("0000:99:00.0"), -1);
        // NVLink: 0 ↔ 1 over 4 links of 4.0; 2 ↔ 3 over 2 active links of 3.0 (a third is down).
        QCOMPARE(t.gpus[0].nvlinks.size(), size_t(6));
        QCOMPARE(t.gpus[0].nvlinks[0].remote_gpu, 1);
        QCOMPARE(t.gpus[0].nvlinks[0].version.value_or(0), 6u);
        QCOMPARE(t.gpus[0].nvlinks[0].remote_bus_id, std::string(kBus[1]));
        QVERIFY(!t.gpus[2].nvlinks[2].active);
        QCOMPARE(t.pair(0, 1)->nvlinks, 4u);
        QCOMPARE(t.pair(1, 0)->nvlinks, 4u);
        QCOMPARE(t.pair(2, 3)->nvlinks, 2u);
        QCOMPARE(t.pair(0, 2)->nvlinks, 0u);
        QVERIFY(t.pair(0, 0) == nullptr);
        QVERIFY(t.pair(0, 4) == nullptr);
        // Ancestors and P2P.
        QCOMPARE(t.pair(0, 1)->ancestor, GpuAncestor::single_switch);
        QCOMPARE(t.pair(3, 2)->ancestor, GpuAncestor::multiple_switches);
        QCOMPARE(t.pair(0, 3)->ancestor, GpuAncestor::host_bridge);
        QCOMPARE(t.pair(0, 3)->read.state, P2PState::ok);
        QCOMPARE(t.pair(0, 3)->write.state, P2PState::ok);
        QCOMPARE(t.pair(1, 2)->read.state, P2PState::not_supported);
        QCOMPARE(t.pair(2, 1)->write.state, P2PState::not_supported);
        QCOMPARE(t.pair(1, 2)->read.why, std::string("the chipset does not support it"));
    }

    // The LinkMatrix: GPUs matched by bus id in the request's order (not NVML's), the CPU device
    // joined by host-device links at the GPU's PCIe speed.
    void mapsToLinks() {
        fake_->set_pair(0, 3, 50, 0);  // across sockets, P2P ok
        fake_->set_pair(1, 3, 40, 0);  // one NUMA node
        const GpuTopology t = read_gpu_topology(STRATA_FAKE_NVML);
        QVERIFY2(t.ok(), t.error.c_str());
        const std::vector<DeviceInfo> devices = {gpu("cuda0", kBus[3]), gpu("cuda1", kBus[2]), gpu("cuda2", kBus[1]),
                                                 gpu("cuda3", kBus[0]), cpu()};
        const LinkMatrix m = topology_links(devices, t);
        QCOMPARE(m.size(), size_t(5));
        auto check = [&](int a, int b, LinkKind kind, double gbs) {
            const Link& l = m[size_t(a)][size_t(b)];
            QVERIFY2(l.kind == kind, (std::to_string(a) + "→" + std::to_string(b) + ": " + link_kind_name(l.kind)).c_str());
            QVERIFY2(std::abs(l.gbs - gbs) < 1e-9, (std::to_string(a) + "→" + std::to_string(b) + ": " + std::to_string(l.gbs)).c_str());
            QCOMPARE(l.latency_us, 0.0);
        };
        const double gen4x16 = pcie_nominal_gbs(4, 16), gen3x8 = pcie_nominal_gbs(3, 8);
        check(0, 1, LinkKind::nvlink, 50);                   // NVML 3 ↔ 2: 2 × 25
        check(1, 0, LinkKind::nvlink, 50);
        check(2, 3, LinkKind::nvlink, 100);                  // NVML 1 ↔ 0: 4 × 25
        check(2, 1, LinkKind::staged, gen4x16);              // NVML 1 ↔ 2: no P2P
        check(1, 2, LinkKind::staged, gen4x16);
        check(0, 3, LinkKind::cross_socket, gen3x8);         // NVML 3 ↔ 0: SYSTEM; the x8 slot
        check(0, 2, LinkKind::host_bridge, gen3x8);          // NVML 3 ↔ 1: NODE
        check(1, 3, LinkKind::host_bridge, gen4x16);         // NVML 2 ↔ 0: host bridge
        check(4, 0, LinkKind::host_device, gen3x8);
        check(1, 4, LinkKind::host_device, gen4x16);
        QVERIFY(!m[0][0].known());

        // A same-switch pair with P2P is pcie-switch; with P2P refused, staged whatever the path.
        fake_->set_pair(1, 2, 10, 0);
        fake_->set_pair(0, 2, 20, 2);
        const GpuTopology u = read_gpu_topology(STRATA_FAKE_NVML);
        QCOMPARE(topology_gpu_link(u, 1, 2).kind, LinkKind::pcie_switch);
        QCOMPARE(topology_gpu_link(u, 0, 2).kind, LinkKind::staged);
        QCOMPARE(topology_gpu_link(u, 0, 1).kind, LinkKind::nvlink);  // NVLink wins over P2P status
    }

    // An NVSwitch board: every link ends at the switch, not at a peer; NVML's NVLink P2P status
    // says the GPUs reach each other over it. A GPU off the switch falls back to PCIe.
    void nvSwitch() {
        for (int d = 0; d < 3; ++d) fake_->set_nvswitch(d, 6, 6);
        fake_->set_nvswitch(3, 0, 6);
        fake_->set_pair(1, 2, 30, 0);
        const GpuTopology t = read_gpu_topology(STRATA_FAKE_NVML);
        QVERIFY2(t.ok(), t.error.c_str());
        QCOMPARE(t.gpus[0].nvlinks[0].remote_bus_id, std::string("0000:c0:00.0"));
        QCOMPARE(t.gpus[0].nvlinks[0].remote_gpu, -1);
        QCOMPARE(t.pair(0, 2)->nvlinks, 0u);
        QCOMPARE(t.pair(0, 2)->nvlink.state, P2PState::ok);
        const Link l = topology_gpu_link(t, 0, 2);
        QCOMPARE(l.kind, LinkKind::nvlink);
        QCOMPARE(l.gbs, 150.0);  // 6 links of NVLink 4.0
        QCOMPARE(topology_gpu_link(t, 1, 2).kind, LinkKind::nvlink);
        QCOMPARE(t.pair(0, 3)->nvlink.state, P2PState::not_supported);
        QCOMPARE(topology_gpu_link(t, 0, 3).kind, LinkKind::host_bridge);
    }

    // A GPU CUDA sees but NVML does not (or no bus id): its links stay unknown, the rest are set.
    void unmatchedDevicesStayUnknown() {
        const GpuTopology t = read_gpu_topology(STRATA_FAKE_NVML);
        const LinkMatrix m = topology_links({gpu("cuda0", kBus[0]), gpu("cuda1", ""), gpu("cuda2", kBus[1])}, t);
        QVERIFY(!m[0][1].known() && !m[1][0].known() && !m[1][2].known());
        QCOMPARE(m[0][2].kind, LinkKind::nvlink);
        GpuTopology failed;
        failed.error = "topology unavailable: test";
        const LinkMatrix none = topology_links({gpu("cuda0", kBus[0]), cpu()}, failed);
        QVERIFY(!none[0][1].known() && !none[1][0].known());
    }

    // Calls failing on one GPU leave those fields unset with the reason; the rest is read.
    void perCallFailures() {
        fake_->fail("nvmlDeviceGetCurrPcieLinkGeneration", 2, 3);
        fake_->fail("nvmlDeviceGetNumaNodeId", -1, 3);
        fake_->fail("nvmlDeviceGetTopologyCommonAncestor", 1, 4);
        fake_->fail("nvmlDeviceGetP2PStatus", 3, 999);
        const GpuTopology t = read_gpu_topology(STRATA_FAKE_NVML);
        QVERIFY2(t.ok(), t.error.c_str());
        QVERIFY(!t.gpus[2].pcie_gen && t.gpus[2].pcie_gen_max);
        QVERIFY(t.gpus[1].pcie_gen);
        QVERIFY(!t.gpus[0].numa_node);
        QCOMPARE(t.gpus[2].missing.size(), size_t(2));
        QCOMPARE(t.gpus[2].missing[0], std::string("PCIe generation: Not Supported (NVML_ERROR_NOT_SUPPORTED)"));
        QCOMPARE(t.gpus[2].missing[1], std::string("NUMA node: Not Supported (NVML_ERROR_NOT_SUPPORTED)"));
        QCOMPARE(t.pair(1, 0)->ancestor, GpuAncestor::unknown);
        QCOMPARE(t.pair(1, 0)->ancestor_missing, std::string("Insufficient Permissions (NVML_ERROR_NO_PERMISSION)"));
        QCOMPARE(t.pair(0, 2)->ancestor, GpuAncestor::host_bridge);
        QCOMPARE(t.pair(0, 3)->read.state, P2PState::unknown);
        QCOMPARE(t.pair(0, 3)->read.why, std::string("Unknown Error (NVML_ERROR_UNKNOWN)"));
        // Unknown ancestor and unknown P2P: the kind is unknown, the PCIe speed still known.
        const Link l = topology_gpu_link(t, 1, 3);
        QCOMPARE(l.kind, LinkKind::unknown);
        QVERIFY(l.gbs > 0);
    }

    // A driver without any topology entry point: every field unset, each with the missing name.
    void olderDriver() {
        qputenv("FAKE_NVML_DEVICES", "4");  // that library's own state: its GPU count
        const GpuTopology t = read_gpu_topology(STRATA_FAKE_NVML_OLD);
        qunsetenv("FAKE_NVML_DEVICES");
        QVERIFY2(t.ok(), t.error.c_str());
        QCOMPARE(t.gpus.size(), size_t(4));
        const GpuTopologyEntry& g = t.gpus[0];
        QVERIFY(g.pci_bus_id.empty() && !g.pcie_gen && !g.numa_node && g.nvlinks.empty() && g.cpu_affinity.empty());
        QVERIFY(!g.missing.empty());
        QCOMPARE(g.missing[0], std::string("PCI bus id: this NVML has no nvmlDeviceGetPciInfo_v3"));
        QCOMPARE(t.pair(0, 1)->ancestor_missing, std::string("this NVML has no nvmlDeviceGetTopologyCommonAncestor"));
        QCOMPARE(t.pair(0, 1)->read.why, std::string("this NVML has no nvmlDeviceGetP2PStatus"));
        const LinkMatrix m = topology_links({gpu("cuda0", kBus[0]), gpu("cuda1", kBus[1])}, t);
        QVERIFY(!m[0][1].known());  // nothing matched by bus id: the planner's old assumption
    }

    // The one NVML loader both readers use says what it lacks, by name: the old driver has the
    // required entry points and the telemetry ones, none of the topology ones.
    void loaderListsWhatIsMissing() {
        {
            const nvml::Library full(STRATA_FAKE_NVML);
            QVERIFY(full.loaded());
            QVERIFY(full.missing_required().empty());
            QVERIFY(full.fn().init && full.fn().common_ancestor && full.fn().p2p_status);
            QCOMPARE(full.missing({"nvmlInit_v2", "nvmlDeviceGetP2PStatus", "nvmlNoSuchFunction"}),
                     std::vector<std::string>{"nvmlNoSuchFunction"});
            QVERIFY(!full.initialised());  // opening does not initialise NVML
        }
        const nvml::Library old(STRATA_FAKE_NVML_OLD);
        QVERIFY(old.loaded());
        QVERIFY(old.missing_required().empty());
        QVERIFY(old.fn().get_power && !old.fn().common_ancestor && !old.fn().get_pci);
        const std::vector<std::string> lacks = old.missing_optional();
        for (const char* name : {"nvmlDeviceGetTopologyCommonAncestor", "nvmlDeviceGetP2PStatus", "nvmlDeviceGetPciInfo_v3",
                                 "nvmlDeviceGetNvLinkState", "nvmlSystemGetDriverVersion"})
            QVERIFY2(std::find(lacks.begin(), lacks.end(), name) != lacks.end(), name);
        QVERIFY(std::find(lacks.begin(), lacks.end(), "nvmlDeviceGetPowerUsage") == lacks.end());

        const nvml::Library none("/nonexistent/libnvidia-ml.so.1");
        QVERIFY(!none.loaded());
        QVERIFY2(!none.load_error().empty() && none.load_error().find("/nonexistent/") != 0, none.load_error().c_str());
        QCOMPARE(none.missing_required().size(), size_t(4));
        const nvml::Library libm("libm.so.6");
        QVERIFY(libm.loaded());
        QCOMPARE(libm.missing_required(), (std::vector<std::string>{"nvmlInit_v2", "nvmlShutdown", "nvmlDeviceGetCount_v2",
                                                                   "nvmlDeviceGetHandleByIndex_v2"}));
    }

    void noLibrary() {
        const GpuTopology t = read_gpu_topology("/nonexistent/libnvidia-ml.so.1");
        QVERIFY(!t.ok());
        QVERIFY2(t.error.rfind("topology unavailable: cannot load /nonexistent/libnvidia-ml.so.1", 0) == 0, t.error.c_str());
        QVERIFY(t.gpus.empty());
        const GpuTopology m = read_gpu_topology("libm.so.6");
        QVERIFY2(m.error.find("lacks nvmlInit_v2") != std::string::npos, m.error.c_str());
    }

    void initFails() {
        fake_->fail("nvmlInit_v2", -1, 9);
        const GpuTopology t = read_gpu_topology(STRATA_FAKE_NVML);
        QCOMPARE(t.error, std::string("topology unavailable: nvmlInit failed: Driver Not Loaded (NVML_ERROR_DRIVER_NOT_LOADED)"));
    }

    // Each read initialises NVML once and shuts it down once.
    void initAndShutdownPairUp() {
        for (int i = 0; i < 3; ++i) QVERIFY(read_gpu_topology(STRATA_FAKE_NVML).ok());
        int inits = 0, shutdowns = 0;
        fake_->calls(&inits, &shutdowns);
        QCOMPARE(inits, 3);
        QCOMPARE(shutdowns, 3);
    }
};

QTEST_GUILESS_MAIN(TestGpuTopology)
#include "tst_gpu_topology.moc"
