// The current UTC time formatted with strftime (`format`, e.g. "%Y-%m-%dT%H:%M:%SZ"): the time
// stamps of stored measurements (bench log records, link measurements). Thread-safe.
#pragma once

#include <ctime>
#include <string>

namespace strata {

inline std::string utc_now(const char* format) {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    const size_t n = std::strftime(buf, sizeof buf, format, &tm);
    return std::string(buf, n);
}

}  // namespace strata
