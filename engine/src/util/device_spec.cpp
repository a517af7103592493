// Parsing of byte sizes ("1.5GiB") and device lists ("cpu:4GiB,cpu:2GiB:t2,cuda0,cuda1:20GiB").
#include <cctype>
#include <charconv>
#include <set>

#include "strata/device_info.h"

namespace strata {

namespace {

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string trim(const std::string& s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return s.substr(b, e - b);
}

// Multiplier of a unit, all binary; 0 when unknown.
uint64_t unit_bytes(const std::string& unit) {
    const std::string u = lower(unit);
    if (u == "b") return 1;
    if (u == "k" || u == "kb" || u == "kib") return uint64_t{1} << 10;
    if (u == "m" || u == "mb" || u == "mib") return uint64_t{1} << 20;
    if (u == "g" || u == "gb" || u == "gib") return uint64_t{1} << 30;
    if (u == "t" || u == "tb" || u == "tib") return uint64_t{1} << 40;
    return 0;
}

// A whole positive number (no sign, no spaces) up to `max`.
bool parse_count(const std::string& text, int max, int& out) {
    if (text.empty() || text.size() > 10) return false;
    for (char c : text)
        if (c < '0' || c > '9') return false;
    long long v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v < 1 || v > max) return false;
    out = static_cast<int>(v);
    return true;
}

}  // namespace

bool parse_byte_size(const std::string& text, uint64_t& bytes, std::string& error) {
    const std::string t = trim(text);
    size_t i = 0;
    unsigned __int128 whole = 0, frac = 0, frac_scale = 1;
    bool digits = false;
    for (; i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])); ++i) {
        whole = whole * 10 + static_cast<unsigned>(t[i] - '0');
        digits = true;
        if (whole > (static_cast<unsigned __int128>(1) << 64)) {
            error = "size '" + text + "' is too large";
            return false;
        }
    }
    if (i < t.size() && t[i] == '.') {
        ++i;
        bool frac_digits = false;
        for (; i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])); ++i) {
            if (frac_scale < 1000000000000000000ull) {  // digits past 18 cannot matter
                frac = frac * 10 + static_cast<unsigned>(t[i] - '0');
                frac_scale *= 10;
            }
            frac_digits = true;
        }
        if (!frac_digits) {
            error = "size '" + text + "' has no digits after its '.'";
            return false;
        }
        digits = true;
    }
    if (!digits) {
        error = "size '" + text + "' does not start with a number (like 4GiB or 1.5GiB)";
        return false;
    }
    while (i < t.size() && t[i] == ' ') ++i;
    const std::string unit = t.substr(i);
    if (unit.empty()) {
        error = "size '" + text + "' has no unit: add B, KiB, MiB, GiB or TiB";
        return false;
    }
    const uint64_t mult = unit_bytes(unit);
    if (mult == 0) {
        error = "size '" + text + "' has unknown unit '" + unit + "' (use B, KiB, MiB, GiB or TiB)";
        return false;
    }
    // Rounded to the nearest byte.
    const unsigned __int128 value = whole * mult + (frac * mult + frac_scale / 2) / frac_scale;
    if (value > UINT64_MAX) {
        error = "size '" + text + "' is too large";
        return false;
    }
    bytes = static_cast<uint64_t>(value);
    return true;
}

bool parse_device_specs(const std::string& text, std::vector<DeviceSpec>& out, std::string& error) {
    out.clear();
    if (trim(text).empty()) {
        error = "no devices given (expected a list like cpu:4GiB,cuda0)";
        return false;
    }
    std::set<int> cuda_seen;
    size_t start = 0;
    for (int n_item = 1;; ++n_item) {
        const size_t comma = text.find(',', start);
        const std::string item = trim(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        const std::string where = "device " + std::to_string(n_item) + " '" + item + "'";
        if (item.empty()) {
            error = "device " + std::to_string(n_item) + " is empty (two commas in a row?)";
            return false;
        }
        std::vector<std::string> fields;
        for (size_t b = 0;;) {
            const size_t colon = item.find(':', b);
            fields.push_back(trim(item.substr(b, colon == std::string::npos ? std::string::npos : colon - b)));
            if (colon == std::string::npos) break;
            b = colon + 1;
        }
        DeviceSpec spec;
        const std::string kind = lower(fields[0]);
        if (kind == "cpu") {
            spec.kind = "cpu";
        } else if (kind.rfind("cuda", 0) == 0) {
            spec.kind = "cuda";
            const std::string index = kind.substr(4);
            int idx = 0;
            if (index == "0") {
                idx = 0;
            } else if (!parse_count(index, 1023, idx)) {
                error = where + ": name a GPU by its index, like cuda0 or cuda1";
                return false;
            }
            spec.index = idx;
            if (!cuda_seen.insert(idx).second) {
                error = where + ": cuda" + std::to_string(idx) + " is listed twice";
                return false;
            }
        } else {
            error = where + ": unknown device kind '" + fields[0] + "' (expected cpu or cudaN)";
            return false;
        }
        bool have_cap = false, have_threads = false, have_fail = false;
        for (size_t f = 1; f < fields.size(); ++f) {
            const std::string opt = lower(fields[f]);
            if (opt.empty()) {
                error = where + ": empty option after ':'";
                return false;
            }
            if (opt.rfind("fail-after=", 0) == 0) {
                if (have_fail || !parse_count(opt.substr(11), 2000000000, spec.fail_after_ops)) {
                    error = where + ": fail-after needs one whole number of operations ≥ 1";
                    return false;
                }
                have_fail = true;
            } else if (opt[0] == 't' && opt.size() > 1 && std::isdigit(static_cast<unsigned char>(opt[1]))) {
                if (spec.kind != "cpu") {
                    error = where + ": a thread count (" + fields[f] + ") applies to cpu devices only";
                    return false;
                }
                if (have_threads || !parse_count(opt.substr(1), 4096, spec.n_threads)) {
                    error = where + ": thread count '" + fields[f] + "' must be one whole number, 1 to 4096";
                    return false;
                }
                have_threads = true;
            } else if (std::isdigit(static_cast<unsigned char>(opt[0])) || opt[0] == '.') {
                std::string size_error;
                if (have_cap) {
                    error = where + ": more than one memory cap";
                    return false;
                }
                if (!parse_byte_size(fields[f], spec.memory_cap, size_error)) {
                    error = where + ": " + size_error;
                    return false;
                }
                if (spec.memory_cap == 0) {
                    error = where + ": a memory cap must be more than 0 bytes (leave it out for no cap)";
                    return false;
                }
                have_cap = true;
            } else {
                error = where + ": unknown option '" + fields[f] +
                        "' (expected a size like 4GiB, tN for threads, or fail-after=N)";
                return false;
            }
        }
        out.push_back(spec);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return true;
}

}  // namespace strata
