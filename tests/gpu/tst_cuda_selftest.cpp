// GPU test (CTest label gpu; a plain executable, no Qt, so it builds with -DSTRATA_QT=OFF on a
// GPU server): the selftest harness (library strata_selftest, the one `strata-cli selftest`
// runs) over every CUDA device — every op against its reference, whole models against the CPU —
// and fails on any mismatch. CMake registers it once per suite group (`--only ...`), each in its
// own process, so a GPU error that poisons one CUDA context cannot hide the other groups.
//
//   tst_cuda_selftest [--only LIST] [--quick] [--model PATH] [--verbose]
//
// Exit status: 0 all cases passed; 1 a case failed (or none ran); 2 bad arguments;
// kSkipped (77, the tests' SKIP_RETURN_CODE) when there is nothing to test: no CUDA module in
// this build, no driver, or no GPU — with one line saying which.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "backend/registry.h"
#include "selftest.h"

namespace {

constexpr int kSkipped = 77;  // tests/gpu/CMakeLists.txt: SKIP_RETURN_CODE

int usage(const char* why) {
    std::fprintf(stderr, "tst_cuda_selftest: %s\nusage: tst_cuda_selftest [--only LIST] [--quick] [--model PATH] [--verbose]\n",
                 why);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    strata::selftest::Options opt;
    opt.cpu_ops = false;  // the GPUs' cases: the CPU's kernels have their own engine tests
#ifdef STRATA_SELFTEST_DEFAULT_MODEL
    if (std::filesystem::exists(STRATA_SELFTEST_DEFAULT_MODEL)) opt.model_path = STRATA_SELFTEST_DEFAULT_MODEL;
#endif
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--quick") {
            opt.quick = true;
        } else if (a == "--verbose") {
            opt.verbose = true;
        } else if ((a == "--only" || a == "--model") && i + 1 < argc) {
            (a == "--only" ? opt.only : opt.model_path) = argv[++i];
        } else {
            return usage(("unknown argument " + a).c_str());
        }
    }
    const std::string part = opt.only.empty() ? "all" : opt.only;

    strata::DeviceRegistry registry;
    const auto gpu_ids = strata::selftest::cuda_device_ids(registry);
    if (gpu_ids.empty()) {
        std::printf("SKIP cuda selftest (%s): %s\n", part.c_str(), registry.gpu_status().c_str());
        return kSkipped;
    }
    std::printf("cuda selftest (%s%s) on", part.c_str(), opt.quick ? ", quick" : "");
    for (const auto& d : registry.available())
        if (d.type == strata::DeviceType::cuda) std::printf(" %s (%s)", d.id.c_str(), d.name.c_str());
    std::printf("\n");

    strata::selftest::Report report;
    strata::selftest::run(registry, opt, report);
    report.print(opt.verbose);
    // One line device_check.sh reads, whatever prefix ctest puts before it.
    std::printf("SELFTEST %s: %d passed, %d failed\n", part.c_str(), report.n_passed(), report.n_failed());
    std::fflush(stdout);
    if (report.n_passed() + report.n_failed() == 0) {
        std::printf("FAIL: no case ran\n");
        return 1;
    }
    return report.n_failed() > 0 ? 1 : 0;
}
