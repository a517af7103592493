// download_file(): one file, resumed from its .part, verified with OpenSSL's SHA-256, renamed
// into place only when whole and matching.
#include "strata/hub/downloader.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "strata/format.h"
#include "strata/hub/hub_client.h"

namespace strata::hub {

namespace fs = std::filesystem;

namespace {

// SHA-256 over a stream of bytes (OpenSSL's EVP interface).
class Sha256 {
public:
    Sha256() : ctx_(EVP_MD_CTX_new()) { reset(); }
    ~Sha256() { EVP_MD_CTX_free(ctx_); }
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    void reset() { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
    void update(const void* data, size_t n) { EVP_DigestUpdate(ctx_, data, n); }
    std::string hex() {
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        EVP_DigestFinal_ex(ctx_, digest, &n);
        static const char* digits = "0123456789abcdef";
        std::string out;
        for (unsigned int k = 0; k < n; ++k) {
            out += digits[digest[k] >> 4];
            out += digits[digest[k] & 15];
        }
        return out;
    }

private:
    EVP_MD_CTX* ctx_;
};

struct Fd {
    int fd = -1;
    ~Fd() { if (fd >= 0) ::close(fd); }
};

std::string errno_text(int e) { return std::strerror(e); }

DownloadResult failure(DownloadResult r, DownloadFault fault, ErrorCode code, std::string message) {
    r.fault = fault;
    r.status = Status(code, std::move(message));
    return r;
}

// Hashes `n` bytes of an open file from its start.
bool hash_prefix(int fd, uint64_t n, Sha256& sha) {
    std::vector<char> buf(1u << 20);
    uint64_t done = 0;
    while (done < n) {
        const ssize_t got = ::pread(fd, buf.data(), std::min<uint64_t>(buf.size(), n - done), static_cast<off_t>(done));
        if (got <= 0) return false;
        sha.update(buf.data(), static_cast<size_t>(got));
        done += static_cast<uint64_t>(got);
    }
    return true;
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// "bytes A-B/T": A, and T (0 = "*" or absent). False when it does not parse.
bool parse_content_range(const std::string& v, uint64_t& first, uint64_t& total) {
    unsigned long long a = 0, b = 0, t = 0;
    if (std::sscanf(v.c_str(), "bytes %llu-%llu/%llu", &a, &b, &t) == 3) {
        first = a;
        total = t;
        return true;
    }
    if (std::sscanf(v.c_str(), "bytes %llu-%llu/*", &a, &b) == 2) {
        first = a;
        total = 0;
        return true;
    }
    return false;
}

// Waits `seconds`, waking early on cancel. False when cancelled.
bool wait(double seconds, const std::atomic<bool>* cancel) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
        if (cancel && cancel->load()) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return !(cancel && cancel->load());
}

}  // namespace

const char* download_fault_name(DownloadFault f) {
    switch (f) {
        case DownloadFault::none: return "none";
        case DownloadFault::no_space: return "no_space";
        case DownloadFault::unauthorized: return "unauthorized";
        case DownloadFault::not_found: return "not_found";
        case DownloadFault::network: return "network";
        case DownloadFault::server: return "server";
        case DownloadFault::checksum: return "checksum";
        case DownloadFault::cancelled: return "cancelled";
        case DownloadFault::local_io: return "local_io";
    }
    return "unknown";
}

std::optional<uint64_t> free_disk_bytes(const std::string& dir) {
    struct statvfs s {};
    if (::statvfs(dir.c_str(), &s) != 0) return std::nullopt;
    return static_cast<uint64_t>(s.f_bavail) * static_cast<uint64_t>(s.f_frsize);
}

DownloadResult download_file(const HttpClient& http, const DownloadRequest& req, const DownloadProgressFn& progress,
                             const std::atomic<bool>* cancel) {
    DownloadResult r;
    const std::string& name = req.file_name;
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
        return failure(r, DownloadFault::local_io, ErrorCode::invalid_argument, "'" + name + "' is not a file name");
    std::error_code ec;
    fs::create_directories(req.dir, ec);
    if (ec) return failure(r, DownloadFault::local_io, ErrorCode::io, "cannot create the folder " + req.dir + ": " + ec.message());
    const std::string final_path = (fs::path(req.dir) / name).string();
    const std::string part_path = final_path + ".part";
    const std::string expected_sha = lower(req.sha256);

    // A finished file of the same name: verified and kept, or refused (never overwritten).
    if (fs::exists(final_path, ec)) {
        Fd in;
        in.fd = ::open(final_path.c_str(), O_RDONLY | O_CLOEXEC);
        const uint64_t size = fs::file_size(final_path, ec);
        Sha256 sha;
        const bool same = in.fd >= 0 && !ec && size == req.size &&
                          (expected_sha.empty() || (hash_prefix(in.fd, size, sha) && sha.hex() == expected_sha));
        if (!same) {
            return failure(r, DownloadFault::local_io, ErrorCode::invalid_argument,
                           final_path + " already exists and is not this file; move it away first");
        }
        r.path = final_path;
        r.already_present = true;
        return r;
    }

    Fd out;
    out.fd = ::open(part_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (out.fd < 0) return failure(r, DownloadFault::local_io, ErrorCode::io, "cannot open " + part_path + ": " + errno_text(errno));
    const off_t end = ::lseek(out.fd, 0, SEEK_END);
    uint64_t offset = end > 0 ? static_cast<uint64_t>(end) : 0;
    Sha256 sha;
    if (offset > req.size || !hash_prefix(out.fd, offset, sha)) {
        // Longer than the file, or unreadable: start again.
        if (::ftruncate(out.fd, 0) != 0)
            return failure(r, DownloadFault::local_io, ErrorCode::io, "cannot truncate " + part_path + ": " + errno_text(errno));
        offset = 0;
        sha.reset();
    }
    r.resumed_from = offset;

    // Room for what is left, before any request.
    if (const auto free = free_disk_bytes(req.dir); free && *free < req.size - offset + req.free_space_margin) {
        return failure(r, DownloadFault::no_space, ErrorCode::out_of_memory,
                       "not enough disk space in " + req.dir + ": " + name + " needs " +
                           format_bytes(req.size - offset) + " more (plus " + format_bytes(req.free_space_margin) +
                           " kept free), " + format_bytes(*free) + " are free");
    }

    const auto started = std::chrono::steady_clock::now();
    auto report = [&] {
        if (!progress) return;
        DownloadProgress p;
        p.done = offset;
        p.total = req.size;
        p.resumed_from = r.resumed_from;
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        p.bytes_per_second = secs > 0 ? static_cast<double>(r.bytes_fetched) / secs : 0;
        progress(p);
    };
    report();

    int failures = 0;  // attempts in a row that brought no byte
    while (offset < req.size || req.size == 0) {
        if (cancel && cancel->load()) return failure(r, DownloadFault::cancelled, ErrorCode::cancelled, name + ": cancelled");
        int write_errno = 0;
        std::string bad_answer;
        const uint64_t attempt_start = offset;
        const ResponseCheck check = [&](const HttpResponse& resp) {
            if (resp.status == 200 && offset > 0) {
                // The server sent the whole file instead of the rest: start over.
                if (::ftruncate(out.fd, 0) != 0) {
                    write_errno = errno;
                    return false;
                }
                offset = 0;
                sha.reset();
                r.resumed_from = 0;
                return true;
            }
            if (resp.status == 206) {
                uint64_t first = 0, total = 0;
                if (!parse_content_range(resp.header("content-range"), first, total) || first != offset ||
                    (total != 0 && total != req.size)) {
                    bad_answer = "the server answered range " + std::to_string(offset) + "- with Content-Range '" +
                                 resp.header("content-range") + "'";
                    return false;
                }
            }
            return true;
        };
        const BodySink sink = [&](std::string_view bytes) {
            if (offset + bytes.size() > req.size) {
                bad_answer = "the server sent more than the " + std::to_string(req.size) + " bytes listed";
                return false;
            }
            size_t written = 0;
            while (written < bytes.size()) {
                const ssize_t n = ::pwrite(out.fd, bytes.data() + written, bytes.size() - written,
                                           static_cast<off_t>(offset + written));
                if (n < 0) {
                    if (errno == EINTR) continue;
                    write_errno = errno;
                    return false;
                }
                written += static_cast<size_t>(n);
            }
            sha.update(bytes.data(), bytes.size());
            offset += bytes.size();
            r.bytes_fetched += bytes.size();
            report();
            return !(cancel && cancel->load());  // a cancel from the progress callback stops here
        };
        std::optional<ByteRange> range;
        if (offset > 0) range = ByteRange{offset, std::nullopt};
        auto resp = http.stream(req.url, range, sink, cancel, check);
        if (resp.ok()) r.http_status = static_cast<int>(resp->status);

        if (write_errno != 0) {
            const bool full = write_errno == ENOSPC || write_errno == EDQUOT;
            return failure(r, full ? DownloadFault::no_space : DownloadFault::local_io, ErrorCode::io,
                           (full ? "the disk is full: " : "cannot write ") + part_path + ": " + errno_text(write_errno) +
                               " (" + std::to_string(offset) + " of " + std::to_string(req.size) +
                               " bytes kept for a resume)");
        }
        if (!bad_answer.empty())
            return failure(r, DownloadFault::server, ErrorCode::corrupt, name + ": " + bad_answer);
        if (!resp.ok() && resp.status().code() == ErrorCode::cancelled)
            return failure(r, DownloadFault::cancelled, ErrorCode::cancelled, name + ": cancelled");

        double wait_seconds = req.retry_base_seconds * static_cast<double>(1 << std::min(failures, 6));
        if (resp.ok()) {
            const long status = resp->status;
            if (status >= 200 && status < 300) {
                if (req.size == 0 || offset == req.size) break;
                // Ended early without an error from the transport: treated as a dropped connection.
            } else if (status == 416 && offset > 0) {
                // The .part file does not match the remote file any more: start over.
                if (::ftruncate(out.fd, 0) != 0)
                    return failure(r, DownloadFault::local_io, ErrorCode::io, "cannot truncate " + part_path);
                offset = 0;
                sha.reset();
                r.resumed_from = 0;
                continue;
            } else if (status == 429 || status >= 500) {
                const std::string after = resp->header("retry-after");
                if (!after.empty() && std::isdigit(static_cast<unsigned char>(after[0])))
                    wait_seconds = std::min(60.0, std::stod(after));
            } else {
                const Status s = http_error(*resp, "downloading " + name);
                const DownloadFault f = status == 401 || status == 403 ? DownloadFault::unauthorized
                                        : status == 404                ? DownloadFault::not_found
                                                                       : DownloadFault::server;
                r.fault = f;
                r.status = s;
                return r;
            }
        }
        failures = offset > attempt_start ? 0 : failures + 1;
        if (failures > req.max_retries) {
            const std::string why = resp.ok() ? "HTTP " + std::to_string(resp->status) : resp.status().message();
            const bool net = !resp.ok() || (resp->status >= 200 && resp->status < 300);
            return failure(r, net ? DownloadFault::network : DownloadFault::server, ErrorCode::io,
                           name + ": gave up after " + std::to_string(r.retries) + " retries: " + why + " (" +
                               std::to_string(offset) + " of " + std::to_string(req.size) +
                               " bytes kept for a resume)");
        }
        ++r.retries;
        if (!wait(wait_seconds, cancel)) return failure(r, DownloadFault::cancelled, ErrorCode::cancelled, name + ": cancelled");
    }

    if (::fsync(out.fd) != 0) {
        const int e = errno;
        return failure(r, e == ENOSPC ? DownloadFault::no_space : DownloadFault::local_io, ErrorCode::io,
                       "cannot write " + part_path + ": " + errno_text(e));
    }
    const std::string got = sha.hex();
    if (!expected_sha.empty() && got != expected_sha) {
        ::unlink(part_path.c_str());
        return failure(r, DownloadFault::checksum, ErrorCode::corrupt,
                       name + ": the downloaded bytes do not match: SHA-256 " + got + ", the repository says " +
                           expected_sha + " (the partial file was deleted)");
    }
    ::close(out.fd);
    out.fd = -1;
    if (::rename(part_path.c_str(), final_path.c_str()) != 0)
        return failure(r, DownloadFault::local_io, ErrorCode::io, "cannot rename " + part_path + ": " + errno_text(errno));
    r.path = final_path;
    return r;
}

std::vector<DownloadResult> download_files(const HttpClient& http, const std::vector<DownloadRequest>& requests,
                                           int max_parallel, const DownloadProgressFn& progress,
                                           const std::atomic<bool>* cancel) {
    std::vector<DownloadResult> results(requests.size());
    std::atomic<bool> stop{false};  // set by the caller's cancel or by a hopeless failure
    std::mutex mutex;               // guards next, done, rates and the progress call
    size_t next = 0;
    std::vector<uint64_t> done(requests.size(), 0);
    std::vector<double> rates(requests.size(), 0);
    uint64_t total = 0;
    for (const DownloadRequest& r : requests) total += r.size;

    auto worker = [&] {
        while (true) {
            size_t k = 0;
            {
                std::lock_guard<std::mutex> lock(mutex);
                if (next >= requests.size()) return;
                k = next++;
            }
            if (stop.load() || (cancel && cancel->load())) {
                results[k].fault = DownloadFault::cancelled;
                results[k].status = Status(ErrorCode::cancelled, requests[k].file_name + ": cancelled");
                continue;
            }
            try {
                results[k] = download_file(http, requests[k], [&, k](const DownloadProgress& p) {
                    std::lock_guard<std::mutex> lock(mutex);
                    done[k] = p.done;
                    rates[k] = p.bytes_per_second;
                    if (!progress) return;
                    DownloadProgress sum;
                    sum.total = total;
                    for (size_t i = 0; i < done.size(); ++i) {
                        sum.done += done[i];
                        sum.bytes_per_second += rates[i];
                    }
                    progress(sum);
                }, &stop);
            } catch (const std::exception& e) {  // a thread must not let anything escape
                results[k].fault = DownloadFault::local_io;
                results[k].status = Status(ErrorCode::internal, requests[k].file_name + ": " + e.what());
            }
            if (!results[k].status.ok()) stop.store(true);
        }
    };
    // The caller's cancel reaches every transfer through `stop`, even one waiting to retry.
    std::atomic<bool> finished{false};
    std::thread watcher;
    if (cancel) {
        watcher = std::thread([&] {
            while (!finished.load()) {
                if (cancel->load()) stop.store(true);
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        });
    }
    std::vector<std::thread> threads;
    const size_t n = std::min<size_t>(std::max(1, max_parallel), requests.size());
    for (size_t t = 0; t < n; ++t) threads.emplace_back(worker);
    for (std::thread& t : threads) t.join();
    finished.store(true);
    if (watcher.joinable()) watcher.join();
    return results;
}

}  // namespace strata::hub
