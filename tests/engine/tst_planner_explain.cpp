// What the planner says: shortfalls, suggestions (each re-planned), decisions, pinning,
// speed predictions, the printed table, and refusals of impossible requests.
#include <QtTest>

#include <QRegularExpression>

#include "tst_planner_invariants.h"

using namespace strata;
using namespace planner_test;

namespace {

PlanRequest request(const QString& model, const QString& devices, SplitMode mode = SplitMode::fewest,
                    int64_t n_ctx = 4096, int n_seq = 1) {
    PlanRequest r;
    r.model = model_by_name(model);
    r.devices = devices_by_spec(devices);
    r.mode = mode;
    r.n_ctx = n_ctx;
    r.n_seq = n_seq;
    return r;
}

bool has_line(const std::vector<std::string>& lines, const QString& part) {
    for (const std::string& l : lines)
        if (QString::fromStdString(l).contains(part)) return true;
    return false;
}

QByteArray dump(const PlanRequest& r, const Plan& p) { return QByteArray::fromStdString("\n" + format_plan(r, p)); }

}  // namespace

class TestPlannerExplain : public QObject {
    Q_OBJECT
private slots:
    void shortfallSaysWhatIsShortWhere() {
        const PlanRequest r = request("70b", "4090,4060ti");
        const Plan p = make_plan(r);
        check_invariants(r, p);
        if (QTest::currentTestFailed()) return;
        QVERIFY(!p.fits);
        static const QRegularExpression re(
            R"(^cuda1 \(RTX 4060 Ti\): needs ([0-9.]+) GiB \(weights ([0-9.]+) GiB, KV cache ([0-9.]+) MiB, )"
            R"(scratch ([0-9.]+) (MiB|GiB)\), has ([0-9.]+) GiB usable: ([0-9.]+) GiB short$)");
        const auto m = re.match(QString::fromStdString(p.shortfalls.at(0)));
        QVERIFY2(m.hasMatch(), p.shortfalls.at(0).c_str());
        const double needs = m.captured(1).toDouble(), has = m.captured(6).toDouble(), short_ = m.captured(7).toDouble();
        QVERIFY(std::abs(needs - has - short_) <= 0.11);
        const double scratch_gib = m.captured(4).toDouble() / (m.captured(5) == "MiB" ? 1024 : 1);
        const double parts = m.captured(2).toDouble() + m.captured(3).toDouble() / 1024 + scratch_gib;
        QVERIFY(std::abs(parts - needs) <= 0.16);
        QCOMPARE(has, 14.6);
    }

    void shortfallInAll() {
        const PlanRequest r = request("70b", "3090,3090", SplitMode::even, 131072);
        const Plan p = make_plan(r);
        check_invariants(r, p);
        QVERIFY(!p.fits);
        QVERIFY2(has_line(p.shortfalls, "in all: weights"), dump(r, p));
        QVERIFY2(has_line(p.shortfalls, "2 enabled devices have 45.2 GiB usable"), dump(r, p));
    }

    void suggestions_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("devices");
        QTest::addColumn<int>("mode");
        QTest::addColumn<qint64>("ctx");
        QTest::addColumn<int>("seqs");
        QTest::addColumn<int>("pin");
        QTest::addColumn<QString>("expected");
        QTest::newRow("shorter context") << "8b" << "3090" << 0 << qint64(262144) << 1 << -1 << "--ctx ";
        QTest::newRow("q8_0 with shorter context") << "8b" << "3090" << 0 << qint64(524288) << 1 << -1 << "KV cache q8_0 with a context of";
        QTest::newRow("q8_0") << "8b" << "4090" << 0 << qint64(163840) << 1 << -1 << "KV cache q8_0 instead of f16 fits";
        QTest::newRow("fewer sequences") << "8b" << "4090" << 0 << qint64(32768) << 8 << -1 << "parallel sequences at once instead of 8 fits";
        QTest::newRow("enable a device") << "70b" << "-h100,4090" << 0 << qint64(4096) << 1 << -1 << "enable cuda0 (H100 80GB HBM3): fits";
        QTest::newRow("enable the cpu") << "70b" << "4090,-cpu" << 0 << qint64(4096) << 1 << -1 << "enable cpu (host CPU): fits";
        QTest::newRow("offload to the cpu") << "70b" << "4090,-cpu" << 0 << qint64(4096) << 1 << -1 << "offload what does not fit on the GPUs to the CPU (layers ";
        QTest::newRow("offload: cpu first in ratios") << "70b" << "cpu,4060ti" << 2 << qint64(4096) << 1 << -1 << "offload what does not fit";
        // ctx 0: the test picks the longest context that fits with a batch of 256, where 512 does not.
        QTest::newRow("smaller batch") << "70b" << "4090,4090" << 0 << qint64(0) << 1 << -1 << "a batch of 256 tokens instead of 512 fits";
        QTest::newRow("another mode") << "70b" << "4060ti,h100" << 2 << qint64(4096) << 1 << -1 << "split mode fewest fits";
        QTest::newRow("ratios that fit") << "70b" << "4060ti,h100" << 2 << qint64(4096) << 1 << -1 << "--split ";
        QTest::newRow("unpin") << "7b" << "4090,-cpu" << 0 << qint64(4096) << 1 << 1 << "unpin the token embedding";
        QTest::newRow("all together") << "70b" << "4090,-4090" << 0 << qint64(131072) << 2 << -1 << "all of these together fit";
        QTest::newRow("nothing fits") << "70b" << "3090" << 0 << qint64(4096) << 1 << -1 << "nothing fits on these devices";
    }
    void suggestions() {
        QFETCH(QString, model);
        QFETCH(QString, devices);
        QFETCH(int, mode);
        QFETCH(qint64, ctx);
        QFETCH(int, seqs);
        QFETCH(int, pin);
        QFETCH(QString, expected);
        if (ctx == 0) {  // the longest context a batch of 256 allows: batch 512 needs more scratch
            PlanRequest small = request(model, devices, static_cast<SplitMode>(mode), 4096, seqs);
            small.n_batch = 256;
            ctx = make_plan(small).max_ctx_that_fits;
            QVERIFY(ctx > 0);
        }
        PlanRequest r = request(model, devices, static_cast<SplitMode>(mode), ctx, seqs);
        if (mode == 2)
            for (PlanDevice& d : r.devices) d.ratio = 1;
        r.embedding_device = pin;
        const Plan p = make_plan(r);
        check_invariants(r, p);
        if (QTest::currentTestFailed()) return;
        QVERIFY(!p.fits);
        bool found = false;
        for (const auto& s : plan_detail::suggest_fixes(r, p)) {
            if (!QString::fromStdString(s.text).contains(expected)) continue;
            found = true;
            if (s.request) QVERIFY2(make_plan(*s.request).fits, s.text.c_str());  // re-planned, it fits
            else QVERIFY(expected.startsWith("nothing"));
        }
        QVERIFY2(found, dump(r, p));
    }

    void pinEmbeddingAndOutputToCpu() {
        PlanRequest r = request("7b", "4090,cpu");
        r.embedding_device = 1;
        r.output_device = 1;
        const Plan p = make_plan(r);
        check_invariants(r, p);
        if (QTest::currentTestFailed()) return;
        QVERIFY(p.fits);
        QCOMPARE(p.stages.size(), size_t(3));
        QCOMPARE(p.stages[0].device_id, std::string("cpu"));
        QCOMPARE(p.stages[0].layer_end, 0);
        QCOMPARE(p.stages[1].device_id, std::string("cuda0"));
        QCOMPARE(p.stages[2].device_id, std::string("cpu"));
        QCOMPARE(p.stages[2].layer_begin, 32);
        QCOMPARE(p.devices[1].weight_bytes,
                 r.model.embedding_bytes + r.model.output_bytes + r.model.output_norm_bytes);
        QCOMPARE(p.devices[1].kv_bytes, uint64_t(0));
        QVERIFY(has_line(p.decisions, "token embedding on cpu (pinned)"));
        QVERIFY(has_line(p.decisions, "output head on cpu (pinned)"));
        QCOMPARE(p.transfer_bytes_per_token, uint64_t(2 * 4096 * 4));
    }

    void tiedHeadCopiedWhereNeeded() {
        PlanRequest r = request("tied", "4090,4090");
        r.output_device = 1;
        const Plan p = make_plan(r);
        check_invariants(r, p);
        if (QTest::currentTestFailed()) return;
        QCOMPARE(p.devices.size(), size_t(2));
        QCOMPARE(p.devices[1].weight_bytes, r.model.embedding_bytes + r.model.output_norm_bytes);
        QVERIFY(has_line(p.decisions, "holds its own copy of the table"));
        // On one device too the table is held twice: the lookup reads rows in the file's
        // layout, the head's matmul its own layout (the runtime uploads both).
        const PlanRequest one = request("tied", "4090");
        const Plan p1 = make_plan(one);
        uint64_t layers = 0;
        for (uint64_t b : one.model.layer_bytes) layers += b;
        QCOMPARE(p1.devices[0].weight_bytes,
                 layers + 2 * one.model.embedding_bytes + one.model.output_norm_bytes);
        QVERIFY(has_line(p1.decisions, "holds the table twice"));
    }

    // A model with a type GPUs convert to a larger one (Q2_K is stored as Q8_0): the GPU's
    // budget counts the converted size, so it takes fewer layers than the file's sizes suggest,
    // and the decisions say why. A CPU-only plan is unchanged and says nothing of it.
    void gpuConversionIsBudgetedAndExplained() {
        PlanRequest r = request("70b", "4090,cpu");
        const Plan by_file = make_plan(r);
        ModelFootprint& m = r.model;
        for (uint64_t b : m.layer_bytes) m.cuda_layer_bytes.push_back(b * 5 / 2);
        m.cuda_embedding_bytes = m.embedding_bytes;
        m.cuda_output_bytes = m.output_bytes * 2;
        m.cuda_conversions.push_back({TensorType::Q2_K, TensorType::Q8_0, 560, 30 * kGiB, 75 * kGiB});
        const Plan p = make_plan(r);
        check_invariants(r, p);
        if (QTest::currentTestFailed()) return;
        QCOMPARE(p.stages.front().device_id, std::string("cuda0"));
        const int gpu_layers = p.stages.front().layer_end - p.stages.front().layer_begin;
        const int file_layers = by_file.stages.front().layer_end - by_file.stages.front().layer_begin;
        QVERIFY2(gpu_layers < file_layers && gpu_layers > 0, dump(r, p));
        QVERIFY2(p.devices[0].weight_bytes > p.devices[0].capacity / 2, dump(r, p));
        QVERIFY2(has_line(p.decisions, "560 Q2_K weights are stored as Q8_0 on GPUs, which have no Q2_K kernels "
                                       "in this build (30.0 GiB in the file, 75.0 GiB on the GPU"), dump(r, p));

        PlanRequest cpu_only = r;
        cpu_only.devices = devices_by_spec("cpu");
        const Plan c = make_plan(cpu_only);
        check_invariants(cpu_only, c);
        QVERIFY(!has_line(c.decisions, "stored as Q8_0"));
    }

    void pinToDisabledIsAnError() {
        PlanRequest r = request("7b", "4090,-cpu");
        r.embedding_device = 1;
        const Plan p = make_plan(r);
        check_invariants(r, p);
        if (QTest::currentTestFailed()) return;
        QVERIFY(!p.fits);
        for (const DeviceUse& u : p.devices) QVERIFY(u.device_id != "cpu");
        QVERIFY(has_line(p.shortfalls, "the token embedding is pinned to cpu (host CPU), which is disabled"));
        QVERIFY(has_line(p.decisions, "not possible: the token embedding is pinned to cpu"));
        QVERIFY(has_line(p.suggestions, "enable cpu (host CPU): fits"));
    }

    void pinOutOfRange() {
        PlanRequest r = request("7b", "4090");
        r.output_device = 5;
        const Plan p = make_plan(r);
        check_invariants(r, p);
        QVERIFY(!p.fits);
        QVERIFY(has_line(p.shortfalls, "the output head is pinned to device index 5, but there are only 1 devices"));
    }

    void pinsInEveryMode_data() {
        QTest::addColumn<int>("mode");
        QTest::addColumn<int>("emb");
        QTest::addColumn<int>("out");
        for (int mode = 0; mode < 3; ++mode)
            for (int emb = -1; emb < 3; ++emb)
                for (int out = -1; out < 3; ++out)
                    QTest::newRow(qPrintable(QString("%1 emb %2 out %3").arg(split_mode_name(static_cast<SplitMode>(mode))).arg(emb).arg(out)))
                        << mode << emb << out;
    }
    void pinsInEveryMode() {
        QFETCH(int, mode);
        QFETCH(int, emb);
        QFETCH(int, out);
        PlanRequest r = request("8b", "3090,6000,cpu", static_cast<SplitMode>(mode), 65536);
        r.devices[0].ratio = 1;
        r.devices[1].ratio = 2;
        r.embedding_device = emb;
        r.output_device = out;
        const Plan p = make_plan(r);
        check_invariants(r, p);
    }

    void speedSingleDevice() {
        const PlanRequest r = request("7b", "h100");
        const Plan p = make_plan(r);
        uint64_t read = r.model.output_bytes + r.model.output_norm_bytes;
        for (uint64_t b : r.model.layer_bytes) read += b;
        QVERIFY(std::abs(p.predicted_decode_tps - 3350e9 / static_cast<double>(read)) < 1e-9 * p.predicted_decode_tps);
        const double prefill = 989e12 / (32.0 * static_cast<double>(r.model.layer_flops_per_token));
        QVERIFY(std::abs(p.predicted_prefill_tps - prefill) < 1e-9 * prefill);
        QCOMPARE(p.transfer_bytes_per_token, uint64_t(0));
    }

    void speedTwoDevices() {
        PlanRequest r = request("7b", "h100,a100", SplitMode::ratios);
        r.devices[0].ratio = r.devices[1].ratio = 1;
        const Plan p = make_plan(r);
        check_invariants(r, p);
        uint64_t first = 0, second = r.model.output_bytes + r.model.output_norm_bytes;
        for (int il = 0; il < 32; ++il) (il < 16 ? first : second) += r.model.layer_bytes[static_cast<size_t>(il)];
        const double s = static_cast<double>(first) / 3350e9 + static_cast<double>(second) / 2039e9 +
                         4096.0 * 4 / 25e9 + 10e-6;
        QVERIFY(std::abs(p.predicted_decode_tps - 1 / s) < 1e-9 / s);
        QCOMPARE(p.transfer_bytes_per_token, uint64_t(4096 * 4));
        const double f = 16.0 * static_cast<double>(r.model.layer_flops_per_token);
        const double ps = f / 989e12 + f / 312e12 + 4096.0 * 4 / 25e9 + 10e-6 / 512;
        QVERIFY(std::abs(p.predicted_prefill_tps - 1 / ps) < 1e-9 / ps);
    }

    void speedUnknown() {
        PlanRequest r = request("7b", "h100,a100", SplitMode::even);
        r.devices[1].info.memory_bandwidth_gbs = 0;
        r.devices[1].info.matmul_tflops = 0;
        const Plan p = make_plan(r);
        QCOMPARE(p.predicted_decode_tps, 0.0);
        QCOMPARE(p.predicted_prefill_tps, 0.0);
        QVERIFY(format_plan(r, p).find("decode: unknown") != std::string::npos);
    }

    void oneGpuWouldBeFaster() {
        const PlanRequest r = request("7b", "h100,h100", SplitMode::even);
        const Plan p = make_plan(r);
        QVERIFY(p.fits);
        QVERIFY2(has_line(p.decisions, "one GPU would be faster: the model fits on cuda0 (H100 80GB HBM3) alone"), dump(r, p));
        const Plan single = make_plan(request("7b", "h100,h100"));
        QVERIFY(!has_line(single.decisions, "would be faster"));
    }

    void decisionsExplainChoices() {
        PlanRequest r = request("70b", "4090,4090,-4090,6000,cpu", SplitMode::even);
        r.devices[4].reserve_bytes = 4 * kGiB;
        const Plan p = make_plan(r);
        check_invariants(r, p);
        QVERIFY(p.fits);
        QVERIFY(has_line(p.decisions, "mode even: layers spread in proportion to usable memory"));
        QVERIFY(has_line(p.decisions, "cuda2 (RTX 4090) skipped: disabled"));
        QVERIFY(has_line(p.decisions, "kept 1.0 GiB reserve on each GPU"));
        QVERIFY(has_line(p.decisions, "kept 4.0 GiB reserve on the CPU"));
        QVERIFY(has_line(p.decisions, "the CPU takes layers because even mode spreads"));
        QVERIFY(has_line(p.decisions, "layers 0–"));
        QVERIFY(has_line(p.decisions, "token embedding on cuda0 (with the first layers)"));
        QVERIFY(has_line(p.decisions, "final norm and output head on cpu (with the last layers)"));
        QVERIFY(has_line(p.decisions, "KV cache f16: "));
    }

    void formatIsATable() {
        PlanRequest r = request("70b", "4090,4060ti");
        r.devices[1].info.name = "A very long device name that does not fit in its column";
        const Plan p = make_plan(r);
        const QStringList lines = QString::fromStdString(format_plan(r, p)).split('\n');
        QVERIFY(lines[0].endsWith("DOES NOT FIT"));
        const int header = lines.indexOf(QRegularExpression("^device +name +layers.*fits$"));
        QVERIFY(header > 0);
        const int col = static_cast<int>(lines[header].indexOf("fits"));
        for (int i = header + 1; i <= header + 3; ++i) {  // two devices and the sum row
            QVERIFY2(lines[i].indexOf(QRegularExpression("(yes|NO)$")) == col, qPrintable(lines[i]));
            QVERIFY(lines[i].size() <= lines[header].size());
        }
        QVERIFY(lines[header + 2].startsWith("cuda1     A very long device nam"));
        QVERIFY(lines.contains("decisions:") && lines.contains("shortfalls:") &&
                lines.contains("suggestions:") && lines.contains("predictions:"));
    }

    void refusesImpossibleRequests_data() {
        QTest::addColumn<int>("what");
        QTest::addColumn<QString>("says");
        QTest::newRow("no devices") << 0 << "no devices given";
        QTest::newRow("all disabled") << 1 << "every device is disabled";
        QTest::newRow("context 0") << 2 << "context length must be";
        QTest::newRow("batch 0") << 3 << "batch size must be";
        QTest::newRow("no sequences") << 4 << "parallel sequences must be";
        QTest::newRow("layer sizes missing") << 5 << "layer sizes for n_layer";
        QTest::newRow("no layers") << 6 << "the model has no layers";
        QTest::newRow("ratios all 0") << 7 << "split ratios are all 0";
        QTest::newRow("negative ratio") << 8 << "must be a number ≥ 0";
    }
    void refusesImpossibleRequests() {
        QFETCH(int, what);
        QFETCH(QString, says);
        PlanRequest r = request("7b", "4090,4090", what >= 7 ? SplitMode::ratios : SplitMode::fewest);
        switch (what) {
            case 0: r.devices.clear(); break;
            case 1: for (PlanDevice& d : r.devices) d.enabled = false; break;
            case 2: r.n_ctx = 0; break;
            case 3: r.n_batch = 0; break;
            case 4: r.n_seq = 0; break;
            case 5: r.model.layer_bytes.pop_back(); break;
            case 6: r.model.n_layer = 0; r.model.layer_bytes.clear(); break;
            case 7: break;
            case 8: r.devices[0].ratio = -1; r.devices[1].ratio = 2; break;
        }
        const Plan p = make_plan(r);
        QVERIFY(!p.fits);
        QVERIFY(p.stages.empty());
        QVERIFY2(has_line(p.shortfalls, says), dump(r, p));
        QVERIFY(!format_plan(r, p).empty());
    }

    void maxContext() {
        const PlanRequest r = request("8b", "4090");
        const Plan p = make_plan(r);
        check_invariants(r, p);
        QVERIFY(p.fits);
        QVERIFY(p.max_ctx_that_fits > 4096);
        PlanRequest two = r;
        two.n_seq = 2;
        const Plan p2 = make_plan(two);
        QVERIFY(p2.max_ctx_that_fits < p.max_ctx_that_fits);
        PlanRequest q8 = r;
        q8.kv_type = KvCacheType::q8_0;
        QVERIFY(make_plan(q8).max_ctx_that_fits > p.max_ctx_that_fits);
        // The same figure whatever context was asked for.
        PlanRequest at = r;
        at.n_ctx = p.max_ctx_that_fits;
        QCOMPARE(make_plan(at).max_ctx_that_fits, p.max_ctx_that_fits);
    }
};

QTEST_GUILESS_MAIN(TestPlannerExplain)
#include "tst_planner_explain.moc"
