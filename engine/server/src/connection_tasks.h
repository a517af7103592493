// ConnectionTasks: the cpp-httplib TaskQueue of the API server — a thread per connection (each
// connection's requests are answered on its thread, generation included, so connections run in
// parallel), registered with the ConnectionWatch (see connection_watch.h) before it runs.
// enqueue() is called on httplib's listening thread right after accept(); shutdown() there when
// the server stops, and waits for every connection thread.
#pragma once

#include <httplib.h>

#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "connection_watch.h"

namespace strata::server {

class ConnectionTasks : public httplib::TaskQueue {
public:
    ConnectionTasks(ConnectionWatch& watch, int port) : watch_(watch), port_(port) {}
    ~ConnectionTasks() override { shutdown(); }

    void enqueue(std::function<void()> fn) override {
        reap();
        std::string peer;
        const int fd = find_new_socket(port_, watch_, peer);
        // Past the connection limit open() answers 503 and shuts the socket: httplib's task
        // then reads nothing and closes it at once. An unwatched connection (no socket found:
        // not Linux) runs with httplib's own per-read timeouts only.
        std::shared_ptr<Connection> conn = fd >= 0 ? watch_.open(fd, peer) : nullptr;
        auto done = std::make_shared<std::atomic<bool>>(false);
        std::lock_guard lock(mutex_);
        threads_.push_back({std::thread([this, fn = std::move(fn), conn, done] {
                                ConnectionWatch::set_current(conn && !conn->refused ? conn.get() : nullptr);
                                try {
                                    fn();
                                } catch (...) {
                                    // httplib's exception handler answers handler exceptions;
                                    // anything else ends this connection only.
                                }
                                ConnectionWatch::set_current(nullptr);
                                if (conn) watch_.close(conn);
                                *done = true;
                            }),
                            done});
    }

    void shutdown() override {
        std::list<Task> all;
        {
            std::lock_guard lock(mutex_);
            all.swap(threads_);
        }
        for (Task& t : all)
            if (t.thread.joinable()) t.thread.join();
    }

private:
    struct Task {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };

    // Joins the threads of connections that have ended.
    void reap() {
        std::lock_guard lock(mutex_);
        for (auto it = threads_.begin(); it != threads_.end();) {
            if (*it->done) {
                it->thread.join();
                it = threads_.erase(it);
            } else {
                ++it;
            }
        }
    }

    ConnectionWatch& watch_;
    int port_;
    std::mutex mutex_;
    std::list<Task> threads_;
};

}  // namespace strata::server
