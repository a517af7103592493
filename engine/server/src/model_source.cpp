#include "strata/server/model_source.h"

#include <chrono>

namespace strata::server {

// What acquire() hands out: a copy of the served model's description that tells the slot when
// the request lets go of it.
struct ModelSlot::Hold {
    ServedModel model;
    ModelSlot* slot;
    uint64_t ticket;
    ~Hold() { slot->release(ticket); }
};

ModelSlot::~ModelSlot() { retire(); }

void ModelSlot::publish(Model& model, SequencePool& pool, std::string id) {
    retire();
    const int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    std::lock_guard lock(mutex_);
    current_.emplace(ServedModel{model, pool, std::move(id), now});
}

void ModelSlot::retire() {
    std::unique_lock lock(mutex_);
    current_.reset();  // no new holds from here on
    for (auto& [ticket, on_retire] : holds_) {
        if (on_retire) on_retire();
        on_retire = nullptr;  // at most once
    }
    released_.wait(lock, [this] { return holds_.empty(); });
}

bool ModelSlot::serving() const {
    std::lock_guard lock(mutex_);
    return current_.has_value();
}

size_t ModelSlot::holders() const {
    std::lock_guard lock(mutex_);
    return holds_.size();
}

std::shared_ptr<const ServedModel> ModelSlot::acquire(std::function<void()> on_retire) {
    uint64_t ticket = 0;
    std::optional<ServedModel> model;
    {
        std::lock_guard lock(mutex_);
        if (!current_) return nullptr;
        ticket = next_ticket_++;
        holds_.emplace(ticket, std::move(on_retire));
        model.emplace(*current_);
    }
    // Made outside the lock: a Hold that dies (should an allocation fail) releases its ticket.
    try {
        std::shared_ptr<Hold> hold(new Hold{*model, this, ticket});
        return std::shared_ptr<const ServedModel>(hold, &hold->model);
    } catch (...) {
        release(ticket);
        throw;
    }
}

void ModelSlot::set_on_device_failure(std::function<void(const Status&)> handler) {
    std::lock_guard lock(mutex_);
    on_device_failure_ = std::move(handler);
}

void ModelSlot::device_failed(const Status& failure) {
    std::function<void(const Status&)> handler;
    {
        std::lock_guard lock(mutex_);
        handler = on_device_failure_;
    }
    if (handler) handler(failure);
}

void ModelSlot::release(uint64_t ticket) {
    std::lock_guard lock(mutex_);
    holds_.erase(ticket);
    if (holds_.empty()) released_.notify_all();
}

}  // namespace strata::server
