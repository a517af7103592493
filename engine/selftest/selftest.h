// The selftest harness (library strata_selftest): every op on every device against simple
// references, and whole models on each GPU against the CPU. Run by `strata-cli selftest` and by
// the CTest executable tests/gpu/tst_cuda_selftest (label gpu). Also the suites' shared pieces:
// the result table, seeded random data (never all zero), error measures, small device helpers.
// Plain C++, no Qt; CUDA is reached only through the Device interface.
//
// Threading: everything here runs on the calling thread; a Report is not shared.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend/device.h"

namespace strata {
class DeviceRegistry;
}

namespace strata::selftest {

struct Options {
    bool quick = false;
    bool verbose = false;
    std::string model_path;   // real model for the whole-model checks ("" = none)
    std::string only;         // comma-separated suites to run ("" = all): matmul, embed, rms_norm,
                              // elementwise, rope, store_kv, attention, moe, model
    bool wants(const std::string& suite) const;
    std::string work_dir;     // where random models are written (run() makes a temporary one)
    bool ops_only = false;    // skip the whole-model checks
    bool cpu_ops = true;      // also check the ops on the CPU device (false: the GPUs' cases only)
};

// One check's outcome. err and tol are in the check's own measure (see each suite); a NaN
// error fails.
struct Outcome {
    std::string group;   // "matmul Q4_K", "model llama Q4_0"
    std::string device;  // "cuda0", "cpu", "cuda0+cpu"
    std::string detail;  // the case: sizes, positions...
    double err = 0;
    double tol = 0;
    bool pass = false;
    std::string note;    // failure text, or extra information
};

class Report {
public:
    void add(Outcome o);
    void add(const std::string& group, const std::string& device, const std::string& detail, double err, double tol,
             const std::string& note = {});
    void fail(const std::string& group, const std::string& device, const std::string& detail, const std::string& why);
    // Prints the per-group table, then every failure, then "N passed, M failed".
    void print(bool verbose) const;
    int n_failed() const;
    int n_passed() const;

private:
    std::vector<Outcome> outcomes_;
};

// ---- random data ----
class Rng {
public:
    explicit Rng(uint64_t seed) : gen_(seed) {}
    float gauss(float scale = 1.0f) { return scale * dist_(gen_); }
    std::vector<float> gauss_vec(size_t n, float scale = 1.0f) {
        std::vector<float> v(n);
        for (auto& x : v) x = gauss(scale);
        return v;
    }
    int64_t below(int64_t n) { return static_cast<int64_t>(gen_() % static_cast<uint64_t>(n)); }

private:
    std::mt19937_64 gen_;
    std::normal_distribution<float> dist_{0.0f, 1.0f};
};

// max |a - b| / rms(b) (NaN-propagating; rms floor 1e-20).
double rel_max_err(const std::vector<float>& a, const std::vector<double>& ref);
double rel_max_err(const std::vector<float>& a, const std::vector<float>& ref);
double rms(const std::vector<double>& v);

// A device buffer holding `data` (or `bytes` bytes poisoned with 0xFF, which reads as NaN).
Result<std::unique_ptr<Buffer>> upload(Device& d, const void* data, size_t bytes, MemoryUse use = MemoryUse::kv_cache);
Result<std::unique_ptr<Buffer>> poisoned(Device& d, size_t bytes, MemoryUse use = MemoryUse::kv_cache);
Status download(Device& d, const Buffer& b, void* dst, size_t bytes);

// A weight as the devices take it (HostTensor), over `bytes` (which must outlive it).
HostTensor host_tensor(const std::string& name, WeightRole role, TensorType type, int64_t rows, int64_t cols,
                       const std::vector<uint8_t>& bytes);
// The bytes of F32 values (biases and other F32 tensors of a weight set).
std::vector<uint8_t> f32_bytes(const std::vector<float>& v);

// Quantizes random rows into `type` (the reference quantizer) and returns the bytes.
std::vector<uint8_t> random_weight(TensorType type, int64_t n_rows, int64_t n_cols, Rng& rng, float scale);

// The ids of the CUDA devices `registry` offers ("cuda0", ...), in order.
std::vector<std::string> cuda_device_ids(const DeviceRegistry& registry);

// The whole selftest: the op checks on every CUDA device of `registry` (and the CPU when
// opt.cpu_ops), then, unless opt.ops_only or opt.only excludes "model", the model checks in a
// temporary folder under /tmp (removed afterwards). Appends every outcome to `report`; prints
// nothing (report.print() does).
void run(DeviceRegistry& registry, const Options& opt, Report& report);

// Suites. Each appends outcomes for every device in `devices` (the CPU device included).
void run_op_checks(const std::vector<Device*>& devices, const Options& opt, Report& report);
void run_model_checks(const std::vector<std::string>& gpu_ids, const Options& opt, Report& report);
// The CUDA mixture-of-experts kernels against the CPU's (selftest_moe_cuda.cpp); CUDA devices only.
void run_moe_checks(const std::vector<Device*>& devices, const Options& opt, Report& report);

}  // namespace strata::selftest
