// ServerMetrics: the counters GET /metrics reports, in Prometheus' text format (version 0.0.4):
//   strata_http_requests_total{path,status}   answered requests (unknown paths as path="other")
//   strata_prompt_tokens_total                 prompt tokens of finished completions (reused too)
//   strata_completion_tokens_total             generated tokens
//   strata_model_loaded                        1 while a model is served, else 0
//   strata_queue_length                        requests waiting for a sequence
//   strata_sequences_busy / _total             sequences generating now / in the pool
//   strata_connections_open                    client connections
//   strata_device_busy_seconds_total{device}   time each device's stage spent computing
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace strata::server {

struct ServedModel;

class ServerMetrics {
public:
    void count_request(const std::string& path, int status);
    void add_tokens(int prompt, int completion);
    // `served`: the model served now, or null (no model: its gauges are 0).
    std::string prometheus(const ServedModel* served, size_t connections_open) const;

private:
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, int>, uint64_t> requests_;
    uint64_t prompt_tokens_ = 0, completion_tokens_ = 0;
};

}  // namespace strata::server
