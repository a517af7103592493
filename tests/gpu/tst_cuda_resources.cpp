// The CUDA backend's owning handles (backend/cuda/cuda_resources.h), Qt-free, built where the
// CUDA toolkit is (labels engine and gpu):
// - ownership logic through CudaOwned with a counting stand-in for the release function: every
//   object released exactly once, by the last owner, moves leave the source empty, move-assign
//   releases what the target held, self-move keeps it;
// - the real create() calls: without a usable GPU each returns the runtime's error and leaves
//   the handle empty (nothing to release later); with one, each makes a live object, a pinned
//   buffer holds what is written to it, and a stream, event and device buffer work together
//   (a copy into device memory and back, ordered by an event).
#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

#include "backend/cuda/cuda_resources.h"

namespace {

int g_failures = 0;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            std::printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                \
            ++g_failures;                                                              \
        }                                                                              \
    } while (0)

// Stand-in objects: small ints handed out by address; releasing one counts it.
int g_objects[8];
int g_released[8];
cudaError_t fake_release(int* h) {
    ++g_released[h - g_objects];
    return cudaSuccess;
}
using Fake = strata::cuda::CudaOwned<int*, &fake_release>;

void ownership() {
    std::memset(g_released, 0, sizeof g_released);
    {
        Fake a;
        CHECK(!a);
        a.reset(&g_objects[0]);
        CHECK(a && a.get() == &g_objects[0]);
        Fake b(std::move(a));  // moves: the source is empty, nothing released
        CHECK(!a && b.get() == &g_objects[0]);
        CHECK(g_released[0] == 0);
        Fake c;
        c.reset(&g_objects[1]);
        c = std::move(b);  // c's old object goes, c takes b's
        CHECK(g_released[1] == 1 && g_released[0] == 0);
        CHECK(!b && c.get() == &g_objects[0]);
        Fake& alias = c;
        c = std::move(alias);  // self-move: kept
        CHECK(c.get() == &g_objects[0] && g_released[0] == 0);
        c.reset(&g_objects[2]);  // reset releases the old object
        CHECK(g_released[0] == 1 && g_released[2] == 0);
        std::vector<Fake> v;  // growth moves elements (noexcept move): nothing released
        for (int i = 3; i < 8; ++i) {
            v.emplace_back();
            v.back().reset(&g_objects[i]);
        }
        for (int i = 3; i < 8; ++i) CHECK(g_released[i] == 0);
    }
    // Scope end: each object released exactly once.
    for (int i = 0; i < 8; ++i) CHECK(g_released[i] == 1);
}

// True when a GPU can be used here (errors cleared either way).
bool have_gpu() {
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    cudaGetLastError();
    return e == cudaSuccess && n > 0;
}

void create_without_gpu() {
    strata::cuda::CudaStream s;
    strata::cuda::CudaEvent ev;
    strata::cuda::PinnedBuffer p;
    strata::cuda::DeviceMemory d;
    CHECK(s.create() != cudaSuccess && !s);
    CHECK(ev.create() != cudaSuccess && !ev);
    CHECK(p.create(4096) != cudaSuccess && !p);
    CHECK(d.create(4096) != cudaSuccess && !d);
    cudaGetLastError();
}

void create_with_gpu() {
    CHECK(cudaSetDevice(0) == cudaSuccess);
    strata::cuda::CudaStream s;
    strata::cuda::CudaEvent done;
    strata::cuda::PinnedBuffer host;
    strata::cuda::DeviceMemory dev;
    CHECK(s.create(cudaStreamNonBlocking) == cudaSuccess && s);
    CHECK(done.create(cudaEventDisableTiming) == cudaSuccess && done);
    CHECK(host.create(2 * 4096) == cudaSuccess && host);
    CHECK(dev.create(4096) == cudaSuccess && dev);
    if (!s || !done || !host || !dev) return;
    unsigned char* h = host.as<unsigned char>();
    for (int i = 0; i < 4096; ++i) h[i] = static_cast<unsigned char>(i * 7 + 3);
    std::memset(h + 4096, 0, 4096);
    CHECK(cudaMemcpyAsync(dev.get(), h, 4096, cudaMemcpyHostToDevice, s.get()) == cudaSuccess);
    CHECK(cudaMemcpyAsync(h + 4096, dev.get(), 4096, cudaMemcpyDeviceToHost, s.get()) == cudaSuccess);
    CHECK(cudaEventRecord(done.get(), s.get()) == cudaSuccess);
    CHECK(cudaEventSynchronize(done.get()) == cudaSuccess);
    CHECK(std::memcmp(h, h + 4096, 4096) == 0);
    strata::cuda::CudaStream moved(std::move(s));  // a live stream changes owner
    CHECK(!s && moved);
    CHECK(cudaStreamSynchronize(moved.get()) == cudaSuccess);
    CHECK(cudaGetLastError() == cudaSuccess);
    // Released in reverse declaration order at scope end; all synchronized above.
}

}  // namespace

int main() {
    ownership();
    if (have_gpu()) {
        std::printf("GPU present: live streams, events and buffers checked\n");
        create_with_gpu();
    } else {
        std::printf("no usable GPU: creation must fail cleanly (the live checks run on a GPU machine)\n");
        create_without_gpu();
    }
    std::printf("%s (%d failed checks)\n", g_failures ? "FAILED" : "passed", g_failures);
    return g_failures ? 1 : 0;
}
