// ApiServer: Strata's OpenAI-compatible HTTP API without Qt, on cpp-httplib, for
// `strata-cli serve` (and, later, the app). Routes:
//   GET  /health                200 {"status":"ok"}
//   GET  /v1/models             the served model
//   POST /v1/chat/completions   messages → answer, whole or streamed (server-sent events)
//   POST /v1/completions        prompt → continuation, whole or streamed
//   POST /v1/embeddings         400: no model Strata runs produces embeddings
//   GET  /metrics               Prometheus text: requests, tokens, queue length, sequences, devices
//   OPTIONS *                   CORS preflight (for the origins in cors_origins)
// Errors are OpenAI-style JSON ({"error":{"message","type","param","code"}}) with a 4xx/5xx status.
//
// Concurrency: every connection has its own thread (at most max_connections; past that a
// connection gets 503 and is closed). A completion leases a sequence from the SequencePool for
// its run (the prompt's tokens pick the slot with the longest cached prefix) and generates on
// the connection's thread, so requests on different connections run at the same time, as many as
// the pool has sequences; more wait in the pool's queue, and past its bound get 503 with
// Retry-After. A client that disconnects (while waiting, generating or streaming) cancels its
// request.
//
// Security: binds 127.0.0.1 by default. Bound to a loopback address, it accepts only Host headers
// naming this machine (127.0.0.1, localhost, ::1), so a web page cannot reach it through DNS
// rebinding. With an api_key every request except a CORS preflight must carry
// "Authorization: Bearer KEY" (compared in constant time; 401 otherwise). Browsers: only origins
// in cors_origins ("*" allows any) may call it; a request with any other Origin is refused (403)
// before anything runs. Whether a bind address is acceptable without a key is the caller's
// policy (serve_address_needs_key()).
//
// Limits: bodies over max_body_bytes get 413; more than max_headers header fields or
// max_header_bytes of them 431; a request must arrive whole within request_timeout of its first
// byte (408, then the connection closes: a client trickling bytes cannot hold a thread); a
// kept-alive connection idle for idle_timeout is closed.
//
// What it serves: one Model for its whole life (`strata-cli serve`), or whatever a ModelSource
// lends each request (the app: models come and go while the server listens; requests without
// a model get 503 with Retry-After, and a model taken away cancels the requests using it; see
// strata/server/model_source.h).
//
// Threading: start() and stop() from one owning thread; everything else runs on the server's
// threads. The Model and SequencePool (or the ModelSource) must outlive the server (stop() or
// the destructor waits for every connection thread to end, cancelling generations in flight).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "strata/status.h"

namespace strata {
class Model;
class SequencePool;
}  // namespace strata

namespace strata::server {

class ModelSource;

// 8313: free of the ports local LLM tools already take (see the app's kDefaultApiPort).
constexpr int kDefaultPort = 8313;

struct ServerLimits {
    size_t max_body_bytes = 4 * 1024 * 1024;  // a long chat history is well under this
    size_t max_header_bytes = 16 * 1024;      // all header fields together
    size_t max_headers = 100;
    int max_connections = 64;
    std::chrono::milliseconds request_timeout{10000};  // from a request's first byte to its last
    std::chrono::milliseconds idle_timeout{60000};     // between requests on a kept-alive connection
    std::chrono::milliseconds write_timeout{30000};    // a client that stops reading a stream
    int retry_after_seconds = 1;                       // on 503 busy
};

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = kDefaultPort;  // 0: any free port (tests)
    std::string model_id;     // what /v1/models names ("": the model's own name, or the source's)
    std::string api_key;      // "" : none needed
    std::vector<std::string> cors_origins;  // "scheme://host[:port]" or "*"; empty: no page may call
    ServerLimits limits;
};

// Whether `origin` (a request's Origin header) is in `allowed`: an exact match, case-insensitive,
// a trailing slash ignored, or "*".
bool origin_allowed(const std::string& origin, const std::vector<std::string>& allowed);

// True unless `host` is a loopback address or name (127.0.0.0/8, ::1, localhost): serving there
// reaches other machines, so `strata-cli serve` wants an API key.
bool serve_address_needs_key(const std::string& host);

// Compares in time that does not depend on where the first difference is.
bool same_secret(const std::string& a, const std::string& b);

class ApiServer {
public:
    // Serves `model` through `pool` (both borrowed; see Threading above), named options.model_id
    // or, when that is empty, by the model's own name.
    ApiServer(Model& model, SequencePool& pool, ServerOptions options);
    // Serves what `source` lends each request (borrowed), named by the source unless
    // options.model_id is set.
    ApiServer(ModelSource& source, ServerOptions options);
    ~ApiServer();
    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;

    // Binds and starts serving on a thread of its own. ErrorCode::busy when the port is taken,
    // ErrorCode::io when the address cannot be bound for another reason (the message names the
    // address and says why).
    Status start();
    // Stops accepting, cancels generations, closes connections and waits for their threads.
    void stop();
    int port() const;          // the bound port (after start)
    std::string url() const;   // "http://127.0.0.1:8313"
    const ServerOptions& options() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace strata::server
