// A blocking HTTP/1.1 client on a plain socket, for the server tests: it sends exactly the bytes
// a test gives (malformed, huge, trickled) and reads one response (Content-Length, chunked, or to
// the close). Header names are lower-cased. Not thread-safe; one per test thread.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace strata::test {

struct RawResponse {
    int status = 0;
    std::map<std::string, std::string> headers;
    std::string body;  // de-chunked
    std::string header(const std::string& name) const {
        const auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

class RawClient {
public:
    explicit RawClient(int port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(uint16_t(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) close();
    }
    ~RawClient() { close(); }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    bool connected() const { return fd_ >= 0; }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    bool send(const std::string& bytes) {
        size_t sent = 0;
        while (fd_ >= 0 && sent < bytes.size()) {
            const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) return false;
            sent += size_t(n);
        }
        return fd_ >= 0;
    }

    // Reads until `needle` is in what was received (kept for later reads), the peer closes or
    // the timeout passes. True when found.
    bool wait_for(const std::string& needle, int timeout_ms = 5000) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        while (buffer_.find(needle) == std::string::npos) {
            if (!fill(deadline)) return buffer_.find(needle) != std::string::npos;
        }
        return true;
    }

    // Reads one response. nullopt when none arrives in time or it is cut short.
    std::optional<RawResponse> read_response(int timeout_ms = 5000) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        size_t head_end;
        while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos)
            if (!fill(deadline)) return std::nullopt;
        RawResponse r;
        const std::string head = buffer_.substr(0, head_end);
        size_t pos = head.find("\r\n");
        const std::string status_line = head.substr(0, pos);
        if (status_line.size() < 12) return std::nullopt;
        r.status = std::stoi(status_line.substr(9, 3));
        while (pos != std::string::npos && pos < head.size()) {
            const size_t next = head.find("\r\n", pos + 2);
            const std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
            const size_t colon = line.find(':');
            if (colon != std::string::npos) {
                std::string name = line.substr(0, colon);
                for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
                std::string value = line.substr(colon + 1);
                while (!value.empty() && value.front() == ' ') value.erase(0, 1);
                r.headers[name] = value;
            }
            pos = next;
        }
        buffer_.erase(0, head_end + 4);
        if (r.status == 100 || r.status == 204 || r.status == 304) return r;
        if (r.header("transfer-encoding") == "chunked") {
            for (;;) {
                size_t line_end;
                while ((line_end = buffer_.find("\r\n")) == std::string::npos)
                    if (!fill(deadline)) return std::nullopt;
                const size_t size = std::stoul(buffer_.substr(0, line_end), nullptr, 16);
                while (buffer_.size() < line_end + 2 + size + 2)
                    if (!fill(deadline)) return std::nullopt;
                r.body += buffer_.substr(line_end + 2, size);
                buffer_.erase(0, line_end + 2 + size + 2);
                if (size == 0) return r;
            }
        }
        if (r.headers.count("content-length")) {
            const size_t length = std::stoul(r.header("content-length"));
            while (buffer_.size() < length)
                if (!fill(deadline)) return std::nullopt;
            r.body = buffer_.substr(0, length);
            buffer_.erase(0, length);
            return r;
        }
        while (fill(deadline)) {
        }
        r.body = buffer_;
        buffer_.clear();
        return r;
    }

    // True when the server closes the connection within the timeout.
    bool wait_closed(int timeout_ms = 3000) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        while (fill(deadline)) {
        }
        return closed_;
    }

private:
    // Reads what is available before the deadline. False at the close, an error or the deadline.
    bool fill(std::chrono::steady_clock::time_point deadline) {
        if (fd_ < 0) return false;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, int(left.count())) <= 0) return false;
        char buf[16384];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) {
            closed_ = true;
            return false;
        }
        buffer_.append(buf, size_t(n));
        return true;
    }

    int fd_ = -1;
    bool closed_ = false;
    std::string buffer_;
};

// A whole request: method, path, headers (each "Name: value"), a body with its Content-Length.
inline std::string http_request(const std::string& method, const std::string& path, const std::string& body = "",
                                const std::string& extra_headers = "") {
    std::string r = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers;
    if (!body.empty() || method == "POST")
        r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    return r + "\r\n" + body;
}

}  // namespace strata::test
