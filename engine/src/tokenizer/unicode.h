// Small Unicode toolkit for the tokenizers: UTF-8 stepping and validation, and the coarse
// character classes the BPE pre-tokenizers split on (letters \p{L}, numbers \p{N}, white space
// \s, everything else). Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace strata::unicode {

enum class CharClass : uint8_t { letter, number, whitespace, other };

// Unicode general category L* → letter, N* → number, White_Space → whitespace, else other.
// Invalid code points (> U+10FFFF, surrogates) are `other`.
CharClass classify(uint32_t cp);
bool is_letter(uint32_t cp);
bool is_number(uint32_t cp);
bool is_whitespace(uint32_t cp);  // the White_Space property (what regex \s matches)

// What the bytes at s[pos..] start with.
enum class Utf8Status : uint8_t {
    complete,    // `len` bytes form the well-formed character `cp`
    incomplete,  // all remaining bytes (`len` of them) are a valid but unfinished prefix
    invalid,     // `len` bytes (a maximal ill-formed subpart, >= 1) form no character
};
struct Utf8Step {
    Utf8Status status;
    uint32_t len;
    uint32_t cp;  // meaningful when complete
};
// Strict UTF-8 (no overlongs, surrogates or values above U+10FFFF). pos < s.size().
Utf8Step utf8_step(std::string_view s, size_t pos);

void append_utf8(std::string& out, uint32_t cp);

inline constexpr std::string_view k_replacement_char = "\xEF\xBF\xBD";  // U+FFFD

// Appends `bytes` to `out` as valid UTF-8: complete characters as they are, each ill-formed
// subpart as U+FFFD. An unfinished character at the very end is not appended; returns how many
// bytes at the end of `bytes` were held back that way (0..3).
size_t append_valid_utf8(std::string& out, std::string_view bytes);

}  // namespace strata::unicode
