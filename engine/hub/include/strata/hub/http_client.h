// HttpClient: the hub's HTTP on libcurl (TLS, HTTP/2 where the server offers it, proxies from
// the environment as libcurl reads them: http_proxy, https_proxy, no_proxy).
//
// Redirects are followed here, not by libcurl, so that the rule for the token is ours and
// visible: the bearer token goes only to requests whose scheme, host and port are those of
// HttpOptions::token_origin (the hub itself), never to a redirect target elsewhere (the CDN
// that serves file bodies). A Range header travels with every hop.
//
// Ownership and threading: an HttpClient holds only its options; each call creates its own
// libcurl handle, so one client may be used from several threads at once. Nothing throws;
// failures come back as Result/Status (ErrorCode::io for network failures, with libcurl's words,
// and Status::net_fault() saying whether the origin could not be reached or the connection
// dropped). Transport messages name the origin, so callers add what they were doing, not where.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "strata/status.h"

namespace strata::hub {

struct HttpOptions {
    std::string token;           // bearer token ("" = none)
    std::string token_origin;    // "scheme://host:port" the token may be sent to ("" = nowhere)
    long connect_timeout_s = 20;
    long stall_timeout_s = 60;   // abort when no byte arrives for this long
    long total_timeout_s = 0;    // whole request, for API calls (0 = none: downloads)
    int max_redirects = 10;
    std::string user_agent = "strata/0.1";
};

// The final response of a request (after redirects).
struct HttpResponse {
    long status = 0;
    std::map<std::string, std::string> headers;  // the final response's, names in lower case
    std::string url;                             // the URL that answered
    std::string body;                            // fetch(): the body; stream(): empty
    int redirects = 0;
    std::string header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? std::string() : it->second;
    }
};

// Byte range [first, last] (last = nullopt: to the end).
struct ByteRange {
    uint64_t first = 0;
    std::optional<uint64_t> last;
};

// Receives body bytes of a successful (2xx) final response; returns false to abort.
using BodySink = std::function<bool(std::string_view bytes)>;
// Sees a 2xx final response's status and headers before its first body byte; returns false to
// abort (a Content-Range that does not say what was asked for).
using ResponseCheck = std::function<bool(const HttpResponse& response)>;

// "scheme://host:port" of a URL (default ports filled in), or "" when it does not parse.
std::string url_origin(const std::string& url);
// Percent-encodes a query value or path segment (RFC 3986 unreserved characters kept).
std::string url_escape(std::string_view text);

class HttpClient {
public:
    explicit HttpClient(HttpOptions options);

    // GET into memory, at most max_body bytes (more: an error). Any status is a response;
    // only transport failures are errors.
    Result<HttpResponse> fetch(const std::string& url, std::optional<ByteRange> range = std::nullopt,
                               uint64_t max_body = 64ull << 20, const std::atomic<bool>* cancel = nullptr) const;

    // GET, streaming a 2xx final response's body to `sink` (other statuses: their body is kept
    // in HttpResponse::body, up to 64 KiB, for the error message). A transfer that ends early
    // (dropped connection, stall) is an ErrorCode::io error; `cancel` (checked between chunks
    // and about once a second) makes it ErrorCode::cancelled; a sink that returns false makes
    // it ErrorCode::cancelled too, and the caller knows why.
    // `check` (optional) sees the response before its body; a false from it ends the call as
    // ErrorCode::cancelled as well.
    Result<HttpResponse> stream(const std::string& url, std::optional<ByteRange> range, const BodySink& sink,
                                const std::atomic<bool>* cancel = nullptr, const ResponseCheck& check = {}) const;

    const HttpOptions& options() const { return options_; }

private:
    Result<HttpResponse> perform(const std::string& url, std::optional<ByteRange> range, const BodySink* sink,
                                 const ResponseCheck* check, uint64_t max_body, const std::atomic<bool>* cancel) const;
    HttpOptions options_;
};

}  // namespace strata::hub
