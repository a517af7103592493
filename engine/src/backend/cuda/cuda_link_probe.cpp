// strata_cuda_probe_links: how fast data really moves on this machine — pinned host memory ↔
// each GPU, and every ordered GPU pair, with a peer copy where P2P can be enabled and staged
// through pinned host memory where not (what a hand-off between stages then costs). Bandwidth:
// 64 MiB copies, best of 5 after a warm-up; both directions at once on two streams for the
// bidirectional figure; latency: 4 KiB copies issued and waited for one at a time, median of 50.
// Timed with the host clock around stream synchronisation (the copies are milliseconds long).
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "backend/cuda/cuda_detect.h"
#include "backend/cuda/cuda_link_probe_abi.h"
#include "backend/cuda/cuda_resources.h"

namespace {

constexpr size_t kBytes = 64ull << 20;
constexpr size_t kSmall = 4096;
constexpr int kReps = 5;
constexpr int kLatencyReps = 50;

struct Fail {
    std::string what;
};

void ck(cudaError_t e, const char* what) {
    if (e != cudaSuccess) throw Fail{std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")"};
}

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// One GPU's buffers and stream (device memory on that GPU, a pinned host buffer for staging).
// The members own them; ~Gpu makes the GPU current and waits for the stream (a throw may leave
// copies queued), then the members are released in reverse declaration order: the buffers,
// then the stream.
struct Gpu {
    int ordinal = 0;
    strata::cuda::CudaStream stream;
    strata::cuda::DeviceMemory dev;   // 2 × kBytes: [0] source, [1] destination
    strata::cuda::PinnedBuffer host;  // 2 × kBytes pinned
    Gpu() = default;
    Gpu(const Gpu&) = delete;
    Gpu& operator=(const Gpu&) = delete;
    ~Gpu() {
        if (!stream && !dev && !host) return;
        cudaSetDevice(ordinal);
        if (stream && cudaStreamSynchronize(stream.get()) != cudaSuccess) cudaGetLastError();
    }
    char* d(int i) const { return dev.as<char>() + i * kBytes; }
    char* h(int i) const { return host.as<char>() + i * kBytes; }
};

// Best of kReps runs of `issue` (which enqueues work) followed by `wait`; seconds.
template <class Issue, class Wait>
double best_seconds(Issue&& issue, Wait&& wait) {
    issue();
    wait();  // warm-up
    double best = 1e30;
    for (int i = 0; i < kReps; ++i) {
        const double t0 = now_s();
        issue();
        wait();
        best = std::min(best, now_s() - t0);
    }
    return best;
}

template <class Issue, class Wait>
double median_latency_us(Issue&& issue, Wait&& wait) {
    std::vector<double> t;
    issue();
    wait();
    for (int i = 0; i < kLatencyReps; ++i) {
        const double t0 = now_s();
        issue();
        wait();
        t.push_back((now_s() - t0) * 1e6);
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

void sync(const Gpu& g) { ck(cudaStreamSynchronize(g.stream.get()), "cudaStreamSynchronize"); }

}  // namespace

extern "C" __attribute__((visibility("default"))) int strata_cuda_probe_links(StrataCudaLinkTiming* out, int capacity,
                                                                               int* n_out, char* error, int error_len) {
    auto set_error = [&](const std::string& m) {
        if (error && error_len > 0) std::snprintf(error, static_cast<size_t>(error_len), "%s", m.c_str());
        return 1;
    };
    if (!out || !n_out) return set_error("no output buffer");
    *n_out = 0;
    try {
        const strata::cuda::Detection det = strata::cuda::detect_gpus();
        const int n = static_cast<int>(det.ordinals.size());
        if (n == 0) return set_error("no GPUs: " + det.reason);
        if (capacity < 2 * n + n * (n - 1)) return set_error("room for " + std::to_string(capacity) + " timings, " +
                                                             std::to_string(2 * n + n * (n - 1)) + " needed");
        std::vector<Gpu> gpus(static_cast<size_t>(n));
        for (int i = 0; i < n; ++i) {
            Gpu& g = gpus[static_cast<size_t>(i)];
            g.ordinal = det.ordinals[static_cast<size_t>(i)];
            ck(cudaSetDevice(g.ordinal), "cudaSetDevice");
            ck(g.dev.create(2 * kBytes), "cudaMalloc");
            ck(cudaMemset(g.dev.get(), 0x5a, 2 * kBytes), "cudaMemset");
            ck(g.host.create(2 * kBytes, cudaHostAllocPortable), "cudaHostAlloc");
            ck(g.stream.create(cudaStreamNonBlocking), "cudaStreamCreate");
        }
        auto add = [&](int from, int to, bool peer, double gbs, double bidir, double lat) {
            out[*n_out] = StrataCudaLinkTiming{from, to, peer ? 1 : 0, gbs, bidir, lat};
            ++*n_out;
        };
        // Host ↔ each GPU.
        for (int i = 0; i < n; ++i) {
            Gpu& g = gpus[static_cast<size_t>(i)];
            ck(cudaSetDevice(g.ordinal), "cudaSetDevice");
            strata::cuda::CudaStream back_stream;  // released at the end of this iteration (or a throw)
            ck(back_stream.create(cudaStreamNonBlocking), "cudaStreamCreate");
            const cudaStream_t back = back_stream.get();
            auto h2d = [&](size_t bytes) { ck(cudaMemcpyAsync(g.d(1), g.h(0), bytes, cudaMemcpyHostToDevice, g.stream.get()), "cudaMemcpyAsync"); };
            auto d2h = [&](size_t bytes, cudaStream_t s) { ck(cudaMemcpyAsync(g.h(1), g.d(0), bytes, cudaMemcpyDeviceToHost, s), "cudaMemcpyAsync"); };
            const double up = best_seconds([&] { h2d(kBytes); }, [&] { sync(g); });
            const double down = best_seconds([&] { d2h(kBytes, g.stream.get()); }, [&] { sync(g); });
            const double both = best_seconds([&] { h2d(kBytes); d2h(kBytes, back); },
                                             [&] { sync(g); ck(cudaStreamSynchronize(back), "cudaStreamSynchronize"); });
            const double up_lat = median_latency_us([&] { h2d(kSmall); }, [&] { sync(g); });
            const double down_lat = median_latency_us([&] { d2h(kSmall, g.stream.get()); }, [&] { sync(g); });
            add(-1, i, false, kBytes / up / 1e9, 2 * kBytes / both / 1e9, up_lat);
            add(i, -1, false, kBytes / down / 1e9, 2 * kBytes / both / 1e9, down_lat);
        }
        // Every ordered GPU pair: a peer copy where P2P can be enabled, else staged through the
        // source GPU's pinned buffer (one hop after the other, as a staged hand-off runs).
        for (int a = 0; a < n; ++a) {
            for (int b = 0; b < n; ++b) {
                if (a == b) continue;
                Gpu& ga = gpus[static_cast<size_t>(a)];
                Gpu& gb = gpus[static_cast<size_t>(b)];
                int can_ab = 0, can_ba = 0;
                ck(cudaDeviceCanAccessPeer(&can_ab, ga.ordinal, gb.ordinal), "cudaDeviceCanAccessPeer");
                ck(cudaDeviceCanAccessPeer(&can_ba, gb.ordinal, ga.ordinal), "cudaDeviceCanAccessPeer");
                bool peer = can_ab && can_ba;
                for (auto [x, y] : {std::pair{&ga, &gb}, std::pair{&gb, &ga}}) {
                    if (!peer) break;
                    ck(cudaSetDevice(x->ordinal), "cudaSetDevice");
                    const cudaError_t e = cudaDeviceEnablePeerAccess(y->ordinal, 0);
                    if (e == cudaErrorPeerAccessAlreadyEnabled) {
                        cudaGetLastError();  // clears the sticky-free error
                    } else if (e != cudaSuccess) {
                        cudaGetLastError();
                        peer = false;  // said possible, refused: measure the staged path
                    }
                }
                auto copy = [&](Gpu& from, Gpu& to, size_t bytes) {
                    if (peer) {
                        ck(cudaMemcpyPeerAsync(to.d(1), to.ordinal, from.d(0), from.ordinal, bytes, from.stream.get()),
                           "cudaMemcpyPeerAsync");
                    } else {
                        ck(cudaMemcpyAsync(from.h(1), from.d(0), bytes, cudaMemcpyDeviceToHost, from.stream.get()), "cudaMemcpyAsync");
                        ck(cudaStreamSynchronize(from.stream.get()), "cudaStreamSynchronize");
                        ck(cudaMemcpyAsync(to.d(1), from.h(1), bytes, cudaMemcpyHostToDevice, to.stream.get()), "cudaMemcpyAsync");
                    }
                };
                auto wait = [&](Gpu& from, Gpu& to) {
                    sync(from);
                    sync(to);
                };
                const double one = best_seconds([&] { copy(ga, gb, kBytes); }, [&] { wait(ga, gb); });
                // Both directions at once: a staged pair serialises each direction's own hops,
                // so its figure is only a lower bound; peer copies run truly concurrently.
                const double both = best_seconds([&] { copy(ga, gb, kBytes); copy(gb, ga, kBytes); }, [&] { wait(ga, gb); });
                const double lat = median_latency_us([&] { copy(ga, gb, kSmall); }, [&] { wait(ga, gb); });
                add(a, b, peer, kBytes / one / 1e9, 2 * kBytes / both / 1e9, lat);
            }
        }
        return 0;
    } catch (const Fail& f) {
        return set_error(f.what);
    } catch (const std::exception& e) {
        return set_error(e.what());
    }
}
