// Grouping a listing's GGUF files into entries; split part names as gguf/split_set.h reads them.
#include "strata/hub/gguf_entries.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

#include "gguf/split_set.h"

namespace strata::hub {

namespace {

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
    return s;
}

bool ends_with_gguf(const std::string& path) {
    return path.size() > 5 && upper(path.substr(path.size() - 5)) == ".GGUF";
}

std::string base_name(const std::string& path) {
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "<prefix>-NNNNN-of-MMMMM.gguf" → (part 1-based, count), by the name alone.
std::optional<std::pair<int64_t, int64_t>> split_numbers(const std::string& path) {
    const size_t of = path.rfind("-of-");
    if (of == std::string::npos || of < 6 || path.size() < of + 4 + 5 + 5) return std::nullopt;
    const std::string no = path.substr(of - 5, 5), count = path.substr(of + 4, 5);
    if (path[of - 6] != '-' || !std::all_of(no.begin(), no.end(), ::isdigit) ||
        !std::all_of(count.begin(), count.end(), ::isdigit))
        return std::nullopt;
    const int64_t n = std::stoll(no), c = std::stoll(count);
    if (n < 1 || c < 2 || n > c) return std::nullopt;
    // The exact form split_set writes, so that the engine finds the parts after download.
    if (!gguf::split_prefix(path, n, c)) return std::nullopt;
    return std::make_pair(n, c);
}

// A quantization name is one of these shapes, as a token between separators.
bool looks_like_quant(const std::string& t) {
    static const char* const exact[] = {"F32", "F16", "BF16", "FP16", "FP32"};
    for (const char* e : exact)
        if (t == e) return true;
    size_t i = 0;
    if (t.rfind("IQ", 0) == 0) i = 2;
    else if (t.rfind("TQ", 0) == 0) i = 2;
    else if (t.rfind("Q", 0) == 0) i = 1;
    else return false;
    if (i >= t.size() || !std::isdigit(static_cast<unsigned char>(t[i]))) return false;
    for (size_t k = i; k < t.size(); ++k) {
        const char c = t[k];
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
    }
    return true;
}

}  // namespace

std::string quant_from_name(const std::string& file_name) {
    std::string stem = upper(base_name(file_name));
    if (ends_with_gguf(stem)) stem.resize(stem.size() - 5);
    if (split_numbers(base_name(file_name))) stem.resize(stem.rfind("-OF-") - 6);
    // Tokens separated by '-' or '.'; quant names keep their '_' ("Q4_K_M", "IQ2_XXS").
    std::vector<std::string> tokens;
    std::string cur;
    for (char c : stem) {
        if (c == '-' || c == '.') {
            if (!cur.empty()) tokens.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) tokens.push_back(cur);
    for (auto it = tokens.rbegin(); it != tokens.rend(); ++it) {
        if (looks_like_quant(*it)) return *it;
        // "UD-Q4_K_XL" style and "model_q4_k_m": the last '_'-joined tail that looks like one.
        for (size_t p = it->find('_'); p != std::string::npos; p = it->find('_', p + 1)) {
            const std::string tail = it->substr(p + 1);
            if (looks_like_quant(tail)) return tail;
        }
    }
    return {};
}

std::vector<GgufEntry> gguf_entries(const std::vector<RepoFile>& files) {
    std::vector<GgufEntry> out;
    struct Set {
        int64_t count = 0;
        std::map<int64_t, RepoFile> parts;
    };
    std::map<std::string, Set> sets;  // by the first part's path
    for (const RepoFile& f : files) {
        if (!ends_with_gguf(f.path)) continue;
        const std::string base = base_name(f.path);
        if (upper(base).rfind("MMPROJ", 0) == 0) continue;
        if (const auto nums = split_numbers(f.path)) {
            Set& s = sets[*gguf::split_first_part_path(f.path)];  // split_numbers() checked the form
            s.count = nums->second;
            s.parts[nums->first] = f;
            continue;
        }
        GgufEntry e;
        e.name = f.path;
        e.quant = quant_from_name(f.path);
        e.parts = {f};
        e.size = f.size;
        out.push_back(std::move(e));
    }
    for (auto& [first, s] : sets) {
        GgufEntry e;
        e.name = first;
        e.quant = quant_from_name(first);
        for (auto& [no, f] : s.parts) {
            e.size += f.size;
            e.parts.push_back(f);
        }
        e.complete = static_cast<int64_t>(s.parts.size()) == s.count;
        out.push_back(std::move(e));
    }
    std::stable_sort(out.begin(), out.end(), [](const GgufEntry& a, const GgufEntry& b) { return a.size < b.size; });
    return out;
}

}  // namespace strata::hub
