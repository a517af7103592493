// Text helpers for the chat-output parsers.
#include "chat/output_text.h"

#include <algorithm>

namespace strata::chat_output {

std::string_view ltrim(std::string_view s) {
    size_t b = 0;
    while (b < s.size() && is_space(s[b])) ++b;
    return s.substr(b);
}

std::string_view rtrim(std::string_view s) {
    size_t e = s.size();
    while (e > 0 && is_space(s[e - 1])) --e;
    return s.substr(0, e);
}

std::string_view trim(std::string_view s) { return rtrim(ltrim(s)); }

size_t skip_space(std::string_view s, size_t pos) {
    while (pos < s.size() && is_space(s[pos])) ++pos;
    return pos;
}

size_t partial_marker_suffix(std::string_view text, std::span<const std::string_view> markers) {
    size_t best = 0;
    for (std::string_view m : markers) {
        // Only proper prefixes: a whole marker in the text is found by the caller's search.
        const size_t longest = std::min(text.size(), m.size() - 1);
        for (size_t len = longest; len > best; --len) {
            if (text.substr(text.size() - len) == m.substr(0, len)) {
                best = len;
                break;
            }
        }
    }
    return best;
}

std::pair<size_t, size_t> find_first_of_markers(std::string_view text,
                                                std::span<const std::string_view> markers,
                                                size_t from) {
    std::pair<size_t, size_t> best{std::string_view::npos, std::string_view::npos};
    size_t index = 0;
    for (std::string_view m : markers) {
        const size_t p = text.find(m, from);
        if (p < best.first) best = {p, index};
        ++index;
    }
    return best;
}

namespace {

// A fence line: up to three spaces, then at least three backticks or tildes. Returns the fence
// character and run length, or {0, 0}.
std::pair<char, size_t> fence_at(std::string_view line) {
    size_t i = 0;
    while (i < line.size() && i < 3 && line[i] == ' ') ++i;
    if (i >= line.size() || (line[i] != '`' && line[i] != '~')) return {0, 0};
    const char c = line[i];
    size_t n = 0;
    while (i + n < line.size() && line[i + n] == c) ++n;
    if (n < 3) return {0, 0};
    return {c, n};
}

}  // namespace

CodeRegions::CodeRegions(std::string_view text) : text_(text) {
    size_t pos = 0;
    char open_char = 0;
    size_t open_len = 0;
    size_t open_begin = 0;
    while (pos < text.size()) {
        size_t eol = text.find('\n', pos);
        const size_t line_end = eol == std::string_view::npos ? text.size() : eol + 1;
        const auto [c, n] = fence_at(text.substr(pos, line_end - pos));
        if (open_char == 0) {
            if (c != 0) {
                open_char = c;
                open_len = n;
                open_begin = pos;
            }
        } else if (c == open_char && n >= open_len) {
            fences_.emplace_back(open_begin, line_end);
            open_char = 0;
        }
        pos = line_end;
    }
    if (open_char != 0) fences_.emplace_back(open_begin, text.size());
}

bool CodeRegions::contains(size_t pos) const {
    for (const auto& [b, e] : fences_) {
        if (pos >= b && pos < e) return true;
        if (b > pos) break;
    }
    // Inline code: an odd number of backticks before `pos` on its line opens a span.
    size_t from = 0;
    if (pos > 0) {
        const size_t nl = text_.rfind('\n', pos - 1);
        from = nl == std::string_view::npos ? 0 : nl + 1;
    }
    size_t ticks = 0;
    for (size_t i = from; i < pos && i < text_.size(); ++i) ticks += text_[i] == '`';
    return ticks % 2 == 1;
}

size_t find_outside_code(std::string_view text, std::string_view marker, const CodeRegions& code,
                         size_t from) {
    size_t p = text.find(marker, from);
    while (p != std::string_view::npos && code.contains(p)) p = text.find(marker, p + 1);
    return p;
}

size_t json_value_end(std::string_view text, size_t begin) {
    if (begin >= text.size() || (text[begin] != '{' && text[begin] != '[')) return std::string_view::npos;
    std::vector<char> stack;
    bool in_string = false;
    for (size_t i = begin; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;  // the escaped byte cannot end the string
            else if (c == '"') in_string = false;
            continue;
        }
        switch (c) {
            case '"': in_string = true; break;
            case '{': stack.push_back('}'); break;
            case '[': stack.push_back(']'); break;
            case '}':
            case ']':
                if (stack.empty() || stack.back() != c) return std::string_view::npos;
                stack.pop_back();
                if (stack.empty()) return i + 1;
                break;
            default: break;
        }
    }
    return std::string_view::npos;
}

}  // namespace strata::chat_output
