// WeightUploader: puts a load's host tensors on one device, one at a time, checking the cancel
// flag between tensors, reporting (bytes uploaded, total) and summing the bytes the device
// accounts (which may differ from the file's: repacking, conversions). Used by Stage and
// ExpertHost on the loading thread; not thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "backend/device.h"

namespace strata {

class WeightUploader {
public:
    WeightUploader(Device& device, uint64_t total, std::function<void(uint64_t, uint64_t)> progress,
                   const std::atomic<bool>* cancel)
        : device_(device), total_(total), progress_(std::move(progress)), cancel_(cancel) {}

    Status operator()(const HostTensor& t, std::unique_ptr<DeviceWeight>& dst) {
        if (cancel_ && cancel_->load()) return Status(ErrorCode::cancelled, "loading was cancelled");
        auto w = device_.upload_weight(t);
        if (!w.ok()) return w.status();
        device_bytes_ += (*w)->bytes();
        dst = std::move(w).value();
        done_ += t.n_bytes;
        if (progress_) progress_(done_, total_);
        return {};
    }

    uint64_t device_bytes() const { return device_bytes_; }  // as the device accounts them

private:
    Device& device_;
    uint64_t total_;
    std::function<void(uint64_t, uint64_t)> progress_;
    const std::atomic<bool>* cancel_;
    uint64_t done_ = 0, device_bytes_ = 0;
};

}  // namespace strata
