// The bench results log (strata/bench_log.h) and the planner's calibration from it
// (strata/calibration.h): append and read back, a corrupt line skipped with a warning, reads of
// the log's end only (bounded) and a half-written last line skipped quietly, a missing
// or unwritable directory an error Status (never a crash); the median over the recent runs of a
// class, class matching (CPU model + ISA + threads, GPU name), the counts, the off switch, the
// seed file; and the planner applying factors — raw and calibrated predictions, the explanation
// text — with uncalibrated plans unchanged bit for bit. Hermetic: XDG_DATA_HOME is a temp dir.
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>

#include "strata/bench_log.h"
#include "strata/calibration.h"
#include "strata/machine_profile.h"
#include "strata/whatif.h"
#include "tst_planner_fixtures.h"
#include "util/cpu_features.h"

using namespace strata;
using namespace planner_test;

namespace {

BenchRecordDevice cpu_rec(int threads, const std::string& isa = "avx512_vnni") {
    BenchRecordDevice d;
    d.id = "cpu";
    d.kind = "cpu";
    d.name = "Test CPU @ 2.80GHz (" + std::to_string(threads) + " threads)";
    d.threads = threads;
    d.isa = isa;
    return d;
}

BenchRecordDevice gpu_rec(const std::string& id, const std::string& name) {
    BenchRecordDevice d;
    d.id = id;
    d.kind = "cuda";
    d.name = name;
    return d;
}

// A single-device run: measured decode/prefill against the raw prediction.
BenchRecord record(const BenchRecordDevice& dev, double decode, double predicted_decode, double prefill,
                   double predicted_prefill, const std::string& id) {
    BenchRecord r;
    r.id = id;
    r.time_utc = "2026-12-07T19:00:00Z";
    r.version = "0.1.0";
    r.source = "cli";
    r.machine = "cpu Test CPU avx512_vnni";
    r.fingerprint = "0123456789abcdef";
    r.devices = {dev};
    r.model_name = "tiny";
    r.model_arch = "llama";
    r.weight_type = "Q8_0";
    r.file_bytes = 123456;
    r.decode_bytes = 100000;
    r.flops_per_token = 2e6;
    r.n_ctx = 64;
    r.stages = {{dev.id, 0, 3}};
    r.tests = {{"pp8", true, 8, prefill}, {"tg4", false, 4, decode}};
    r.predicted_decode_tps = predicted_decode;
    r.predicted_prefill_tps = predicted_prefill;
    return r;
}

}  // namespace

class TestBenchLog : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        qputenv("XDG_DATA_HOME", dir_.filePath("xdg").toUtf8());
        qunsetenv("STRATA_NO_CALIBRATION");
    }

    void pathIsUnderTheDataDir() {
        QCOMPARE(QString::fromStdString(bench_log_path()), dir_.filePath("xdg/strata/bench-results.jsonl"));
    }

    void appendAndReadBack() {
        const std::string path = dir_.filePath("a/b/log.jsonl").toStdString();  // directories created
        BenchRecord r = record(cpu_rec(2), 20.5, 25, 140.25, 150, "id-1");
        r.read_gbs = 18.5;
        r.devices[0].cache_bytes = 503316480;
        r.calibrated_decode_tps = 19.75;
        r.depth = 3;
        QVERIFY(append_bench_record(r, path).ok());
        QVERIFY(append_bench_record(record(gpu_rec("cuda0", "NVIDIA H100 80GB HBM3"), 600, 3000, 40000, 300000, "id-2"), path).ok());
        const BenchLog log = read_bench_log(path);
        QVERIFY(log.warnings.empty());
        QCOMPARE(log.records.size(), size_t(2));
        const BenchRecord& a = log.records[0];
        QCOMPARE(a.id, std::string("id-1"));
        QCOMPARE(a.devices.size(), size_t(1));
        QCOMPARE(a.devices[0].isa, std::string("avx512_vnni"));
        QCOMPARE(a.devices[0].threads, 2);
        QCOMPARE(a.devices[0].cache_bytes, uint64_t(503316480));
        QCOMPARE(a.weight_type, std::string("Q8_0"));
        QCOMPARE(a.decode_bytes, uint64_t(100000));
        QCOMPARE(a.stages.size(), size_t(1));
        QCOMPARE(a.stages[0].layer_end, 3);
        QCOMPARE(a.tests.size(), size_t(2));
        QCOMPARE(a.measured_decode_tps(), 20.5);
        QCOMPARE(a.measured_prefill_tps(), 140.25);
        QCOMPARE(a.predicted_decode_tps, 25.0);
        QCOMPARE(a.calibrated_decode_tps, 19.75);
        QCOMPARE(a.read_gbs, 18.5);
        QCOMPARE(a.depth, 3);
        QCOMPARE(log.records[1].devices[0].kind, std::string("cuda"));
        // The JSON line round-trips to itself.
        QCOMPARE(bench_record_to_json(a), bench_record_to_json(r));
    }

    void corruptLineIsSkippedWithAWarning() {
        const std::string path = dir_.filePath("corrupt.jsonl").toStdString();
        QVERIFY(append_bench_record(record(cpu_rec(2), 20, 25, 140, 150, "good-1"), path).ok());
        {
            std::ofstream out(path, std::ios::app);
            out << "{\"format\": 1, \"id\": \"x\", \"tests\": [{\"name\": \"tg4\"\n";  // cut short
            out << "not json at all\n\n";
            out << "{\"format\": 1, \"id\": \"y\", \"time_utc\": \"t\", \"tests\": [{\"name\": 5, \"tokens_per_second\": 1}]}\n";
        }
        QVERIFY(append_bench_record(record(cpu_rec(2), 21, 25, 141, 150, "good-2"), path).ok());
        const BenchLog log = read_bench_log(path);
        QCOMPARE(log.records.size(), size_t(2));
        QCOMPARE(log.records[1].id, std::string("good-2"));
        QCOMPARE(log.warnings.size(), size_t(3));
        QVERIFY2(QString::fromStdString(log.warnings[0]).startsWith("corrupt.jsonl:2: skipped"), log.warnings[0].c_str());
    }

    // The log only grows: a read takes its end. The window starts at the first line that begins
    // inside it (the cut line is skipped without a warning), whatever the byte before it is; a
    // log shorter than the window is read whole.
    void readsOnlyTheLogsEnd() {
        const std::string path = dir_.filePath("long.jsonl").toStdString();
        const int n = 60;
        for (int i = 0; i < n; ++i)
            QVERIFY(append_bench_record(record(cpu_rec(2), 20 + i, 25, 140, 150, "r" + std::to_string(i)), path).ok());
        const uint64_t size = std::filesystem::file_size(path);
        // The last two lines' length (ids r58, r59: the values are the same length too).
        const uint64_t line = bench_record_to_json(record(cpu_rec(2), 20 + n - 1, 25, 140, 150, "r59")).size() + 1;

        const BenchLog all = read_bench_log(path);  // the default window (4 MiB) holds it all
        QVERIFY(all.whole);
        QCOMPARE(all.records.size(), size_t(n));
        QCOMPARE(all.bytes_read, size);

        const BenchLog tail = read_bench_log(path, size / 3);
        QVERIFY(!tail.whole);
        QVERIFY2(tail.warnings.empty(), tail.warnings.empty() ? "" : tail.warnings[0].c_str());
        QVERIFY(tail.bytes_read <= size / 3);
        QVERIFY(tail.records.size() >= size_t(n / 3 - 2) && tail.records.size() <= size_t(n / 3));
        QCOMPARE(tail.records.back().id, std::string("r") + std::to_string(n - 1));
        QCOMPARE(tail.records.front().id, std::string("r") + std::to_string(n - int(tail.records.size())));

        // A window that starts exactly at a line's start keeps that line; one byte less drops it.
        QCOMPARE(read_bench_log(path, 2 * line).records.size(), size_t(2));
        QCOMPARE(read_bench_log(path, 2 * line - 1).records.size(), size_t(1));
        QCOMPARE(read_bench_log(path, 0).records.size(), size_t(n));  // 0: the whole file
    }

    // A last line still being written (no newline yet, not JSON yet) is no warning.
    void halfWrittenLastLineIsNoWarning() {
        const std::string path = dir_.filePath("half.jsonl").toStdString();
        QVERIFY(append_bench_record(record(cpu_rec(2), 20, 25, 140, 150, "whole"), path).ok());
        {
            std::ofstream out(path, std::ios::app);
            out << "{\"format\": 1, \"id\": \"half\", \"tests\": [";
        }
        const BenchLog log = read_bench_log(path);
        QCOMPARE(log.records.size(), size_t(1));
        QVERIFY2(log.warnings.empty(), log.warnings.empty() ? "" : log.warnings[0].c_str());
    }

    void missingOrUnwritableDirectory() {
        // A missing file is an empty log, no warnings.
        const BenchLog none = read_bench_log(dir_.filePath("nothing-here.jsonl").toStdString());
        QVERIFY(none.records.empty() && none.warnings.empty());
        QVERIFY(read_bench_log("").records.empty());
        // A directory that cannot be created (a file is in the way) or no path at all: an io error.
        const QString blocker = dir_.filePath("blocker");
        QFile f(blocker);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        const Status s = append_bench_record(record(cpu_rec(2), 1, 1, 1, 1, "z"), (blocker + "/sub/log.jsonl").toStdString());
        QVERIFY(!s.ok());
        QCOMPARE(s.code(), ErrorCode::io);
        QVERIFY(!append_bench_record(record(cpu_rec(2), 1, 1, 1, 1, "z"), "").ok());
    }

    // The median of measured/predicted over a class's last 10 single-device runs; other classes,
    // split runs and deep runs do not count.
    void medianOverRecentRunsOfAClass() {
        std::vector<BenchRecord> rs;
        // 12 runs on 2 threads: ratios 0.1 .. 1.2 for decode; only the last 10 (0.3 .. 1.2) count.
        for (int i = 1; i <= 12; ++i) rs.push_back(record(cpu_rec(2), i, 10, 2.0 * i, 10, "r" + std::to_string(i)));
        rs.push_back(record(cpu_rec(4), 5, 10, 5, 10, "four"));           // another class: 4 threads
        rs.push_back(record(cpu_rec(2, "avx2"), 9, 10, 9, 10, "avx2"));    // another class: ISA
        BenchRecord split = record(cpu_rec(2), 100, 1, 100, 1, "split");
        split.stages = {{"cpu", 0, 1}, {"cuda0", 1, 3}};
        split.devices.push_back(gpu_rec("cuda0", "G"));
        rs.push_back(split);
        BenchRecord deep = record(cpu_rec(2), 100, 1, 100, 1, "deep");
        deep.depth = 512;
        rs.push_back(deep);
        BenchRecord no_prediction = record(cpu_rec(2), 100, 0, 100, 0, "nopred");
        rs.push_back(no_prediction);
        rs.push_back(record(gpu_rec("cuda0", "NVIDIA H100 80GB HBM3"), 300, 1000, 20000, 100000, "h100"));
        const Calibration c = calibrate(rs);
        QCOMPARE(c.classes.size(), size_t(4));
        const ClassCalibration* two = c.find(speed_class(cpu_rec(2)));
        QVERIFY(two);
        QCOMPARE(two->device_class, std::string("cpu|Test CPU @ 2.80GHz|avx512_vnni|2"));
        QCOMPARE(two->factors.decode_runs, 10);
        QCOMPARE(two->factors.prefill_runs, 10);
        QVERIFY(qFuzzyCompare(two->factors.decode, 0.75));   // median of 0.3 .. 1.2
        QVERIFY(qFuzzyCompare(two->factors.prefill, 1.5));   // median of 0.6 .. 2.4
        QVERIFY(qFuzzyCompare(c.find(speed_class(cpu_rec(4)))->factors.decode, 0.5));
        QCOMPARE(c.find(speed_class(cpu_rec(4)))->factors.decode_runs, 1);
        QVERIFY(qFuzzyCompare(c.find(speed_class(cpu_rec(2, "avx2")))->factors.decode, 0.9));
        const ClassCalibration* h = c.find("gpu|NVIDIA H100 80GB HBM3");
        QVERIFY(h);
        QVERIFY(qFuzzyCompare(h->factors.decode, 0.3));
        QVERIFY(qFuzzyCompare(h->factors.prefill, 0.2));
        // Even count: the mean of the middle two.
        const Calibration even = calibrate({record(cpu_rec(2), 1, 10, 1, 10, "a"), record(cpu_rec(2), 3, 10, 1, 10, "b")});
        QVERIFY(qFuzzyCompare(even.classes.at(0).factors.decode, 0.2));
        // Deterministic: the same log, the same factors.
        QCOMPARE(calibrate(rs).classes.at(0).factors.decode, two->factors.decode);
        QVERIFY(calibrate({}).classes.empty());
    }

    // A planner device's class: CPU model (the thread count in its name dropped), the kernels'
    // current ISA level and its threads; a GPU by name.
    void classOfAPlannerDevice() {
        DeviceInfo cpu;
        cpu.name = "Test CPU @ 2.80GHz (2 threads, capped)";
        cpu.n_threads = 2;
        QCOMPARE(speed_class(cpu), "cpu|Test CPU @ 2.80GHz|" + std::string(cpu_isa_env_name(cpu_isa())) + "|2");
        DeviceInfo g;
        g.type = DeviceType::cuda;
        g.name = "NVIDIA H100 80GB HBM3";
        QCOMPARE(speed_class(g), std::string("gpu|NVIDIA H100 80GB HBM3"));
    }

    // load_calibration reads $XDG_DATA_HOME/strata/bench-results.jsonl; STRATA_NO_CALIBRATION=1
    // turns it (and the seed) off.
    void offSwitch() {
        QVERIFY(append_bench_record(record(cpu_rec(2), 5, 10, 5, 10, "log-1"), bench_log_path()).ok());
        QCOMPARE(load_calibration().classes.size(), size_t(1));
        QVERIFY(!calibration_disabled());
        qputenv("STRATA_NO_CALIBRATION", "1");
        QVERIFY(calibration_disabled());
        QVERIFY(load_calibration().classes.empty());
        QVERIFY(load_seed_calibration().classes.empty());
        qputenv("STRATA_NO_CALIBRATION", "0");
        QVERIFY(!calibration_disabled());
        QCOMPARE(load_calibration().classes.size(), size_t(1));
        qunsetenv("STRATA_NO_CALIBRATION");
    }

    void seedFile() {
        const auto seed = parse_seed_calibration(
            R"({"source": "docs", "classes": [{"gpu": "NVIDIA H100 80GB HBM3", "aliases": ["H100 SXM"], "decode": 0.28, "decode_runs": 6}]})",
            "seed.json");
        QVERIFY2(seed.ok(), seed.status().message().c_str());
        QCOMPARE(seed->classes.size(), size_t(2));
        const ClassCalibration* sxm = seed->find("gpu|H100 SXM");
        QVERIFY(sxm);
        QCOMPARE(sxm->factors.decode, 0.28);
        QCOMPARE(sxm->factors.decode_runs, 6);
        QCOMPARE(sxm->factors.prefill_runs, 0);
        QCOMPARE(sxm->factors.source, std::string("NVIDIA H100 80GB HBM3 (docs)"));
        const auto bad = parse_seed_calibration(R"({"classes": [{"gpu": "X", "decode": -1}]})", "seed.json");
        QVERIFY(!bad.ok());
        QVERIFY2(bad.status().message().find("classes[0].decode") != std::string::npos, bad.status().message().c_str());
        QVERIFY(!parse_seed_calibration("[", "seed.json").ok());
        // The shipped seed parses and calibrates the H100.
        const Calibration shipped = load_seed_calibration();
        QVERIFY2(shipped.warnings.empty(), shipped.warnings.empty() ? "" : shipped.warnings[0].c_str());
        QVERIFY(shipped.find("gpu|NVIDIA H100 80GB HBM3"));
        QVERIFY(shipped.find("gpu|H100 SXM"));
        // This machine's log wins over the seed for the same class.
        Calibration mine = calibrate({record(gpu_rec("cuda0", "H100 SXM"), 1, 2, 1, 2, "m")});
        mine.merge_missing(shipped);
        QCOMPARE(mine.find("gpu|H100 SXM")->factors.decode, 0.5);
        QVERIFY(mine.find("gpu|NVIDIA H100 80GB HBM3"));
    }

    // The planner divides each calibrated device's stage time by its factor; the raw figures
    // stay; the explanation says so; without a calibration the plan is what it was, bit for bit.
    void plannerAppliesIt() {
        PlanRequest r;
        r.model = make_footprint({});
        r.n_ctx = 2048;
        r.devices = {gpu(0, "NVIDIA H100 80GB HBM3", 80, 3352, 400)};
        const Plan raw = make_plan(r);
        QVERIFY(raw.fits);
        QVERIFY(raw.predicted_decode_tps > 0);
        QCOMPARE(raw.raw_predicted_decode_tps, raw.predicted_decode_tps);
        QCOMPARE(raw.raw_predicted_prefill_tps, raw.predicted_prefill_tps);
        QVERIFY(!raw.calibration.any());
        QVERIFY(QString::fromStdString(format_plan(r, raw)).contains("tok/s, uncalibrated: an upper bound"));

        // An empty calibration changes nothing at all.
        PlanRequest same = r;
        QCOMPARE(apply_calibration(same, Calibration{}), 0);
        const Plan again = make_plan(same);
        QCOMPARE(again.predicted_decode_tps, raw.predicted_decode_tps);
        QCOMPARE(again.predicted_prefill_tps, raw.predicted_prefill_tps);
        QCOMPARE(again.decisions, raw.decisions);
        QCOMPARE(format_plan(same, again), format_plan(r, raw));

        std::vector<BenchRecord> rs;
        for (double m : {0.6, 0.2, 0.5, 0.3})
            rs.push_back(record(gpu_rec("cuda0", "NVIDIA H100 80GB HBM3"), m, 1, 0.2, 1, "g" + std::to_string(m)));
        const Calibration c = calibrate(rs);  // decode: median of .2 .3 .5 .6 = .4; prefill .2
        PlanRequest cal = r;
        QCOMPARE(apply_calibration(cal, c), 1);
        const Plan p = make_plan(cal);
        QCOMPARE(p.raw_predicted_decode_tps, raw.predicted_decode_tps);
        QVERIFY(qFuzzyCompare(p.predicted_decode_tps, raw.predicted_decode_tps * 0.4));
        QVERIFY(qFuzzyCompare(p.predicted_prefill_tps, raw.predicted_prefill_tps * 0.2));
        QCOMPARE(p.calibration.decode_runs, 4);
        QVERIFY(qFuzzyCompare(p.calibration.decode, 0.4));
        const QString text = QString::fromStdString(format_plan(cal, p));
        QVERIFY2(text.contains("calibrated from 4 bench runs on NVIDIA H100 80GB HBM3 (×0.40)"), qPrintable(text));
        bool said = false;
        for (const std::string& d : p.decisions) said |= d.rfind("predicted speed: decode ~", 0) == 0 && d.find("calibrated from 4") != std::string::npos;
        QVERIFY(said);

        // A split over a calibrated and an uncalibrated device: each stage's time by its own
        // factor (the calibrated one's share shrinks), and the plan counts as uncalibrated.
        PlanRequest two = r;
        two.devices = {gpu(0, "NVIDIA H100 80GB HBM3", 8, 3352, 400), gpu(1, "Other GPU", 8, 3352, 400)};
        two.mode = SplitMode::even;
        const Plan split_raw = make_plan(two);
        apply_calibration(two, c);
        const Plan split = make_plan(two);
        QVERIFY(split.fits);
        QCOMPARE(split.raw_predicted_decode_tps, split_raw.predicted_decode_tps);
        QVERIFY(split.predicted_decode_tps < split.raw_predicted_decode_tps);
        QVERIFY(split.predicted_decode_tps > split.raw_predicted_decode_tps * 0.4);
        QVERIFY(!split.calibration.any());
    }

    // whatif: a catalogue card matching a calibrated class (by name or alias, "NVIDIA " and
    // "GeForce " aside) gets its factors; the others stay raw (upper bounds).
    void whatifUsesMatchingFactors() {
        const std::string cat = find_resource("gpus.json");
        QVERIFY(!cat.empty());
        auto catalogue = load_gpu_catalogue(cat);
        QVERIFY(catalogue.ok());
        std::string shape;
        auto model = synthetic_footprint(8e9, "Q4_K_M", &shape);
        QVERIFY(model.ok());
        WhatIfOptions o;
        o.calibration = load_seed_calibration();
        auto h100 = run_whatif(*model, *parse_gpu_config(*catalogue, "1x H100 SXM"), o);
        QVERIFY(h100.ok() && h100->fits);
        // The seed's Q4_K_M factor (2 runs) and its fixed time per layer (strata/calibration.h).
        QCOMPARE(h100->plan.calibration.decode_runs, 2);
        QCOMPARE(h100->plan.calibration.weight_type, std::string("Q4_K_M"));
        QVERIFY(qFuzzyCompare(h100->decode_tps, 1.0 / (1.0 / h100->plan.raw_predicted_decode_tps / 0.386 +
                                                      51.3e-6 * static_cast<double>(model->n_layer))));
        auto rtx = run_whatif(*model, *parse_gpu_config(*catalogue, "1x RTX 4090"), o);
        QVERIFY(rtx.ok() && rtx->fits);
        QVERIFY(!rtx->plan.calibration.any());
        QCOMPARE(rtx->decode_tps, rtx->plan.raw_predicted_decode_tps);
        // This machine's bench runs on a card CUDA calls "NVIDIA GeForce RTX 4090".
        o.calibration = calibrate({record(gpu_rec("cuda0", "NVIDIA GeForce RTX 4090"), 1, 2, 1, 4, "x")});
        auto mine = run_whatif(*model, *parse_gpu_config(*catalogue, "2x 4090"), o);
        QVERIFY(mine.ok());
        QCOMPARE(mine->plan.calibration.decode_runs, 1);
        QVERIFY(mine->decode_tps < mine->plan.raw_predicted_decode_tps * 0.51);
    }
};

QTEST_GUILESS_MAIN(TestBenchLog)
#include "tst_bench_log.moc"
