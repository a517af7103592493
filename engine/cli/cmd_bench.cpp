// strata-cli bench: prompt processing (ppN) and decode (tgN) speed, medians of repeats, with
// the bytes each decoded token reads and the bandwidth that implies; per-stage busy time and
// transfers for split models.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "backend/cpu/bandwidth_probe.h"
#include "bench_parallel.h"
#include "cli_common.h"
#include "load_options.h"
#include "strata/bench.h"
#include "strata/bench_log.h"
#include "strata/gpu_topology.h"
#include "util/cpu_features.h"

namespace strata::cli {

namespace {
std::vector<int> parse_sizes(const std::string& text) {
    std::vector<int> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        long long n = 0;
        if (Args::to_int(item, "size", n) && n > 0) out.push_back(static_cast<int>(n));
    }
    return out;
}
}  // namespace

int cmd_bench(Args& args) {
    if (args.flag({"-h", "--help"})) {
        std::fprintf(stderr, "usage: strata-cli bench -m MODEL [--pp 128,512] [--tg 64] [--repeats 3] [--depth N] [options]\n\n"
                             "Prints each test's speed and, last, the planner's predicted decode and prefill speed\n"
                             "beside the measured ones (measured/predicted).\n\n%s"
                             "  --depth N               run every test after N tokens already in the KV cache\n"
                             "                          (decode and prefill speed deep into a conversation)\n"
                             "  --no-probe              skip the memory bandwidth probe\n"
                             "  --no-store              do not append the result to the bench log\n"
                             "                          ($XDG_DATA_HOME/strata/bench-results.jsonl; the planner\n"
                             "                          calibrates its predictions from it)\n"
                             "  --parallel 1,2,4,8      instead: decode with that many sequences at once (continuous\n"
                             "                          batching; --tg's first size per sequence), aggregate and\n"
                             "                          per-sequence tok/s, and the time to first token of a\n"
                             "                          --pp-sized prompt while the others decode\n",
                     model_options_help());
        return 0;
    }
    ModelOptions mo;
    // --parallel here is a list (the model options' --parallel is one number of slots).
    std::vector<int> parallel;
    if (auto v = args.value({"--parallel"})) {
        parallel = parse_sizes(*v);
        if (parallel.empty()) {
            std::fprintf(stderr, "error: --parallel wants a list of sequence counts, e.g. 1,2,4,8\n");
            return 2;
        }
    }
    if (!parse_model_options(args, mo)) return 2;
    if (!parallel.empty()) mo.load.n_seq = std::max(mo.load.n_seq, *std::max_element(parallel.begin(), parallel.end()));
    std::vector<int> pp = parse_sizes(args.value({"--pp"}).value_or("128,512"));
    std::vector<int> tg = parse_sizes(args.value({"--tg"}).value_or("64"));
    long long repeats = 3;
    if (auto v = args.value({"--repeats", "-r"}); v && !Args::to_int(*v, "--repeats", repeats)) return 2;
    long long depth = 0;
    if (auto v = args.value({"--depth", "-d"}); v && (!Args::to_int(*v, "--depth", depth) || depth < 0)) {
        if (depth < 0) std::fprintf(stderr, "error: --depth must be 0 or more\n");
        return 2;
    }
    const bool probe = !args.flag({"--no-probe"});
    const bool store = !args.flag({"--no-store"});
    if (args.value({"--simulate"})) {
        std::fprintf(stderr, "error: bench measures the devices of this machine and cannot run on a simulated one; "
                             "`strata-cli plan --simulate FILE` or `strata-cli whatif --simulate FILE` predicts its speed\n");
        return 2;
    }
    if (!finish_model_args(args, mo, "bench")) return 2;
    BenchOptions bo;
    bo.prompt_sizes = pp;
    bo.decode_sizes = tg;
    bo.repeats = static_cast<int>(std::clamp<long long>(repeats, 1, 1 << 20));
    bo.depth = static_cast<int>(std::min<long long>(depth, 1 << 30));
    const long long need_ctx = bench_context_needed(bo);
    if (mo.load.n_ctx == 0) {
        mo.load.n_ctx = static_cast<int>(std::min<long long>(need_ctx, 1 << 30));
    } else if (mo.load.n_ctx < need_ctx) {
        std::fprintf(stderr, "error: --ctx %d is too short for these tests: they need %lld positions (depth + tokens)\n",
                     static_cast<int>(mo.load.n_ctx), need_ctx);
        return 2;
    }

    Engine engine;
    auto loaded = engine.load(mo.model_path, mo.load, print_load_progress);
    if (!loaded.ok()) {
        std::fprintf(stderr, "error: %s\n", loaded.status().message().c_str());
        return 1;
    }
    Model& m = **loaded;
    if (!parallel.empty()) return bench_parallel(m, parallel, tg.empty() ? 64 : tg.front(), pp.empty() ? 0 : pp.front());
    auto seq_r = m.create_sequence();
    if (!seq_r.ok()) {
        std::fprintf(stderr, "error: %s\n", seq_r.status().message().c_str());
        return 1;
    }
    Sequence& seq = **seq_r;
    const ModelInfo& info = m.info();
    const Plan& plan = m.plan();
    std::printf("model: %s (%s params, %s, %s)\n", mo.model_path.c_str(), format_param_count(info.n_params).c_str(),
                info.quantization.c_str(), format_bytes(info.weight_bytes).c_str());
    std::printf("devices:");
    for (const auto& st : plan.stages)
        std::printf(" %s[layers %d-%d]", st.device_id.c_str(), st.layer_begin, st.layer_end - 1);
    std::printf("\ncpu kernels: %s (STRATA_CPU_ISA=%s; CPU: %s)%s\n", cpu_isa_name(cpu_isa()), cpu_isa_env_name(cpu_isa()),
                cpu_features_string().c_str(), cpu_bf16_note());
    std::printf("repeats: %d (median reported)\n", bo.repeats);
    if (depth > 0) std::printf("depth: every test runs after %lld tokens already in the KV cache (not timed)\n", depth);
    std::printf("\n");
    std::printf("%-8s %12s %12s %16s %12s\n", "test", "tok/s", "ms/token", "GB/s (decode)", "GFLOP/s");
    const uint64_t decode_bytes = decode_bytes_per_token(m);
    const double flops = flops_per_token(m);
    auto result = run_bench(m, seq, bo, nullptr, [&](const BenchTest& t) {  // the measuring: strata/bench.h
        const double per_token = t.seconds / t.tokens;
        if (t.prefill)
            std::printf("%-8s %12.2f %12.3f %16s %12.1f\n", t.name.c_str(), t.tokens_per_second, 1000.0 * per_token, "-",
                        flops * t.tokens / t.seconds / 1e9);
        else
            std::printf("%-8s %12.2f %12.3f %16.2f %12s\n", t.name.c_str(), t.tokens_per_second, 1000.0 * per_token,
                        static_cast<double>(decode_bytes) / per_token / 1e9, "-");
        std::fflush(stdout);
    });
    if (!result.ok()) {
        std::fprintf(stderr, "error: %s\n", result.status().message().c_str());
        return 1;
    }
    double read_gbs = 0;
    if (!result->tests.empty() && !result->tests.back().prefill) {
        const BenchTest& last = result->tests.back();
        const double bw = static_cast<double>(result->decode_bytes) / (last.seconds / last.tokens) / 1e9;
        std::printf("\nweight bytes per decoded token: %s\n", format_bytes(result->decode_bytes).c_str());
        if (probe) {
            const double peak = measure_read_bandwidth_gbs();
            read_gbs = peak;
            std::printf("measured streaming-read bandwidth: %.1f GB/s; decode reaches %.0f%% of it\n", peak,
                        peak > 0 ? 100.0 * bw / peak : 0.0);
        }
    }
    double measured_pp = 0, measured_tg = 0;  // the last (largest) test of each kind
    std::string measured_pp_name, measured_tg_name;
    for (const BenchTest& t : result->tests) {
        (t.prefill ? measured_pp : measured_tg) = t.tokens_per_second;
        (t.prefill ? measured_pp_name : measured_tg_name) = t.name;
    }
    // The planner's prediction beside the measurement: the plan's "~45 tok/s" is only honest if
    // this ratio is near 1 (docs/benchmarks.md keeps the figures).
    auto compare = [](const char* what, double predicted, double measured, const std::string& test) {
        if (measured <= 0) return;
        if (predicted <= 0) {
            std::printf("  %-8s predicted: unknown, measured %.2f tok/s (%s)\n", what, measured, test.c_str());
            return;
        }
        std::printf("  %-8s predicted %10.2f tok/s, measured %10.2f tok/s (%s): measured/predicted %.2f\n", what, predicted,
                    measured, test.c_str(), measured / predicted);
    };
    std::printf("\nplanner's prediction (%s) against the measurement:\n",
                depth > 0 ? "for an empty cache; these tests ran deeper" : "one sequence");
    compare("decode", plan.raw_predicted_decode_tps, measured_tg, measured_tg_name);
    compare("prefill", plan.raw_predicted_prefill_tps, measured_pp, measured_pp_name);
    if (plan.calibration.any()) {
        std::printf("calibrated from earlier bench runs (%s):\n", plan.calibration.source.c_str());
        if (plan.calibration.decode_runs > 0)
            compare("decode", plan.predicted_decode_tps, measured_tg, measured_tg_name);
        if (plan.calibration.prefill_runs > 0)
            compare("prefill", plan.predicted_prefill_tps, measured_pp, measured_pp_name);
    }
    if (store) {
        // The record the app imports and the planner calibrates from (strata/bench_log.h).
        const std::vector<DeviceInfo> machine = engine.available_devices();
        const bool any_gpu = std::any_of(machine.begin(), machine.end(), [](const DeviceInfo& d) { return d.type == DeviceType::cuda; });
        BenchRecord record = make_bench_record(m, *result, bo, machine, any_gpu ? read_gpu_topology().driver_version : "", "cli");
        record.read_gbs = read_gbs;
        const std::string path = bench_log_path();
        const Status saved = append_bench_record(record, path);
        if (saved.ok())
            std::printf("\nstored as %s in %s\n", record.id.c_str(), path.c_str());
        else
            std::fprintf(stderr, "warning: the result was not stored: %s\n", saved.message().c_str());
    }
    const auto timings = m.stage_timings();
    if (timings.size() > 1) {
        std::printf("\nper stage (decode runs above):\n%-8s %-8s %10s %10s %14s %12s  %s\n", "device", "layers",
                    "busy s", "idle s", "sent", "transfer s", "transport");
        for (const auto& s : timings) {
            std::printf("%-8s %3d-%-4d %10.3f %10.3f %14s %12.4f  %s\n", s.device_id.c_str(), s.layer_begin,
                        s.layer_end - 1, s.busy_seconds, s.idle_seconds, format_bytes(s.transfer_bytes).c_str(),
                        s.transfer_seconds, s.transport.c_str());
        }
    }
    return 0;
}

}  // namespace strata::cli
