// CudaDevice's transfers: weight uploads (packed on the host into the device layout, streamed
// through two pinned staging halves so packing overlaps the DMA) and host ↔ device copies (small
// ones recorded as ops through staging memory, large ones streamed synchronously).
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>

#include "backend/cuda/cuda_device.h"
#include "backend/cuda/cuda_device_internal.h"

namespace strata::cuda {

using detail::align16;
using detail::format_bytes;
using detail::kStagingBytes;

Result<std::unique_ptr<DeviceWeight>> CudaDevice::upload_weight(const HostTensor& t) {
    auto layout = plan_weight_layout(t);
    if (!layout.ok()) return layout.status();
    const WeightLayout& L = *layout;
    std::lock_guard<std::mutex> lock(mu_);
    if (failed_) return Status(ErrorCode::device_failure, info_.id + " has failed");
    cudaSetDevice(ordinal_);
    STRATA_RETURN_IF_ERROR(flush_locked());
    const size_t half = kStagingBytes / 2;
    const size_t per_row = static_cast<size_t>(L.row_bytes + L.d_per_row * 2);
    if (per_row + 16 > half)
        return Status(ErrorCode::unsupported, t.name + ": rows of " + format_bytes(per_row) + " are too long");
    auto mem = device_alloc(L.total_bytes, MemoryUse::weights, t.name);
    if (!mem.ok()) return mem.status();
    // Owned here until the weight takes it; an early return frees it (the accounting is ours).
    DeviceMemory owned(*mem);
    char* dev = owned.as<char>();
    const int64_t rows_per_chunk = static_cast<int64_t>((half - 16) / per_row);
    std::vector<float> tmp;
    std::vector<uint8_t> tmp_bytes;
    Status st;
    int k = 0;
    for (int64_t r0 = 0; r0 < L.n_rows && st.ok(); r0 += rows_per_chunk, ++k) {
        const int64_t r1 = std::min(L.n_rows, r0 + rows_per_chunk);
        const int buf = k % 2;
        char* h = staging_.as<char>() + buf * half;
        if (k >= 2) st = check(cudaEventSynchronize(ev_stage_[buf].get()), "uploading " + t.name);
        if (!st.ok()) break;
        const size_t main_n = static_cast<size_t>((r1 - r0) * L.row_bytes);
        uint16_t* d_h = reinterpret_cast<uint16_t*>(h + align16(main_n));
        pack_weight_rows(L, t, r0, r1, reinterpret_cast<uint8_t*>(h), d_h, tmp, tmp_bytes);
        st = check(cudaMemcpyAsync(dev + r0 * L.row_bytes, h, main_n, cudaMemcpyHostToDevice, stream_.get()),
                   "uploading " + t.name);
        if (st.ok() && L.split) {
            st = check(cudaMemcpyAsync(dev + L.d_offset + r0 * L.d_per_row * 2, d_h,
                                       static_cast<size_t>((r1 - r0) * L.d_per_row * 2), cudaMemcpyHostToDevice, stream_.get()),
                       "uploading " + t.name);
        }
        if (st.ok()) st = check(cudaEventRecord(ev_stage_[buf].get(), stream_.get()), "uploading " + t.name);
    }
    if (st.ok()) st = check(cudaStreamSynchronize(stream_.get()), "uploading " + t.name);
    if (!st.ok()) {
        // No queued copy may still use the memory when it goes (cuda_resources.h); after a
        // failure the wait may fail too, and there is nothing more to do about it.
        if (cudaStreamSynchronize(stream_.get()) != cudaSuccess) cudaGetLastError();
        owned.reset();
        release(L.total_bytes, MemoryUse::weights);
        return st;
    }
    // CudaWeight frees through CudaDevice::free_memory (flush, graphs, accounting).
    return std::unique_ptr<DeviceWeight>(new CudaWeight(this, t, L, owned.release()));
}

Status CudaDevice::copy_large_to_device(void* dst, const void* src, size_t n) {
    const size_t half = kStagingBytes / 2;
    int k = 0;
    for (size_t off = 0; off < n; off += half, ++k) {
        const size_t len = std::min(half, n - off);
        const int buf = k % 2;
        if (k >= 2) STRATA_RETURN_IF_ERROR(check(cudaEventSynchronize(ev_stage_[buf].get()), "copying to the GPU"));
        std::memcpy(staging_.as<char>() + buf * half, static_cast<const char*>(src) + off, len);
        STRATA_RETURN_IF_ERROR(check(cudaMemcpyAsync(static_cast<char*>(dst) + off, staging_.as<char>() + buf * half, len,
                                                     cudaMemcpyHostToDevice, stream_.get()),
                                     "copying to the GPU"));
        STRATA_RETURN_IF_ERROR(check(cudaEventRecord(ev_stage_[buf].get(), stream_.get()), "copying to the GPU"));
    }
    return check(cudaStreamSynchronize(stream_.get()), "copying to the GPU");
}

Status CudaDevice::copy_large_to_host(void* dst, const void* src, size_t n) {
    const size_t half = kStagingBytes / 2;
    for (size_t off = 0; off < n; off += half) {
        const size_t len = std::min(half, n - off);
        STRATA_RETURN_IF_ERROR(check(cudaMemcpyAsync(staging_.as<char>(), static_cast<const char*>(src) + off, len,
                                                     cudaMemcpyDeviceToHost, stream_.get()),
                                     "copying from the GPU"));
        STRATA_RETURN_IF_ERROR(check(cudaStreamSynchronize(stream_.get()), "copying from the GPU"));
        std::memcpy(static_cast<char*>(dst) + off, staging_.as<char>(), len);
    }
    return {};
}

Status CudaDevice::copy_from_host(Buffer& dst, uint64_t dst_offset, const void* src, size_t n) {
    STRATA_RETURN_IF_ERROR(begin_op("copy_from_host"));
    if (dst_offset + n > dst.size()) return Status(ErrorCode::internal, info_.id + ": copy past the end of a buffer");
    if (n == 0) return {};
    std::lock_guard<std::mutex> lock(mu_);
    cudaSetDevice(ordinal_);
    void* d = dst.as<char>(dst_offset);
    if (n > kStagingBytes / 4) {
        STRATA_RETURN_IF_ERROR(flush_locked());
        return copy_large_to_device(d, src, n);
    }
    if (staging_used_ + n > kStagingBytes) STRATA_RETURN_IF_ERROR(flush_locked());
    std::memcpy(staging_.as<char>() + staging_used_, src, n);  // `src` may be reused once this returns
    Op op;
    op.kind = OpKind::copy_h2d;
    op.src = staging_.as<char>() + staging_used_;
    op.dst = d;
    op.n = static_cast<int64_t>(n);
    staging_used_ += align16(n);
    pending_.push_back(op);
    return {};
}

Status CudaDevice::copy_to_host(void* dst, const Buffer& src, uint64_t src_offset, size_t n) {
    STRATA_RETURN_IF_ERROR(begin_op("copy_to_host"));
    if (src_offset + n > src.size()) return Status(ErrorCode::internal, info_.id + ": copy past the end of a buffer");
    std::lock_guard<std::mutex> lock(mu_);
    cudaSetDevice(ordinal_);
    const void* s = src.as<char>(src_offset);
    if (n > kStagingBytes / 4) {
        STRATA_RETURN_IF_ERROR(flush_locked());
        return copy_large_to_host(dst, s, n);
    }
    if (staging_used_ + n > kStagingBytes) STRATA_RETURN_IF_ERROR(flush_locked());
    const size_t at = staging_used_;
    Op op;
    op.kind = OpKind::copy_d2h;
    op.src = s;
    op.dst = staging_.as<char>() + at;
    op.n = static_cast<int64_t>(n);
    staging_used_ += align16(n);
    pending_.push_back(op);
    STRATA_RETURN_IF_ERROR(flush_locked());
    if (n) std::memcpy(dst, staging_.as<char>() + at, n);  // still ours: the lock is held
    return {};
}

}  // namespace strata::cuda
