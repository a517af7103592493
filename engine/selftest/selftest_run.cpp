// selftest::run: the devices, then the suites in order (ops, then models). The order and the
// device list are the ones `strata-cli selftest` always used: every CUDA device, then the CPU.
#include <unistd.h>

#include <filesystem>

#include "backend/registry.h"
#include "selftest.h"

namespace strata::selftest {

std::vector<std::string> cuda_device_ids(const DeviceRegistry& registry) {
    std::vector<std::string> ids;
    for (const DeviceInfo& d : registry.available())
        if (d.type == DeviceType::cuda) ids.push_back(d.id);
    return ids;
}

void run(DeviceRegistry& registry, const Options& opt, Report& report) {
    const std::vector<std::string> gpu_ids = cuda_device_ids(registry);
    std::vector<DeviceSpec> specs;
    for (size_t i = 0; i < gpu_ids.size(); ++i) {
        DeviceSpec s;
        s.kind = "cuda";
        s.index = static_cast<int>(i);
        specs.push_back(s);
    }
    if (opt.cpu_ops) {
        DeviceSpec cpu;
        cpu.kind = "cpu";
        specs.push_back(cpu);
    }
    if (!specs.empty()) {
        // The devices live for the op checks only: the model checks create their own.
        auto devices = registry.create(specs);
        if (!devices.ok()) {
            report.fail("devices", "-", "create", devices.status().message());
        } else {
            std::vector<Device*> ptrs;
            for (auto& d : *devices) ptrs.push_back(d.get());
            run_op_checks(ptrs, opt, report);
            if (opt.wants("moe")) run_moe_checks(ptrs, opt, report);
        }
    }
    if (!opt.ops_only && opt.wants("model")) {
        char tmpl[] = "/tmp/strata-selftest-XXXXXX";
        const char* dir = mkdtemp(tmpl);
        if (!dir) {
            report.fail("models", "-", "temp dir", "cannot create a folder in /tmp");
        } else {
            Options in_dir = opt;
            in_dir.work_dir = dir;
            run_model_checks(gpu_ids, in_dir, report);
            std::error_code ec;
            std::filesystem::remove_all(dir, ec);
        }
    }
}

}  // namespace strata::selftest
