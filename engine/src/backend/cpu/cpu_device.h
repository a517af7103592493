// CpuDevice: the host CPU as a Strata device, optionally capped ("virtual" devices made by
// --devices cpu:4GiB,cpu:2GiB so splits and limits can be exercised on any machine).
//
// Memory accounting is real: allocations and weights are counted per use and refused past the
// cap. Weights that need no repacking are views of the GGUF mapping but still count against the
// cap (they become resident as they are read). Kernels run on the device's own ThreadPool,
// synchronously on the calling (stage) thread; upload_weight repacks on the same pool (the pool
// serializes callers). Threading as in backend/device.h.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>

#include "backend/cpu/cpu_matmul.h"
#include "backend/device.h"
#include "util/thread_pool.h"

namespace strata {

class CpuOps;

class CpuDevice final : public Device {
public:
    // memory_cap 0 = the machine's available RAM. n_threads 0 = all hardware threads.
    // fail_after_ops > 0 makes the device fail on that op (fault-injection tests).
    CpuDevice(std::string id, uint64_t memory_cap, int n_threads, int fail_after_ops = 0);
    ~CpuDevice() override;

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

    ThreadPool& pool() { return pool_; }
    int n_threads() const { return pool_.n_threads(); }

    // Called by CpuOps before each op: counts ops for fault injection. Returns a failure Status
    // once the device has failed.
    Status begin_op(const char* op_name);

    // Accounting hooks for buffers and weights (release on destruction).
    Status reserve(uint64_t bytes, MemoryUse use, const char* what);
    void release(uint64_t bytes, MemoryUse use);

private:
    DeviceInfo info_;
    uint64_t capacity_;
    std::atomic<uint64_t> allocated_[kMemoryUseCount] = {};
    std::mutex reserve_mutex_;  // makes reserve()'s check-then-add atomic
    ThreadPool pool_;
    std::unique_ptr<CpuOps> ops_;
    int fail_after_ops_;
    std::atomic<int64_t> n_ops_{0};
    std::atomic<bool> failed_{false};
};

// Available host RAM (MemAvailable) and the CPU's model name, for device info.
uint64_t host_available_memory();
uint64_t host_total_memory();
std::string host_cpu_name();

}  // namespace strata
