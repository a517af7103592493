// strata-cli selftest: every op on every available device (the CPU too) against simple
// references on seeded random data at odd sizes, then whole-model checks (random models of each
// architecture and weight type, and a real model when there is one): GPU against CPU. Prints a
// table and closes with exactly "N passed, M failed"; the exit code is non-zero when M > 0.
// `--probe` instead measures each GPU's copy bandwidth and cuBLAS F16 GEMM peak. The harness
// itself is the library strata_selftest (engine/selftest), which tests/gpu/tst_cuda_selftest
// runs under CTest too.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "backend/registry.h"
#include "cli_common.h"
#include "quant/quant.h"
#include "selftest.h"
#include "selftest_probe.h"

namespace strata::cli {

int cmd_selftest(Args& args) {
    if (args.flag({"-h", "--help"})) {
        std::fprintf(stderr,
                     "usage: strata-cli selftest [--quick] [--model PATH] [--verbose]\n"
                     "       strata-cli selftest --probe\n\n"
                     "Runs every op on every device against references on random data, then whole\n"
                     "models on each GPU against the CPU. Ends with \"N passed, M failed\".\n"
                     "  --quick       fewer sizes and models (about a tenth of the time)\n"
                     "  --model PATH  also compare a real GGUF model (default: ../shared/models/\n"
                     "                stories260K.gguf when it exists)\n"
                     "  --ops-only    skip the whole-model checks\n"
                     "  --only LIST   run only these suites: matmul, embed, rms_norm, elementwise,\n"
                     "                rope, store_kv, attention, moe, model (comma-separated)\n"
                     "  --verbose     list every case, not only failures\n"
                     "  --probe       measure each GPU: copy bandwidth, cuBLAS F16 GEMM peak\n");
        return 0;
    }
    selftest::Options opt;
    opt.quick = args.flag({"--quick"});
    opt.verbose = args.flag({"--verbose", "-v"});
    const bool probe = args.flag({"--probe"});
    opt.ops_only = args.flag({"--ops-only"});
    if (auto v = args.value({"--model", "-m"})) opt.model_path = *v;
    if (auto v = args.value({"--only"})) opt.only = *v;
    std::vector<std::string> pos;
    std::string err;
    if (!args.finish(pos, err) || !pos.empty()) {
        std::fprintf(stderr, "error: %s\n", err.empty() ? "selftest takes no positional arguments" : err.c_str());
        return 2;
    }
    if (opt.model_path.empty() && std::filesystem::exists("../shared/models/stories260K.gguf"))
        opt.model_path = "../shared/models/stories260K.gguf";

    DeviceRegistry registry;
    const std::vector<std::string> gpu_ids = selftest::cuda_device_ids(registry);
    if (probe) {
        if (gpu_ids.empty()) {
            std::printf("%s\n", registry.gpu_status().c_str());
            return 1;
        }
        return run_selftest_probe(static_cast<int>(gpu_ids.size()));
    }

    const auto t0 = std::chrono::steady_clock::now();
    std::printf("strata selftest%s — CPU kernels: %s\n", opt.quick ? " (quick)" : "", quant::cpu_kernel_isa().c_str());
    if (gpu_ids.empty()) {
        std::printf("%s\nrunning the CPU-side checks only\n", registry.gpu_status().c_str());
    }
    for (const DeviceInfo& d : registry.available())
        std::printf("  %-6s %s%s%s\n", d.id.c_str(), d.name.c_str(), d.note.empty() ? "" : " — ", d.note.c_str());

    selftest::Report report;
    selftest::run(registry, opt, report);
    report.print(opt.verbose);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "selftest took %.1f s\n", s);
    return report.n_failed() > 0 ? 1 : 0;
}

}  // namespace strata::cli
