#include "connection_watch.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace strata::server {

namespace {

thread_local Connection* t_current = nullptr;

constexpr auto kTick = std::chrono::milliseconds(20);

// "address:port" of a sockaddr, and its port.
std::string describe(const sockaddr_storage& a, int* port) {
    char host[INET6_ADDRSTRLEN] = "?";
    int p = -1;
    if (a.ss_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&a);
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        p = ntohs(in->sin_port);
    } else if (a.ss_family == AF_INET6) {
        const auto* in = reinterpret_cast<const sockaddr_in6*>(&a);
        inet_ntop(AF_INET6, &in->sin6_addr, host, sizeof host);
        p = ntohs(in->sin6_port);
    }
    if (port) *port = p;
    return std::string(host) + ":" + std::to_string(p);
}

}  // namespace

void write_raw_response(int fd, int status, const char* reason, const std::string& body) {
    const std::string head = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                             "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                             "\r\nConnection: close\r\n\r\n";
    const std::string all = head + body;
    size_t sent = 0;
    while (sent < all.size()) {
        const ssize_t n = ::send(fd, all.data() + sent, all.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n <= 0) break;  // the client is gone or not reading: the answer is best effort
        sent += size_t(n);
    }
}

int find_new_socket(int port, const ConnectionWatch& watch, std::string& peer) {
    DIR* dir = opendir("/proc/self/fd");
    if (!dir) return -1;
    int found = -1;
    while (dirent* e = readdir(dir)) {
        char* end = nullptr;
        const long fd = std::strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end != '\0' || fd < 0) continue;
        sockaddr_storage local{}, remote{};
        socklen_t llen = sizeof local, rlen = sizeof remote;
        if (getsockname(int(fd), reinterpret_cast<sockaddr*>(&local), &llen) != 0) continue;
        int local_port = -1;
        describe(local, &local_port);
        if (local_port != port) continue;
        if (getpeername(int(fd), reinterpret_cast<sockaddr*>(&remote), &rlen) != 0) continue;  // the listener
        std::string p = describe(remote, nullptr);
        if (watch.known(int(fd), p)) continue;
        found = int(fd);
        peer = std::move(p);
        break;
    }
    closedir(dir);
    return found;
}

ConnectionWatch::ConnectionWatch(const ServerLimits& limits, std::string timeout_body, std::string busy_body)
    : limits_(limits), timeout_body_(std::move(timeout_body)), busy_body_(std::move(busy_body)) {
    watcher_ = std::thread([this] { run(); });
}

ConnectionWatch::~ConnectionWatch() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    watcher_.join();
}

Connection* ConnectionWatch::current() { return t_current; }
void ConnectionWatch::set_current(Connection* c) { t_current = c; }

std::shared_ptr<Connection> ConnectionWatch::open(int fd, std::string peer) {
    std::lock_guard lock(mutex_);
    auto c = std::make_shared<Connection>();
    c->fd = fd;
    c->peer = std::move(peer);
    if (open_.size() >= size_t(std::max(limits_.max_connections, 1))) {
        write_raw_response(fd, 503, "Service Unavailable", busy_body_);
        ::shutdown(fd, SHUT_RDWR);  // httplib's task for it then ends at once and closes it
        // Known until its task closes it, so find_new_socket does not take it for a new one.
        c->state = Connection::State::closed;
        c->refused = true;
        refused_.push_back(c);
        return c;
    }
    c->since = Clock::now();
    c->bytes_at_wait = tcp_bytes_received(fd);
    // A client that sent its request with the connect: the clock runs from the accept.
    if (c->bytes_at_wait != UINT64_MAX && c->bytes_at_wait > 0) c->first_byte = c->since;
    open_.push_back(c);
    return c;
}

void ConnectionWatch::close(const std::shared_ptr<Connection>& c) {
    std::lock_guard lock(mutex_);
    c->state = Connection::State::closed;
    open_.remove(c);
    refused_.remove(c);
}

void ConnectionWatch::begin_handling(Connection& c) {
    std::lock_guard lock(mutex_);
    if (c.state == Connection::State::closed) return;
    // A kept-alive connection whose previous answer was cancelled because its model was taken
    // away (ModelSlot::retire) carries a new request: that one starts uncancelled.
    c.model_retired = false;
    c.cancel = false;
    c.state = Connection::State::handling;
    c.since = Clock::now();
}

void ConnectionWatch::end_handling(Connection& c) {
    std::lock_guard lock(mutex_);
    if (c.state == Connection::State::closed) return;
    c.state = Connection::State::waiting;
    c.since = Clock::now();
    c.bytes_at_wait = tcp_bytes_received(c.fd);
    c.first_byte.reset();
    // A pipelined request may already be buffered: its clock runs from now.
    char byte;
    if (::recv(c.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0) c.first_byte = c.since;
}

bool ConnectionWatch::end_answer(Connection& c, bool close_connection) {
    std::lock_guard lock(mutex_);
    if (c.state == Connection::State::closed) return false;
    // Answered before a handler ran (a malformed request, a body over the limit): the request's
    // framing may be lost, so nothing more is read from this client.
    if (close_connection || c.state == Connection::State::waiting) {
        ::shutdown(c.fd, SHUT_WR);  // the answer already written still goes out, then FIN
        c.state = Connection::State::closed;
        return false;
    }
    return true;
}

void ConnectionWatch::shut_all() {
    std::lock_guard lock(mutex_);
    for (const auto& c : open_) {
        c->cancel = true;
        ::shutdown(c->fd, SHUT_RDWR);
    }
}

size_t ConnectionWatch::open_count() const {
    std::lock_guard lock(mutex_);
    return open_.size();
}

bool ConnectionWatch::known(int fd, const std::string& peer) const {
    std::lock_guard lock(mutex_);
    for (const auto* list : {&open_, &refused_})
        for (const auto& c : *list)
            if (c->fd == fd && c->peer == peer) return true;
    return false;
}

void ConnectionWatch::check(Connection& c, Clock::time_point now) {
    if (c.state == Connection::State::handling) {
        if (c.cancel) return;
        char byte;
        const ssize_t n = ::recv(c.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        // 0: the peer closed its end; an error other than "nothing to read": the connection broke.
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) c.cancel = true;
        return;
    }
    if (c.state != Connection::State::waiting) return;
    if (!c.first_byte) {
        const uint64_t bytes = tcp_bytes_received(c.fd);
        if (bytes == UINT64_MAX) c.first_byte = c.since;  // no byte count here: the clock runs from the wait's start
        else if (bytes > c.bytes_at_wait) c.first_byte = now;
    }
    if (c.first_byte && now - *c.first_byte > limits_.request_timeout) {
        write_raw_response(c.fd, 408, "Request Timeout", timeout_body_);
        ::shutdown(c.fd, SHUT_RDWR);
        c.state = Connection::State::closed;  // httplib's read fails now and its task ends
    } else if (!c.first_byte && now - c.since > limits_.idle_timeout) {
        ::shutdown(c.fd, SHUT_RDWR);
        c.state = Connection::State::closed;
    }
}

void ConnectionWatch::run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        wake_.wait_for(lock, kTick);
        const auto now = Clock::now();
        for (const auto& c : open_) check(*c, now);
    }
}

}  // namespace strata::server
