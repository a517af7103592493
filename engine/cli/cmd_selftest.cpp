// strata-cli selftest: every op on every available device (the CPU too) against simple
// references on seeded random data at odd sizes, then whole-model checks (random models of each
// architecture and weight type, and a real model when there is one): GPU against CPU. Prints a
// table and closes with exactly "N passed, M failed"; the exit code is non-zero when M > 0.
// `--probe` instead measures each GPU's copy bandwidth and cuBLAS F16 GEMM peak.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>

#include "backend/registry.h"
#include "cli_common.h"
#include "quant/quant.h"
#include "selftest_common.h"

namespace strata::cli {

namespace selftest {

void Report::add(Outcome o) {
    o.pass = !std::isnan(o.err) && o.err <= o.tol;
    outcomes_.push_back(std::move(o));
}

void Report::add(const std::string& group, const std::string& device, const std::string& detail, double err,
                 double tol, const std::string& note) {
    Outcome o;
    o.group = group;
    o.device = device;
    o.detail = detail;
    o.err = err;
    o.tol = tol;
    o.note = note;
    add(std::move(o));
}

void Report::fail(const std::string& group, const std::string& device, const std::string& detail,
                  const std::string& why) {
    Outcome o;
    o.group = group;
    o.device = device;
    o.detail = detail;
    o.err = NAN;
    o.tol = 0;
    o.note = why;
    o.pass = false;
    outcomes_.push_back(std::move(o));
}

int Report::n_failed() const {
    return static_cast<int>(std::count_if(outcomes_.begin(), outcomes_.end(), [](const Outcome& o) { return !o.pass; }));
}
int Report::n_passed() const { return static_cast<int>(outcomes_.size()) - n_failed(); }

void Report::print(bool verbose) const {
    struct Row {
        int cases = 0, failed = 0;
        double worst = 0;  // max err / tol
    };
    std::vector<std::pair<std::string, std::string>> order;
    std::map<std::pair<std::string, std::string>, Row> rows;
    for (const Outcome& o : outcomes_) {
        const auto key = std::make_pair(o.group, o.device);
        if (!rows.count(key)) order.push_back(key);
        Row& r = rows[key];
        ++r.cases;
        if (!o.pass) ++r.failed;
        const double ratio = o.tol > 0 ? o.err / o.tol : (o.err == 0 ? 0 : INFINITY);
        if (std::isnan(ratio) || ratio > r.worst) r.worst = std::isnan(ratio) ? INFINITY : ratio;
    }
    std::printf("\n| %-34s | %-10s | %5s | %6s | %12s |\n", "check", "device", "cases", "failed", "worst err/tol");
    std::printf("|%s|%s|%s|%s|%s|\n", std::string(36, '-').c_str(), std::string(12, '-').c_str(),
                std::string(7, '-').c_str(), std::string(8, '-').c_str(), std::string(14, '-').c_str());
    for (const auto& key : order) {
        const Row& r = rows.at(key);
        std::printf("| %-34s | %-10s | %5d | %6d | %12.3g |\n", key.first.c_str(), key.second.c_str(), r.cases, r.failed,
                    r.worst);
    }
    bool header = false;
    for (const Outcome& o : outcomes_) {
        if (o.pass && !verbose) continue;
        if (!header) {
            std::printf("\n%s:\n", verbose ? "all cases" : "failures");
            header = true;
        }
        std::printf("  %-4s %-26s %-10s %-44s err %.3g (tol %.3g)%s%s\n", o.pass ? "ok" : "FAIL", o.group.c_str(),
                    o.device.c_str(), o.detail.c_str(), o.err, o.tol, o.note.empty() ? "" : "  ", o.note.c_str());
    }
    std::printf("\n%d passed, %d failed\n", n_passed(), n_failed());
}

bool Options::wants(const std::string& suite) const {
    if (only.empty()) return true;
    size_t start = 0;
    while (start <= only.size()) {
        const size_t end = std::min(only.find(',', start), only.size());
        if (only.compare(start, end - start, suite) == 0) return true;
        start = end + 1;
    }
    return false;
}

double rms(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x * x;
    return std::sqrt(s / std::max<size_t>(1, v.size()));
}

double rel_max_err(const std::vector<float>& a, const std::vector<double>& ref) {
    if (a.size() != ref.size()) return NAN;
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        const double e = std::fabs(static_cast<double>(a[i]) - ref[i]);
        if (std::isnan(e)) return NAN;
        m = std::max(m, e);
    }
    return m / std::max(rms(ref), 1e-20);
}

double rel_max_err(const std::vector<float>& a, const std::vector<float>& ref) {
    return rel_max_err(a, std::vector<double>(ref.begin(), ref.end()));
}

Result<std::unique_ptr<Buffer>> upload(Device& d, const void* data, size_t bytes, MemoryUse use) {
    auto b = d.allocate(bytes, use);
    if (!b.ok()) return b.status();
    if (bytes) STRATA_RETURN_IF_ERROR(d.copy_from_host(**b, 0, data, bytes));
    return b;
}

Result<std::unique_ptr<Buffer>> poisoned(Device& d, size_t bytes, MemoryUse use) {
    std::vector<uint8_t> poison(bytes, 0xFF);
    return upload(d, poison.data(), bytes, use);
}

Status download(Device& d, const Buffer& b, void* dst, size_t bytes) {
    STRATA_RETURN_IF_ERROR(d.synchronize());
    return d.copy_to_host(dst, b, 0, bytes);
}

std::vector<uint8_t> random_weight(TensorType type, int64_t n_rows, int64_t n_cols, Rng& rng, float scale) {
    const size_t row_bytes = tensor_row_bytes(type, n_cols);
    std::vector<uint8_t> out(row_bytes * static_cast<size_t>(n_rows));
    for (int64_t r = 0; r < n_rows; ++r) {
        const auto v = rng.gauss_vec(static_cast<size_t>(n_cols), scale);
        quant::quantize_row_ref(type, v.data(), out.data() + static_cast<size_t>(r) * row_bytes, n_cols);
    }
    return out;
}

}  // namespace selftest

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
    const bool ops_only = args.flag({"--ops-only"});
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
    std::vector<std::string> gpu_ids;
    for (const DeviceInfo& d : registry.available())
        if (d.type == DeviceType::cuda) gpu_ids.push_back(d.id);
    if (probe) {
        if (gpu_ids.empty()) {
            std::printf("%s\n", registry.gpu_status().c_str());
            return 1;
        }
        return selftest::run_probe(static_cast<int>(gpu_ids.size()));
    }

    const auto t0 = std::chrono::steady_clock::now();
    std::printf("strata selftest%s — CPU kernels: %s\n", opt.quick ? " (quick)" : "", quant::cpu_kernel_isa().c_str());
    if (gpu_ids.empty()) {
        std::printf("%s\nrunning the CPU-side checks only\n", registry.gpu_status().c_str());
    }
    for (const DeviceInfo& d : registry.available())
        std::printf("  %-6s %s%s%s\n", d.id.c_str(), d.name.c_str(), d.note.empty() ? "" : " — ", d.note.c_str());

    selftest::Report report;
    std::vector<DeviceSpec> specs;
    for (size_t i = 0; i < gpu_ids.size(); ++i) {
        DeviceSpec s;
        s.kind = "cuda";
        s.index = static_cast<int>(i);
        specs.push_back(s);
    }
    DeviceSpec cpu;
    cpu.kind = "cpu";
    specs.push_back(cpu);
    {
        auto devices = registry.create(specs);
        if (!devices.ok()) {
            report.fail("devices", "-", "create", devices.status().message());
        } else {
            std::vector<Device*> ptrs;
            for (auto& d : *devices) ptrs.push_back(d.get());
            selftest::run_op_checks(ptrs, opt, report);
            if (opt.wants("moe")) selftest::run_moe_checks(ptrs, opt, report);
        }
    }
    if (!ops_only && opt.wants("model")) {
        char tmpl[] = "/tmp/strata-selftest-XXXXXX";
        const char* dir = mkdtemp(tmpl);
        if (!dir) {
            report.fail("models", "-", "temp dir", "cannot create a folder in /tmp");
        } else {
            opt.work_dir = dir;
            selftest::run_model_checks(gpu_ids, opt, report);
            std::error_code ec;
            std::filesystem::remove_all(dir, ec);
        }
    }
    report.print(opt.verbose);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "selftest took %.1f s\n", s);
    return report.n_failed() > 0 ? 1 : 0;
}

}  // namespace strata::cli
