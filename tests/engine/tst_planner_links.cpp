// Links between devices in the planner: each stage hand-off costs its bytes over the link's speed
// plus its latency (a staged copy twice), the plan names the link, and an unknown link leaves the
// plan exactly as before links were known.
#include <QtTest>

#include "tst_planner_invariants.h"

using namespace strata;
using namespace planner_test;

namespace {

// 70B Q4_K on two 3090s: does not fit on one, so two stages and one hand-off (cuda0→cuda1).
PlanRequest two_gpu_request() {
    PlanRequest r;
    r.model = model_by_name("70b");
    r.devices = devices_by_spec("3090,3090,3090");
    r.mode = SplitMode::even;
    r.n_ctx = 4096;
    return r;
}

LinkMatrix all_pairs(size_t n, Link link) {
    LinkMatrix m(n, std::vector<Link>(n, link));
    for (size_t i = 0; i < n; ++i) m[i][i] = Link{};
    return m;
}

bool same_plan_text(const PlanRequest& a, const PlanRequest& b) {
    return format_plan(a, make_plan(a)) == format_plan(b, make_plan(b));
}

std::string decisions(const Plan& p) {
    std::string out;
    for (const std::string& d : p.decisions) out += "\n  " + d;
    return out;
}

}  // namespace

class TestPlannerLinks : public QObject {
    Q_OBJECT
private slots:
    void unknownLinksChangeNothing() {
        const PlanRequest base = two_gpu_request();
        const Plan p0 = make_plan(base);
        QVERIFY(p0.fits);
        QVERIFY(p0.handoffs.size() >= 1);
        // An explicit matrix of unknown links, a short matrix and a ragged one: all as before.
        PlanRequest unknown = base;
        unknown.links = all_pairs(base.devices.size(), Link{});
        PlanRequest shorter = base;
        shorter.links = {{Link{LinkKind::nvlink, 50, 2}}};  // only cuda0→cuda0: not a hand-off
        for (const PlanRequest* r : {&unknown, &shorter}) {
            const Plan p = make_plan(*r);
            QCOMPARE(p.predicted_decode_tps, p0.predicted_decode_tps);  // bit for bit
            QCOMPARE(p.predicted_prefill_tps, p0.predicted_prefill_tps);
            QVERIFY(same_plan_text(base, *r));
        }
        // The assumed link's figures are reported on the hand-off.
        QCOMPARE(p0.handoffs[0].gbs, 25.0);
        QCOMPARE(p0.handoffs[0].latency_us, 10.0);
        QVERIFY(!p0.handoffs[0].link.known());
    }

    void handOffCostIsBytesOverSpeedPlusLatency() {
        PlanRequest r = two_gpu_request();
        const Plan p0 = make_plan(r);
        r.links = all_pairs(r.devices.size(), Link{LinkKind::staged, 12.0, 15.0});
        const Plan p = make_plan(r);
        QVERIFY(p.fits);
        QCOMPARE(p.stages.size(), p0.stages.size());
        QCOMPARE(p.handoffs.size(), p0.handoffs.size());
        const StageHandOff& h = p.handoffs.at(0);
        const double bytes = static_cast<double>(r.model.n_embd) * 4;  // f32 hidden state
        QCOMPARE(h.bytes_per_token, static_cast<uint64_t>(bytes));
        // Staged: two copies, each bytes / 12 GB/s + 15 µs.
        const double expected = 2 * (bytes / 12e9 + 15e-6);
        QVERIFY(std::abs(h.decode_seconds_per_token - expected) < 1e-12);
        // The prediction moved by exactly the difference from the assumed link, per hand-off.
        double assumed = 0, now = 0;
        for (const StageHandOff& x : p0.handoffs) assumed += x.decode_seconds_per_token;
        for (const StageHandOff& x : p.handoffs) now += x.decode_seconds_per_token;
        QVERIFY(std::abs((1 / p.predicted_decode_tps - 1 / p0.predicted_decode_tps) - (now - assumed)) < 1e-9);
        // The explanation names the link, its speed and the cost.
        const std::string text = decisions(p);
        QVERIFY2(text.find("cuda0→cuda1 goes through the CPU (no P2P: two copies, via host memory) at 12 GB/s") !=
                     std::string::npos, text.c_str());
        QVERIFY2(text.find("ms per token (32.0 KiB, copied twice)") != std::string::npos, text.c_str());
    }

    void fasterLinkPredictsFaster() {
        PlanRequest slow = two_gpu_request(), fast = two_gpu_request();
        slow.links = all_pairs(slow.devices.size(), Link{LinkKind::cross_socket, 8.0, 30.0});
        fast.links = all_pairs(fast.devices.size(), Link{LinkKind::nvlink, 56.25, 3.0});
        const Plan ps = make_plan(slow), pf = make_plan(fast);
        QVERIFY(pf.predicted_decode_tps > ps.predicted_decode_tps);
        QVERIFY(pf.predicted_prefill_tps > ps.predicted_prefill_tps);
        QVERIFY(decisions(pf).find("cuda0→cuda1 goes over NVLink at 56 GB/s") != std::string::npos);
        QVERIFY(decisions(ps).find("peer to peer across CPU sockets at 8.0 GB/s") != std::string::npos);
        // A staged link of the same speed costs more than a direct one (two copies).
        PlanRequest staged = fast;
        staged.links = all_pairs(staged.devices.size(), Link{LinkKind::staged, 56.25, 3.0});
        QVERIFY(make_plan(staged).predicted_decode_tps < pf.predicted_decode_tps);
    }

    void oneStageHasNoHandOff() {
        PlanRequest r;
        r.model = model_by_name("8b");
        r.devices = devices_by_spec("4090,4090");
        r.links = all_pairs(2, Link{LinkKind::staged, 1.0, 1000.0});
        const Plan p = make_plan(r);
        QVERIFY(p.fits);
        QVERIFY(p.handoffs.empty());
        PlanRequest plain = r;
        plain.links.clear();
        QCOMPARE(p.predicted_decode_tps, make_plan(plain).predicted_decode_tps);
    }

    // A MoE model's layers on GPUs hand each hosted layer's row to the CPU expert host and take
    // the sum back: over the GPU↔host link when the request gives one, as before when not.
    void expertHostCrossingsUseTheHostLink() {
        ModelShape s;
        s.n_layer = 8;
        s.n_embd = 2048;
        s.n_ff = 64;
        ModelFootprint m = make_footprint(s);
        m.n_expert = 32;
        m.n_expert_used = 4;
        m.n_ff_exp = 1024;
        const uint64_t experts = 3 * 32 * matrix_bytes(TensorType::Q4_0, 1024, 2048);
        m.layer_expert_bytes.assign(8, experts);
        m.cuda_layer_expert_bytes.assign(8, experts);
        for (size_t il = 0; il < 8; ++il) {
            m.layer_bytes[il] += experts;
            if (il < m.cuda_layer_bytes.size()) m.cuda_layer_bytes[il] += experts;
        }
        PlanRequest r;
        r.model = m;
        r.devices = {gpu(0, "RTX 4090", 24, 1000, 80), cpu_device("cpu", 128)};
        r.experts.mode = ExpertMode::cpu;
        const Plan p0 = make_plan(r);
        QVERIFY(p0.fits && p0.predicted_decode_tps > 0);
        PlanRequest unknown = r;
        unknown.links = all_pairs(2, Link{});
        QCOMPARE(make_plan(unknown).predicted_decode_tps, p0.predicted_decode_tps);  // bit for bit
        PlanRequest slow = r, fast = r;
        slow.links = all_pairs(2, Link{LinkKind::host_device, 2.0, 200.0});
        fast.links = all_pairs(2, Link{LinkKind::host_device, 50.0, 2.0});
        const Plan ps = make_plan(slow), pf = make_plan(fast);
        QVERIFY(pf.predicted_decode_tps > p0.predicted_decode_tps);
        QVERIFY(p0.predicted_decode_tps > ps.predicted_decode_tps);
        // 8 hosted layers, each over and back: 16 copies of the row at 2 GB/s plus 200 µs.
        const double row = 2048.0 * 4;
        const double slow_hand = 16 * (row / 2e9 + 200e-6), assumed = 16 * (row / 25e9 + 10e-6);
        QVERIFY(std::abs((1 / ps.predicted_decode_tps - 1 / p0.predicted_decode_tps) - (slow_hand - assumed)) < 1e-9);
    }

    void linkKindNamesRoundTrip() {
        for (LinkKind k : {LinkKind::unknown, LinkKind::nvlink, LinkKind::pcie_switch, LinkKind::host_bridge,
                           LinkKind::cross_socket, LinkKind::staged, LinkKind::host_device}) {
            LinkKind back = LinkKind::nvlink;
            QVERIFY(parse_link_kind(link_kind_name(k), back));
            QCOMPARE(static_cast<int>(back), static_cast<int>(k));
        }
        LinkKind k{};
        QVERIFY(parse_link_kind("PCIE_SWITCH", k));
        QCOMPARE(static_cast<int>(k), static_cast<int>(LinkKind::pcie_switch));
        QVERIFY(!parse_link_kind("infiniband", k));
    }
};

QTEST_GUILESS_MAIN(TestPlannerLinks)
#include "tst_planner_links.moc"
