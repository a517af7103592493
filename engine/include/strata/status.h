// Status and Result<T>: how every fallible engine function reports failure.
//
// Engine functions that can fail return Status (no value) or Result<T> (a value or an error).
// Messages name the file, field, device or size involved, so they can be shown to a user as is.
// Internals may throw; the public API catches everything and converts it to a Status.
// Both types are plain values: copyable, movable, safe to hand between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace strata {

// Broad class of a failure, for callers that react differently (e.g. offer a smaller plan on
// out_of_memory, re-plan on device_failure). The message carries the detail.
enum class ErrorCode {
    ok = 0,
    invalid_argument,  // the caller asked for something impossible (bad option, bad split)
    not_found,         // a file, tensor, key or device does not exist
    corrupt,           // a file is malformed (truncated, bad offsets, bad types)
    unsupported,       // valid, but not something Strata can do (architecture, tensor type)
    out_of_memory,     // a device or host allocation failed or would exceed a cap
    device_failure,    // a device (GPU, virtual device) failed while running
    io,                // reading or writing a file failed
    cancelled,         // the caller cancelled the operation
    busy,              // every slot is taken and the wait queue is full: try again later
    internal,          // a bug: an invariant did not hold
};

const char* error_code_name(ErrorCode code);

// What is wrong with a model file, where the GGUF reader can tell: for callers that explain a
// refusal to people (the library, on drop) or act on it, so that none of them has to recognise
// the message's wording. The message still says everything; Status::fault_detail() holds the one
// fact a short explanation needs, as documented per fault. Faults travel with the Status
// (with_context keeps them), so an error from a part of a split set keeps its fault too.
enum class FileFault {
    none,                  // no file fault, or not one of these (a missing key, bad offsets, ...)
    not_gguf,              // no GGUF magic. Detail: what the file is instead, as a clause:
                           // "it starts with 'hell'", "it is only 2 bytes long", "it is empty"
    unsupported_gguf,      // GGUF, but a version or byte order Strata does not read. Detail:
                           // "GGUF version 4; Strata reads versions 2 and 3"
    truncated,             // the file ends before its header, tensor directory or tensor data
                           // does (an interrupted download). No detail: the message says where
    split_set_incomplete,  // a part of a split set is missing, is not GGUF, belongs to another
                           // set, or cannot be found because the opened part was renamed.
                           // Detail: the path of that part
};

const char* file_fault_name(FileFault fault);

// How a network request failed, where the HTTP client (strata/hub/http_client.h) can tell: for
// callers that choose what to tell people (or whether to offer Retry) without reading the
// message. The code stays ErrorCode::io. Detail (Status::net_origin()): the "scheme://host:port"
// that was being reached, which after a redirect may not be the one first asked.
enum class NetFault {
    none,         // not a network failure, or not one of these (an HTTP error status, a bad answer)
    unreachable,  // no answer came: the name did not resolve, the connection (or the proxy) was
                  // refused or timed out, TLS did not start. Typically: offline, or a proxy is needed
    dropped,      // an answer had started and the connection broke off or stalled
};

class [[nodiscard]] Status {
public:
    Status() = default;  // success
    Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

    static Status success() { return {}; }

    bool ok() const { return code_ == ErrorCode::ok; }
    explicit operator bool() const { return ok(); }
    ErrorCode code() const { return code_; }
    const std::string& message() const { return message_; }
    FileFault fault() const { return fault_; }
    const std::string& fault_detail() const { return fault_detail_; }
    NetFault net_fault() const { return net_fault_; }
    const std::string& net_origin() const { return net_origin_; }

    // Returns a copy whose message is "context: message" (code and fault kept), for adding the
    // file or device name as an error travels up.
    Status with_context(const std::string& context) const {
        if (ok()) return *this;
        Status s = *this;
        s.message_ = context + ": " + message_;
        return s;
    }

    // Returns a copy that says what is wrong with the file (detail as FileFault documents).
    // A success stays a success.
    Status with_fault(FileFault fault, std::string detail = {}) const {
        if (ok()) return *this;
        Status s = *this;
        s.fault_ = fault;
        s.fault_detail_ = std::move(detail);
        return s;
    }

    // Returns a copy that says how a network request failed and which origin it was reaching.
    // A success stays a success.
    Status with_net_fault(NetFault fault, std::string origin) const {
        if (ok()) return *this;
        Status s = *this;
        s.net_fault_ = fault;
        s.net_origin_ = std::move(origin);
        return s;
    }

private:
    ErrorCode code_ = ErrorCode::ok;
    std::string message_;
    FileFault fault_ = FileFault::none;
    std::string fault_detail_;
    NetFault net_fault_ = NetFault::none;
    std::string net_origin_;
};

inline Status make_error(ErrorCode code, std::string message) { return {code, std::move(message)}; }

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : value_(std::move(value)) {}                      // NOLINT: implicit by design
    Result(Status status) : value_(std::nullopt), status_(std::move(status)) {  // NOLINT
        assert(!status_.ok() && "Result constructed from a success Status without a value");
        if (status_.ok()) status_ = Status(ErrorCode::internal, "Result without value");
    }

    bool ok() const { return value_.has_value(); }
    explicit operator bool() const { return ok(); }
    const Status& status() const { return status_; }

    T& value() & { assert(ok()); return *value_; }
    const T& value() const& { assert(ok()); return *value_; }
    T&& value() && { assert(ok()); return std::move(*value_); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

private:
    std::optional<T> value_;
    Status status_;
};

}  // namespace strata

// Propagates a failed Status out of the current function.
#define STRATA_RETURN_IF_ERROR(expr)                 \
    do {                                             \
        ::strata::Status strata_status_ = (expr);    \
        if (!strata_status_.ok()) return strata_status_; \
    } while (0)

#define STRATA_CONCAT_INNER(a, b) a##b
#define STRATA_CONCAT(a, b) STRATA_CONCAT_INNER(a, b)

// `STRATA_ASSIGN_OR_RETURN(auto x, make_x());` — binds the value or returns the error.
#define STRATA_ASSIGN_OR_RETURN(lhs, expr) \
    STRATA_ASSIGN_OR_RETURN_IMPL(STRATA_CONCAT(strata_result_, __LINE__), lhs, expr)
#define STRATA_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
    auto tmp = (expr);                               \
    if (!tmp.ok()) return tmp.status();              \
    lhs = std::move(tmp).value()
