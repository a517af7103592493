// "Measure links" (LinkProbeService and the Topology view's button): what the worker says about
// the links reaches DeviceMonitor (so the view draws this machine's matrix), a measurement runs
// on the worker and its outcome is shown in words, and the button is disabled with the reason
// where nothing can be measured (no GPU, a simulated machine). The worker runs a FakeBackend:
// the real probe needs GPUs (its timing code is the CUDA module's, run by device_check.sh).
#include <QtTest>

#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>

#include "devices/device_monitor.h"
#include "devices/link_probe_service.h"
#include "topology/link_matrix.h"
#include "topology/topology_view.h"
#include "worker_fixture.h"

using namespace strata;
using namespace strata::app;
using strata::test::FakeScript;

namespace {

DeviceInfo gpu(const char* id, const char* bus) {
    DeviceInfo d;
    d.id = id;
    d.name = "NVIDIA Test GPU";
    d.type = DeviceType::cuda;
    d.total_memory = 24ull << 30;
    d.free_memory = 23ull << 30;
    d.pci_bus_id = bus;
    return d;
}

DeviceInfo cpu() {
    DeviceInfo d;
    d.id = "cpu";
    d.name = "Test CPU";
    d.type = DeviceType::cpu;
    d.total_memory = 64ull << 30;
    d.free_memory = 60ull << 30;
    return d;
}

LinkMatrix matrix(LinkKind kind, double gbs) {
    LinkMatrix m(3, std::vector<Link>(3));
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j)
            if (i != j) m[size_t(i)][size_t(j)] = Link{kind, gbs, 10};
    return m;
}

FakeScript twoGpus() {
    FakeScript s;
    s.devices = {gpu("cuda0", "0000:18:00.0"), gpu("cuda1", "0000:3b:00.0"), cpu()};
    s.links = matrix(LinkKind::staged, 25);
    s.measuredLinks = matrix(LinkKind::staged, 11.8);
    s.linkReport.links = {{"host", "cuda0", "host", 24.1, 40.0, 9.0},
                          {"cuda0", "cuda1", "staged", 11.8, 20.5, 31.0},
                          {"cuda1", "cuda0", "staged", 12.3, 20.5, 30.0}};
    s.linkReport.stored_at = "/data/strata/links-0123456789abcdef.json";
    return s;
}

}  // namespace

class TestLinkProbe : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { qputenv("STRATA_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1"); }

    // The worker's links for the described devices land in the monitor; a measurement runs on
    // the worker, its summary names the slowest link and the file, and the matrix is re-read.
    void measuresAndUpdatesTheMatrix() {
        test::WorkerFixture f(twoGpus());
        DeviceMonitor monitor(f.worker.get(), f.model.get());
        LinkProbeService probe(*f.worker, monitor, /*simulated=*/false);
        QSignalSpy links(&monitor, &DeviceMonitor::linksChanged);
        // As the App does: the described devices go to the monitor, the links follow.
        connect(f.worker.get(), &EngineWorker::devicesDescribed, &monitor,
                [&](const DeviceSpecList&, const DeviceInfoList& infos, const QString& status) {
                    monitor.setDevices(devicesFromInfos(infos), status);
                });
        f.worker->requestDevices({});
        QTRY_VERIFY(!monitor.links().empty());
        QCOMPARE(monitor.links()[0][1].gbs, 25.0);

        QString why;
        QVERIFY2(probe.canMeasure(&why), qPrintable(why));
        QSignalSpy state(&probe, &LinkProbeService::stateChanged);
        QVERIFY(probe.measure());
        QVERIFY(probe.isMeasuring());
        QVERIFY(!probe.canMeasure(&why));  // one at a time
        QVERIFY(why.contains("running"));
        QTRY_VERIFY(!probe.isMeasuring());
        QVERIFY2(probe.lastResult().contains("3 directions"), qPrintable(probe.lastResult()));
        QVERIFY2(probe.lastResult().contains("cuda0 → cuda1 (staged through host memory), 11.8 GB/s"),
                 qPrintable(probe.lastResult()));
        QVERIFY(probe.lastResult().contains("links-0123456789abcdef.json"));
        QTRY_COMPARE(monitor.links()[0][1].gbs, 11.8);  // re-read after the measurement
        QVERIFY(state.count() >= 2);

        // The view: the button is enabled, the result is shown, a click starts another.
        ui::TopologyView view(monitor);
        QVERIFY(!view.measureLinksButton()->isVisibleTo(&view));  // no probe set: no button
        view.setLinkProbe(&probe);
        QVERIFY(view.measureLinksButton()->isVisibleTo(&view));
        QVERIFY(view.measureLinksButton()->isEnabled());
        QVERIFY(view.linkProbeStatus()->text().contains("11.8 GB/s"));
        QVERIFY(view.linkMatrix()->isVisibleTo(&view));  // this machine's links are drawn
        view.measureLinksButton()->click();
        QVERIFY(probe.isMeasuring());
        QVERIFY(!view.measureLinksButton()->isEnabled());
        QCOMPARE(view.measureLinksButton()->text(), QStringLiteral("Measuring…"));
        QTRY_VERIFY(!probe.isMeasuring());
        QVERIFY(view.measureLinksButton()->isEnabled());
    }

    void failureIsShownInWords() {
        FakeScript s = twoGpus();
        s.failLinks = "cudaMemcpyPeerAsync: an illegal memory access was encountered";
        test::WorkerFixture f(s);
        DeviceMonitor monitor(f.worker.get(), f.model.get());
        monitor.setDevices(devicesFromInfos(QList<DeviceInfo>(s.devices.begin(), s.devices.end())), "2 CUDA devices");
        LinkProbeService probe(*f.worker, monitor, false);
        QVERIFY(probe.measure());
        QTRY_VERIFY(!probe.isMeasuring());
        QCOMPARE(probe.lastResult(),
                 QStringLiteral("Measuring the links failed: cudaMemcpyPeerAsync: an illegal memory access was encountered"));
        QVERIFY(probe.canMeasure());  // it may be tried again
    }

    // Without a GPU, and on a simulated machine, nothing is measured and the button says why.
    void nothingToMeasure() {
        test::WorkerFixture f;  // the fake's devices: the CPU alone
        DeviceMonitor monitor(f.worker.get(), f.model.get());
        monitor.setDevices(devicesFromInfos({cpu()}), "no CUDA devices found: no NVIDIA driver");
        LinkProbeService probe(*f.worker, monitor, false);
        QString why;
        QVERIFY(!probe.canMeasure(&why));
        QVERIFY2(why.contains("needs NVIDIA GPUs") && why.contains("no NVIDIA driver"), qPrintable(why));
        QVERIFY(!probe.measure());
        ui::TopologyView view(monitor);
        view.setLinkProbe(&probe);
        QVERIFY(!view.measureLinksButton()->isVisibleTo(&view));  // the summary says why already

        // A simulated machine: its profile's links stay, whatever the worker says.
        FakeScript s = twoGpus();
        test::WorkerFixture g(s);
        DeviceMonitor simulated(g.worker.get(), g.model.get());
        simulated.setDevices(devicesFromInfos(QList<DeviceInfo>(s.devices.begin(), s.devices.end())), "simulated");
        const LinkMatrix profile = matrix(LinkKind::nvlink, 300);
        simulated.setLinks(profile);
        LinkProbeService simProbe(*g.worker, simulated, /*simulated=*/true);
        g.worker->requestDevices({});
        QTest::qWait(200);  // the worker's linksDescribed arrives and is ignored
        QCOMPARE(simulated.links()[0][1].gbs, 300.0);
        QVERIFY(!simProbe.canMeasure(&why));
        QVERIFY2(why.contains("simulated"), qPrintable(why));
        ui::TopologyView simView(simulated);
        simView.setLinkProbe(&simProbe);
        QVERIFY(simView.measureLinksButton()->isVisibleTo(&simView));
        QVERIFY(!simView.measureLinksButton()->isEnabled());
        QCOMPARE(simView.measureLinksButton()->toolTip(), why);
        QCOMPARE(simView.linkProbeStatus()->text(), why);
    }
};

QTEST_MAIN(TestLinkProbe)
#include "tst_link_probe.moc"
