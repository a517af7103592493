#include "backend/cuda/cuda_transport.h"

#include <cuda_runtime.h>
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "backend/cuda/cuda_device.h"

namespace strata::cuda {

namespace {
// The few NCCL declarations used (stable since NCCL 2.7), so building needs no nccl.h.
using ncclComm_t = struct ncclComm*;
using ncclResult_t = int;
using ncclDataType_t = int;
constexpr ncclResult_t ncclSuccess = 0;
constexpr ncclDataType_t ncclUint8 = 1;
}  // namespace

// NCCL through dlopen: the functions this module uses, and the communicators.
class NcclState {
public:
    explicit NcclState(std::vector<int> ordinals) : ordinals_(std::move(ordinals)) {}
    ~NcclState() {
        for (ncclComm_t c : comms_)
            if (c && destroy_) destroy_(c);
        // The library stays loaded (unloading NCCL while its threads may run is unsafe).
    }

    bool loadable() {
        std::lock_guard<std::mutex> lock(mu_);
        return load_locked();
    }

    // Sends n bytes from src (on ordinal src_ord) to dst (on dst_ord); both streams given.
    Status transfer(const void* src, int src_ord, cudaStream_t src_stream, void* dst, int dst_ord,
                    cudaStream_t dst_stream, size_t n) {
        std::lock_guard<std::mutex> lock(mu_);
        if (!load_locked()) return Status(ErrorCode::unsupported, "NCCL is not available: " + load_error_);
        if (comms_.empty()) {
            comms_.assign(ordinals_.size(), nullptr);
            const ncclResult_t r = init_all_(comms_.data(), static_cast<int>(ordinals_.size()), ordinals_.data());
            if (r != ncclSuccess) {
                comms_.clear();
                return Status(ErrorCode::device_failure, std::string("ncclCommInitAll failed: ") + error_string_(r));
            }
        }
        const int rs = rank_of(src_ord), rd = rank_of(dst_ord);
        if (rs < 0 || rd < 0) return Status(ErrorCode::internal, "NCCL transfer between unknown GPUs");
        ncclResult_t r = group_start_();
        if (r == ncclSuccess) r = send_(src, n, ncclUint8, rd, comms_[static_cast<size_t>(rs)], src_stream);
        if (r == ncclSuccess) r = recv_(dst, n, ncclUint8, rs, comms_[static_cast<size_t>(rd)], dst_stream);
        const ncclResult_t end = group_end_();
        if (r == ncclSuccess) r = end;
        if (r != ncclSuccess) return Status(ErrorCode::device_failure, std::string("NCCL send/recv failed: ") + error_string_(r));
        return {};
    }

private:
    bool load_locked() {
        if (lib_) return true;
        if (tried_) return false;
        tried_ = true;
        lib_ = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
        if (!lib_) {
            const char* e = dlerror();
            load_error_ = e ? e : "dlopen(libnccl.so.2) failed";
            return false;
        }
        init_all_ = reinterpret_cast<decltype(init_all_)>(dlsym(lib_, "ncclCommInitAll"));
        send_ = reinterpret_cast<decltype(send_)>(dlsym(lib_, "ncclSend"));
        recv_ = reinterpret_cast<decltype(recv_)>(dlsym(lib_, "ncclRecv"));
        group_start_ = reinterpret_cast<decltype(group_start_)>(dlsym(lib_, "ncclGroupStart"));
        group_end_ = reinterpret_cast<decltype(group_end_)>(dlsym(lib_, "ncclGroupEnd"));
        destroy_ = reinterpret_cast<decltype(destroy_)>(dlsym(lib_, "ncclCommDestroy"));
        error_string_ = reinterpret_cast<decltype(error_string_)>(dlsym(lib_, "ncclGetErrorString"));
        if (!init_all_ || !send_ || !recv_ || !group_start_ || !group_end_ || !destroy_ || !error_string_) {
            load_error_ = "libnccl.so.2 lacks ncclSend/ncclRecv (NCCL 2.7 or newer is needed)";
            lib_ = nullptr;  // keep the handle mapped; just do not use it
            return false;
        }
        return true;
    }
    int rank_of(int ordinal) const {
        for (size_t i = 0; i < ordinals_.size(); ++i)
            if (ordinals_[i] == ordinal) return static_cast<int>(i);
        return -1;
    }

    std::mutex mu_;
    std::vector<int> ordinals_;
    std::vector<ncclComm_t> comms_;
    void* lib_ = nullptr;
    bool tried_ = false;
    std::string load_error_;
    ncclResult_t (*init_all_)(ncclComm_t*, int, const int*) = nullptr;
    ncclResult_t (*send_)(const void*, size_t, ncclDataType_t, int, ncclComm_t, cudaStream_t) = nullptr;
    ncclResult_t (*recv_)(void*, size_t, ncclDataType_t, int, ncclComm_t, cudaStream_t) = nullptr;
    ncclResult_t (*group_start_)() = nullptr;
    ncclResult_t (*group_end_)() = nullptr;
    ncclResult_t (*destroy_)(ncclComm_t) = nullptr;
    const char* (*error_string_)(ncclResult_t) = nullptr;
};

std::shared_ptr<NcclState> make_nccl_state(const std::vector<int>& ordinals) {
    return std::make_shared<NcclState>(ordinals);
}

namespace {

Status check_range(const Buffer& src, uint64_t src_offset, const Buffer& dst, uint64_t dst_offset, size_t n) {
    if (src_offset + n > src.size() || dst_offset + n > dst.size())
        return Status(ErrorCode::internal, "transfer past the end of a buffer");
    return {};
}

class DeviceCopyTransport final : public Transport {
public:
    explicit DeviceCopyTransport(CudaDevice& dev) : dev_(dev) {}
    const char* kind() const override { return "device copy"; }
    Status copy(const Buffer& src, uint64_t src_offset, Buffer& dst, uint64_t dst_offset, size_t n) override {
        STRATA_RETURN_IF_ERROR(check_range(src, src_offset, dst, dst_offset, n));
        std::lock_guard<std::mutex> lock(dev_.mutex());
        if (dev_.failed()) return Status(ErrorCode::device_failure, dev_.id() + " has failed");
        cudaSetDevice(dev_.ordinal());
        STRATA_RETURN_IF_ERROR(dev_.flush_locked());
        STRATA_RETURN_IF_ERROR(dev_.check(cudaMemcpyAsync(dst.as<char>(dst_offset), src.as<char>(src_offset), n,
                                                          cudaMemcpyDeviceToDevice, dev_.stream()),
                                          "copying on the GPU"));
        return dev_.check(cudaStreamSynchronize(dev_.stream()), "copying on the GPU");
    }

private:
    CudaDevice& dev_;
};

class PeerTransport final : public Transport {
public:
    PeerTransport(CudaDevice& src, CudaDevice& dst) : src_(src), dst_(dst) {}
    const char* kind() const override { return "peer copy"; }
    Status copy(const Buffer& src, uint64_t src_offset, Buffer& dst, uint64_t dst_offset, size_t n) override {
        STRATA_RETURN_IF_ERROR(check_range(src, src_offset, dst, dst_offset, n));
        std::scoped_lock lock(src_.mutex(), dst_.mutex());
        if (src_.failed() || dst_.failed()) return Status(ErrorCode::device_failure, "a GPU of the transfer has failed");
        cudaSetDevice(dst_.ordinal());
        STRATA_RETURN_IF_ERROR(dst_.flush_locked());
        cudaSetDevice(src_.ordinal());
        STRATA_RETURN_IF_ERROR(src_.flush_locked());
        STRATA_RETURN_IF_ERROR(src_.check(cudaMemcpyPeerAsync(dst.as<char>(dst_offset), dst_.ordinal(),
                                                              src.as<char>(src_offset), src_.ordinal(), n, src_.stream()),
                                          "peer copy to " + dst_.id()));
        return src_.check(cudaStreamSynchronize(src_.stream()), "peer copy to " + dst_.id());
    }

private:
    CudaDevice& src_;
    CudaDevice& dst_;
};

class NcclTransport final : public Transport {
public:
    NcclTransport(CudaDevice& src, CudaDevice& dst, std::shared_ptr<NcclState> nccl)
        : src_(src), dst_(dst), nccl_(std::move(nccl)) {}
    const char* kind() const override { return "nccl"; }
    Status copy(const Buffer& src, uint64_t src_offset, Buffer& dst, uint64_t dst_offset, size_t n) override {
        STRATA_RETURN_IF_ERROR(check_range(src, src_offset, dst, dst_offset, n));
        std::scoped_lock lock(src_.mutex(), dst_.mutex());
        if (src_.failed() || dst_.failed()) return Status(ErrorCode::device_failure, "a GPU of the transfer has failed");
        cudaSetDevice(dst_.ordinal());
        STRATA_RETURN_IF_ERROR(dst_.flush_locked());
        cudaSetDevice(src_.ordinal());
        STRATA_RETURN_IF_ERROR(src_.flush_locked());
        Status st = nccl_->transfer(src.as<char>(src_offset), src_.ordinal(), src_.stream(), dst.as<char>(dst_offset),
                                    dst_.ordinal(), dst_.stream(), n);
        if (!st.ok()) return src_.fail_locked(st.message() + " (to " + dst_.id() + ")");
        STRATA_RETURN_IF_ERROR(src_.check(cudaStreamSynchronize(src_.stream()), "NCCL send to " + dst_.id()));
        cudaSetDevice(dst_.ordinal());
        return dst_.check(cudaStreamSynchronize(dst_.stream()), "NCCL receive from " + src_.id());
    }

private:
    CudaDevice& src_;
    CudaDevice& dst_;
    std::shared_ptr<NcclState> nccl_;
};

bool enable_peer(int from, int to) {
    int can = 0;
    if (cudaDeviceCanAccessPeer(&can, from, to) != cudaSuccess || !can) {
        cudaGetLastError();
        return false;
    }
    cudaSetDevice(from);
    const cudaError_t e = cudaDeviceEnablePeerAccess(to, 0);
    if (e == cudaErrorPeerAccessAlreadyEnabled || e == cudaSuccess) {
        cudaGetLastError();
        return true;
    }
    cudaGetLastError();
    return false;
}

}  // namespace

std::unique_ptr<Transport> make_cuda_transport(CudaDevice& src, CudaDevice& dst, const std::shared_ptr<NcclState>& nccl) {
    const char* env = std::getenv("STRATA_CUDA_TRANSPORT");
    const std::string mode = env ? env : "";
    if (mode == "host") return nullptr;
    if (&src == &dst || src.ordinal() == dst.ordinal()) {
        // Two Device objects on one GPU share no lock; only the same object may use the stream copy.
        if (&src == &dst) return std::make_unique<DeviceCopyTransport>(src);
        return nullptr;
    }
    if (mode != "nccl" && enable_peer(src.ordinal(), dst.ordinal()) && enable_peer(dst.ordinal(), src.ordinal()))
        return std::make_unique<PeerTransport>(src, dst);
    if (mode != "peer" && nccl && nccl->loadable()) return std::make_unique<NcclTransport>(src, dst, nccl);
    return nullptr;
}

}  // namespace strata::cuda
