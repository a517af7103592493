#include "backend/cpu/bandwidth_probe.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "util/cpu_features.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace strata {
namespace {

uint64_t read_scalar(const uint64_t* p, size_t n) {
    uint64_t a = 0, b = 0, c = 0, d = 0;
    for (size_t i = 0; i + 4 <= n; i += 4) {
        a ^= p[i];
        b ^= p[i + 1];
        c ^= p[i + 2];
        d ^= p[i + 3];
    }
    return a ^ b ^ c ^ d;
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) uint64_t read_avx2(const uint64_t* p, size_t n) {
    __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
    const auto* v = reinterpret_cast<const __m256i*>(p);
    const size_t nv = n / 4;  // 32-byte vectors
    for (size_t i = 0; i + 4 <= nv; i += 4) {
        a = _mm256_xor_si256(a, _mm256_load_si256(v + i));
        b = _mm256_xor_si256(b, _mm256_load_si256(v + i + 1));
        c = _mm256_xor_si256(c, _mm256_load_si256(v + i + 2));
        d = _mm256_xor_si256(d, _mm256_load_si256(v + i + 3));
    }
    const __m256i x = _mm256_xor_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(c, d));
    return static_cast<uint64_t>(_mm256_extract_epi64(x, 0) ^ _mm256_extract_epi64(x, 3));
}
#endif

}  // namespace

double measure_read_bandwidth_gbs(int n_threads, size_t bytes, int passes) {
    if (n_threads <= 0) n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (bytes == 0) bytes = size_t(256) << 20;
    passes = std::max(1, passes);
    const size_t n_words = bytes / 8 / 64 * 64;  // whole 512-byte chunks
    std::unique_ptr<uint64_t[], void (*)(uint64_t*)> buf(
        static_cast<uint64_t*>(std::aligned_alloc(64, n_words * 8)), [](uint64_t* p) { std::free(p); });
    if (!buf) return 0.0;
    for (size_t i = 0; i < n_words; ++i) buf[i] = i * 0x9E3779B97F4A7C15ULL;  // touch every page

    const bool avx2 = cpu_isa() >= CpuIsa::avx2;
    const size_t per_thread = n_words / static_cast<size_t>(n_threads) / 64 * 64;
    std::vector<double> gbs;
    std::vector<uint64_t> sinks(static_cast<size_t>(n_threads));
    for (int pass = 0; pass < passes; ++pass) {
        std::atomic<int> ready{0};
        std::atomic<bool> go{false};
        std::vector<std::thread> threads;
        auto body = [&](int t) {
            if (t != 0) {
                ready.fetch_add(1);
                while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            }
            const uint64_t* p = buf.get() + per_thread * static_cast<size_t>(t);
#if defined(__x86_64__) || defined(__i386__)
            sinks[static_cast<size_t>(t)] = avx2 ? read_avx2(p, per_thread) : read_scalar(p, per_thread);
#else
            sinks[static_cast<size_t>(t)] = read_scalar(p, per_thread);
#endif
        };
        for (int t = 1; t < n_threads; ++t) threads.emplace_back(body, t);
        while (ready.load() != n_threads - 1) std::this_thread::yield();
        const auto t0 = std::chrono::steady_clock::now();
        go.store(true, std::memory_order_release);
        body(0);
        for (auto& th : threads) th.join();
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        gbs.push_back(static_cast<double>(per_thread * 8 * static_cast<size_t>(n_threads)) / s / 1e9);
    }
    volatile uint64_t sink = 0;
    for (uint64_t s : sinks) sink = sink ^ s;
    (void)sink;
    std::sort(gbs.begin(), gbs.end());
    return gbs[gbs.size() / 2];
}

}  // namespace strata
