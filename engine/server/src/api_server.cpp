#include "strata/server/api_server.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cctype>
#include <limits>
#include <random>
#include <thread>

#include "completion_handler.h"
#include "connection_tasks.h"
#include "connection_watch.h"
#include "server_metrics.h"
#include "strata/engine.h"
#include "strata/sequence_pool.h"
#include "strata/server/model_source.h"
#include "strata/server/openai_json.h"

namespace strata::server {

namespace {

struct Route {
    const char* path;
    const char* method;
};

constexpr Route kRoutes[] = {
    {"/health", "GET"},
    {"/v1/models", "GET"},
    {"/v1/chat/completions", "POST"},
    {"/v1/completions", "POST"},
    {"/v1/embeddings", "POST"},
    {"/metrics", "GET"},
};

std::string lower(std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string trim(const std::string& s) {
    const size_t b = s.find_first_not_of(" \t");
    if (b == std::string::npos) return "";
    return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string without_trailing_slash(std::string origin) {
    while (!origin.empty() && origin.back() == '/') origin.pop_back();
    return lower(origin);
}

// The model's own name (general.name), when the caller gives none.
std::string model_id_of(const Model& model) {
    std::string name = model.info().name;
    return name.empty() ? "model" : name;
}

const char* reason_phrase(int status) {
    switch (status) {
        case 400: return "Bad Request";
        case 408: return "Request Timeout";
        case 413: return "Payload Too Large";
        case 414: return "URI Too Long";
        case 431: return "Request Header Fields Too Large";
        case 503: return "Service Unavailable";
        default: return "Error";
    }
}

}  // namespace

bool origin_allowed(const std::string& origin, const std::vector<std::string>& allowed) {
    if (origin.empty()) return false;
    const std::string o = without_trailing_slash(origin);
    for (const std::string& a : allowed)
        if (a == "*" || without_trailing_slash(trim(a)) == o) return true;
    return false;
}

bool serve_address_needs_key(const std::string& host) {
    std::string h = lower(host);
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    if (h == "localhost" || h == "::1") return false;
    in_addr v4{};
    if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) != 127;
    return true;  // 0.0.0.0, ::, a LAN address or a host name: other machines may reach it
}

bool same_secret(const std::string& a, const std::string& b) {
    unsigned diff = unsigned(a.size() ^ b.size());
    for (size_t i = 0; i < a.size(); ++i)
        diff |= unsigned(static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(i < b.size() ? b[i] : 0));
    return diff == 0;
}

struct ApiServer::Impl {
    std::unique_ptr<ModelSlot> own_slot;  // the one-model constructor's
    ModelSource& source;
    ServerOptions options;
    ServerMetrics metrics;
    std::unique_ptr<ConnectionWatch> watch;
    std::unique_ptr<httplib::Server> http;
    std::thread listener;
    int port = 0;

    Impl(std::unique_ptr<ModelSlot> own, ModelSource& s, ServerOptions o)
        : own_slot(std::move(own)), source(s), options(std::move(o)) {}

    // The model for this request (null: none is served), as options.model_id names it when set.
    // Its retirement cancels the request.
    std::shared_ptr<const ServedModel> acquire(std::atomic<bool>& cancel, std::atomic<bool>& retired) {
        auto served = source.acquire([&cancel, &retired] {
            retired = true;
            cancel = true;
        });
        if (!served || options.model_id.empty() || served->id == options.model_id) return served;
        auto renamed = std::make_shared<std::pair<std::shared_ptr<const ServedModel>, ServedModel>>(
            served, ServedModel{served->model, served->pool, options.model_id, served->created});
        return std::shared_ptr<const ServedModel>(renamed, &renamed->second);
    }

    bool bound_to_loopback() const { return !serve_address_needs_key(options.host); }

    bool host_allowed(const httplib::Request& req) const {
        if (!bound_to_loopback()) return true;
        if (!req.has_header("Host")) return true;  // HTTP/1.0 without Host: not a browser
        std::string name = lower(req.get_header_value("Host"));
        if (!name.empty() && name.front() == '[') name = name.substr(1, name.find(']') - 1);
        else if (const size_t colon = name.find(':'); colon != std::string::npos) name.resize(colon);
        return name == "127.0.0.1" || name == "localhost" || name == "::1";
    }

    bool key_accepted(const httplib::Request& req) const {
        if (options.api_key.empty()) return true;
        const std::string auth = trim(req.get_header_value("Authorization"));
        const std::string scheme = "bearer ";
        if (auth.size() <= scheme.size() || lower(auth.substr(0, scheme.size())) != scheme) return false;
        return same_secret(trim(auth.substr(scheme.size())), options.api_key);
    }

    static void send_error(httplib::Response& res, int status, const std::string& message, const std::string& param = "") {
        res.status = status;
        res.set_content(error_json(ApiError{status, message, param}), "application/json");
    }

    void handle(const httplib::Request& req, httplib::Response& res);
    void setup();
};

void ApiServer::Impl::handle(const httplib::Request& req, httplib::Response& res) {
    Connection* conn = ConnectionWatch::current();
    if (conn) watch->begin_handling(*conn);

    std::string path = req.path;
    while (path.size() > 1 && path.back() == '/') path.pop_back();

    // Header limits: cpp-httplib bounds each line; the count and the total are bounded here.
    size_t header_bytes = 0;
    for (const auto& [name, value] : req.headers) header_bytes += name.size() + value.size() + 4;
    if (req.headers.size() > options.limits.max_headers) {
        res.set_header("Connection", "close");
        return send_error(res, 431, "more than " + std::to_string(options.limits.max_headers) + " header fields");
    }
    if (header_bytes > options.limits.max_header_bytes) {
        res.set_header("Connection", "close");
        return send_error(res, 431, "the header fields are " + std::to_string(header_bytes) + " bytes; the limit is " +
                                        std::to_string(options.limits.max_header_bytes));
    }

    // CORS: a browser sends Origin; only listed origins get an answer they may read. Requests
    // without one (curl, SDKs) are not from a page and need no permission.
    const std::string origin = req.get_header_value("Origin");
    const bool from_page = !origin.empty();
    const bool page_allowed = from_page && origin_allowed(origin, options.cors_origins);
    if (page_allowed) {
        const bool any = std::find(options.cors_origins.begin(), options.cors_origins.end(), "*") !=
                         options.cors_origins.end();
        res.set_header("Access-Control-Allow-Origin", any ? "*" : origin);
        if (!any) res.set_header("Vary", "Origin");
    }
    const std::string refused_origin =
        "the origin " + origin + " may not use this API (strata-cli serve --cors-origin ORIGIN allows it)";
    if (req.method == "OPTIONS") {
        if (from_page && !page_allowed) return send_error(res, 403, refused_origin);
        // CORS preflight: allow what a browser front-end sends (JSON bodies, an API key).
        std::string asked = req.get_header_value("Access-Control-Request-Headers");
        if (asked.empty()) asked = "Content-Type, Authorization";
        res.status = 204;
        res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        res.set_header("Access-Control-Allow-Headers", asked);
        res.set_header("Access-Control-Max-Age", "86400");
        return;
    }
    if (!host_allowed(req)) return send_error(res, 403, "the Host header must name this machine (127.0.0.1 or localhost)");
    if (from_page && !page_allowed) return send_error(res, 403, refused_origin);
    if (!key_accepted(req))
        return send_error(res, 401,
                          "this server needs an API key: send \"Authorization: Bearer KEY\" with the key given to "
                          "strata-cli serve --api-key");
    const Route* route = nullptr;
    for (const Route& r : kRoutes)
        if (path == r.path) route = &r;
    if (!route)
        return send_error(res, 404,
                          "no such endpoint: " + path +
                              " (this server has GET /v1/models, POST /v1/chat/completions, POST /v1/completions, "
                              "POST /v1/embeddings, GET /health and GET /metrics)");
    const bool method_ok = req.method == route->method || (req.method == "HEAD" && std::string(route->method) == "GET");
    if (!method_ok) {
        res.set_header("Allow", std::string(route->method) + ", OPTIONS");
        return send_error(res, 405, path + " takes " + route->method + ", not " + req.method);
    }

    // Every request runs on a watched connection (ConnectionTasks sets it); its flags cancel the
    // answer when the client leaves, the server stops or the model is taken away.
    if (!conn) return send_error(res, 500, "internal error: a request outside a watched connection");
    std::atomic<bool>& cancel = conn->cancel;
    std::atomic<bool>& retired = conn->model_retired;
    if (path == "/metrics") {
        auto served = acquire(cancel, retired);
        res.set_content(metrics.prometheus(served.get(), watch->open_count()), "text/plain; version=0.0.4");
        return;
    }
    auto served = acquire(cancel, retired);
    if (path == "/v1/models") {
        res.set_content(served ? models_json(served->id, served->created) : models_json("", 0), "application/json");
        return;
    }
    if (!served) {
        res.set_header("Retry-After", std::to_string(options.limits.retry_after_seconds));
        return send_error(res, 503, "no model is loaded: load one in Strata, then try again", "model");
    }
    if (path == "/health") {
        res.set_content(R"({"status":"ok"})", "application/json");
    } else if (path == "/v1/embeddings") {
        send_error(res, 400,
                   "embeddings are not supported: the model " + served->id +
                       " is a text generator, and no model architecture Strata runs produces embeddings",
                   "model");
    } else {
        CompletionContext ctx{std::move(served), metrics, options.limits.retry_after_seconds, &retired, &source};
        handle_completion(ctx, req.body, path == "/v1/chat/completions", cancel, res);
    }
}

void ApiServer::Impl::setup() {
    http = std::make_unique<httplib::Server>();
    const ServerLimits& l = options.limits;
    auto seconds = [](std::chrono::milliseconds ms) { return time_t(std::max<int64_t>(1, (ms.count() + 999) / 1000)); };
    http->set_payload_max_length(l.max_body_bytes);
    // The watch enforces the whole-request deadline in milliseconds; httplib's per-read timeout
    // only backs it up.
    http->set_read_timeout(seconds(l.request_timeout) + 1);
    http->set_write_timeout(seconds(l.write_timeout));
    http->set_keep_alive_timeout(seconds(l.idle_timeout) + 1);
    http->set_keep_alive_max_count(100000);
    http->new_task_queue = [this] { return new ConnectionTasks(*watch, port); };
    // httplib's default also sets SO_REUSEPORT, with which a second server (another Strata,
    // another serve) binds the same port without an error and takes half the connections.
    // SO_REUSEADDR alone restarts on a port in TIME_WAIT and refuses one in use.
    http->set_socket_options([](socket_t sock) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });

    // A body announced over the limit is refused from its header (httplib would read and
    // discard all of it first).
    http->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        const std::string length = req.get_header_value("Content-Length");
        const bool digits = !length.empty() && length.find_first_not_of("0123456789") == std::string::npos;
        if (!digits || (length.size() <= 18 && std::stoull(length) <= options.limits.max_body_bytes))
            return httplib::Server::HandlerResponse::Unhandled;  // httplib refuses a malformed length
        res.set_header("Connection", "close");
        send_error(res, 413, "the request body is " + length + " bytes; the limit is " +
                                 std::to_string(options.limits.max_body_bytes));
        return httplib::Server::HandlerResponse::Handled;
    });

    auto h = [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); };
    http->Get(".*", h);
    http->Post(".*", h);
    http->Put(".*", h);
    http->Patch(".*", h);
    http->Delete(".*", h);
    http->Options(".*", h);

    // What httplib answers by itself (a malformed request, a body over the limit, a URI too
    // long): the status it chose, with an OpenAI-style body.
    http->set_error_handler([this](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty() || res.status < 400) return;
        std::string message;
        switch (res.status) {
            case 413: message = "the request body is over the limit of " + std::to_string(options.limits.max_body_bytes) + " bytes"; break;
            case 414: message = "the request target is too long"; break;
            case 400: message = "malformed HTTP request"; break;
            default: message = std::string(reason_phrase(res.status)); break;
        }
        res.set_content(error_json(res.status, message), "application/json");
    });
    http->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
            if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
            what = std::string("internal error: ") + e.what();
        } catch (...) {
        }
        send_error(res, 500, what);
    });
    // Called once the answer is written: count it, and start the clock for the next request.
    http->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
        metrics.count_request(req.path, res.status);
        Connection* conn = ConnectionWatch::current();
        if (!conn) return;
        if (res.status >= 400 && !watch->end_answer(*conn, res.get_header_value("Connection") == "close")) return;
        watch->end_handling(*conn);
    });
}

namespace {
std::unique_ptr<ModelSlot> slot_serving(Model& model, SequencePool& pool, const std::string& id) {
    auto slot = std::make_unique<ModelSlot>();
    slot->publish(model, pool, id.empty() ? model_id_of(model) : id);
    return slot;
}
}  // namespace

ApiServer::ApiServer(Model& model, SequencePool& pool, ServerOptions options) {
    auto slot = slot_serving(model, pool, options.model_id);
    ModelSource& source = *slot;
    impl_ = std::make_unique<Impl>(std::move(slot), source, std::move(options));
}

ApiServer::ApiServer(ModelSource& source, ServerOptions options)
    : impl_(std::make_unique<Impl>(nullptr, source, std::move(options))) {}

ApiServer::~ApiServer() { stop(); }

Status ApiServer::start() {
    stop();
    Impl& d = *impl_;
    const std::string busy = error_json(503, "too many connections (" + std::to_string(d.options.limits.max_connections) + ")");
    const std::string timeout = error_json(408, "the request did not arrive within " +
                                                    std::to_string(d.options.limits.request_timeout.count()) + " ms");
    d.watch = std::make_unique<ConnectionWatch>(d.options.limits, timeout, busy);
    d.setup();
    std::string host = d.options.host;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    int bound = -1;
    errno = 0;
    if (d.options.port == 0) {
        bound = d.http->bind_to_any_port(host);
    } else if (d.http->bind_to_port(host, d.options.port)) {
        bound = d.options.port;
    }
    if (bound <= 0) {
        const int why = errno;  // bind()'s: httplib only closes the socket after it
        d.http.reset();
        d.watch.reset();
        const std::string where = d.options.host + ":" + std::to_string(d.options.port);
        if (why == EADDRINUSE)
            return Status(ErrorCode::busy, "could not listen on " + where +
                                               ": the port is in use (another program, perhaps another Strata, "
                                               "LM Studio or llama-server, is listening there)");
        return Status(ErrorCode::io, "could not listen on " + where + ": " +
                                         (why ? std::string(std::strerror(why)) : std::string("the address cannot be bound")) +
                                         " (check the address)");
    }
    d.port = bound;
    d.listener = std::thread([&d] { d.http->listen_after_bind(); });
    // httplib's stop() does nothing before listening has begun: wait for it.
    while (!d.http->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return Status();
}

void ApiServer::stop() {
    Impl& d = *impl_;
    if (!d.http) return;
    d.http->stop();          // stops accepting; keep-alive waits see it
    d.watch->shut_all();     // cancels generations, unblocks reads and writes
    if (d.listener.joinable()) d.listener.join();  // httplib's listen returns after its task queue's shutdown
    d.http.reset();
    d.watch.reset();
}

int ApiServer::port() const { return impl_->port; }

std::string ApiServer::url() const {
    const std::string& h = impl_->options.host;
    const bool v6 = h.find(':') != std::string::npos && h.front() != '[';
    return "http://" + (v6 ? "[" + h + "]" : h) + ":" + std::to_string(impl_->port);
}

const ServerOptions& ApiServer::options() const { return impl_->options; }

}  // namespace strata::server
