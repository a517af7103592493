// bench_matmul: times cpu_matmul per weight format on TinyLlama-1.1B's layer shapes, for decode
// (n_tok = 1, reported as GB/s of weights read) and prefill (n_tok = 128, GFLOP/s), and
// estimates tg64 / pp128 tokens per second of the 22-layer stack from the sum of the matmuls.
//
// Formats and shapes are interleaved round by round (memory bandwidth on shared machines swings
// run to run), and each figure is the median of its rounds. Between two calls on the same
// matrix, more than the last-level cache worth of other weights is read, as in a real decode.
//
//   bench_matmul [--types F16,Q8_0,Q4_0,Q4_K] [--threads N] [--tg-rounds 15] [--pp-rounds 3]
//                [--pp-tokens 128] [--rows] [--cpu-time]
//   --rows adds the un-repacked row layout as variants; --cpu-time times calls by process CPU
//   time / threads (see time_call), for machines busy with other jobs.
// STRATA_CPU_ISA=scalar forces the scalar kernels.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/bandwidth_probe.h"
#include "backend/cpu/cpu_matmul.h"
#include "quant/quant.h"
#include "util/cpu_features.h"
#include "util/thread_pool.h"

using namespace strata;

namespace {

struct Shape {
    const char* name;
    int64_t n_rows, n_cols;
    int per_layer;  // how many of this matrix one layer has (0: the output matrix, once per token)
};

// TinyLlama-1.1B: dim 2048, 32 heads, 4 kv heads (k/v: 256 rows), ffn 5632, vocab 32000.
const Shape kShapes[] = {
    {"q/o 2048x2048", 2048, 2048, 2}, {"k/v 256x2048", 256, 2048, 2}, {"gate/up 5632x2048", 5632, 2048, 2},
    {"down 2048x5632", 2048, 5632, 1}, {"output 32000x2048", 32000, 2048, 0},
};
constexpr int kLayers = 22;

struct LlamaRef {
    const char* type;
    double pp128, tg64;
};
const LlamaRef kLlama[] = {{"F16", 119, 15}, {"Q8_0", 90, 21}, {"Q4_0", 175, 42}};

struct Variant {
    TensorType type;
    bool repack;
    std::string label;
    std::vector<CpuWeight> weights;  // one per shape
    std::vector<std::vector<double>> tg_s, pp_s;
};

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Random weights: 64 distinct quantized rows tiled over the matrix (quantizing every row of a
// 32000-row K-quant matrix would take longer than the benchmark; the bytes read are the same).
std::vector<uint8_t> make_weights(TensorType t, int64_t n_rows, int64_t n_cols, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, 0.02f);
    const size_t rb = tensor_row_bytes(t, n_cols);
    std::vector<uint8_t> w(rb * static_cast<size_t>(n_rows));
    const int64_t n_distinct = std::min<int64_t>(64, n_rows);
    std::vector<float> row(static_cast<size_t>(n_cols));
    for (int64_t r = 0; r < n_distinct; ++r) {
        for (auto& x : row) x = dist(rng);
        quant::quantize_row_ref(t, row.data(), w.data() + rb * static_cast<size_t>(r), n_cols);
    }
    for (int64_t r = n_distinct; r < n_rows; ++r)
        std::memcpy(w.data() + rb * static_cast<size_t>(r), w.data() + rb * static_cast<size_t>(r % n_distinct), rb);
    return w;
}

// --cpu-time: process CPU seconds per call divided by the thread count instead of wall time.
// On a machine shared with other jobs this approximates the quiet-machine wall time of
// compute-bound calls (it counts the pool's brief spinning as work).
bool g_cpu_time = false;

double process_cpu_seconds() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Seconds on the clock the benchmark uses.
double now_seconds() {
    if (g_cpu_time) return process_cpu_seconds();
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Compute ceiling of one core at this moment: FMA throughput (F32 GFLOP/s) and vpmaddubsw
// throughput (int8 GOP/s, 2 ops per multiply-add), from register-only loops with 12
// independent accumulators. Shared machines change speed with load, so it is measured in the
// same run as the kernels.
#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx2,fma"))) double fma_peak_gflops() {
    __m256 a[12];
    for (int j = 0; j < 12; ++j) a[j] = _mm256_set1_ps(1.0f + 0.001f * static_cast<float>(j));
    const __m256 m = _mm256_set1_ps(0.99999f), c = _mm256_set1_ps(1e-6f);
    const long n = 5000000;
    const double t0 = now_seconds();
    for (long i = 0; i < n; ++i) {
#pragma GCC unroll 12
        for (int j = 0; j < 12; ++j) a[j] = _mm256_fmadd_ps(a[j], m, c);
    }
    const double s = now_seconds() - t0;
    float sink = 0;
    for (int j = 0; j < 12; ++j) sink += _mm256_cvtss_f32(a[j]);
    if (sink == 12345.0f) std::printf(" ");
    return 12.0 * 16.0 * n / s / 1e9;
}
__attribute__((target("avx2"))) double maddubs_peak_gops() {
    __m256i a[12];
    for (int j = 0; j < 12; ++j) a[j] = _mm256_set1_epi16(static_cast<short>(j));
    __m256i u = _mm256_set1_epi8(3), v = _mm256_set1_epi8(-2);
    const long n = 5000000;
    const double t0 = now_seconds();
    for (long i = 0; i < n; ++i) {
#pragma GCC unroll 12
        for (int j = 0; j < 12; ++j) a[j] = _mm256_add_epi16(a[j], _mm256_maddubs_epi16(u, v));
        __asm__("" : "+x"(u), "+x"(v));
    }
    const double s = now_seconds() - t0;
    int sink = 0;
    for (int j = 0; j < 12; ++j) sink += _mm256_extract_epi16(a[j], 0);
    if (sink == 12345) std::printf(" ");
    return 12.0 * 64.0 * n / s / 1e9;
}
#else
double fma_peak_gflops() { return 0; }
double maddubs_peak_gops() { return 0; }
#endif

double time_call(ThreadPool& pool, const CpuWeight& w, const float* x, int64_t n_tok, float* out, MatmulScratch& s) {
    if (g_cpu_time) {
        const double c0 = process_cpu_seconds();
        cpu_matmul(pool, w, x, n_tok, out, s);
        return (process_cpu_seconds() - c0) / pool.n_threads();
    }
    const auto t0 = std::chrono::steady_clock::now();
    cpu_matmul(pool, w, x, n_tok, out, s);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
    std::string types = "F16,Q8_0,Q4_0,Q4_K,Q6_K";
    int n_threads = ThreadPool::default_threads(), tg_rounds = 15, pp_rounds = 3, pp_tokens = 128;
    bool rows_too = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : ""; };
        if (a == "--types") types = next();
        else if (a == "--threads") n_threads = std::atoi(next());
        else if (a == "--tg-rounds") tg_rounds = std::atoi(next());
        else if (a == "--pp-rounds") pp_rounds = std::atoi(next());
        else if (a == "--pp-tokens") pp_tokens = std::atoi(next());
        else if (a == "--rows") rows_too = true;
        else if (a == "--cpu-time") g_cpu_time = true;
        else {
            std::fprintf(stderr, "usage: %s [--types F16,Q4_0,...] [--threads N] [--tg-rounds N] [--pp-rounds N] "
                                 "[--pp-tokens N] [--rows] [--cpu-time]\n", argv[0]);
            return 2;
        }
    }
    std::printf("bench_matmul: %d threads, kernels %s, CPU features: %s; timing: %s\n", n_threads,
                quant::cpu_kernel_isa().c_str(), cpu_features_string().c_str(),
                g_cpu_time ? "process CPU time / threads" : "wall clock");
    const double bw_start = measure_read_bandwidth_gbs(n_threads);
    std::printf("streaming read bandwidth (probe, start): %.1f GB/s\n", bw_start);
    // Best of 5 short runs: the least disturbed one is the closest to the hardware's ceiling.
    double fma1 = 0, madd1 = 0;
    for (int i = 0; i < 5; ++i) {
        fma1 = std::max(fma1, fma_peak_gflops());
        madd1 = std::max(madd1, maddubs_peak_gops());
    }
    std::printf("one core's ceiling now: %.1f GFLOP/s F32 FMA, %.1f GOP/s int8 maddubs (x%d threads)\n", fma1, madd1,
                n_threads);

    std::vector<Variant> variants;
    std::vector<std::vector<uint8_t>> row_layout_bytes;  // weights left as views need their bytes
    row_layout_bytes.reserve(64);
    size_t pos = 0;
    while (pos <= types.size()) {
        const size_t comma = std::min(types.find(',', pos), types.size());
        const std::string name = types.substr(pos, comma - pos);
        pos = comma + 1;
        if (name.empty()) continue;
        const auto t = parse_tensor_type(name);
        if (!t) {
            std::fprintf(stderr, "unknown type %s\n", name.c_str());
            return 2;
        }
        for (bool repack : {true, false}) {
            if (!repack && !rows_too) continue;
            Variant v{*t, repack, std::string(tensor_type_name(*t)) + (repack ? "" : "/rows"), {}, {}, {}};
            for (const Shape& s : kShapes) {
                const auto raw = make_weights(*t, s.n_rows, s.n_cols, 42u + static_cast<uint32_t>(s.n_rows));
                auto w = CpuWeight::prepare(*t, raw.data(), s.n_rows, s.n_cols, repack);
                if (!w.ok()) {
                    std::fprintf(stderr, "%s: %s\n", v.label.c_str(), w.status().message().c_str());
                    return 1;
                }
                if (w->owned_bytes() == 0) {  // a view of `raw`: keep the bytes alive for the run
                    row_layout_bytes.push_back(raw);
                    w = CpuWeight::prepare(*t, row_layout_bytes.back().data(), s.n_rows, s.n_cols, repack);
                }
                v.weights.push_back(std::move(*w));
            }
            v.tg_s.resize(std::size(kShapes));
            v.pp_s.resize(std::size(kShapes));
            variants.push_back(std::move(v));
        }
    }

    ThreadPool pool(n_threads);
    MatmulScratch scratch;
    std::mt19937 rng(7);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> x(static_cast<size_t>(pp_tokens) * 5632), out(static_cast<size_t>(pp_tokens) * 32000);
    for (auto& v : x) v = dist(rng);

    for (int round = -1; round < tg_rounds; ++round) {  // round -1 warms up
        for (auto& v : variants) {
            for (size_t s = 0; s < std::size(kShapes); ++s) {
                const double t = time_call(pool, v.weights[s], x.data(), 1, out.data(), scratch);
                if (round >= 0) v.tg_s[s].push_back(t);
            }
        }
    }
    for (int round = 0; round < pp_rounds; ++round) {
        for (auto& v : variants) {
            for (size_t s = 0; s < std::size(kShapes); ++s) {
                v.pp_s[s].push_back(time_call(pool, v.weights[s], x.data(), pp_tokens, out.data(), scratch));
            }
        }
    }
    const double bw_end = measure_read_bandwidth_gbs(n_threads);
    std::printf("streaming read bandwidth (probe, end):   %.1f GB/s\n\n", bw_end);
    const double bw = 0.5 * (bw_start + bw_end);

    std::printf("%-10s %-18s %10s %8s %7s | %10s %9s %7s\n", "type", "shape", "tg ms", "GB/s", "%bw", "pp ms",
                "GFLOP/s", "%peak");
    for (const auto& v : variants) {
        for (size_t s = 0; s < std::size(kShapes); ++s) {
            const double tg = median(v.tg_s[s]), pp = median(v.pp_s[s]);
            const double gbs = static_cast<double>(v.weights[s].bytes()) / tg / 1e9;
            const double gflops = 2.0 * kShapes[s].n_rows * kShapes[s].n_cols * pp_tokens / pp / 1e9;
            // Float weights run on FMA, quantized ones on vpmaddubsw: compare with that ceiling.
            const bool is_float = v.type == TensorType::F32 || v.type == TensorType::F16 || v.type == TensorType::BF16;
            const double peak = n_threads * (is_float ? fma1 : madd1);
            std::printf("%-10s %-18s %10.3f %8.1f %6.0f%% | %10.2f %9.1f %6.0f%%\n", v.label.c_str(), kShapes[s].name,
                        tg * 1e3, gbs, 100 * gbs / bw, pp * 1e3, gflops, peak > 0 ? 100 * gflops / peak : 0.0);
        }
    }
    std::printf("\nEstimated TinyLlama-1.1B stack (%d layers; matmuls only, prefill computes the output\n"
                "row for the last token only, as llama-bench does):\n", kLayers);
    std::printf("%-10s %10s %10s %12s | %10s %10s\n", "type", "tg64 tok/s", "llama.cpp", "weights GB/s", "pp tok/s",
                "llama.cpp");
    for (const auto& v : variants) {
        double tok_s = 0, pp_s = 0, bytes = 0;
        for (size_t s = 0; s < std::size(kShapes); ++s) {
            const int mult = kShapes[s].per_layer == 0 ? 1 : kShapes[s].per_layer * kLayers;
            tok_s += mult * median(v.tg_s[s]);
            pp_s += kShapes[s].per_layer == 0 ? median(v.tg_s[s]) : mult * median(v.pp_s[s]);
            bytes += mult * static_cast<double>(v.weights[s].bytes());
        }
        double ref_tg = 0, ref_pp = 0;
        for (const auto& r : kLlama) {
            if (v.repack && tensor_type_name(v.type) == std::string(r.type)) {
                ref_tg = r.tg64;
                ref_pp = r.pp128;
            }
        }
        char tg_ref[32] = "-", pp_ref[32] = "-";
        if (ref_tg > 0) std::snprintf(tg_ref, sizeof tg_ref, "%.0f", ref_tg);
        if (ref_pp > 0) std::snprintf(pp_ref, sizeof pp_ref, "%.0f", ref_pp);
        std::printf("%-10s %10.1f %10s %12.1f | %10.1f %10s\n", v.label.c_str(), 1.0 / tok_s, tg_ref,
                    bytes / tok_s / 1e9, pp_tokens / pp_s, pp_ref);
    }
    std::printf("(pp estimate scaled from n_tok = %d; bandwidth probe mean %.1f GB/s)\n", pp_tokens, bw);
    return 0;
}
