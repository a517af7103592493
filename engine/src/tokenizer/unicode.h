// Small UTF-8 toolkit for the tokenizers: stepping, validation, encoding. (Character classes
// come from PCRE2, which runs the pre-tokenizers' patterns.) Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace strata::unicode {

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
