// Downloading one file of a repository to a folder: resumable, verified, never half-written.
//
//   <dir>/<name>.part   while the download runs (and after a failure: the next run resumes it
//                       with a Range request from its size)
//   <dir>/<name>        only once every byte is there and its SHA-256 matches the LFS object id
//
// Before starting, the folder's free space must hold what is left to fetch (else an error and no
// request). Dropped connections and 429 / 5xx answers are retried from where they stopped, a
// bounded number of times with growing waits (Retry-After honoured, capped). A hash mismatch
// deletes the .part file and says so; a full disk, a cancel or a hopeless error keeps it, for a
// later resume. Each failure has a DownloadFault for callers that react to it.
//
// Threading: download_file() blocks; call it from a worker thread. `progress` is called on that
// thread; `cancel` may be set from any thread. download_files() runs its own threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "strata/hub/http_client.h"
#include "strata/status.h"

namespace strata::hub {

enum class DownloadFault {
    none,
    no_space,        // the folder lacks room (before starting, or the disk filled while writing)
    unauthorized,    // 401 / 403: a gated or private repository; a token with access is needed
    not_found,       // 404
    network,         // the connection failed or dropped, and retries did not help
    server,          // another HTTP error
    checksum,        // the bytes do not match the SHA-256 (the .part file is deleted)
    cancelled,
    local_io,        // the folder or file could not be created, read or written
};
const char* download_fault_name(DownloadFault f);

struct DownloadProgress {
    uint64_t done = 0;        // bytes in the .part file (including a resumed start)
    uint64_t total = 0;
    uint64_t resumed_from = 0;
    double bytes_per_second = 0;  // over this run
};
using DownloadProgressFn = std::function<void(const DownloadProgress&)>;

struct DownloadRequest {
    std::string url;
    std::string dir;
    std::string file_name;       // the name in `dir` (no slashes)
    uint64_t size = 0;           // expected size (from the listing)
    std::string sha256;          // expected hash, lower-case hex ("" = not checked)
    int max_retries = 4;         // retries in a row that bring no new byte (progress resets the count)
    double retry_base_seconds = 1.0;   // waits: base, 2×base, 4×base, ... (Retry-After wins, ≤ 60 s)
    uint64_t free_space_margin = 64u << 20;  // kept free beyond the file
};

struct DownloadResult {
    Status status;
    DownloadFault fault = DownloadFault::none;
    int http_status = 0;          // the last HTTP status seen (0: none)
    std::string path;             // the finished file (status ok)
    uint64_t bytes_fetched = 0;   // over the network in this run
    uint64_t resumed_from = 0;    // bytes already in the .part file at the start
    int retries = 0;
    bool already_present = false; // the finished file was there and verified; nothing fetched
};

DownloadResult download_file(const HttpClient& http, const DownloadRequest& request,
                             const DownloadProgressFn& progress = {}, const std::atomic<bool>* cancel = nullptr);

// Several files (the parts of a split set, or a batch) with at most `max_parallel` transfers at
// once, each as download_file() does it. `progress` gets the sum over all files (done, total,
// speed); it is called from the transfer threads, one call at a time. When one file fails for a
// reason a retry cannot mend, the others stop too (keeping their .part files) and their results
// say cancelled. Results are in request order. Blocks until every transfer has ended.
std::vector<DownloadResult> download_files(const HttpClient& http, const std::vector<DownloadRequest>& requests,
                                           int max_parallel = 4, const DownloadProgressFn& progress = {},
                                           const std::atomic<bool>* cancel = nullptr);

// Bytes free for an unprivileged user in the file system holding `dir` (nullopt: unknown).
std::optional<uint64_t> free_disk_bytes(const std::string& dir);

}  // namespace strata::hub
