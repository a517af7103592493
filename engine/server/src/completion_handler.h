// The two completion endpoints: a request body in, the answer (whole or as server-sent events)
// out, generated on a sequence leased from the pool on the calling connection thread.
#pragma once

#include <httplib.h>

#include <atomic>
#include <memory>
#include <string>

#include "strata/server/model_source.h"

namespace strata {
class Model;
class SequencePool;
}  // namespace strata

namespace strata::server {

class ServerMetrics;

struct CompletionContext {
    // The model this request is answered with, held until the answer is written (a streamed
    // answer keeps it past handle_completion's return).
    std::shared_ptr<const ServedModel> served;
    ServerMetrics& metrics;
    int retry_after_seconds = 1;
    // Set (with the cancel flag) when the model was taken away rather than the client leaving:
    // a stream then ends with an error event instead of being cut. May be null.
    const std::atomic<bool>* retired = nullptr;
    // Told when an answer fails because a device did (it may re-plan the model). May be null.
    ModelSource* source = nullptr;
};

// Answers POST /v1/chat/completions (chat) or /v1/completions into `res`. `cancel` is the
// connection's flag: set when the client leaves or the server stops; it cancels waiting for a
// sequence and generating. A streamed answer is generated in `res`'s content provider, which
// httplib runs after this returns, on the same thread.
void handle_completion(const CompletionContext& ctx, const std::string& body, bool chat, std::atomic<bool>& cancel,
                       httplib::Response& res);

}  // namespace strata::server
