// The measured-link store and its merge over the NVML topology (strata/link_store.h): the
// fingerprint (stable, order-free, changed by a moved card or a new driver), the data directory,
// JSON round trip and refusals, measured beats nominal, and machine_links — the function
// Engine::plan/load call — against the fake libnvidia-ml and a stored file in a temporary
// XDG_DATA_HOME. (Engine calling it is not tested here: without CUDA no GPU is described.)
#include <fstream>

#include <QTemporaryDir>
#include <QtTest>

#include "fake_nvml.h"
#include "fake_nvml_box.h"
#include "strata/link_store.h"

using namespace strata;

namespace {

// The fake's box (tests/common/fake_nvml_box.h): CUDA devices by bus id, and the host.
DeviceInfo gpu(const char* id, const char* name, const char* bus_id) { return test::fakeNvmlGpu(id, bus_id, name); }
DeviceInfo cpu() { return test::fakeNvmlHost("Some CPU"); }
const auto& kBus = test::kFakeNvmlBus;
std::vector<DeviceInfo> fake_machine() { return test::fakeNvmlMachine("Some CPU"); }

LinkMeasurements sample() {
    LinkMeasurements m;
    m.machine = "driver 575.51.03; Fake GPU 0 @ 0000:18:00.0";
    m.fingerprint = machine_fingerprint(m.machine);
    m.measured_at = "2026-12-07T16:40:00Z";
    m.links = {{kBus[0], kBus[1], true, 181.5, 350.25, 8.5},
               {kBus[1], kBus[2], false, 9.75, 0, 31},
               {kHostEndpoint, kBus[0], false, 24.5, 0, 9},
               {kBus[0], kHostEndpoint, false, 26.25, 45.5, 7.5}};
    return m;
}

}  // namespace

class TestLinkStore : public QObject {
    Q_OBJECT

private slots:
    void fingerprint() {
        const auto m = fake_machine();
        const std::string text = machine_fingerprint_text(m, "575.51.03");
        QCOMPARE(text, std::string("driver 575.51.03; Fake GPU 0 @ 0000:18:00.0; Fake GPU 1 @ 0000:3b:00.0; "
                                   "Fake GPU 2 @ 0000:86:00.0; Fake GPU 3 @ 0000:af:00.0"));
        // CUDA's order (CUDA_DEVICE_ORDER) and the bus id's spelling do not matter.
        auto shuffled = m;
        std::swap(shuffled[0], shuffled[3]);
        shuffled[1].pci_bus_id = "00000000:3B:00.0";
        QCOMPARE(machine_fingerprint_text(shuffled, "575.51.03"), text);
        const std::string fp = machine_fingerprint(text);
        QCOMPARE(fp.size(), size_t(16));
        QCOMPARE(machine_fingerprint(text), fp);
        QVERIFY(machine_fingerprint(machine_fingerprint_text(m, "575.51.04")) != fp);  // new driver
        auto moved = m;
        moved[2].pci_bus_id = "0000:87:00.0";
        QVERIFY(machine_fingerprint(machine_fingerprint_text(moved, "575.51.03")) != fp);
        QCOMPARE(machine_fingerprint(""), std::string("cbf29ce484222325"));  // FNV-1a's offset basis
    }

    void dataDir() {
        const QByteArray xdg = qgetenv("XDG_DATA_HOME"), home = qgetenv("HOME");
        qputenv("XDG_DATA_HOME", "/tmp/xdg-test");
        QCOMPARE(link_store_path("0123456789abcdef"), std::string("/tmp/xdg-test/strata/links-0123456789abcdef.json"));
        qputenv("XDG_DATA_HOME", "relative/not/used");
        qputenv("HOME", "/home/someone");
        QCOMPARE(strata_data_dir(), std::string("/home/someone/.local/share/strata"));
        qunsetenv("XDG_DATA_HOME");
        QCOMPARE(strata_data_dir(), std::string("/home/someone/.local/share/strata"));
        qputenv("HOME", home);
        if (xdg.isNull()) qunsetenv("XDG_DATA_HOME"); else qputenv("XDG_DATA_HOME", xdg);
    }

    void roundTrip() {
        QTemporaryDir dir;
        const std::string path = dir.path().toStdString() + "/a/b/links.json";
        const LinkMeasurements m = sample();
        QVERIFY(save_link_measurements(m, path).ok());
        QVERIFY(!QFile::exists(QString::fromStdString(path + ".partial")));
        auto back = load_link_measurements(path);
        QVERIFY2(back.ok(), back.status().message().c_str());
        QCOMPARE(back->fingerprint, m.fingerprint);
        QCOMPARE(back->measured_at, m.measured_at);
        QCOMPARE(back->links.size(), m.links.size());
        for (size_t i = 0; i < m.links.size(); ++i) {
            QCOMPARE(back->links[i].from, m.links[i].from);
            QCOMPARE(back->links[i].to, m.links[i].to);
            QCOMPARE(back->links[i].peer, m.links[i].peer);
            QCOMPARE(back->links[i].gbs, m.links[i].gbs);
            QCOMPARE(back->links[i].bidir_gbs, m.links[i].bidir_gbs);
            QCOMPARE(back->links[i].latency_us, m.links[i].latency_us);
        }
        QVERIFY(back->find(kBus[0], kBus[1]) && !back->find(kBus[1], kBus[0]));
        QCOMPARE(load_link_measurements(dir.path().toStdString() + "/none.json").status().code(), ErrorCode::not_found);
    }

    void refusesBadFiles_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("error");
        const std::string fp = machine_fingerprint("m");
        const QString head = QString::fromStdString(R"({"format":1,"fingerprint":")" + fp +
                                                    R"(","machine":"m","measured_at":"t","links":)");
        QTest::newRow("not json") << "{" << "x.json: not a JSON object";
        QTest::newRow("format") << R"({"format":2})" << "x.json: format must be 1";
        QTest::newRow("fingerprint") << R"({"format":1,"fingerprint":"00","machine":"m","measured_at":"t","links":[]})"
                                     << "x.json: fingerprint does not match the machine text";
        QTest::newRow("links") << head + "{}}" << "x.json: links must be an array";
        QTest::newRow("endpoint") << head + R"([{"from":"gpu","to":"host","gbs":1}]})"
                                  << R"(x.json: links[0].from must be "host" or a PCI bus id)";
        QTest::newRow("self") << head + R"([{"from":"host","to":"host","gbs":1}]})" << "x.json: links[0] links an end to itself";
        QTest::newRow("gbs missing") << head + R"([{"from":"host","to":"0000:18:00.0"}]})" << "x.json: links[0].gbs is missing";
        QTest::newRow("gbs zero") << head + R"([{"from":"host","to":"0000:18:00.0","gbs":0}]})" << "x.json: links[0].gbs must be > 0";
        QTest::newRow("negative") << head + R"([{"from":"host","to":"0000:18:00.0","gbs":1,"latency_us":-1}]})"
                                  << "x.json: links[0].latency_us must be a number from 0 to 1e6";
        QTest::newRow("peer") << head + R"([{"from":"host","to":"0000:18:00.0","gbs":1,"peer":1}]})"
                              << "x.json: links[0].peer must be true or false";
    }
    void refusesBadFiles() {
        QFETCH(QString, json);
        QFETCH(QString, error);
        auto r = parse_link_measurements(json.toStdString(), "x.json");
        QVERIFY(!r.ok());
        QCOMPARE(QString::fromStdString(r.status().message()), error);
    }

    // Measured beats nominal: speeds and latency replaced; a staged measurement (one figure for
    // both copies) becomes per-copy figures; pairs without a measurement keep the nominal link.
    void measuredBeatsNominal() {
        const std::vector<DeviceInfo> devices = {gpu("cuda0", "", kBus[1]), gpu("cuda1", "", kBus[0]), cpu(),
                                                 gpu("cuda2", "", kBus[2])};
        LinkMatrix links(4, std::vector<Link>(4));
        links[1][0] = {LinkKind::nvlink, 100, 0};
        links[0][1] = {LinkKind::nvlink, 100, 0};
        links[0][3] = {LinkKind::host_bridge, 25.2, 0};
        links[3][0] = {LinkKind::host_bridge, 25.2, 0};
        const int n = apply_link_measurements(links, devices, sample());
        QCOMPARE(n, 4);
        QCOMPARE(links[1][0].kind, LinkKind::nvlink);  // cuda1 (bus 18) → cuda0 (bus 3b)
        QCOMPARE(links[1][0].gbs, 181.5);
        QCOMPARE(links[1][0].latency_us, 8.5);
        QCOMPARE(links[0][1].gbs, 100.0);              // not measured that way round: nominal
        QCOMPARE(links[0][3].kind, LinkKind::staged);  // measured staged: P2P did not work
        QCOMPARE(links[0][3].gbs, 19.5);
        QCOMPARE(links[0][3].latency_us, 15.5);
        QCOMPARE(links[3][0].kind, LinkKind::host_bridge);
        QCOMPARE(links[2][1].kind, LinkKind::host_device);  // host → bus 18
        QCOMPARE(links[2][1].gbs, 24.5);
        QCOMPARE(links[1][2].gbs, 26.25);
        QVERIFY(!links[2][0].known());
        // An unknown pair measured as a peer copy becomes a peer link.
        LinkMatrix empty;
        LinkMeasurements m = sample();
        m.links = {{kBus[2], kBus[1], true, 20, 0, 0}};
        QCOMPARE(apply_link_measurements(empty, devices, m), 1);
        QCOMPARE(empty.size(), size_t(4));
        QCOMPARE(empty[3][0].kind, LinkKind::pcie_switch);
        QCOMPARE(empty[3][0].latency_us, 0.0);
    }

    // What Engine::plan/load use: the fake's topology, then this machine's measurements when the
    // fingerprint matches, nothing of another machine's.
    void machineLinks() {
        FakeNvmlControls fake(STRATA_FAKE_NVML);
        QVERIFY2(fake.error.empty(), fake.error.c_str());
        fake.reset(3, 4);
        QTemporaryDir dir;
        const QByteArray xdg = qgetenv("XDG_DATA_HOME");
        qputenv("XDG_DATA_HOME", dir.path().toUtf8());
        const std::vector<DeviceInfo> machine = fake_machine();
        const std::vector<DeviceInfo> devices = {machine[1], machine[0], machine[4]};

        MachineLinks here = machine_links(devices, machine, STRATA_FAKE_NVML);
        LinkMatrix& links = here.links;
        std::vector<std::string>& notes = here.notes;
        QCOMPARE(here.measured, 0);
        QCOMPARE(links.size(), size_t(3));
        QCOMPARE(links[0][1].kind, LinkKind::nvlink);
        QCOMPARE(links[0][1].gbs, 100.0);  // nominal: 4 × 25
        QCOMPARE(links[2][0].kind, LinkKind::host_device);
        QCOMPARE(notes.size(), size_t(2));
        QCOMPARE(notes[0], std::string("links: NVML topology (nominal speeds)"));
        QCOMPARE(notes[1], std::string("links: not measured on this machine (strata-cli probe links)"));

        LinkMeasurements m = sample();
        m.machine = machine_fingerprint_text(machine, "575.51.03");  // the fake's driver
        m.fingerprint = machine_fingerprint(m.machine);
        const std::string path = link_store_path(m.fingerprint);
        QVERIFY(path.rfind(dir.path().toStdString() + "/strata/links-", 0) == 0);
        QVERIFY(save_link_measurements(m, path).ok());
        here = machine_links(devices, machine, STRATA_FAKE_NVML);
        QCOMPARE(here.measured, 3);
        QCOMPARE(links[1][0].gbs, 181.5);  // measured bus 18 → 3b
        QCOMPARE(links[1][0].kind, LinkKind::nvlink);
        QCOMPARE(links[0][1].gbs, 100.0);
        QCOMPARE(links[2][1].gbs, 24.5);
        QCOMPARE(notes.back(), "links: 3 measured 2026-12-07T16:40:00Z (" + path + ")");

        // Another machine (a card swapped): its measurements are not used.
        std::vector<DeviceInfo> other = machine;
        other[3].name = "Fake GPU 9";
        here = machine_links(devices, other, STRATA_FAKE_NVML);
        QCOMPARE(links[1][0].gbs, 100.0);
        QCOMPARE(notes.back(), std::string("links: not measured on this machine (strata-cli probe links)"));

        // A damaged file is ignored with the reason.
        { std::ofstream(path) << "{"; }
        here = machine_links(devices, machine, STRATA_FAKE_NVML);
        QCOMPARE(links[1][0].gbs, 100.0);
        QCOMPARE(notes.back(), "links: ignoring " + path + ": not a JSON object");

        // No GPU among the devices: nothing loaded, nothing said.
        here = machine_links({machine[4]}, machine, STRATA_FAKE_NVML);
        QVERIFY(links.empty() && notes.empty());
        // No NVML: unknown kinds, the reason said.
        here = machine_links(devices, machine, "/nonexistent/libnvidia-ml.so.1");
        QVERIFY(!links[0][1].known());
        QVERIFY2(notes[0].rfind("links: topology unavailable: cannot load", 0) == 0, notes[0].c_str());
        if (xdg.isNull()) qunsetenv("XDG_DATA_HOME"); else qputenv("XDG_DATA_HOME", xdg);
    }
};

QTEST_GUILESS_MAIN(TestLinkStore)
#include "tst_link_store.moc"
