// Shared pieces of `strata-cli selftest`: the result table, seeded random data (never all
// zero), error measures, and small device helpers. Plain C++; CUDA is reached only through the
// Device interface (and the module's exported probe).
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend/device.h"

namespace strata::cli::selftest {

struct Options {
    bool quick = false;
    bool verbose = false;
    std::string model_path;   // real model for the whole-model checks ("" = none)
    std::string only;         // comma-separated suites to run ("" = all): matmul, embed, rms_norm,
                              // elementwise, rope, store_kv, attention, moe, model
    bool wants(const std::string& suite) const;
    std::string work_dir;     // where random models are written
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

// Quantizes random rows into `type` (the reference quantizer) and returns the bytes.
std::vector<uint8_t> random_weight(TensorType type, int64_t n_rows, int64_t n_cols, Rng& rng, float scale);

// Suites. Each appends outcomes for every device in `devices` (the CPU device included).
void run_op_checks(const std::vector<Device*>& devices, const Options& opt, Report& report);
void run_model_checks(const std::vector<std::string>& gpu_ids, const Options& opt, Report& report);
// The CUDA mixture-of-experts kernels against the CPU's (selftest_moe_cuda.cpp); CUDA devices only.
void run_moe_checks(const std::vector<Device*>& devices, const Options& opt, Report& report);

// `strata-cli selftest --probe`: measured ceilings of each CUDA device (0 on success).
int run_probe(int n_cuda_devices);

}  // namespace strata::cli::selftest
