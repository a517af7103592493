// libstrata_cuda.so's entry point: the BackendModule the engine dlopen()s (backend_module.h).
// Detection runs once, at the first devices() call; with no driver or GPU it reports why.
#include <cuda_runtime.h>

#include <memory>

#include "backend/backend_module.h"
#include "backend/cuda/cuda_detect.h"
#include "backend/cuda/cuda_device.h"
#include "backend/cuda/cuda_transport.h"

namespace strata::cuda {

namespace {

class CudaModule final : public BackendModule {
public:
    const char* name() const override { return "cuda"; }

    std::vector<DeviceInfo> devices() override {
        detect();
        return detection_.devices;
    }

    std::string unavailable_reason() override {
        detect();
        return detection_.reason.empty() ? std::string("no usable GPU") : detection_.reason;
    }

    Result<std::unique_ptr<Device>> create_device(int index, uint64_t memory_cap, int fail_after_ops) override {
        detect();
        if (index < 0 || static_cast<size_t>(index) >= detection_.ordinals.size())
            return Status(ErrorCode::not_found, "cuda" + std::to_string(index) + " does not exist");
        auto dev = CudaDevice::create(index, detection_.ordinals[static_cast<size_t>(index)], memory_cap,
                                      fail_after_ops, device_options_from_env());
        if (!dev.ok()) return dev.status();
        return std::unique_ptr<Device>(std::move(dev).value());
    }

    std::unique_ptr<Transport> create_transport(Device& src, Device& dst) override {
        auto* s = dynamic_cast<CudaDevice*>(&src);
        auto* d = dynamic_cast<CudaDevice*>(&dst);
        if (!s || !d) return nullptr;
        return make_cuda_transport(*s, *d, nccl_);
    }

private:
    void detect() {
        if (detected_) return;
        detected_ = true;
        detection_ = detect_gpus();
        nccl_ = make_nccl_state(detection_.ordinals);
    }

    bool detected_ = false;
    Detection detection_;
    std::shared_ptr<NcclState> nccl_;
};

}  // namespace

}  // namespace strata::cuda

extern "C" __attribute__((visibility("default"))) strata::BackendModule* strata_backend_module_create() {
    try {
        return new strata::cuda::CudaModule();
    } catch (...) {
        return nullptr;
    }
}
