#include "backend/cuda/cuda_device.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "backend/cuda/cuda_detect.h"
#include "backend/cuda/cuda_device_internal.h"
#include "backend/cuda/cuda_ops.h"

namespace strata::cuda {

namespace {

constexpr int kPosSlots = 16384;
constexpr size_t kMaxPending = 20000;
constexpr size_t kSegmentOps = 40;  // ops recorded before a segment may be launched early

using detail::format_bytes;
using detail::kStagingBytes;

}  // namespace

std::string detail::format_bytes(uint64_t n) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(n);
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", v, units[u]);
    return buf;
}

std::string detail::cuda_error_text(cudaError_t e) {
    return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
}

namespace {

using detail::cuda_error_text;

bool env_off(const char* name) {
    const char* v = std::getenv(name);
    return v && (std::strcmp(v, "0") == 0 || std::strcmp(v, "off") == 0 || std::strcmp(v, "false") == 0);
}

class CudaBuffer final : public Buffer {
public:
    CudaBuffer(CudaDevice* dev, void* data, size_t size, MemoryUse use) : Buffer(dev, data, size, use) {}
    ~CudaBuffer() override {
        static_cast<CudaDevice*>(device_)->free_memory(data_, size_, use_, use_ == MemoryUse::scratch);
    }
};

}  // namespace

CudaDeviceOptions device_options_from_env() {
    CudaDeviceOptions o;
    o.graphs = !env_off("STRATA_CUDA_GRAPHS");
    o.fuse = !env_off("STRATA_CUDA_FUSE");
    const char* attn = std::getenv("STRATA_CUDA_ATTN");
    o.generic_attention = attn && std::strcmp(attn, "generic") == 0;
    o.mma_attention = attn && std::strcmp(attn, "mma") == 0;
    o.pdl = !env_off("STRATA_CUDA_PDL");
    const char* prof = std::getenv("STRATA_CUDA_PROFILE");
    o.profile = prof && *prof && std::strcmp(prof, "0") != 0;
    return o;
}

// ---- CudaWeight ---------------------------------------------------------------------------------

CudaWeight::CudaWeight(CudaDevice* dev, const HostTensor& t, const WeightLayout& layout, void* mem)
    : DeviceWeight(t.name, t.type, t.n_rows, t.n_cols, layout.total_bytes), device_(dev), layout_(layout),
      role_(t.role), mem_(mem) {
    view_.main = static_cast<const uint8_t*>(mem);
    view_.d = layout.split ? reinterpret_cast<const uint16_t*>(static_cast<const char*>(mem) + layout.d_offset)
                           : nullptr;
    view_.n_rows = layout.n_rows;
    view_.n_cols = layout.n_cols;
    view_.row_bytes = layout.row_bytes;
    view_.d_per_row = layout.d_per_row;
    view_.type = layout.dev_type;
}

CudaWeight::~CudaWeight() { device_->free_memory(mem_, bytes_, MemoryUse::weights, false); }

// ---- creation -----------------------------------------------------------------------------------

CudaDevice::CudaDevice(int index, int ordinal, const CudaDeviceOptions& options)
    : index_(index), ordinal_(ordinal), options_(options) {}

Result<std::unique_ptr<CudaDevice>> CudaDevice::create(int index, int ordinal, uint64_t memory_cap,
                                                       int fail_after_ops, const CudaDeviceOptions& options) {
    std::unique_ptr<CudaDevice> d(new CudaDevice(index, ordinal, options));
    d->fail_after_ops_ = fail_after_ops;
    Status st = d->init(memory_cap);
    if (!st.ok()) return st;
    return d;
}

Status CudaDevice::init(uint64_t memory_cap) {
    auto fail_init = [&](cudaError_t e, const char* what) {
        cudaGetLastError();
        return Status(ErrorCode::device_failure, info_.id + ": " + what + " failed (" + cuda_error_text(e) + ")");
    };
    std::string err;
    if (!describe_gpu(index_, ordinal_, info_, err))
        return Status(ErrorCode::device_failure, "cuda" + std::to_string(index_) + ": " + err);
    cudaError_t e = cudaSetDevice(ordinal_);
    if (e != cudaSuccess) return fail_init(e, "selecting the GPU");
    capacity_ = memory_cap ? std::min<uint64_t>(memory_cap, info_.free_memory) : info_.free_memory;
    info_.is_virtual = memory_cap != 0;
    if (memory_cap) {
        info_.name += " (capped at " + format_bytes(memory_cap) + ")";
        info_.total_memory = std::min<uint64_t>(memory_cap, info_.total_memory);
    }
    info_.free_memory = capacity_;
    if (!options_.graphs) info_.note += ", CUDA graphs off";
    if (!options_.fuse) info_.note += ", fusion off";
    if (options_.generic_attention) info_.note += ", generic prefill attention";
    if (options_.mma_attention) info_.note += ", tensor-core prefill attention";
    if (cudaDeviceGetAttribute(&cc_major_, cudaDevAttrComputeCapabilityMajor, ordinal_) != cudaSuccess) cudaGetLastError();
    pdl_ = options_.pdl && cc_major_ >= 9;
    if (cc_major_ >= 9 && !options_.pdl) info_.note += ", programmatic dependent launch off";
    if (options_.profile) {
        profile_ = std::make_unique<LaunchProfile>();
        info_.note += ", launch profiling (no CUDA graphs)";
    }

    // On failure the members made so far are released by ~CudaDevice (create() drops the device).
    if ((e = stream_.create(cudaStreamNonBlocking)) != cudaSuccess) return fail_init(e, "creating a stream");
    if ((e = stream_b_.create(cudaStreamNonBlocking)) != cudaSuccess) return fail_init(e, "creating a stream");
    for (CudaEvent* ev : {&ev_start_, &ev_fill_[0], &ev_fill_[1], &ev_free_[0], &ev_free_[1], &ev_stage_[0], &ev_stage_[1]}) {
        if ((e = ev->create(cudaEventDisableTiming)) != cudaSuccess) return fail_init(e, "creating an event");
    }
    if ((e = staging_.create(kStagingBytes, cudaHostAllocDefault)) != cudaSuccess)
        return fail_init(e, "allocating 32 MiB of pinned host memory for transfers");
    if ((e = pos_host_.create(kPosSlots * sizeof(int32_t), cudaHostAllocDefault)) != cudaSuccess)
        return fail_init(e, "allocating pinned host memory");
    if ((e = bad_token_.create(sizeof(int), cudaHostAllocMapped)) != cudaSuccess)
        return fail_init(e, "allocating mapped host memory");
    *bad_token_.as<int>() = 0;
    if ((e = cudaHostGetDevicePointer(reinterpret_cast<void**>(&bad_token_dev_), bad_token_.get(), 0)) != cudaSuccess)
        return fail_init(e, "mapping host memory");
    std::lock_guard<std::mutex> lock(mu_);
    auto pos = device_alloc(kPosSlots * sizeof(int32_t), MemoryUse::scratch, "token positions");
    if (!pos.ok()) return pos.status();
    pos_dev_.reset(*pos);
    ops_ = std::make_unique<CudaOps>(*this);  // last: marks the device complete (see ~CudaDevice)
    return {};
}

// Frees nothing by hand: the members own the CUDA objects and are released after this body, in
// the order their declaration gives (cuda_device.h). This body makes that safe: with the GPU
// current, it runs what is pending and then waits for both streams, so no queued work still uses
// the memory, events and handles released afterwards.
CudaDevice::~CudaDevice() {
    cudaSetDevice(ordinal_);
    std::lock_guard<std::mutex> lock(mu_);
    // ops_ is made last in init(): a device whose init() failed has nothing to flush (and
    // flushing would read bad_token_, which may not exist).
    if (!failed_ && ops_) static_cast<void>(flush_locked());
    // After a failure nothing was waited for; errors here change nothing (the device is going).
    for (const CudaStream* s : {&stream_b_, &stream_})
        if (*s && cudaStreamSynchronize(s->get()) != cudaSuccess) cudaGetLastError();
    if (std::getenv("STRATA_CUDA_VERBOSE"))
        std::fprintf(stderr, "%s: %llu flushes eager, %llu graph captures, %llu graph replays\n", info_.id.c_str(),
                     static_cast<unsigned long long>(graphs_.eager), static_cast<unsigned long long>(graphs_.captures),
                     static_cast<unsigned long long>(graphs_.replays));
    if (profile_) std::fprintf(stderr, "%s %s", info_.id.c_str(), profile_->report().c_str());
    graphs_.clear();
    cudaGetLastError();
}

// ---- memory ---------------------------------------------------------------------------------------

uint64_t CudaDevice::allocated(MemoryUse use) const { return allocated_[static_cast<int>(use)].load(); }

Status CudaDevice::reserve(uint64_t bytes, MemoryUse use, const std::string& what) {
    const uint64_t used = allocated_total();
    if (used + bytes > capacity_) {
        return Status(ErrorCode::out_of_memory, info_.id + ": cannot allocate " + format_bytes(bytes) + " for " + what +
                                                    " (" + memory_use_name(use) + "): " +
                                                    format_bytes(capacity_ - std::min(used, capacity_)) + " free of " +
                                                    format_bytes(capacity_));
    }
    allocated_[static_cast<int>(use)] += bytes;
    return {};
}

void CudaDevice::release(uint64_t bytes, MemoryUse use) { allocated_[static_cast<int>(use)] -= bytes; }

Result<void*> CudaDevice::device_alloc(size_t bytes, MemoryUse use, const std::string& what) {
    STRATA_RETURN_IF_ERROR(reserve(bytes, use, what));
    void* p = nullptr;
    const cudaError_t e = cudaMalloc(&p, std::max<size_t>(bytes, 1));
    if (e != cudaSuccess) {
        cudaGetLastError();  // an allocation failure is not sticky
        release(bytes, use);
        size_t free_b = 0, total_b = 0;
        cudaMemGetInfo(&free_b, &total_b);
        cudaGetLastError();
        return Status(ErrorCode::out_of_memory, info_.id + ": cannot allocate " + format_bytes(bytes) + " for " + what +
                                                    " (" + memory_use_name(use) + "): cudaMalloc failed (" +
                                                    cudaGetErrorName(e) + "); the driver reports " +
                                                    format_bytes(free_b) + " free of " + format_bytes(total_b));
    }
    return p;
}

void CudaDevice::free_memory(void* p, size_t bytes, MemoryUse use, bool scratch_registered) {
    std::lock_guard<std::mutex> lock(mu_);
    cudaSetDevice(ordinal_);
    if (!failed_) {
        const Status st = flush_locked();  // queued or running work may still use this memory
        if (!st.ok()) std::fprintf(stderr, "strata: %s\n", st.message().c_str());
    }
    graphs_.clear();  // captured graphs may hold this address
    if (scratch_registered) scratch_buffers_.erase(reinterpret_cast<uintptr_t>(p));
    cudaFree(p);
    cudaGetLastError();
    release(bytes, use);
}

Result<DeviceMemory> CudaDevice::allocate_kept_locked(size_t bytes, MemoryUse use, const std::string& what) {
    if (failed_) return Status(ErrorCode::device_failure, info_.id + " has failed");
    cudaSetDevice(ordinal_);
    auto p = device_alloc(bytes, use, what);
    if (!p.ok()) return p.status();
    return DeviceMemory(*p);
}

Result<std::unique_ptr<Buffer>> CudaDevice::allocate(size_t bytes, MemoryUse use) {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed_) return Status(ErrorCode::device_failure, info_.id + " has failed");
    cudaSetDevice(ordinal_);
    auto p = device_alloc(bytes, use, "a buffer");
    if (!p.ok()) return p.status();
    if (use == MemoryUse::scratch) scratch_buffers_[reinterpret_cast<uintptr_t>(*p)] = bytes;
    return std::unique_ptr<Buffer>(new CudaBuffer(this, *p, bytes, use));
}

Result<void*> CudaDevice::matmul_workspace(size_t bytes, const void* x, size_t x_bytes, const void* out,
                                           size_t out_bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed_) return Status(ErrorCode::device_failure, info_.id + " has failed");
    auto overlaps = [](uintptr_t a, size_t an, const void* b, size_t bn) {
        const auto pb = reinterpret_cast<uintptr_t>(b);
        return an > 0 && bn > 0 && a < pb + bn && pb < a + an;
    };
    const auto o = reinterpret_cast<uintptr_t>(out);
    auto it = scratch_buffers_.upper_bound(o);
    if (it != scratch_buffers_.begin()) {
        --it;
        const uintptr_t base = it->first, end = it->first + it->second;
        if (o < end && it->second >= bytes) {
            const uintptr_t ws = (end - bytes) & ~static_cast<uintptr_t>(255);
            if (ws >= base && !overlaps(ws, bytes, x, x_bytes) && !overlaps(ws, bytes, out, out_bytes))
                return reinterpret_cast<void*>(ws);
        }
    }
    if (fallback_ws_bytes_ < bytes) {
        cudaSetDevice(ordinal_);
        STRATA_RETURN_IF_ERROR(flush_locked());  // queued work may use the old buffer
        if (fallback_ws_) {
            fallback_ws_.reset();
            release(fallback_ws_bytes_, MemoryUse::scratch);
            fallback_ws_bytes_ = 0;
            graphs_.clear();
        }
        const size_t want = (bytes + (1u << 20) - 1) / (1u << 20) * (1u << 20);
        auto p = device_alloc(want, MemoryUse::scratch, "matmul workspace");
        if (!p.ok()) return p.status();
        fallback_ws_.reset(*p);
        fallback_ws_bytes_ = want;
    }
    return fallback_ws_.get();
}

Status CudaDevice::synchronize() {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed_) return Status(ErrorCode::device_failure, info_.id + " has failed");
    cudaSetDevice(ordinal_);
    return flush_locked();
}

Status CudaDevice::flush() { return synchronize(); }

DeviceOps& CudaDevice::ops() { return *ops_; }

// ---- recording and failure ----------------------------------------------------------------------

Status CudaDevice::begin_op(const char* name) {
    if (failed_.load()) return Status(ErrorCode::device_failure, info_.id + " has failed");
    const int64_t n = ++n_ops_;
    if (fail_after_ops_ > 0 && n > fail_after_ops_) {
        std::lock_guard<std::mutex> lock(mu_);
        static_cast<void>(fail_locked(std::string("failed during ") + name + " (injected fault after " + std::to_string(fail_after_ops_) +
                    " operations)"));
        return Status(ErrorCode::device_failure, info_.id + " failed during " + name + " (injected fault after " +
                                                     std::to_string(fail_after_ops_) + " operations)");
    }
    return {};
}

Status CudaDevice::record(Op op, const int64_t* pos_values, int n_pos_values) {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed_) return Status(ErrorCode::device_failure, info_.id + " has failed");
    if (pending_.size() >= kMaxPending || n_pos_ + n_pos_values > kPosSlots) {
        cudaSetDevice(ordinal_);
        STRATA_RETURN_IF_ERROR(flush_locked());
    } else if (op.kind == OpKind::rms_norm && pending_.size() >= kSegmentOps) {
        // Launch what is recorded so far (a few layers) so the GPU works while the rest of the
        // step is recorded. Cutting before a norm keeps fusable patterns whole, and a step's
        // cuts fall at the same ops every time, so each segment's graph is reused.
        cudaSetDevice(ordinal_);
        STRATA_RETURN_IF_ERROR(launch_segment_locked());
    }
    if (n_pos_values > 0) {
        op.pos_slot = n_pos_;
        for (int i = 0; i < n_pos_values; ++i) pos_host_.as<int32_t>()[n_pos_++] = static_cast<int32_t>(pos_values[i]);
    }
    pending_.push_back(op);
    return {};
}

Status CudaDevice::fail_locked(const std::string& what) {
    failed_.store(true);
    pending_.clear();
    n_pos_ = 0;
    segment_pos_ = 0;
    staging_used_ = 0;
    return Status(ErrorCode::device_failure, info_.id + ": " + what);
}

Status CudaDevice::check(cudaError_t err, const std::string& what) {
    if (err == cudaSuccess) return {};
    return fail_locked(what + " failed (" + cuda_error_text(err) + ")");
}

Status CudaDevice::check_bad_token() {
    volatile int* flag = bad_token_.as<int>();
    const int v = *flag;
    if (v == 0) return {};
    *flag = 0;
    return Status(ErrorCode::invalid_argument,
                  v == 1 ? std::string("a negative token id was given")
                         : "token id " + std::to_string(v - 1) + " is outside the vocabulary");
}

Status CudaDevice::launch_segment_locked() {
    if (failed_) return Status(ErrorCode::device_failure, info_.id + " has failed");
    if (pending_.empty()) return {};
    PlanOptions po;
    po.fuse = options_.fuse;
    const std::vector<Item> items = plan_launches(pending_, po);
    std::string what;
    cudaError_t err = cudaSuccess;
    bool launched = false;
    if (options_.graphs && !profile_ && graphable(pending_, items)) {
        std::vector<uint64_t> sig;
        sig.reserve(pending_.size() * 36 + 2);
        sig.push_back(static_cast<uint64_t>(segment_pos_));
        sig.push_back(static_cast<uint64_t>(n_pos_));
        for (const Op& op : pending_) append_signature(op, sig);
        GraphCache::Entry& e = graphs_.lookup(sig);
        if (!e.broken && !e.exec && e.seen >= 1) {
            cudaGraph_t graph = nullptr;
            cudaGraphExec_t exec = nullptr;
            cudaError_t ce = cudaStreamBeginCapture(stream_.get(), cudaStreamCaptureModeThreadLocal);
            if (ce == cudaSuccess) {
                std::string capture_what;
                const cudaError_t run = run_items(items, capture_what);
                const cudaError_t end = cudaStreamEndCapture(stream_.get(), &graph);
                ce = run != cudaSuccess ? run : end;
                if (ce == cudaSuccess && graph) ce = cudaGraphInstantiate(&exec, graph, 0);
                if (graph) cudaGraphDestroy(graph);
            }
            if (ce == cudaSuccess && exec) {
                e.exec = exec;
                ++graphs_.captures;
            } else {
                cudaGetLastError();  // capture problems are not sticky: run this list eagerly
                e.broken = true;
                if (std::getenv("STRATA_CUDA_VERBOSE"))
                    std::fprintf(stderr, "%s: CUDA graph capture failed (%s); running eagerly\n", info_.id.c_str(),
                                 cuda_error_text(ce).c_str());
            }
        }
        ++e.seen;
        if (e.exec) {
            err = cudaGraphLaunch(e.exec, stream_.get());
            what = "replaying a CUDA graph";
            launched = true;
            ++graphs_.replays;
        }
    }
    if (!launched && profile_) {
        err = profile_->begin(stream_.get());
        if (err == cudaSuccess) err = run_items(items, what);
        else what = "starting the launch profile";
        const cudaError_t collected = profile_->collect(stream_.get());  // always: opens the gate
        if (err == cudaSuccess && collected != cudaSuccess) {
            err = collected;
            what = "timing launches";
        }
        ++graphs_.eager;
    } else if (!launched) {
        err = run_items(items, what);
        ++graphs_.eager;
    }
    pending_.clear();
    segment_pos_ = n_pos_;  // the next segment copies only its own position slots
    if (err != cudaSuccess) return check(err, what);
    return {};
}

Status CudaDevice::flush_locked() {
    if (failed_) {
        pending_.clear();
        n_pos_ = 0;
        segment_pos_ = 0;
        staging_used_ = 0;
        return Status(ErrorCode::device_failure, info_.id + " has failed");
    }
    const Status launched = launch_segment_locked();
    if (!launched.ok()) return launched;
    const cudaError_t sync = cudaStreamSynchronize(stream_.get());
    // Everything enqueued is done: position slots and staging memory may be reused.
    n_pos_ = 0;
    segment_pos_ = 0;
    staging_used_ = 0;
    STRATA_RETURN_IF_ERROR(check(sync, "running the queued work"));
    return check_bad_token();
}

}  // namespace strata::cuda
