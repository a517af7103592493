#include "backend/cpu/cpu_device.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "backend/cpu/cpu_ops.h"
#include "strata/format.h"

namespace strata {

namespace {

constexpr size_t kCpuAlign = 64;

uint64_t meminfo_field(const char* field) {
    std::ifstream f("/proc/meminfo");
    std::string line;
    const size_t n = std::strlen(field);
    while (std::getline(f, line)) {
        if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':') {
            return std::strtoull(line.c_str() + n + 1, nullptr, 10) * 1024ull;  // kB
        }
    }
    return 0;
}

class CpuBuffer final : public Buffer {
public:
    CpuBuffer(CpuDevice* dev, void* data, size_t size, MemoryUse use) : Buffer(dev, data, size, use) {}
    ~CpuBuffer() override {
        std::free(data_);
        static_cast<CpuDevice*>(device_)->release(size_, use_);
    }
};

class CpuWeightOnDevice final : public DeviceWeight {
public:
    CpuWeightOnDevice(CpuDevice* dev, const HostTensor& t, CpuWeight w, size_t bytes)
        : DeviceWeight(t.name, t.type, t.n_rows, t.n_cols, bytes), device_(dev), weight_(std::move(w)),
          role_(t.role) {}
    ~CpuWeightOnDevice() override { device_->release(bytes_, MemoryUse::weights); }
    const CpuWeight& weight() const { return weight_; }
    WeightRole role() const { return role_; }

private:
    CpuDevice* device_;
    CpuWeight weight_;
    WeightRole role_;
};

}  // namespace

const CpuWeight& cpu_weight_of(const DeviceWeight& w) {
    return static_cast<const CpuWeightOnDevice&>(w).weight();
}

uint64_t host_available_memory() { return meminfo_field("MemAvailable"); }
uint64_t host_total_memory() { return meminfo_field("MemTotal"); }

std::string host_cpu_name() {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            if (colon != std::string::npos) {
                std::string name = line.substr(colon + 1);
                while (!name.empty() && name.front() == ' ') name.erase(name.begin());
                return name;
            }
        }
    }
    return "CPU";
}

CpuDevice::CpuDevice(std::string id, uint64_t memory_cap, int n_threads, int fail_after_ops)
    : capacity_(memory_cap ? memory_cap : host_available_memory()),
      pool_(n_threads > 0 ? n_threads : ThreadPool::default_threads()),
      fail_after_ops_(fail_after_ops) {
    info_.id = std::move(id);
    info_.type = DeviceType::cpu;
    info_.is_virtual = memory_cap != 0;
    info_.n_threads = pool_.n_threads();
    std::ostringstream name;
    name << host_cpu_name() << " (" << pool_.n_threads() << " thread" << (pool_.n_threads() == 1 ? "" : "s");
    if (memory_cap) name << ", capped at " << format_bytes(memory_cap);
    name << ")";
    info_.name = name.str();
    info_.total_memory = memory_cap ? memory_cap : host_total_memory();
    info_.free_memory = capacity_;
    ops_ = std::make_unique<CpuOps>(*this);
}

CpuDevice::~CpuDevice() = default;

uint64_t CpuDevice::allocated(MemoryUse use) const {
    return allocated_[static_cast<int>(use)].load();
}

Status CpuDevice::reserve(uint64_t bytes, MemoryUse use, const char* what) {
    // Compare-and-add under a lock so concurrent reservations cannot both pass the cap.
    std::lock_guard<std::mutex> lock(reserve_mutex_);
    const uint64_t used = allocated_total();
    if (used + bytes > capacity_) {
        return Status(ErrorCode::out_of_memory,
                      info_.id + ": cannot allocate " + format_bytes(bytes) + " for " + what + " (" +
                          memory_use_name(use) + "): " + format_bytes(capacity_ - std::min(used, capacity_)) +
                          " free of " + format_bytes(capacity_));
    }
    allocated_[static_cast<int>(use)] += bytes;
    return {};
}

void CpuDevice::release(uint64_t bytes, MemoryUse use) { allocated_[static_cast<int>(use)] -= bytes; }

Result<std::unique_ptr<Buffer>> CpuDevice::allocate(size_t bytes, MemoryUse use) {
    if (failed()) return Status(ErrorCode::device_failure, info_.id + " has failed");
    STRATA_RETURN_IF_ERROR(reserve(bytes, use, "a buffer"));
    const size_t rounded = (std::max<size_t>(bytes, 1) + kCpuAlign - 1) / kCpuAlign * kCpuAlign;
    void* p = std::aligned_alloc(kCpuAlign, rounded);
    if (!p) {
        release(bytes, use);
        return Status(ErrorCode::out_of_memory,
                      info_.id + ": the system refused " + format_bytes(bytes) + " of host memory");
    }
    return std::unique_ptr<Buffer>(new CpuBuffer(this, p, bytes, use));
}

Result<std::unique_ptr<DeviceWeight>> CpuDevice::upload_weight(const HostTensor& t) {
    if (failed()) return Status(ErrorCode::device_failure, info_.id + " has failed");
    // Only matrices may be repacked: embedding rows and vectors are read in file layout. The
    // repack runs on the pool, each part written by the thread whose matmul tasks read it.
    auto prepared = CpuWeight::prepare(t.type, t.data, t.n_rows, t.n_cols, t.role == WeightRole::matrix, &pool_);
    if (!prepared.ok()) return prepared.status().with_context(t.name);
    const size_t bytes = prepared->owned_bytes() ? prepared->owned_bytes() : t.n_bytes;
    STRATA_RETURN_IF_ERROR(reserve(bytes, MemoryUse::weights, t.name.c_str()));
    return std::unique_ptr<DeviceWeight>(new CpuWeightOnDevice(this, t, std::move(prepared).value(), bytes));
}

Status CpuDevice::copy_from_host(Buffer& dst, uint64_t dst_offset, const void* src, size_t n) {
    STRATA_RETURN_IF_ERROR(begin_op("copy_from_host"));
    if (dst_offset + n > dst.size()) {
        return Status(ErrorCode::internal, info_.id + ": copy past the end of a buffer");
    }
    std::memcpy(dst.as<char>(dst_offset), src, n);
    return {};
}

Status CpuDevice::copy_to_host(void* dst, const Buffer& src, uint64_t src_offset, size_t n) {
    STRATA_RETURN_IF_ERROR(begin_op("copy_to_host"));
    if (src_offset + n > src.size()) {
        return Status(ErrorCode::internal, info_.id + ": copy past the end of a buffer");
    }
    std::memcpy(dst, src.as<char>(src_offset), n);
    return {};
}

Status CpuDevice::synchronize() {
    if (failed()) return Status(ErrorCode::device_failure, info_.id + " has failed");
    return {};
}

DeviceOps& CpuDevice::ops() { return *ops_; }

Status CpuDevice::begin_op(const char* op_name) {
    if (failed_.load()) return Status(ErrorCode::device_failure, info_.id + " has failed");
    const int64_t n = ++n_ops_;
    if (fail_after_ops_ > 0 && n > fail_after_ops_) {
        failed_.store(true);
        return Status(ErrorCode::device_failure,
                      info_.id + " failed during " + op_name + " (injected fault after " +
                          std::to_string(fail_after_ops_) + " operations)");
    }
    return {};
}

}  // namespace strata
