// format_bytes / format_param_count (strata/format.h). In util/ because the floors use them —
// the CPU device names its memory cap and its allocation failures — and a floor must not reach
// up into model/ for a number format.
#include "strata/format.h"

#include <cstdio>
#include <iterator>

namespace strata {

std::string format_param_count(uint64_t n_params) {
    static const char* const kSuffix[] = {"", "K", "M", "B", "T"};
    double v = static_cast<double>(n_params);
    size_t unit = 0;
    while (unit + 1 < std::size(kSuffix) && v >= 999.5) {
        v /= 1000.0;
        ++unit;
    }
    char buf[32];
    if (unit == 0) {
        std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(n_params));
    } else if (v < 9.95) {
        std::snprintf(buf, sizeof buf, "%.1f%s", v, kSuffix[unit]);  // "1.1B", "6.7B"
    } else {
        std::snprintf(buf, sizeof buf, "%.0f%s", v, kSuffix[unit]);  // "260K", "70B"
    }
    return buf;
}

std::string format_bytes(uint64_t n_bytes) {
    static const char* const kUnit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    if (n_bytes < 1024) return std::to_string(n_bytes) + " B";
    double v = static_cast<double>(n_bytes);
    size_t unit = 0;
    while (unit + 1 < std::size(kUnit) && v >= 1023.5) {  // 1023.6 KiB prints as "1.00 MiB"
        v /= 1024.0;
        ++unit;
    }
    char buf[32];
    const char* fmt = v < 9.995 ? "%.2f %s" : v < 99.95 ? "%.1f %s" : "%.0f %s";  // 3 significant digits
    std::snprintf(buf, sizeof buf, fmt, v, kUnit[unit]);
    return buf;
}

}  // namespace strata
