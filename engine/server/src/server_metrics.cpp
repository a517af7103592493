#include "server_metrics.h"

#include <algorithm>
#include <cstdio>

#include "strata/engine.h"
#include "strata/sequence_pool.h"
#include "strata/server/model_source.h"

namespace strata::server {

namespace {

// Label values: the known routes as they are, anything else as "other", so a client probing
// random paths cannot grow the metric without bound.
std::string path_label(const std::string& path) {
    static const char* const kKnown[] = {"/health", "/v1/models", "/v1/chat/completions", "/v1/completions",
                                         "/v1/embeddings", "/metrics"};
    std::string p = path;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    for (const char* k : kKnown)
        if (p == k) return p;
    return "other";
}

// Escapes a label value (backslash, quote, newline) as the text format wants.
std::string escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

}  // namespace

void ServerMetrics::count_request(const std::string& path, int status) {
    std::lock_guard lock(mutex_);
    ++requests_[{path_label(path), status}];
}

void ServerMetrics::add_tokens(int prompt, int completion) {
    std::lock_guard lock(mutex_);
    prompt_tokens_ += uint64_t(std::max(prompt, 0));
    completion_tokens_ += uint64_t(std::max(completion, 0));
}

std::string ServerMetrics::prometheus(const ServedModel* served, size_t connections_open) const {
    std::string out;
    {
        std::lock_guard lock(mutex_);
        out += "# HELP strata_http_requests_total HTTP requests answered, by path and status.\n"
               "# TYPE strata_http_requests_total counter\n";
        for (const auto& [key, n] : requests_)
            out += "strata_http_requests_total{path=\"" + escape(key.first) + "\",status=\"" +
                   std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
        out += "# HELP strata_prompt_tokens_total Prompt tokens of finished completions.\n"
               "# TYPE strata_prompt_tokens_total counter\n"
               "strata_prompt_tokens_total " + std::to_string(prompt_tokens_) + "\n";
        out += "# HELP strata_completion_tokens_total Generated tokens.\n"
               "# TYPE strata_completion_tokens_total counter\n"
               "strata_completion_tokens_total " + std::to_string(completion_tokens_) + "\n";
    }
    const SequencePool* pool = served ? &served->pool : nullptr;
    out += "# HELP strata_model_loaded Whether a model is being served (1) or not (0).\n"
           "# TYPE strata_model_loaded gauge\n"
           "strata_model_loaded " + std::string(served ? "1" : "0") + "\n";
    out += "# HELP strata_queue_length Requests waiting for a free sequence.\n"
           "# TYPE strata_queue_length gauge\n"
           "strata_queue_length " + std::to_string(pool ? pool->waiting() : 0) + "\n";
    out += "# HELP strata_sequences_busy Sequences lent to requests now.\n"
           "# TYPE strata_sequences_busy gauge\n"
           "strata_sequences_busy " + std::to_string(pool ? pool->in_use() : 0) + "\n";
    out += "# HELP strata_sequences_total Sequences (KV slots) the server has.\n"
           "# TYPE strata_sequences_total gauge\n"
           "strata_sequences_total " + std::to_string(pool ? pool->size() : 0) + "\n";
    out += "# HELP strata_connections_open Client connections open.\n"
           "# TYPE strata_connections_open gauge\n"
           "strata_connections_open " + std::to_string(connections_open) + "\n";
    out += "# HELP strata_device_busy_seconds_total Seconds each device's pipeline stage spent computing.\n"
           "# TYPE strata_device_busy_seconds_total counter\n";
    std::map<std::string, double> busy;
    if (served)
        for (const StageTiming& t : served->model.stage_timings()) busy[t.device_id] += t.busy_seconds;
    for (const auto& [device, seconds] : busy) {
        char value[64];
        std::snprintf(value, sizeof value, "%.6f", seconds);
        out += "strata_device_busy_seconds_total{device=\"" + escape(device) + "\"} " + value + "\n";
    }
    return out;
}

}  // namespace strata::server
