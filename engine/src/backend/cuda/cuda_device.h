// CudaDevice: one NVIDIA GPU as a Strata Device (contract in backend/device.h).
//
// Work model: DeviceOps calls are validated and recorded (cuda_op.h). Recorded ops are launched
// on the device's stream in segments: when enough are pending and a new layer half begins (an
// rms_norm), and at every flush — synchronize(), copy_to_host(), a transport copy, freeing
// memory, uploading — which also waits for the stream. A launch plans fused kernels
// (cuda_fusion.h) and replays a segment whose signature repeats as a CUDA graph
// (STRATA_CUDA_GRAPHS=0 turns graphs off, STRATA_CUDA_FUSE=0 the fusion). Errors of recorded
// work therefore surface at the next flush.
//
// Threading: every entry point takes the device mutex and calls cudaSetDevice, so the stage
// thread driving the device need not be the thread that created it, and two stages on one GPU
// (two threads) interleave safely. Memory: cudaMalloc with accounting per MemoryUse against a
// capacity of min(cap, free memory at creation). Every CUDA / cuBLAS error becomes a Status
// (device_failure) naming the device and marks the device failed; nothing aborts.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backend/cuda/cuda_fusion.h"
#include "backend/cuda/cuda_graph.h"
#include "backend/cuda/cuda_profile.h"
#include "backend/cuda/cuda_resources.h"
#include "backend/cuda/cuda_weight_layout.h"
#include "backend/cuda/kernels.h"
#include "backend/device.h"

namespace strata::cuda {

class CudaOps;

struct CudaDeviceOptions {
    bool graphs = true;  // STRATA_CUDA_GRAPHS
    bool fuse = true;    // STRATA_CUDA_FUSE
    bool generic_attention = false;  // STRATA_CUDA_ATTN=generic: no head-size-specific prefill kernel
    bool mma_attention = false;      // STRATA_CUDA_ATTN=mma: tensor-core prefill attention (f16 cache)
    bool pdl = true;     // STRATA_CUDA_PDL: programmatic dependent launch (compute capability ≥ 9.0 only)
    bool profile = false;  // STRATA_CUDA_PROFILE=1: time every launch (no graphs); table on stderr at exit
};
CudaDeviceOptions device_options_from_env();

// A weight on the device (layout in cuda_weight_layout.h).
class CudaWeight final : public DeviceWeight {
public:
    CudaWeight(class CudaDevice* dev, const HostTensor& t, const WeightLayout& layout, void* mem);
    ~CudaWeight() override;
    const WeightLayout& layout() const { return layout_; }
    const cuk::WeightView& view() const { return view_; }
    WeightRole role() const { return role_; }
    const float* f32() const { return static_cast<const float*>(mem_); }  // vectors

private:
    CudaDevice* device_;
    WeightLayout layout_;
    cuk::WeightView view_;
    WeightRole role_;
    void* mem_;
};

class CudaDevice final : public Device {
public:
    // `index` is the position among the module's usable GPUs (the N of cudaN); `ordinal` the
    // CUDA device number. memory_cap 0 = all free memory.
    static Result<std::unique_ptr<CudaDevice>> create(int index, int ordinal, uint64_t memory_cap, int fail_after_ops,
                                                      const CudaDeviceOptions& options);
    ~CudaDevice() override;

    const DeviceInfo& info() const override { return info_; }
    uint64_t capacity() const override { return capacity_; }
    uint64_t allocated(MemoryUse use) const override;
    Result<std::unique_ptr<Buffer>> allocate(size_t bytes, MemoryUse use) override;
    Result<std::unique_ptr<DeviceWeight>> upload_weight(const HostTensor& tensor) override;
    Status copy_from_host(Buffer& dst, uint64_t dst_offset, const void* src, size_t n) override;
    Status copy_to_host(void* dst, const Buffer& src, uint64_t src_offset, size_t n) override;
    Status synchronize() override;
    DeviceOps& ops() override;
    bool failed() const override { return failed_.load(); }

    int ordinal() const { return ordinal_; }

    // ---- for CudaOps, transports and the probe ----
    // Counts an op for fault injection; fails once the device has failed.
    Status begin_op(const char* name);
    // Appends an op to the pending list; its position values go to consecutive slots of the
    // device's position array starting at op.pos_slot.
    Status record(Op op, const int64_t* pos_values = nullptr, int n_pos_values = 0);
    // Device memory for a matmul's activations / GEMM workspace of `bytes`: the end of the scratch
    // buffer holding `out` when it has room clear of x and out, else a device-owned buffer.
    Result<void*> matmul_workspace(size_t bytes, const void* x, size_t x_bytes, const void* out, size_t out_bytes);
    // Creates the cuBLAS handle if needed (before recording a GEMM-path matmul).
    Status prepare_gemm();
    // Runs everything pending and waits for it.
    Status flush();
    // For transports: the device lock and, under it, the flush and stream.
    std::mutex& mutex() { return mu_; }
    Status flush_locked();
    // Launches the pending ops (as a graph when their signature repeats) without waiting.
    Status launch_segment_locked();
    cudaStream_t stream() const { return stream_.get(); }
    // With the lock held: a CUDA error → Status naming the device (and marks it failed).
    Status check(cudaError_t err, const std::string& what);
    Status fail_locked(const std::string& what);

    // Buffer / weight destruction.
    void free_memory(void* p, size_t bytes, MemoryUse use, bool scratch_registered);
    // With the lock held: device memory that CudaOps keeps for as long as the device lives (the
    // MoE expert tables), counted under `use` like a buffer. The count is never handed back:
    // CudaOps frees the memory only as the device itself goes (its DeviceMemory owns it).
    Result<DeviceMemory> allocate_kept_locked(size_t bytes, MemoryUse use, const std::string& what);

private:
    CudaDevice(int index, int ordinal, const CudaDeviceOptions& options);
    Status init(uint64_t memory_cap);
    Status reserve(uint64_t bytes, MemoryUse use, const std::string& what);
    void release(uint64_t bytes, MemoryUse use);
    Result<void*> device_alloc(size_t bytes, MemoryUse use, const std::string& what);
    // Enqueue the planned launches on stream_ (also while capturing a graph). On failure
    // `what` names the launch.
    cudaError_t run_items(const std::vector<Item>& items, std::string& what);
    cudaError_t run_item(const Item& item, std::string& what);
    cudaError_t run_gemm(const Op& op, bool convert_x, std::string& what);
    Status ensure_cublas();
    Status copy_large_to_device(void* dst, const void* src, size_t n);
    Status copy_large_to_host(void* dst, const void* src, size_t n);
    Status check_bad_token();

    int index_, ordinal_;
    CudaDeviceOptions options_;
    int cc_major_ = 0;  // compute capability
    bool pdl_ = false;  // options_.pdl on a GPU that has it
    DeviceInfo info_;
    uint64_t capacity_ = 0;
    std::atomic<uint64_t> allocated_[kMemoryUseCount] = {};
    std::atomic<bool> failed_{false};
    int fail_after_ops_ = 0;
    std::atomic<int64_t> n_ops_{0};
    std::unique_ptr<CudaOps> ops_;

    std::mutex mu_;  // everything below
    // The CUDA objects below are owned by their members, and the declaration order is the
    // release order reversed: ~CudaDevice waits for both streams, then the members go from the
    // bottom up — the launch profile's events and the graphs, the cuBLAS handle (bound to
    // stream_, using workspaces in device memory), device memory, pinned host memory, the
    // events, and the streams last. So nothing is released while queued work may still use it,
    // and no stream goes before what is bound to it. Keep new members in that order.
    CudaStream stream_;    // all work
    CudaStream stream_b_;  // dequantization of GEMM tiles (overlaps stream_)
    CudaEvent ev_start_;
    CudaEvent ev_fill_[2];
    CudaEvent ev_free_[2];
    CudaEvent ev_stage_[2];  // large copies through the staging halves
    PinnedBuffer staging_;   // detail::kStagingBytes
    size_t staging_used_ = 0;
    PinnedBuffer pos_host_;  // int32_t[kPosSlots]: positions recorded, copied to pos_dev_ per segment
    DeviceMemory pos_dev_;   // int32_t[kPosSlots] (accounted as scratch)
    int n_pos_ = 0;          // slots used since the last full flush
    int segment_pos_ = 0;    // first slot of the pending segment
    PinnedBuffer bad_token_;        // one int, mapped: the embed kernel writes a bad token id here
    int* bad_token_dev_ = nullptr;  // bad_token_'s address on the GPU (not owned)
    DeviceMemory fallback_ws_;      // matmul workspace when no scratch buffer has room
    size_t fallback_ws_bytes_ = 0;
    CublasHandle cublas_;
    std::map<uintptr_t, size_t> scratch_buffers_;  // base → size
    std::vector<Op> pending_;
    GraphCache graphs_;
    std::unique_ptr<LaunchProfile> profile_;  // options_.profile
};

}  // namespace strata::cuda
