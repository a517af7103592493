#include <cstdlib>
#include <cctype>
#include <cerrno>
#include <cstdio>

#include "cli_common.h"

namespace strata::cli {

namespace {
bool matches(const std::string& arg, std::initializer_list<const char*> names, std::string* inline_value) {
    for (const char* n : names) {
        std::string name(n);
        if (arg == name) return true;
        if (inline_value && arg.size() > name.size() + 1 && arg.compare(0, name.size(), name) == 0 &&
            arg[name.size()] == '=' && name.rfind("--", 0) == 0) {
            *inline_value = arg.substr(name.size() + 1);
            return true;
        }
    }
    return false;
}
}  // namespace

std::vector<std::string> Args::values(std::initializer_list<const char*> names) {
    std::vector<std::string> result;
    for (size_t i = 0; i < argv_.size(); ++i) {
        if (used_[i]) continue;
        std::string inline_value;
        if (!matches(argv_[i], names, &inline_value)) continue;
        used_[i] = true;
        if (!inline_value.empty()) {
            result.push_back(inline_value);
        } else if (i + 1 < argv_.size()) {
            used_[i + 1] = true;
            result.push_back(argv_[++i]);
        } else {
            result.emplace_back();  // missing value: reported as empty
        }
    }
    return result;
}

std::optional<std::string> Args::value(std::initializer_list<const char*> names) {
    std::vector<std::string> all = values(names);
    if (all.empty()) return std::nullopt;
    return std::move(all.back());
}

bool Args::flag(std::initializer_list<const char*> names) {
    bool found = false;
    for (size_t i = 0; i < argv_.size(); ++i) {
        if (!used_[i] && matches(argv_[i], names, nullptr)) {
            used_[i] = true;
            found = true;
        }
    }
    return found;
}

bool Args::finish(std::vector<std::string>& positionals, std::string& error) {
    for (size_t i = 0; i < argv_.size(); ++i) {
        if (used_[i]) continue;
        const std::string& a = argv_[i];
        if (a.size() > 1 && a[0] == '-' && !(a.size() > 1 && (std::isdigit(static_cast<unsigned char>(a[1])) || a[1] == '.'))) {
            error = "unknown option '" + a + "'";
            return false;
        }
        positionals.push_back(a);
    }
    return true;
}

bool Args::to_int(const std::string& text, const char* option, long long& out) {
    char* end = nullptr;
    errno = 0;
    out = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || errno != 0 || *end != '\0') {
        std::fprintf(stderr, "error: %s expects an integer, got '%s'\n", option, text.c_str());
        return false;
    }
    return true;
}

bool Args::to_float(const std::string& text, const char* option, double& out) {
    char* end = nullptr;
    errno = 0;
    out = std::strtod(text.c_str(), &end);
    if (text.empty() || errno != 0 || *end != '\0') {
        std::fprintf(stderr, "error: %s expects a number, got '%s'\n", option, text.c_str());
        return false;
    }
    return true;
}

}  // namespace strata::cli
