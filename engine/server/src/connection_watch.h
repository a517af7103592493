// ConnectionWatch: what cpp-httplib does not do for the API server — the connection limit, the
// whole-request deadline (a client sending one byte a second must not hold a thread), and
// noticing a client that left while its request is being answered.
//
// cpp-httplib runs each accepted connection as one task of a TaskQueue. ConnectionTasks is that
// queue: a thread per connection. When a task is queued (on the listening thread, right after
// accept) it finds the new socket (the connected socket on the server's port that it has not
// seen yet, see find_new_socket) and registers it here; past max_connections the client gets
// 503 and the socket is shut down, so httplib's task ends at once. A thread-local pointer tells
// the request handlers which Connection they run for.
//
// A watcher thread looks at every connection every 20 ms:
//   waiting   (for a request): once bytes have arrived (TCP_INFO's byte count grew), the request
//             must be complete within request_timeout, else the client gets 408 and the socket
//             is shut down; with no bytes, the connection is closed after idle_timeout.
//   handling  (a request was read, its answer is being made): a peer that closed its end sets
//             the connection's `cancel`, which the generation watches.
//
// Threading: every method is thread-safe. Connections are shared_ptrs: the watcher and the task
// both hold one.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "strata/server/api_server.h"

namespace strata::server {

struct Connection {
    int fd = -1;
    std::string peer;  // "address:port", with fd the connection's identity
    std::atomic<bool> cancel{false};  // the client left, the server stops, or the model was taken away
    std::atomic<bool> model_retired{false};  // the last: set before `cancel`
    bool refused = false;             // over the connection limit: answered 503 and shut

    // Guarded by the watch's mutex.
    enum class State { waiting, handling, closed } state = State::waiting;
    std::chrono::steady_clock::time_point since;  // when `state` began
    uint64_t bytes_at_wait = 0;                   // bytes received when waiting began
    std::optional<std::chrono::steady_clock::time_point> first_byte;
};

class ConnectionWatch {
public:
    using Clock = std::chrono::steady_clock;
    // timeout_body: the 408 answer's body; busy_body: the 503 answer's body (too many connections).
    ConnectionWatch(const ServerLimits& limits, std::string timeout_body, std::string busy_body);
    ~ConnectionWatch();

    // Registers the socket `fd`. When max_connections are open it answers 503, shuts the socket
    // down and returns a Connection marked `refused` (closed, not counted, known until close()).
    std::shared_ptr<Connection> open(int fd, std::string peer);
    void close(const std::shared_ptr<Connection>& c);
    // A request was read / its answer was written.
    void begin_handling(Connection& c);
    void end_handling(Connection& c);
    // An error answer was written. When no handler ran for it (httplib answered a malformed
    // request by itself, or the pre-routing check refused a body over the limit) or
    // `close_connection`, shuts the sending side, so the client sees the connection end, and
    // returns false; else true (the connection may carry another request: call end_handling).
    bool end_answer(Connection& c, bool close_connection);
    // Cancels every generation and shuts every socket (the server stops).
    void shut_all();
    size_t open_count() const;
    // Whether (fd, peer) is a registered connection.
    bool known(int fd, const std::string& peer) const;

    // The connection the calling thread serves (set by ConnectionTasks), or nullptr.
    static Connection* current();
    static void set_current(Connection* c);

private:
    void run();
    void check(Connection& c, Clock::time_point now);

    ServerLimits limits_;
    std::string timeout_body_, busy_body_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::list<std::shared_ptr<Connection>> open_;
    std::list<std::shared_ptr<Connection>> refused_;
    bool stopping_ = false;
    std::thread watcher_;
};

// The connected TCP socket of this process whose local port is `port` and that `watch` does not
// know yet: the one just accepted. -1 when there is none. Fills `peer`. Linux (/proc/self/fd).
int find_new_socket(int port, const ConnectionWatch& watch, std::string& peer);

// Bytes received on a TCP socket so far (TCP_INFO), or UINT64_MAX where the system does not say.
uint64_t tcp_bytes_received(int fd);

// Writes a whole HTTP/1.1 response with a JSON body and "Connection: close" (best effort, for
// answers outside httplib's flow).
void write_raw_response(int fd, int status, const char* reason, const std::string& body);

}  // namespace strata::server
