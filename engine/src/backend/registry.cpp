#include "backend/registry.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "backend/cpu/bandwidth_probe.h"
#include "backend/cpu/cpu_device.h"
#include "backend/host_transport.h"
#include "util/cpu_features.h"

namespace strata {

namespace {

std::string executable_dir() {
    std::error_code ec;
    auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::string() : p.parent_path().string();
}

std::vector<std::string> module_candidates() {
    std::vector<std::string> c;
    if (const char* env = std::getenv("STRATA_CUDA_MODULE"); env && *env) c.emplace_back(env);
    const std::string dir = executable_dir();
    if (!dir.empty()) {
        c.push_back(dir + "/libstrata_cuda.so");
        c.push_back(dir + "/../engine/src/backend/cuda/libstrata_cuda.so");  // build tree (tests/)
        c.push_back(dir + "/../lib/strata/libstrata_cuda.so");               // installed
    }
    return c;
}

}  // namespace

DeviceRegistry::DeviceRegistry() {
    if (const char* off = std::getenv("STRATA_NO_CUDA"); off && *off && std::string(off) != "0") {
        gpu_status_ = "no CUDA devices: disabled by STRATA_NO_CUDA";
        return;
    }
    std::string tried;
    for (const std::string& path : module_candidates()) {
        if (!std::filesystem::exists(path)) continue;
        module_handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!module_handle_) {
            const char* err = dlerror();
            tried = path + ": " + (err ? err : "dlopen failed");
            continue;
        }
        auto entry = reinterpret_cast<BackendModuleEntry>(dlsym(module_handle_, kBackendModuleEntry));
        if (!entry) {
            tried = path + ": not a Strata backend module";
            dlclose(module_handle_);
            module_handle_ = nullptr;
            continue;
        }
        cuda_.reset(entry());
        break;
    }
    if (!cuda_) {
        gpu_status_ = tried.empty() ? "no CUDA devices found: this build has no CUDA module (libstrata_cuda.so)"
                                    : "no CUDA devices found: the CUDA module could not be loaded (" + tried + ")";
        return;
    }
    cuda_devices_ = cuda_->devices();
    if (cuda_devices_.empty()) {
        gpu_status_ = "no CUDA devices found: " + cuda_->unavailable_reason();
    } else {
        gpu_status_ = std::to_string(cuda_devices_.size()) + " CUDA device" + (cuda_devices_.size() == 1 ? "" : "s");
    }
}

DeviceRegistry::~DeviceRegistry() {
    cuda_.reset();
    // The module stays mapped: devices and transports it made may still be alive in the owner's
    // objects during static teardown, and unloading CUDA libraries is not safe anyway.
}

std::vector<DeviceInfo> DeviceRegistry::available() const {
    std::vector<DeviceInfo> out = cuda_devices_;
    CpuDevice probe("cpu", 0, 1);
    DeviceInfo cpu = probe.info();
    cpu.n_threads = ThreadPool::default_threads();
    cpu.name = host_cpu_name() + " (" + std::to_string(cpu.n_threads) + " threads)";
    out.push_back(cpu);
    return out;
}

std::vector<DeviceSpec> DeviceRegistry::default_specs() const {
    std::vector<DeviceSpec> specs;
    for (size_t i = 0; i < cuda_devices_.size(); ++i) {
        DeviceSpec s;
        s.kind = "cuda";
        s.index = static_cast<int>(i);
        specs.push_back(s);
    }
    DeviceSpec cpu;
    cpu.kind = "cpu";
    specs.push_back(cpu);
    return specs;
}

Result<std::vector<std::unique_ptr<Device>>> DeviceRegistry::create(const std::vector<DeviceSpec>& specs,
                                                                    int default_cpu_threads) {
    std::vector<std::unique_ptr<Device>> out;
    int n_cpu = 0;
    for (const DeviceSpec& s : specs) {
        if (s.kind == "cpu") {
            const std::string id = n_cpu == 0 ? "cpu" : "cpu" + std::to_string(n_cpu);
            ++n_cpu;
            const int threads = s.n_threads > 0 ? s.n_threads : default_cpu_threads;
            out.push_back(std::make_unique<CpuDevice>(id, s.memory_cap, threads, s.fail_after_ops));
        } else if (s.kind == "cuda") {
            if (!cuda_ || s.index < 0 || static_cast<size_t>(s.index) >= cuda_devices_.size()) {
                return Status(ErrorCode::not_found, "cuda" + std::to_string(s.index) + " does not exist (" + gpu_status_ + ")");
            }
            auto dev = cuda_->create_device(s.index, s.memory_cap, s.fail_after_ops);
            if (!dev.ok()) return dev.status();
            out.push_back(std::move(dev).value());
        } else {
            return Status(ErrorCode::invalid_argument, "unknown device kind '" + s.kind + "' (use cpu or cudaN)");
        }
    }
    for (size_t i = 0; i < out.size(); ++i)
        for (size_t j = i + 1; j < out.size(); ++j)
            if (out[i]->id() == out[j]->id())
                return Status(ErrorCode::invalid_argument, "device " + out[i]->id() + " is listed twice");
    return out;
}

void DeviceRegistry::fill_cpu_speed(DeviceInfo& info) const {
    if (cpu_bandwidth_gbs_ <= 0) {
        // 128 MiB is well past any last-level cache; two passes keep the probe short.
        cpu_bandwidth_gbs_ = measure_read_bandwidth_gbs(0, size_t(128) << 20, 2);
    }
    // Shared by every CPU device of the machine: a virtual device gets its share of threads.
    const int hw = ThreadPool::default_threads();
    const double share = std::min(1.0, static_cast<double>(std::max(1, info.n_threads)) / hw);
    info.memory_bandwidth_gbs = cpu_bandwidth_gbs_ * share;
    // Prompt-processing rate per thread, by the kernels' level. Nominal (not measured): ~16
    // FLOP/cycle with AVX2+FMA at ~2.5 GHz, ~4 without; the 512-bit levels without VNNI are
    // kept at the AVX2 figure until a run measures them. Measured: the avx512_vnni kernels ran
    // TinyLlama-shape pp128 at 146-186 tok/s on 2 threads of an idle Ice Lake Xeon (Q8_0, Q4_0,
    // Q4_K_M; docs/benchmarks.md, 2026-12-07): 150-190 GFLOP/s per thread; F16 weights reached
    // 95. 0.150 is the low end of the quantized figures: still an upper bound on a busy machine,
    // which the calibration (strata/calibration.h) brings down to what a bench measured.
    const CpuIsa isa = cpu_isa();
    const double per_thread_tflops = isa >= CpuIsa::avx512_vnni ? 0.150 : isa >= CpuIsa::avx2 ? 0.040 : 0.010;
    info.matmul_tflops = per_thread_tflops * std::max(1, info.n_threads);
}

Result<std::vector<DeviceInfo>> DeviceRegistry::describe(const std::vector<DeviceSpec>& specs,
                                                         int default_cpu_threads) const {
    std::vector<DeviceInfo> out;
    int n_cpu = 0;
    for (const DeviceSpec& s : specs) {
        DeviceInfo info;
        if (s.kind == "cpu") {
            const int threads = s.n_threads > 0 ? s.n_threads
                                : default_cpu_threads > 0 ? default_cpu_threads : ThreadPool::default_threads();
            const std::string id = n_cpu == 0 ? "cpu" : "cpu" + std::to_string(n_cpu);
            ++n_cpu;
            info.id = id;
            info.type = DeviceType::cpu;
            info.n_threads = threads;
            info.is_virtual = s.memory_cap != 0;
            info.total_memory = s.memory_cap ? s.memory_cap : host_total_memory();
            info.free_memory = s.memory_cap ? s.memory_cap : host_available_memory();
            info.name = host_cpu_name() + " (" + std::to_string(threads) + " threads" +
                        (s.memory_cap ? ", capped" : "") + ")";
            fill_cpu_speed(info);
        } else if (s.kind == "cuda") {
            if (s.index < 0 || static_cast<size_t>(s.index) >= cuda_devices_.size()) {
                return Status(ErrorCode::not_found, "cuda" + std::to_string(s.index) + " does not exist (" + gpu_status_ + ")");
            }
            info = cuda_devices_[static_cast<size_t>(s.index)];
            if (s.memory_cap) {
                info.free_memory = std::min(info.free_memory, s.memory_cap);
                info.total_memory = std::min(info.total_memory, s.memory_cap);
                info.is_virtual = true;
            }
        } else {
            return Status(ErrorCode::invalid_argument, "unknown device kind '" + s.kind + "' (use cpu or cudaN)");
        }
        out.push_back(std::move(info));
    }
    return out;
}

void* DeviceRegistry::module_symbol(const char* name) const {
    return module_handle_ ? dlsym(module_handle_, name) : nullptr;
}

std::unique_ptr<Transport> DeviceRegistry::transport(Device& src, Device& dst) {
    if (cuda_ && src.info().type == DeviceType::cuda && dst.info().type == DeviceType::cuda) {
        if (auto t = cuda_->create_transport(src, dst)) return t;
    }
    return make_host_transport();
}

}  // namespace strata
