#include "backend/host_transport.h"

#include <cstring>
#include <vector>

namespace strata {

namespace {

class HostTransport final : public Transport {
public:
    const char* kind() const override { return "host copy"; }
    Status copy(const Buffer& src, uint64_t src_offset, Buffer& dst, uint64_t dst_offset, size_t n) override {
        const bool src_host = src.device().info().type == DeviceType::cpu;
        const bool dst_host = dst.device().info().type == DeviceType::cpu;
        if (src_host && dst_host) {
            std::memcpy(dst.as<char>(dst_offset), src.as<char>(src_offset), n);
            return {};
        }
        if (src_host) return dst.device().copy_from_host(dst, dst_offset, src.as<char>(src_offset), n);
        if (dst_host) return src.device().copy_to_host(dst.as<char>(dst_offset), src, src_offset, n);
        staging_.resize(n);
        STRATA_RETURN_IF_ERROR(src.device().copy_to_host(staging_.data(), src, src_offset, n));
        return dst.device().copy_from_host(dst, dst_offset, staging_.data(), n);
    }

private:
    std::vector<char> staging_;  // used by the one sending stage thread that owns this transport
};

}  // namespace

std::unique_ptr<Transport> make_host_transport() { return std::make_unique<HostTransport>(); }

}  // namespace strata
