// UTF-8 helpers for the Jinja interpreter: Python's str works on code points, so lengths,
// indexes, slices, case mapping and white space are counted in code points here, while the
// interpreter stores UTF-8 bytes. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::jinja {

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool is_valid_utf8(std::string_view s);

// Decodes the character at s[pos] (s must be valid UTF-8); sets `len` to its byte length.
uint32_t decode_utf8_at(std::string_view s, size_t pos, size_t& len);

void append_utf8(std::string& out, uint32_t cp);

// Byte offset of each code point, plus s.size() at the end (so size() - 1 code points).
std::vector<size_t> code_point_offsets(std::string_view s);
size_t count_code_points(std::string_view s);

// Python's str.isspace() for one code point.
bool is_python_space(uint32_t cp);

// Simple case mapping (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic). Python uses full
// Unicode case mapping; characters outside these blocks are left unchanged here.
uint32_t to_upper_cp(uint32_t cp);
uint32_t to_lower_cp(uint32_t cp);
bool is_cased_letter(uint32_t cp);  // has an upper or lower form in the blocks above

std::string to_upper(std::string_view s);
std::string to_lower(std::string_view s);

// Python's str.isprintable() for one code point, approximated: controls, separators other than
// the space, format characters and surrogates are not printable.
bool is_python_printable(uint32_t cp);

}  // namespace strata::jinja
