#include "tokenizer/unicode.h"

namespace strata::unicode {

Utf8Step utf8_step(std::string_view s, size_t pos) {
    const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
    const uint8_t b0 = byte(pos);
    if (b0 < 0x80) return {Utf8Status::complete, 1, b0};
    // Number of continuation bytes, the allowed range of the first of them, and the lead's bits.
    uint32_t n_cont = 0;
    uint8_t lo = 0x80, hi = 0xBF;
    uint32_t cp = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        n_cont = 1; cp = b0 & 0x1Fu;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        n_cont = 2; cp = b0 & 0x0Fu;
        if (b0 == 0xE0) lo = 0xA0;       // no overlongs
        if (b0 == 0xED) hi = 0x9F;       // no surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n_cont = 3; cp = b0 & 0x07u;
        if (b0 == 0xF0) lo = 0x90;       // no overlongs
        if (b0 == 0xF4) hi = 0x8F;       // nothing above U+10FFFF
    } else {
        return {Utf8Status::invalid, 1, 0};  // stray continuation byte, C0, C1, F5..FF
    }
    for (uint32_t k = 1; k <= n_cont; ++k) {
        if (pos + k >= s.size()) return {Utf8Status::incomplete, static_cast<uint32_t>(s.size() - pos), 0};
        const uint8_t b = byte(pos + k);
        const uint8_t want_lo = k == 1 ? lo : 0x80, want_hi = k == 1 ? hi : 0xBF;
        if (b < want_lo || b > want_hi) return {Utf8Status::invalid, k, 0};
        cp = (cp << 6) | (b & 0x3Fu);
    }
    return {Utf8Status::complete, n_cont + 1, cp};
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

size_t append_valid_utf8(std::string& out, std::string_view bytes) {
    size_t pos = 0;
    while (pos < bytes.size()) {
        const Utf8Step step = utf8_step(bytes, pos);
        if (step.status == Utf8Status::incomplete) return bytes.size() - pos;
        if (step.status == Utf8Status::complete) {
            out.append(bytes.substr(pos, step.len));
        } else {
            out.append(k_replacement_char);
        }
        pos += step.len;
    }
    return 0;
}

}  // namespace strata::unicode
