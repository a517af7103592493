// ModelSource: where an ApiServer gets the model it answers a request with, so a server can
// outlive the models it serves. `strata-cli serve` serves one model for the server's whole life;
// the desktop app loads, replaces and unloads models while its server keeps listening (503
// while none is loaded).
//
//   ModelSlot slot;                                   // owned by whoever owns the model
//   slot.publish(*model, *pool, "qwen3-8b");          // requests are answered from now on
//   ApiServer server(slot, options);  server.start();
//   ...
//   slot.retire();                                    // requests holding the model are asked to
//   pool.reset(); model.reset();                      //   end; returns once none holds it
//
// A request acquires the model once, holds it (a shared_ptr) until its answer is written, and
// passes a callback that cancels it. retire() stops lending, calls the callback of every request
// still holding the model, and waits until each has released it — so the owner may destroy the
// model right after, and the memory is free before the next load.
//
// Threading: acquire() from any thread (the server's connection threads); publish() and retire()
// from the owner's thread, never while that thread holds a ServedModel itself (retire() would
// wait for itself). on_retire callbacks run on the retiring thread under the slot's lock: they
// must only set a flag.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "strata/status.h"

namespace strata {
class Model;
class SequencePool;
}  // namespace strata

namespace strata::server {

// The model one request is answered with. Valid while the request holds it.
struct ServedModel {
    Model& model;
    SequencePool& pool;  // the sequences (KV slots) requests lease from
    std::string id;      // the name /v1/models gives it
    int64_t created = 0; // Unix seconds: when it was published (/v1/models' "created")
};

class ModelSource {
public:
    virtual ~ModelSource() = default;
    // The model to answer one request with, held until the returned pointer is released; null
    // when none is being served (none loaded, or it is being replaced). `on_retire` is called
    // at most once, when the owner wants the model back: the request should cancel its answer
    // and release the hold soon.
    virtual std::shared_ptr<const ServedModel> acquire(std::function<void()> on_retire) = 0;
    // A request's answer failed because a device did (ErrorCode::device_failure): the owner may
    // re-plan the model on the remaining devices. Called on the request's thread while it still
    // holds the model, so it must not wait for the model (queue the work elsewhere).
    virtual void device_failed(const Status& failure) = 0;
};

// A ModelSource holding at most one model at a time (see the file comment).
class ModelSlot final : public ModelSource {
public:
    ModelSlot() = default;
    ~ModelSlot() override;  // retires what is published
    ModelSlot(const ModelSlot&) = delete;
    ModelSlot& operator=(const ModelSlot&) = delete;

    // Serves `model` and `pool` (borrowed: they must stay until retire() returns) as `id`.
    // Retires whatever was published before.
    void publish(Model& model, SequencePool& pool, std::string id);
    // Stops lending the model, asks every request that holds it to end, and waits until all have
    // released it. Does nothing when nothing is published.
    void retire();
    bool serving() const;
    // Requests holding the model now.
    size_t holders() const;
    // What device_failed() calls (none by default: the failure is only the request's 500). Set it
    // before serving; it runs on connection threads (see ModelSource::device_failed).
    void set_on_device_failure(std::function<void(const Status&)> handler);

    std::shared_ptr<const ServedModel> acquire(std::function<void()> on_retire) override;
    void device_failed(const Status& failure) override;

private:
    struct Hold;
    void release(uint64_t ticket);

    mutable std::mutex mutex_;
    std::condition_variable released_;
    std::optional<ServedModel> current_;
    std::map<uint64_t, std::function<void()>> holds_;  // ticket → its on_retire
    uint64_t next_ticket_ = 1;
    std::function<void(const Status&)> on_device_failure_;
};

}  // namespace strata::server
