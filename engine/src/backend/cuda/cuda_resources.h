// Owning, move-only handles for CUDA runtime objects: CudaStream, CudaEvent, PinnedBuffer
// (cudaHostAlloc) and DeviceMemory (cudaMalloc); and CublasHandle (non-copyable) for cuBLAS.
// Each owns at most one object and releases it in its destructor or reset(), so no owner frees
// anything by hand.
//
// Errors: create() returns the runtime's cudaError_t (the caller turns it into a Status, as every
// CUDA error in this module is) and leaves the handle empty on failure; nothing here throws. A
// release that fails (a context already lost) is ignored and its error cleared from the thread's
// last error: a destructor has nobody to report to, and the error is not sticky.
//
// Lifetime rules these types do not enforce (the owner does):
// - Create and release with the owning GPU current (cudaSetDevice).
// - Releasing does not wait for the GPU. Before a PinnedBuffer or DeviceMemory is released, no
//   queued work may still use it: synchronize the streams that use it first. cudaStreamDestroy
//   and cudaEventDestroy themselves are safe with work still queued (the runtime releases them
//   once that work completes), but a stream must outlive the memory its work reads.
// - Members of a class are destroyed in reverse declaration order: declare the streams first,
//   then events, then the memory their work uses (see CudaDevice).
//
// Threading: a handle is not synchronized; it belongs to whoever owns it (under its lock).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <utility>

typedef struct cublasContext* cublasHandle_t;  // cublas_api.h (kept out of most sources)

namespace strata::cuda {

// The common part: one handle of type H released with Release (a CUDA runtime function).
template <class H, cudaError_t (*Release)(H)>
class CudaOwned {
public:
    CudaOwned() noexcept = default;
    ~CudaOwned() { reset(); }
    CudaOwned(CudaOwned&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    CudaOwned& operator=(CudaOwned&& o) noexcept {
        if (this != &o) reset(std::exchange(o.h_, nullptr));
        return *this;
    }
    CudaOwned(const CudaOwned&) = delete;
    CudaOwned& operator=(const CudaOwned&) = delete;

    H get() const noexcept { return h_; }
    explicit operator bool() const noexcept { return h_ != nullptr; }
    // Releases the object held (if any) and takes `h`.
    void reset(H h = nullptr) noexcept {
        if (h_ && Release(h_) != cudaSuccess) cudaGetLastError();
        h_ = h;
    }
    // Gives the object up to the caller, who releases it from now on; the handle is empty after.
    [[nodiscard]] H release() noexcept { return std::exchange(h_, nullptr); }

private:
    H h_ = nullptr;
};

class CudaStream : public CudaOwned<cudaStream_t, &cudaStreamDestroy> {
public:
    // A new stream on the current GPU (any stream held before is released).
    [[nodiscard]] cudaError_t create(unsigned flags = cudaStreamNonBlocking) noexcept {
        cudaStream_t s = nullptr;
        const cudaError_t e = cudaStreamCreateWithFlags(&s, flags);
        if (e == cudaSuccess) reset(s);
        return e;
    }
};

class CudaEvent : public CudaOwned<cudaEvent_t, &cudaEventDestroy> {
public:
    // A new event on the current GPU (cudaEventDefault: with timing).
    [[nodiscard]] cudaError_t create(unsigned flags = cudaEventDefault) noexcept {
        cudaEvent_t ev = nullptr;
        const cudaError_t e = cudaEventCreateWithFlags(&ev, flags);
        if (e == cudaSuccess) reset(ev);
        return e;
    }
};

// Page-locked host memory (cudaHostAlloc; cudaHostAllocMapped also maps it into the GPU's space).
class PinnedBuffer : public CudaOwned<void*, &cudaFreeHost> {
public:
    [[nodiscard]] cudaError_t create(size_t bytes, unsigned flags = cudaHostAllocDefault) noexcept {
        void* p = nullptr;
        const cudaError_t e = cudaHostAlloc(&p, bytes, flags);
        if (e == cudaSuccess) reset(p);
        return e;
    }
    template <class T>
    T* as() const noexcept {
        return static_cast<T*>(get());
    }
};

// Memory on the current GPU (cudaMalloc). Accounting (CudaDevice's per-use totals) stays with
// the owner.
class DeviceMemory : public CudaOwned<void*, &cudaFree> {
public:
    DeviceMemory() noexcept = default;
    // Takes ownership of `p`, which cudaMalloc returned.
    explicit DeviceMemory(void* p) noexcept { reset(p); }
    [[nodiscard]] cudaError_t create(size_t bytes) noexcept {
        void* p = nullptr;
        const cudaError_t e = cudaMalloc(&p, bytes);
        if (e == cudaSuccess) reset(p);
        return e;
    }
    template <class T>
    T* as() const noexcept {
        return static_cast<T*>(get());
    }
};

void destroy_cublas(cublasHandle_t handle);  // cublasDestroy (cuda_gemm.cpp), status ignored

// A cuBLAS handle. cublasDestroy waits for the GPU, so it may go before the memory its GEMMs use.
class CublasHandle {
public:
    CublasHandle() = default;
    ~CublasHandle() { reset(); }
    CublasHandle(const CublasHandle&) = delete;
    CublasHandle& operator=(const CublasHandle&) = delete;
    cublasHandle_t get() const { return h_; }
    explicit operator bool() const { return h_ != nullptr; }
    // Destroys the handle held (if any) and takes `h`.
    void reset(cublasHandle_t h = nullptr) {
        if (h_) destroy_cublas(h_);
        h_ = h;
    }

private:
    cublasHandle_t h_ = nullptr;
};

}  // namespace strata::cuda
