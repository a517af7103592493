// strata-cli calibration: what the planner's speed calibration (strata/calibration.h) has made of
// the bench log, and how well it explains each run — fitted on all runs (in-sample) and on the
// runs before each one (what the plan said before that run was measured).
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "cli_common.h"
#include "strata/bench_log.h"
#include "strata/calibration.h"

namespace strata::cli {

namespace {

const char* kHelp =
    "usage: strata-cli calibration [--log FILE] [--runs N] [--recent N]\n\n"
    "Shows the speed calibration the planner applies on this machine: per device class, the fixed\n"
    "decode time per layer and the efficiency factor per weight type fitted from the bench log\n"
    "(every `strata-cli bench` and every bench run of the app adds to it), then each single-device\n"
    "run: the raw prediction, the calibrated one from all runs (in-sample), the calibrated one\n"
    "from the runs before it (what a plan said before the run), and the measurement.\n\n"
    "  --log FILE     a bench results log (default: this machine's, $XDG_DATA_HOME/strata/bench-results.jsonl)\n"
    "  --runs N       show the last N runs (default 40)\n"
    "  --recent N     runs per class and weight type the factors come from (default 10)\n\n"
    "A run counts as explained when measured/calibrated is within 0.75 to 1.25. CPU decode runs of\n"
    "models that fit in the CPU's last-level cache are shown but neither fitted nor counted.\n";

std::string ratio_text(double measured, double predicted) {
    if (measured <= 0 || predicted <= 0) return "–";
    char b[32];
    std::snprintf(b, sizeof b, "%.2f", measured / predicted);
    return b;
}

std::string tps_text(double v) {
    if (v <= 0) return "–";
    char b[32];
    std::snprintf(b, sizeof b, v >= 100 ? "%.0f" : "%.2f", v);
    return b;
}

std::string runs_text(int n) { return std::to_string(n) + (n == 1 ? " run" : " runs"); }

bool within(double measured, double predicted) {
    const double r = measured / predicted;
    return measured > 0 && predicted > 0 && r >= 0.75 && r <= 1.25;
}

void print_class(const ClassCalibration& c) {
    std::printf("%s  [%s]\n", c.label.c_str(), c.device_class.c_str());
    // One line per phase: the fixed term, the class-wide factor, then each weight type's.
    auto phase = [&](const char* name, const char* fixed_unit, const char* factor_kind, int runs, double layer_seconds,
                     double factor, double SpeedCalibration::*type_factor, int SpeedCalibration::*type_runs) {
        if (runs <= 0) return;
        std::printf("  %s: %.1f µs %s fixed; %s factor ×%.3f over %s of any type", name, layer_seconds * 1e6, fixed_unit,
                    factor_kind, factor, runs_text(runs).c_str());
        for (const SpeedCalibration& t : c.weight_types)
            if (t.*type_runs > 0) std::printf(", %s ×%.3f (%d)", t.weight_type.c_str(), t.*type_factor, t.*type_runs);
        std::printf("\n");
    };
    phase("decode", "per layer", "bandwidth", c.factors.decode_runs, c.factors.decode_layer_seconds, c.factors.decode,
          &SpeedCalibration::decode, &SpeedCalibration::decode_runs);
    phase("prefill", "per layer per batch step", "compute", c.factors.prefill_runs, c.factors.prefill_layer_seconds,
          c.factors.prefill, &SpeedCalibration::prefill, &SpeedCalibration::prefill_runs);
}

}  // namespace

int cmd_calibration(Args& args) {
    if (args.flag({"-h", "--help"})) {
        std::fputs(kHelp, stdout);
        return 0;
    }
    const std::string path = args.value({"--log"}).value_or(bench_log_path());
    long long show = 40, recent = kCalibrationRecentRuns;
    if (auto v = args.value({"--runs"}); v && (!Args::to_int(*v, "--runs", show) || show < 1)) return 2;
    if (auto v = args.value({"--recent"}); v && (!Args::to_int(*v, "--recent", recent) || recent < 1)) return 2;
    std::vector<std::string> positionals;
    std::string error;
    if (!args.finish(positionals, error) || !positionals.empty()) {
        std::fprintf(stderr, "error: %s\n%s", error.empty() ? "unexpected argument" : error.c_str(), kHelp);
        return 2;
    }
    if (path.empty()) {
        std::fprintf(stderr, "error: no data directory (neither XDG_DATA_HOME nor HOME is set); name a log with --log\n");
        return 1;
    }
    const BenchLog log = read_bench_log(path);
    for (const std::string& w : log.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    const int keep = static_cast<int>(std::min<long long>(recent, 1000));
    const Calibration all = calibrate(log.records, keep);
    std::printf("bench log: %s (%zu records)\n", path.c_str(), log.records.size());
    if (all.classes.empty()) {
        std::printf("no single-device bench runs yet: plans are uncalibrated (upper bounds). Run `strata-cli bench -m MODEL`.\n");
        return 0;
    }
    std::printf("\n");
    for (const ClassCalibration& c : all.classes) print_class(c);

    // The runs calibration uses, the last `show` of them.
    std::vector<size_t> runs;
    for (size_t i = 0; i < log.records.size(); ++i)
        if (log.records[i].depth == 0 && log.records[i].stage_devices() == 1 &&
            (calibrated_decode_tps(log.records[i], all) > 0 || calibrated_prefill_tps(log.records[i], all) > 0))
            runs.push_back(i);
    if (runs.size() > static_cast<size_t>(show)) runs.erase(runs.begin(), runs.end() - show);
    std::printf("\n%-20s %-24s %-8s %-7s %9s %9s %9s %9s %8s %8s\n", "time (UTC)", "model", "type", "phase", "raw",
                "fit", "before", "measured", "m/fit", "m/before");
    int fit_in = 0, fit_n = 0, before_in = 0, before_n = 0, cached_runs = 0;
    for (size_t i : runs) {
        const BenchRecord& r = log.records[i];
        const std::vector<BenchRecord> earlier(log.records.begin(), log.records.begin() + static_cast<long>(i));
        const Calibration before = calibrate(earlier, keep);
        struct Phase {
            const char* name;
            double raw, fit, prior, measured;
        };
        const Phase phases[] = {
            {"decode", r.predicted_decode_tps, calibrated_decode_tps(r, all), calibrated_decode_tps(r, before), r.measured_decode_tps()},
            {"prefill", r.predicted_prefill_tps, calibrated_prefill_tps(r, all), calibrated_prefill_tps(r, before), r.measured_prefill_tps()},
        };
        for (const Phase& p : phases) {
            if (p.measured <= 0 || p.raw <= 0) continue;
            // A run the cache held is shown, not counted (strata/calibration.h).
            const bool cached = p.name == std::string("decode") && !calibrates_decode(r);
            std::string model = r.model_name.size() > 24 ? r.model_name.substr(0, 23) + "…" : r.model_name;
            std::printf("%-20s %-24s %-8s %-7s %9s %9s %9s %9s %8s %8s%s\n", r.time_utc.c_str(), model.c_str(),
                        r.weight_type.c_str(), p.name, tps_text(p.raw).c_str(), tps_text(p.fit).c_str(),
                        tps_text(p.prior).c_str(), tps_text(p.measured).c_str(), ratio_text(p.measured, p.fit).c_str(),
                        ratio_text(p.measured, p.prior).c_str(), cached ? "  in the CPU cache: not used" : "");
            if (cached) {
                ++cached_runs;
                continue;
            }
            if (p.fit > 0) {
                ++fit_n;
                fit_in += within(p.measured, p.fit);
            }
            if (p.prior > 0) {
                ++before_n;
                before_in += within(p.measured, p.prior);
            }
        }
    }
    std::printf("\nwithin 25%% of the measurement: %d of %d fitted on all runs, %d of %d from the runs before each\n",
                fit_in, fit_n, before_in, before_n);
    if (cached_runs > 0)
        std::printf("(%s of models that fit in the CPU's cache not counted: plans predict them low)\n",
                    (std::to_string(cached_runs) + (cached_runs == 1 ? " decode run" : " decode runs")).c_str());
    return 0;
}

}  // namespace strata::cli
