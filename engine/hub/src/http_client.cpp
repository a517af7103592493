// HttpClient on libcurl's easy interface: one handle per call, redirects followed by hand so
// the token rule (http_client.h) is applied at every hop.
#include "strata/hub/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <mutex>

namespace strata::hub {

namespace {

void global_init_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlDeleter {
    void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct UrlDeleter {
    void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

// What the callbacks of one hop share.
struct Transfer {
    CURL* handle = nullptr;
    HttpResponse* response = nullptr;
    const BodySink* sink = nullptr;
    const ResponseCheck* check = nullptr;
    bool checked = false;
    uint64_t max_body = 0;
    const std::atomic<bool>* cancel = nullptr;
    bool too_large = false;
    bool sink_stopped = false;
    // Stall detection: libcurl's low-speed limit averages over several seconds, so a burst then
    // silence takes far longer than the limit to notice; this is "no byte for N seconds".
    std::chrono::steady_clock::time_point last_byte = std::chrono::steady_clock::now();
    std::chrono::milliseconds stall_limit{0};
    bool stalled = false;

    long status() const {
        long code = 0;
        curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &code);
        return code;
    }
};

std::string trim(std::string_view s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return std::string(s.substr(b, e - b));
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    t->last_byte = std::chrono::steady_clock::now();
    const std::string_view line(data, size * n);
    if (line.rfind("HTTP/", 0) == 0) {
        t->response->headers.clear();  // a new response (100 Continue, or the next hop)
    } else if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
        std::string name(line.substr(0, colon));
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        t->response->headers[name] = trim(line.substr(colon + 1));
    }
    return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t bytes = size * n;
    t->last_byte = std::chrono::steady_clock::now();
    const long status = t->status();
    if (status >= 300 && status < 400) return bytes;  // a redirect's body: not wanted
    if (t->cancel && t->cancel->load()) return 0;
    if (t->sink && status >= 200 && status < 300) {
        if (!t->checked) {
            t->checked = true;
            t->response->status = status;
            if (t->check && *t->check && !(*t->check)(*t->response)) {
                t->sink_stopped = true;
                return 0;
            }
        }
        if (!(*t->sink)(std::string_view(data, bytes))) {
            t->sink_stopped = true;
            return 0;
        }
        return bytes;
    }
    const uint64_t limit = t->sink ? (64u << 10) : t->max_body;
    if (t->response->body.size() + bytes > limit) {
        if (t->sink) return bytes;  // an error page: its start is enough for the message
        t->too_large = true;
        return 0;
    }
    t->response->body.append(data, bytes);
    return bytes;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(user);
    if (t->cancel && t->cancel->load()) return 1;
    if (t->stall_limit.count() > 0 && std::chrono::steady_clock::now() - t->last_byte > t->stall_limit) {
        t->stalled = true;
        return 1;
    }
    return 0;
}

}  // namespace

std::string url_origin(const std::string& url) {
    global_init_once();
    std::unique_ptr<CURLU, UrlDeleter> u(curl_url());
    if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return {};
    auto part = [&](CURLUPart which, unsigned flags) {
        char* text = nullptr;
        std::string out;
        if (curl_url_get(u.get(), which, &text, flags) == CURLUE_OK && text) out = text;
        curl_free(text);
        return out;
    };
    std::string host = part(CURLUPART_HOST, 0);
    std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
    return part(CURLUPART_SCHEME, 0) + "://" + host + ":" + part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
}

std::string url_escape(std::string_view text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

HttpClient::HttpClient(HttpOptions options) : options_(std::move(options)) { global_init_once(); }

Result<HttpResponse> HttpClient::fetch(const std::string& url, std::optional<ByteRange> range, uint64_t max_body,
                                       const std::atomic<bool>* cancel) const {
    return perform(url, range, nullptr, nullptr, max_body, cancel);
}

Result<HttpResponse> HttpClient::stream(const std::string& url, std::optional<ByteRange> range,
                                        const BodySink& sink, const std::atomic<bool>* cancel,
                                        const ResponseCheck& check) const {
    return perform(url, range, &sink, &check, 0, cancel);
}

Result<HttpResponse> HttpClient::perform(const std::string& start_url, std::optional<ByteRange> range,
                                         const BodySink* sink, const ResponseCheck* check, uint64_t max_body,
                                         const std::atomic<bool>* cancel) const {
    std::unique_ptr<CURL, CurlDeleter> handle(curl_easy_init());
    if (!handle) return Status(ErrorCode::internal, "libcurl could not create a handle");
    CURL* h = handle.get();
    const std::string token_origin = options_.token_origin.empty() ? std::string() : url_origin(options_.token_origin);
    std::string url = start_url;
    HttpResponse response;
    char error[CURL_ERROR_SIZE];
    for (int hop = 0;; ++hop) {
        curl_easy_reset(h);  // keeps the connection cache; forgets the last hop's options
        error[0] = '\0';
        response.headers.clear();
        response.body.clear();
        response.url = url;
        response.redirects = hop;
        Transfer t;
        t.handle = h;
        t.response = &response;
        t.sink = sink;
        t.check = check;
        t.max_body = max_body;
        t.cancel = cancel;
        t.stall_limit = std::chrono::milliseconds(options_.stall_timeout_s * 1000);

        std::unique_ptr<curl_slist, SlistDeleter> headers;
        auto add_header = [&](const std::string& line) {
            curl_slist* l = curl_slist_append(headers.get(), line.c_str());
            if (l) {
                headers.release();
                headers.reset(l);
            }
        };
        if (!options_.token.empty() && !token_origin.empty() && url_origin(url) == token_origin)
            add_header("Authorization: Bearer " + options_.token);
        if (range) {
            add_header("Range: bytes=" + std::to_string(range->first) + "-" +
                       (range->last ? std::to_string(*range->last) : std::string()));
        }
        curl_easy_setopt(h, CURLOPT_URL, url.c_str());
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
        curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_s);
        if (options_.total_timeout_s > 0) curl_easy_setopt(h, CURLOPT_TIMEOUT, options_.total_timeout_s);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);

        const CURLcode rc = curl_easy_perform(h);
        response.status = t.status();
        if (t.stalled) {
            return Status(ErrorCode::io, "the connection to " + url_origin(url) + " stalled: no data for " +
                                             std::to_string(options_.stall_timeout_s) + " s")
                .with_net_fault(NetFault::dropped, url_origin(url));
        }
        if (t.sink_stopped || (cancel && cancel->load()))
            return Status(ErrorCode::cancelled, "the transfer from " + url_origin(url) + " was cancelled");
        if (t.too_large) {
            return Status(ErrorCode::io, url + ": the answer is larger than " + std::to_string(max_body) +
                                             " bytes, more than expected");
        }
        if (rc != CURLE_OK) {
            const std::string why = error[0] ? std::string(error) : curl_easy_strerror(rc);
            // No status line yet means nothing answered (name, connection, proxy or TLS failed,
            // or the server said nothing before the timeout): to a person, "cannot reach it".
            const bool started = response.status != 0;
            return Status(ErrorCode::io, (started ? "the connection to " : "could not reach ") + url_origin(url) +
                                             (started ? " broke off: " : ": ") + why)
                .with_net_fault(started ? NetFault::dropped : NetFault::unreachable, url_origin(url));
        }
        char* next = nullptr;
        if (response.status >= 300 && response.status < 400 &&
            curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &next) == CURLE_OK && next) {
            if (hop >= options_.max_redirects) {
                return Status(ErrorCode::io, start_url + ": more than " + std::to_string(options_.max_redirects) +
                                                 " redirects");
            }
            url = next;
            continue;
        }
        return response;
    }
}

}  // namespace strata::hub
