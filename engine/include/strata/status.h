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
    internal,          // a bug: an invariant did not hold
};

const char* error_code_name(ErrorCode code);

class [[nodiscard]] Status {
public:
    Status() = default;  // success
    Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

    static Status success() { return {}; }

    bool ok() const { return code_ == ErrorCode::ok; }
    explicit operator bool() const { return ok(); }
    ErrorCode code() const { return code_; }
    const std::string& message() const { return message_; }

    // Returns a copy whose message is "context: message" (code kept), for adding the file or
    // device name as an error travels up.
    Status with_context(const std::string& context) const {
        if (ok()) return *this;
        return {code_, context + ": " + message_};
    }

private:
    ErrorCode code_ = ErrorCode::ok;
    std::string message_;
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
