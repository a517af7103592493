// The planner's layout decisions: many device sets and models under each split mode, with every
// invariant (tst_planner_fixtures.h) checked on every plan; then mode-specific behaviour.
#include <QtTest>

#include <thread>

#include "tst_planner_invariants.h"

using namespace strata;
using namespace planner_test;

Q_DECLARE_METATYPE(strata::SplitMode)
Q_DECLARE_METATYPE(strata::KvCacheType)

namespace {

PlanRequest request(const QString& model, const QString& devices, SplitMode mode,
                    const QString& ratios = {}, int64_t n_ctx = 4096, int n_seq = 1,
                    KvCacheType kv = KvCacheType::f16) {
    PlanRequest r;
    r.model = model_by_name(model);
    r.devices = devices_by_spec(devices);
    r.mode = mode;
    r.n_ctx = n_ctx;
    r.n_seq = n_seq;
    r.kv_type = kv;
    if (!ratios.isEmpty()) {
        const QStringList parts = ratios.split(',');
        for (int i = 0; i < parts.size() && i < static_cast<int>(r.devices.size()); ++i)
            r.devices[static_cast<size_t>(i)].ratio = parts[i].toDouble();
    }
    return r;
}

}  // namespace

class TestPlanner : public QObject {
    Q_OBJECT
private slots:
    void cases_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("devices");
        QTest::addColumn<SplitMode>("mode");
        QTest::addColumn<QString>("ratios");
        QTest::addColumn<qint64>("ctx");
        QTest::addColumn<int>("seqs");
        QTest::addColumn<KvCacheType>("kv");
        QTest::addColumn<int>("expectFits");  // 1, 0, or -1 = either

        const SplitMode modes[] = {SplitMode::fewest, SplitMode::even, SplitMode::ratios};
        struct Set {
            const char* model;
            const char* devices;
            const char* ratios;
            int fits;  // for fewest/even (ratios vary)
        };
        const Set sets[] = {
            {"7b", "4090", "1", 1},
            {"7b", "3090,4090", "1,1", 1},
            {"7b", "4090,4090,4090,4090", "1,1,1,1", 1},
            {"7b", "-h100,4090", "0,1", 1},
            {"70b", "4090", "1", 0},
            {"70b", "h100", "1", 1},
            {"70b", "4090,4060ti", "1,1", 0},
            {"70b", "4090,4090", "1,1", 1},
            {"70b", "4090,4090,4090", "1,1,1", 1},
            {"70b", "4090,6000", "1,2", 1},
            {"70b", "3090,cpu", "1,3", 1},
            {"70b", "3090,-cpu", "1,1", 0},
            {"70b", "a100,h100", "1,1", 1},
            {"70b", "3090,4090,6000,a100,h100,4090,3090,6000", "1,1,2,3,3,1,1,2", 1},
            {"70b", "3090,3090,3090,3090,3090,3090,3090,3090", "1,1,1,1,1,1,1,1", 1},
            {"70b", "6000,3090,-a100,4090,cpu", "2,1,5,1,0", 1},
            {"8b", "4090,cpu", "4,1", 1},
            {"8b", "3090,3090", "3,1", 1},
            {"8b", "6000,4090,3090", "2,1,1", 1},
            {"tied", "4090,4090", "1,1", 1},
            {"tied", "3090,cpu", "1,1", 1},
            {"tied", "-4090,-4090", "1,1", 0},
        };
        for (const Set& s : sets) {
            for (SplitMode m : modes) {
                for (int variant = 0; variant < 3; ++variant) {
                    qint64 ctx = 4096;
                    int seqs = 1;
                    KvCacheType kv = KvCacheType::f16;
                    if (variant == 1) { ctx = 32768; seqs = 2; }
                    if (variant == 2) { ctx = 16384; kv = KvCacheType::q8_0; }
                    const int fits = m == SplitMode::ratios || variant != 0 ? -1 : s.fits;
                    const QString name = QString("%1 on %2, %3 ratios %4, ctx %5x%6 %7")
                                             .arg(s.model, s.devices, split_mode_name(m), s.ratios)
                                             .arg(ctx).arg(seqs).arg(kv_cache_type_name(kv));
                    QTest::newRow(qPrintable(name)) << QString(s.model) << QString(s.devices) << m
                                                    << QString(s.ratios) << ctx << seqs << kv << fits;
                }
            }
        }
    }
    void cases() {
        QFETCH(QString, model);
        QFETCH(QString, devices);
        QFETCH(SplitMode, mode);
        QFETCH(QString, ratios);
        QFETCH(qint64, ctx);
        QFETCH(int, seqs);
        QFETCH(KvCacheType, kv);
        QFETCH(int, expectFits);
        const PlanRequest r = request(model, devices, mode, ratios, ctx, seqs, kv);
        const Plan p = make_plan(r);
        check_invariants(r, p);
        if (QTest::currentTestFailed()) return;
        if (expectFits >= 0)
            QVERIFY2(p.fits == (expectFits == 1), qPrintable(QString::fromStdString(format_plan(r, p))));
    }

    // fewest: the first card holds everything it can; later cards only when it is full.
    void fewestUsesFewestDevices() {
        const PlanRequest r = request("7b", "4090,4090,4090,4090", SplitMode::fewest);
        const Plan p = make_plan(r);
        QVERIFY(p.fits);
        QCOMPARE(p.devices.size(), size_t(1));
        QCOMPARE(p.stages.size(), size_t(1));
        QCOMPARE(p.stages[0].device_id, std::string("cuda0"));
        QVERIFY(p.stages[0].has_embedding && p.stages[0].has_output);
        int not_used = 0;
        for (const std::string& d : p.decisions) not_used += d.find("not used") != std::string::npos;
        QCOMPARE(not_used, 3);

        const PlanRequest big = request("70b", "4090,4090,4090,4090", SplitMode::fewest);
        const Plan pb = make_plan(big);
        check_invariants(big, pb);
        QVERIFY(pb.fits);
        QCOMPARE(pb.devices.size(), size_t(2));  // 2 full cards hold it; the others stay free
    }

    // even: layers in proportion to usable memory; every card roughly equally full.
    void evenSpreads_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("devices");
        QTest::newRow("7b 2x4090") << "7b" << "4090,4090";
        QTest::newRow("7b 4090+6000") << "7b" << "4090,6000";
        QTest::newRow("70b 3090+a100+6000") << "70b" << "3090,a100,6000";
        QTest::newRow("8b 3090,3090,3090") << "8b" << "3090,3090,3090";
        QTest::newRow("70b 8 mixed") << "70b" << "3090,4090,6000,a100,h100,4090,3090,6000";
    }
    void evenSpreads() {
        QFETCH(QString, model);
        QFETCH(QString, devices);
        const PlanRequest r = request(model, devices, SplitMode::even);
        const Plan p = make_plan(r);
        check_invariants(r, p);
        if (QTest::currentTestFailed()) return;
        QVERIFY(p.fits);
        QCOMPARE(p.devices.size(), r.devices.size());  // every card takes a share
        // Layers in proportion to usable memory, to within two layers.
        const std::vector<int> counts = layer_counts(r, p);
        double sum_cap = 0;
        for (const PlanDevice& d : r.devices) sum_cap += static_cast<double>(capacity_of(d));
        for (size_t d = 0; d < counts.size(); ++d) {
            const double want = r.model.n_layer * static_cast<double>(capacity_of(r.devices[d])) / sum_cap;
            QVERIFY2(std::abs(counts[d] - want) <= 2.0,
                     qPrintable(QString("device %1: %2 layers, proportion says %3\n").arg(d).arg(counts[d]).arg(want) +
                                QString::fromStdString(format_plan(r, p))));
        }
    }

    // The #1 complaint about other tools: the smallest card overfilled. Near-full models on sets
    // with one small card: whenever the model fits at all, even mode fits too, under capacity.
    void evenNeverOverfillsSmallest_data() {
        QTest::addColumn<QString>("devices");
        QTest::addColumn<qint64>("ctx");
        for (const char* set : {"3090,h100", "h100,3090", "3090,6000,3090", "a100,a100,3090",
                                "6000,4090", "4090,6000,cpu"})
            for (qint64 ctx : {4096, 32768, 65536, 98304, 131072})
                QTest::newRow(qPrintable(QString("%1 ctx %2").arg(set).arg(ctx))) << QString(set) << ctx;
    }
    void evenNeverOverfillsSmallest() {
        QFETCH(QString, devices);
        QFETCH(qint64, ctx);
        const PlanRequest r = request("70b", devices, SplitMode::even, {}, ctx);
        const Plan p = make_plan(r);
        check_invariants(r, p);
        if (QTest::currentTestFailed()) return;
        PlanRequest f = r;
        f.mode = SplitMode::fewest;
        QCOMPARE(p.fits, make_plan(f).fits);
        if (!p.fits) return;
        for (const DeviceUse& u : p.devices)
            QVERIFY2(u.total() <= u.capacity, qPrintable(QString::fromStdString(u.device_id)));
    }

    // ratios: largest remainder, exactly; a ratio of 0 gets nothing.
    void ratios_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("devices");
        QTest::addColumn<QString>("ratios");
        QTest::addColumn<QString>("expected");
        QTest::newRow("32 at 3:1") << "7b" << "4090,4090" << "3,1" << "24,8";
        QTest::newRow("32 at 1:1:1") << "7b" << "4090,4090,4090" << "1,1,1" << "11,11,10";
        QTest::newRow("32 at 0:1") << "7b" << "4090,4090" << "0,1" << "0,32";
        QTest::newRow("32 at 5:3") << "7b" << "4090,4090" << "5,3" << "20,12";
        QTest::newRow("32 at 1:2:2") << "7b" << "a100,a100,a100" << "1,2,2" << "6,13,13";
        QTest::newRow("5 at 1:1:1:1 (ties go first)") << "7b5" << "a100,a100,a100,a100" << "1,1,1,1" << "2,1,1,1";
        QTest::newRow("80 at 2:1:1") << "70b" << "a100,6000,6000" << "2,1,1" << "40,20,20";
        QTest::newRow("80 at 1:1:1") << "70b" << "a100,a100,a100" << "1,1,1" << "27,27,26";
        QTest::newRow("80 at 0.6:0.4") << "70b" << "h100,a100" << "0.6,0.4" << "48,32";
        QTest::newRow("24 at 1:0:2") << "tied" << "4090,4090,4090" << "1,0,2" << "8,0,16";
        QTest::newRow("disabled keeps no share") << "7b" << "4090,-4090,4090" << "1,5,1" << "16,0,16";
    }
    void ratios() {
        QFETCH(QString, model);
        QFETCH(QString, devices);
        QFETCH(QString, ratios);
        QFETCH(QString, expected);
        const PlanRequest r = request(model, devices, SplitMode::ratios, ratios);
        const Plan p = make_plan(r);
        check_invariants(r, p);
        if (QTest::currentTestFailed()) return;
        QStringList got;
        for (int c : layer_counts(r, p)) got << QString::number(c);
        QCOMPARE(got.join(','), expected);
    }

    // Ratios that overfill a card are kept as given and reported, with ratios that would fit.
    void ratiosOverfillReported() {
        const PlanRequest r = request("70b", "4060ti,h100", SplitMode::ratios, "1,1");
        const Plan p = make_plan(r);
        check_invariants(r, p);
        if (QTest::currentTestFailed()) return;
        QVERIFY(!p.fits);
        QCOMPARE(layer_counts(r, p), (std::vector<int>{40, 40}));
        QCOMPARE(p.shortfalls.size(), size_t(1));
        QVERIFY(QString::fromStdString(p.shortfalls[0]).startsWith("cuda0 (RTX 4060 Ti): needs "));
        bool split = false, fewest = false;
        for (const auto& s : plan_detail::suggest_fixes(r, p)) {
            split = split || s.text.find("--split") != std::string::npos;
            fewest = fewest || s.text == "split mode fewest fits";
            if (s.text.find("--split") != std::string::npos) {
                const Plan sp = make_plan(*s.request);
                QVERIFY(sp.fits);
                QCOMPARE(sp.devices.size(), size_t(2));  // still split over both, nearer 1:1 than fewest
                QVERIFY(layer_counts(*s.request, sp)[0] > 20);
            }
        }
        QVERIFY(split);
        QVERIFY(fewest);
    }

    void disabledNeverUsed() {
        for (SplitMode m : {SplitMode::fewest, SplitMode::even, SplitMode::ratios}) {
            const PlanRequest r = request("70b", "-h100,4090,-a100,4090,4090", m, "5,1,5,1,1");
            const Plan p = make_plan(r);
            check_invariants(r, p);
            for (const DeviceUse& u : p.devices) QVERIFY(u.device_id != "cuda0" && u.device_id != "cuda2");
            int skipped = 0;
            for (const std::string& d : p.decisions) skipped += d.find("skipped: disabled") != std::string::npos;
            QCOMPARE(skipped, 2);
        }
    }

    // Purity: the same request gives the same plan, from several threads at once.
    void pureAndThreadSafe() {
        const PlanRequest r = request("70b", "3090,4090,cpu", SplitMode::even, {}, 65536, 2);
        const std::string expected = format_plan(r, make_plan(r));
        std::vector<std::string> got(4);
        std::vector<std::thread> threads;
        for (size_t i = 0; i < got.size(); ++i)
            threads.emplace_back([&, i] { got[i] = format_plan(r, make_plan(r)); });
        for (auto& t : threads) t.join();
        for (const std::string& g : got) QCOMPARE(g, expected);
    }

    void names() {
        for (KvCacheType t : {KvCacheType::f32, KvCacheType::f16, KvCacheType::q8_0}) {
            KvCacheType back = KvCacheType::f32;
            QVERIFY(parse_kv_cache_type(kv_cache_type_name(t), back));
            QCOMPARE(back, t);
        }
        KvCacheType t = KvCacheType::f32;
        QVERIFY(parse_kv_cache_type("Q8_0", t));
        QCOMPARE(t, KvCacheType::q8_0);
        QVERIFY(!parse_kv_cache_type("q4_0", t));
        QVERIFY(!parse_kv_cache_type("", t));
        QCOMPARE(std::string(split_mode_name(SplitMode::fewest)), std::string("fewest"));
        QCOMPARE(std::string(split_mode_name(SplitMode::even)), std::string("even"));
        QCOMPARE(std::string(split_mode_name(SplitMode::ratios)), std::string("ratios"));
    }
};

QTEST_GUILESS_MAIN(TestPlanner)
#include "tst_planner.moc"
