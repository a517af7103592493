#include "chat/jinja_string_ops.h"

#include <algorithm>

#include "chat/jinja_error.h"
#include "chat/jinja_utf8.h"

namespace strata::jinja {

namespace {

struct CodePoint {
    uint32_t cp;
    size_t begin;
    size_t end;
};

std::vector<CodePoint> code_points(const std::string& s) {
    std::vector<CodePoint> out;
    for (size_t i = 0; i < s.size();) {
        size_t len = 1;
        const uint32_t cp = decode_utf8_at(s, i, len);
        out.push_back({cp, i, i + len});
        i += len;
    }
    return out;
}

bool in_chars(uint32_t cp, const std::vector<CodePoint>& chars) {
    return std::any_of(chars.begin(), chars.end(), [&](const CodePoint& c) { return c.cp == cp; });
}

}  // namespace

TrackedText strip_text(const TrackedText& t, const std::string* chars, bool left, bool right) {
    const auto cps = code_points(t.str());
    const auto set = chars ? code_points(*chars) : std::vector<CodePoint>{};
    auto strip = [&](uint32_t cp) { return chars ? in_chars(cp, set) : is_python_space(cp); };
    size_t b = 0, e = cps.size();
    if (left)
        while (b < e && strip(cps[b].cp)) ++b;
    if (right)
        while (e > b && strip(cps[e - 1].cp)) --e;
    if (b == e) return {};
    return t.substr(cps[b].begin, cps[e - 1].end);
}

std::vector<TrackedText> split_text(const TrackedText& t, const std::string* sep, int64_t maxsplit) {
    std::vector<TrackedText> parts;
    const std::string& s = t.str();
    if (sep) {
        if (sep->empty()) throw_render_error("empty separator");
        size_t start = 0;
        while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
            const size_t found = s.find(*sep, start);
            if (found == std::string::npos) break;
            parts.push_back(t.substr(start, found));
            start = found + sep->size();
        }
        parts.push_back(t.substr(start, s.size()));
        return parts;
    }
    const auto cps = code_points(s);
    size_t i = 0;
    while (i < cps.size()) {
        while (i < cps.size() && is_python_space(cps[i].cp)) ++i;
        if (i == cps.size()) break;
        if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) == maxsplit) {
            // The rest, trailing white space removed.
            size_t e = cps.size();
            while (e > i && is_python_space(cps[e - 1].cp)) --e;
            parts.push_back(t.substr(cps[i].begin, cps[e - 1].end));
            break;
        }
        const size_t b = i;
        while (i < cps.size() && !is_python_space(cps[i].cp)) ++i;
        parts.push_back(t.substr(cps[b].begin, cps[i - 1].end));
    }
    return parts;
}

std::vector<TrackedText> rsplit_text(const TrackedText& t, const std::string* sep, int64_t maxsplit) {
    if (maxsplit < 0) return split_text(t, sep, maxsplit);
    std::vector<TrackedText> parts;
    const std::string& s = t.str();
    if (sep) {
        if (sep->empty()) throw_render_error("empty separator");
        size_t end = s.size();
        while (static_cast<int64_t>(parts.size()) < maxsplit && end >= sep->size()) {
            const size_t found = s.rfind(*sep, end - sep->size());
            if (found == std::string::npos) break;
            parts.push_back(t.substr(found + sep->size(), end));
            end = found;
        }
        parts.push_back(t.substr(0, end));
    } else {
        const auto cps = code_points(s);
        size_t i = cps.size();
        while (i > 0) {
            while (i > 0 && is_python_space(cps[i - 1].cp)) --i;
            if (i == 0) break;
            if (static_cast<int64_t>(parts.size()) == maxsplit) {
                size_t b = 0;
                while (b < i && is_python_space(cps[b].cp)) ++b;
                parts.push_back(t.substr(cps[b].begin, cps[i - 1].end));
                break;
            }
            const size_t e = i;
            while (i > 0 && !is_python_space(cps[i - 1].cp)) --i;
            parts.push_back(t.substr(cps[i].begin, cps[e - 1].end));
        }
    }
    std::reverse(parts.begin(), parts.end());
    return parts;
}

TrackedText replace_text(const TrackedText& t, const std::string& old, const TrackedText& replacement,
                         int64_t count, size_t max_bytes) {
    const std::string& s = t.str();
    TrackedText out;
    auto check = [&] {
        if (out.size() > max_bytes)
            throw Error(ErrorKind::limit, {}, "template built a string larger than " + std::to_string(max_bytes) + " bytes");
    };
    int64_t done = 0;
    if (old.empty()) {  // Python inserts the replacement around every code point
        const auto cps = code_points(s);
        for (const auto& c : cps) {
            if (count < 0 || done < count) {
                out.append(replacement);
                ++done;
            }
            out.append(t.substr(c.begin, c.end));
            check();
        }
        if (count < 0 || done < count) out.append(replacement);
        check();
        return out;
    }
    size_t start = 0;
    while (count < 0 || done < count) {
        const size_t found = s.find(old, start);
        if (found == std::string::npos) break;
        out.append(t.substr(start, found));
        out.append(replacement);
        check();
        start = found + old.size();
        ++done;
    }
    out.append(t.substr(start, s.size()));
    check();
    return out;
}

std::vector<TrackedText> split_lines(const TrackedText& t) {
    std::vector<TrackedText> lines;
    const auto cps = code_points(t.str());
    size_t line_begin = 0;
    for (size_t i = 0; i < cps.size(); ++i) {
        const uint32_t cp = cps[i].cp;
        const bool is_break = cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C || (cp >= 0x1C && cp <= 0x1E) ||
                              cp == 0x85 || cp == 0x2028 || cp == 0x2029;
        if (!is_break) continue;
        lines.push_back(t.substr(line_begin, cps[i].begin));
        if (cp == '\r' && i + 1 < cps.size() && cps[i + 1].cp == '\n') ++i;
        line_begin = cps[i].end;
    }
    if (line_begin < t.size()) lines.push_back(t.substr(line_begin, t.size()));
    return lines;
}

std::string python_title(const std::string& s) {
    std::string out;
    bool previous_cased = false;
    for (const auto& c : code_points(s)) {
        const bool cased = is_cased_letter(c.cp);
        if (cased) append_utf8(out, previous_cased ? to_lower_cp(c.cp) : to_upper_cp(c.cp));
        else out.append(s, c.begin, c.end - c.begin);
        previous_cased = cased;
    }
    return out;
}

std::string python_capitalize(const std::string& s) {
    std::string out;
    bool first = true;
    for (const auto& c : code_points(s)) {
        append_utf8(out, first ? to_upper_cp(c.cp) : to_lower_cp(c.cp));
        first = false;
    }
    return out;
}

std::string jinja_title(const std::string& s) {
    // Words start after runs of '-', white space, '(', '{', '[' or '<'; each word gets its first
    // character upper-cased and the rest lower-cased.
    std::string out;
    bool word_start = true;
    for (const auto& c : code_points(s)) {
        const bool separator = c.cp == '-' || is_python_space(c.cp) || c.cp == '(' || c.cp == '{' || c.cp == '[' || c.cp == '<';
        if (separator) {
            out.append(s, c.begin, c.end - c.begin);
            word_start = true;
            continue;
        }
        append_utf8(out, word_start ? to_upper_cp(c.cp) : to_lower_cp(c.cp));
        word_start = false;
    }
    return out;
}

int64_t code_point_index(const std::string& s, size_t offset) {
    return static_cast<int64_t>(count_code_points(std::string_view(s).substr(0, offset)));
}

}  // namespace strata::jinja
