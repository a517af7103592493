// Simulated machines: profiles parse into devices and links (errors name the field), every
// shipped profile is valid, and the planner on them explains each hand-off's link — staged
// copies through the host on 4× RTX 4090 PCIe, NVLink everywhere on 8× H100 NVSwitch — also
// through `strata-cli plan --simulate`.
#include <QtTest>

#include "strata/machine_profile.h"
#include "strata/whatif.h"
#include "cli_runner.h"

using namespace strata;

namespace {

std::string profile_path(const char* name) { return find_resource(std::string("machines/") + name); }

std::string all_decisions(const Plan& p) {
    std::string out;
    for (const std::string& d : p.decisions) out += d + "\n";
    return out;
}

// The model on the machine's GPUs (not its host), spread over all of them.
Plan plan_on(const MachineProfile& m, const ModelFootprint& model, SplitMode mode = SplitMode::even) {
    const SimulatedMachine sim = simulate_machine(m, false);
    PlanRequest r;
    r.model = model;
    r.mode = mode;
    for (const DeviceInfo& d : sim.devices) {
        PlanDevice pd;
        pd.info = d;
        pd.reserve_bytes = 512ull << 20;
        r.devices.push_back(pd);
    }
    r.links = sim.links;
    return make_plan(r);
}

const char* kGood = R"({
  "name": "test box", "comment": "made up",
  "gpus": [ { "name": "A", "memory_gib": 24, "bandwidth_gbs": 1000, "fp16_tflops": 100, "power_w": 300, "count": 2 },
            { "name": "B", "memory_gib": 12, "bandwidth_gbs": 400, "fp16_tflops": 30, "int8_tflops": 120, "power_w": 170 } ],
  "host": { "cpu": "some CPU", "memory_gib": 64, "bandwidth_gbs": 60 },
  "host_link": { "kind": "host-device", "gbs": 25, "latency_us": 10 },
  "links": { "default": { "kind": "staged", "gbs": 12, "latency_us": 10 },
             "pairs": [ { "between": [0, 1], "kind": "nvlink", "gbs": 56.25, "latency_us": 3 } ] }
})";

}  // namespace

class TestMachineProfile : public QObject {
    Q_OBJECT
private slots:
    void parsesGpusLinksAndHost() {
        auto p = parse_machine_profile(kGood, "good.json");
        QVERIFY2(p.ok(), p.status().message().c_str());
        QCOMPARE(p->gpus.size(), size_t{3});
        QCOMPARE(p->gpus[1].name, std::string("A"));
        QCOMPARE(p->gpus[2].memory_bytes, uint64_t{12} << 30);
        QCOMPARE(p->gpus[2].int8_tflops, 120.0);
        QVERIFY(p->gpu_links[0][1].kind == LinkKind::nvlink && p->gpu_links[1][0].kind == LinkKind::nvlink);
        QVERIFY(p->gpu_links[0][2].kind == LinkKind::staged && p->gpu_links[2][1].gbs == 12.0);
        const SimulatedMachine m = simulate_machine(*p, true);
        QCOMPARE(m.devices.size(), size_t{4});
        QCOMPARE(m.devices[3].id, std::string("cpu"));
        QVERIFY(m.devices[3].type == DeviceType::cpu);
        QCOMPARE(m.devices[2].id, std::string("cuda2"));
        QCOMPARE(m.devices[2].free_memory, (uint64_t{12} << 30) - kSimulatedDriverBytes);
        QCOMPARE(m.devices[0].memory_bandwidth_gbs, 1000.0);
        QVERIFY(m.links[1][3].kind == LinkKind::host_device && m.links[3][0].kind == LinkKind::host_device);
        QCOMPARE(simulate_machine(*p, false).devices.size(), size_t{3});
    }

    void errorsNameTheField_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("expected");
        const QString good = QString::fromUtf8(kGood);
        QTest::newRow("not json") << "{ \"name\": " << "bad.json: not valid JSON";
        QTest::newRow("not an object") << "[1, 2]" << "bad.json: the top level must be an object";
        QTest::newRow("no gpus") << R"({"name": "x", "gpus": [], "host_link": {"kind": "host-device", "gbs": 1, "latency_us": 1}})"
                                 << "bad.json: gpus must be a non-empty array";
        QTest::newRow("negative bandwidth") << QString(good).replace("\"bandwidth_gbs\": 400", "\"bandwidth_gbs\": -4")
                                            << "bad.json: gpus[1].bandwidth_gbs must be a number > 0";
        QTest::newRow("memory as text") << QString(good).replace("\"memory_gib\": 12", "\"memory_gib\": \"12GB\"")
                                        << "bad.json: gpus[1].memory_gib must be a number, not \"12GB\"";
        QTest::newRow("typo") << QString(good).replace("\"power_w\": 170", "\"powr_w\": 170")
                              << "bad.json: gpus[1].powr_w is not a known field";
        QTest::newRow("bad kind") << QString(good).replace("\"kind\": \"nvlink\"", "\"kind\": \"infiniband\"")
                                  << "bad.json: links.pairs[0].kind must be one of nvlink";
        QTest::newRow("pair out of range") << QString(good).replace("[0, 1]", "[0, 7]")
                                           << "bad.json: links.pairs[0].between names GPUs [0,7]";
        QTest::newRow("pair missing") << QString(good).replace(R"("default": { "kind": "staged", "gbs": 12, "latency_us": 10 },)", "")
                                      << "bad.json: links say nothing of GPUs 0 and 2";
        QTest::newRow("too many") << QString(good).replace("\"count\": 2", "\"count\": 17")
                                  << "bad.json: gpus[0].count must be a number > 0 and at most 16";
        QTest::newRow("no host link") << QString(good).replace(R"("host_link": { "kind": "host-device", "gbs": 25, "latency_us": 10 },)", "")
                                      << "bad.json: host_link is missing";
        QTest::newRow("matrix rows") << R"({"name": "m", "host_link": {"kind": "host-device", "gbs": 25, "latency_us": 10},
            "gpus": [{"name": "A", "memory_gib": 24, "bandwidth_gbs": 1000, "fp16_tflops": 100, "power_w": 300, "count": 2}],
            "links": [[null, {"kind": "nvlink", "gbs": 50, "latency_us": 2}]]})"
                                     << "bad.json: links matrix has 1 rows for 2 GPUs";
    }
    void errorsNameTheField() {
        QFETCH(QString, json);
        QFETCH(QString, expected);
        auto p = parse_machine_profile(json.toStdString(), "bad.json");
        QVERIFY(!p.ok());
        QVERIFY(p.status().code() == ErrorCode::invalid_argument);
        QVERIFY2(QString::fromStdString(p.status().message()).startsWith(expected), p.status().message().c_str());
    }

    void matrixForm() {
        const char* text = R"({"name": "m", "host_link": {"kind": "host-device", "gbs": 25, "latency_us": 10},
            "gpus": [{"name": "A", "memory_gib": 24, "bandwidth_gbs": 1000, "fp16_tflops": 100, "power_w": 300, "count": 2}],
            "links": [[null, {"kind": "nvlink", "gbs": 50, "latency_us": 2}],
                      [{"kind": "pcie-switch", "gbs": 20, "latency_us": 5}, null]]})";
        auto p = parse_machine_profile(text, "m.json");
        QVERIFY2(p.ok(), p.status().message().c_str());
        QVERIFY(p->gpu_links[0][1].kind == LinkKind::nvlink);
        QVERIFY(p->gpu_links[1][0].kind == LinkKind::pcie_switch);  // a matrix may be asymmetric
    }

    void shippedProfilesAreValid() {
        for (const char* name : {"4x-rtx4090-pcie.json", "2x-rtx3090-nvlink.json", "8x-h100-sxm-nvswitch.json",
                                 "rtx3090-rtx3060.json", "2x-rtx6000-ada.json"}) {
            const std::string path = profile_path(name);
            QVERIFY2(!path.empty(), name);
            auto p = load_machine_profile(path);
            QVERIFY2(p.ok(), p.status().message().c_str());
            QVERIFY(!p->comment.empty());  // says where the figures come from
            QVERIFY(p->host.has_value());
            for (size_t i = 0; i < p->gpus.size(); ++i)
                for (size_t j = 0; j < p->gpus.size(); ++j)
                    if (i != j) QVERIFY(p->gpu_links[i][j].known());
        }
        QVERIFY(!load_machine_profile("/nonexistent/x.json").ok());
    }

    // Acceptance: 4× RTX 4090 without P2P — every hand-off staged through the host.
    void rtx4090PcieExplainsStagedCopies() {
        auto m = load_machine_profile(profile_path("4x-rtx4090-pcie.json"));
        QVERIFY(m.ok());
        auto model = synthetic_footprint(70e9, "Q4_K_M", nullptr);
        QVERIFY(model.ok());
        const Plan p = plan_on(*m, *model);
        QVERIFY(p.fits);
        QCOMPARE(p.handoffs.size(), size_t{3});
        const std::string text = all_decisions(p);
        for (const char* pair : {"cuda0→cuda1", "cuda1→cuda2", "cuda2→cuda3"}) {
            const std::string line = std::string(pair) + " goes through the CPU (no P2P: two copies, via host memory) at 25 GB/s";
            QVERIFY2(text.find(line) != std::string::npos, text.c_str());
        }
        for (const StageHandOff& h : p.handoffs) QVERIFY(h.link.kind == LinkKind::staged);
    }

    // Acceptance: 8× H100 SXM — NVLink between every pair the plan uses.
    void h100NvswitchIsNvlinkEverywhere() {
        auto m = load_machine_profile(profile_path("8x-h100-sxm-nvswitch.json"));
        QVERIFY(m.ok());
        for (size_t i = 0; i < 8; ++i)
            for (size_t j = 0; j < 8; ++j)
                if (i != j) QVERIFY(m->gpu_links[i][j].kind == LinkKind::nvlink);
        auto model = synthetic_footprint(405e9, "Q4_K_M", nullptr);
        QVERIFY(model.ok());
        const Plan p = plan_on(*m, *model);
        QVERIFY(p.fits);
        QCOMPARE(p.handoffs.size(), size_t{7});
        for (const StageHandOff& h : p.handoffs) {
            QVERIFY(h.link.kind == LinkKind::nvlink);
            QCOMPARE(h.gbs, 450.0);
        }
        QVERIFY(all_decisions(p).find("cuda6→cuda7 goes over NVLink at 450 GB/s") != std::string::npos);
        QVERIFY(all_decisions(p).find("through the CPU") == std::string::npos);
    }

    // The same 70B split over 2× 3090: NVLink predicts faster than the staged 3090 + 3060 link.
    void linkSpeedsReachThePrediction() {
        auto nv = load_machine_profile(profile_path("2x-rtx3090-nvlink.json"));
        QVERIFY(nv.ok());
        auto model = synthetic_footprint(32e9, "Q8_0", nullptr);
        QVERIFY(model.ok());
        MachineProfile staged = *nv;
        staged.gpu_links[0][1] = staged.gpu_links[1][0] = Link{LinkKind::staged, 12, 10};
        const Plan a = plan_on(*nv, *model), b = plan_on(staged, *model);
        QVERIFY(a.fits && b.fits);
        QVERIFY(a.predicted_decode_tps > b.predicted_decode_tps);
        QVERIFY(all_decisions(b).find("cuda0→cuda1 goes through the CPU (no P2P: two copies, via host memory) at 12 GB/s") !=
                std::string::npos);
    }

    // strata-cli plan --simulate: the plan names each hand-off's link kind and speed.
    void cliPlanSimulate() {
        using strata::test::runProgram;
        const QString cli = strata::test::strataCliPath();
        if (cli.isEmpty()) QSKIP("STRATA_CLI not set or not built (run through ctest)");
        QTemporaryDir dir;
        const QString model = dir.filePath("tiny.gguf");
        const auto g = runProgram(cli, {"gen-model", "--vocab", "300", "--embd", "64", "--layers", "4", "--heads", "4",
                                        "--kv-heads", "2", "--ff", "128", "--seed", "7", model});
        QVERIFY2(g.code == 0, qPrintable(g.err));
        auto plan = [&](const QStringList& extra) {
            const auto r = runProgram(cli, QStringList{"plan", "-m", model, "--simulate",
                                                       QString::fromStdString(profile_path("4x-rtx4090-pcie.json"))} + extra);
            return std::make_pair(r.code, r.out + r.err);
        };
        // Ratios force a split over the four GPUs (the tiny model fits on one).
        const auto [code, out] = plan({"--split", "1,1,1,1,0"});
        QVERIFY2(code == 0, qPrintable(out));
        QVERIFY2(out.contains("simulated machine: 4× RTX 4090 on PCIe 4.0 x16, no P2P"), qPrintable(out));
        QVERIFY2(out.contains("cuda0 (RTX 4090)"), qPrintable(out));
        QVERIFY2(out.contains("cuda2→cuda3 goes through the CPU (no P2P: two copies, via host memory) at 25 GB/s"), qPrintable(out));
        const auto [code2, out2] = plan({"--devices", "cpu"});
        QCOMPARE(code2, 2);
        QVERIFY2(out2.contains("give --devices or --simulate, not both"), qPrintable(out2));
        const auto bad = runProgram(cli, {"plan", "-m", model, "--simulate", dir.filePath("missing.json")});
        QCOMPARE(bad.code, 1);
        QVERIFY(bad.err.contains("missing.json: cannot open the file"));
    }
};

QTEST_GUILESS_MAIN(TestMachineProfile)
#include "tst_machine_profile.moc"
