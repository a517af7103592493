#include "chat/jinja_utf8.h"

#include "tokenizer/unicode.h"

namespace strata::jinja {

namespace {

// Length of the well-formed sequence at s[pos], or 0 when it is ill-formed.
size_t valid_sequence_length(std::string_view s, size_t pos) {
    const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char c = b(pos);
    const size_t left = s.size() - pos;
    auto cont = [&](size_t i) { return pos + i < s.size() && (b(pos + i) & 0xC0) == 0x80; };
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return left >= 2 && cont(1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (left < 3 || !cont(1) || !cont(2)) return 0;
        if (c == 0xE0 && b(pos + 1) < 0xA0) return 0;   // overlong
        if (c == 0xED && b(pos + 1) >= 0xA0) return 0;  // surrogate
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (left < 4 || !cont(1) || !cont(2) || !cont(3)) return 0;
        if (c == 0xF0 && b(pos + 1) < 0x90) return 0;   // overlong
        if (c == 0xF4 && b(pos + 1) >= 0x90) return 0;  // past U+10FFFF
        return 4;
    }
    return 0;
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        const size_t n = valid_sequence_length(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

uint32_t decode_utf8_at(std::string_view s, size_t pos, size_t& len) {
    const auto c = static_cast<unsigned char>(s[pos]);
    auto cont = [&](size_t i) {
        return pos + i < s.size() ? static_cast<uint32_t>(static_cast<unsigned char>(s[pos + i]) & 0x3F) : 0u;
    };
    if (c < 0x80) { len = 1; return c; }
    if (c < 0xE0) { len = 2; return ((c & 0x1Fu) << 6) | cont(1); }
    if (c < 0xF0) { len = 3; return ((c & 0x0Fu) << 12) | (cont(1) << 6) | cont(2); }
    len = 4;
    return ((c & 0x07u) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
}

void append_utf8(std::string& out, uint32_t cp) { unicode::append_utf8(out, cp); }  // one encoder, the tokenizer's

std::vector<size_t> code_point_offsets(std::string_view s) {
    std::vector<size_t> offsets;
    offsets.reserve(s.size() + 1);
    for (size_t i = 0; i < s.size();) {
        offsets.push_back(i);
        size_t len = 1;
        decode_utf8_at(s, i, len);
        i += len;
    }
    offsets.push_back(s.size());
    return offsets;
}

size_t count_code_points(std::string_view s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

bool is_python_space(uint32_t cp) {
    if (cp >= 0x09 && cp <= 0x0D) return true;
    if (cp >= 0x1C && cp <= 0x20) return true;
    switch (cp) {
        case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
        case 0x3000:
            return true;
        default:
            return cp >= 0x2000 && cp <= 0x200A;
    }
}

uint32_t to_upper_cp(uint32_t cp) {
    if (cp < 0x80) return (cp >= 'a' && cp <= 'z') ? cp - 32 : cp;
    if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) return cp - 0x20;
    if (cp == 0xFF) return 0x178;
    if (cp >= 0x100 && cp <= 0x17F) {
        if (cp == 0x131) return 'I';
        if (cp == 0x17F) return 'S';
        const bool odd_is_lower = (cp >= 0x100 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177);
        const bool even_is_lower = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
        if (odd_is_lower && (cp & 1)) return cp - 1;
        if (even_is_lower && !(cp & 1)) return cp - 1;
        return cp;
    }
    if (cp >= 0x3B1 && cp <= 0x3C9) return cp == 0x3C2 ? 0x3A3 : cp - 0x20;
    if (cp == 0x3AC) return 0x386;
    if (cp >= 0x3AD && cp <= 0x3AF) return cp - 0x25;
    if (cp == 0x3CC) return 0x38C;
    if (cp == 0x3CD || cp == 0x3CE) return cp - 0x3F;
    if (cp >= 0x430 && cp <= 0x44F) return cp - 0x20;
    if (cp >= 0x450 && cp <= 0x45F) return cp - 0x50;
    if (cp >= 0x460 && cp <= 0x481 && (cp & 1)) return cp - 1;
    return cp;
}

uint32_t to_lower_cp(uint32_t cp) {
    if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;
    if (cp == 0x178) return 0xFF;
    if (cp >= 0x100 && cp <= 0x17F) {
        if (cp == 0x130) return 'i';
        const bool even_is_upper = (cp >= 0x100 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177);
        const bool odd_is_upper = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
        if (even_is_upper && !(cp & 1)) return cp + 1;
        if (odd_is_upper && (cp & 1)) return cp + 1;
        return cp;
    }
    if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 0x20;
    if (cp == 0x386) return 0x3AC;
    if (cp >= 0x388 && cp <= 0x38A) return cp + 0x25;
    if (cp == 0x38C) return 0x3CC;
    if (cp == 0x38E || cp == 0x38F) return cp + 0x3F;
    if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;
    if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;
    if (cp >= 0x460 && cp <= 0x481 && !(cp & 1)) return cp + 1;
    return cp;
}

bool is_cased_letter(uint32_t cp) {
    return to_upper_cp(cp) != cp || to_lower_cp(cp) != cp || cp == 0xDF;
}

namespace {
template <class Map>
std::string map_code_points(std::string_view s, Map map) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        size_t len = 1;
        const uint32_t cp = decode_utf8_at(s, i, len);
        map(out, cp);
        i += len;
    }
    return out;
}
}  // namespace

std::string to_upper(std::string_view s) {
    return map_code_points(s, [](std::string& out, uint32_t cp) {
        if (cp == 0xDF) out += "SS";  // Python's full mapping of ß
        else append_utf8(out, to_upper_cp(cp));
    });
}

std::string to_lower(std::string_view s) {
    return map_code_points(s, [](std::string& out, uint32_t cp) { append_utf8(out, to_lower_cp(cp)); });
}

bool is_python_printable(uint32_t cp) {
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0xAD) return false;
    if (cp == 0x1680 || cp == 0x180E || cp == 0x061C || cp == 0xFEFF) return false;
    if (cp >= 0x2000 && cp <= 0x200F) return false;
    if (cp >= 0x2028 && cp <= 0x202F) return false;
    if (cp >= 0x205F && cp <= 0x206F) return false;
    if (cp == 0x3000) return false;
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;
    if (cp >= 0xE000 && cp <= 0xF8FF) return false;  // private use
    if (cp >= 0xFFF9 && cp <= 0xFFFB) return false;
    if (cp == 0xFFFE || cp == 0xFFFF) return false;
    return true;
}

}  // namespace strata::jinja
