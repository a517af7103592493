// Text helpers shared by the chat-output parsers (internal): held-back marker prefixes,
// whitespace trimming, Markdown code regions, and the extent of a JSON value in free text.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace strata::chat_output {

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s);
std::string_view ltrim(std::string_view s);
std::string_view rtrim(std::string_view s);
size_t skip_space(std::string_view s, size_t pos);

// Length of the longest suffix of `text` that is a proper prefix of one of `markers`: bytes a
// streaming parser must hold back because the next chunk may complete a marker.
size_t partial_marker_suffix(std::string_view text, std::span<const std::string_view> markers);

// The earliest occurrence of any of `markers` at or after `from`: {position, marker index}, or
// {npos, npos} when none occurs.
std::pair<size_t, size_t> find_first_of_markers(std::string_view text,
                                                std::span<const std::string_view> markers,
                                                size_t from = 0);

// Where Markdown code is in a text, so that a marker mentioned there is not taken as structure:
// fenced blocks (``` or ~~~, up to three spaces of indent, closed by a fence of the same
// character at least as long, or by the end of the text) and inline code spans on one line.
class CodeRegions {
public:
    explicit CodeRegions(std::string_view text);
    bool contains(size_t pos) const;

private:
    std::string_view text_;
    std::vector<std::pair<size_t, size_t>> fences_;  // [begin, end) byte ranges, sorted
};

// The first `marker` at or after `from` that is not inside code; npos when none.
size_t find_outside_code(std::string_view text, std::string_view marker, const CodeRegions& code,
                         size_t from = 0);

// The end (one past the closing bracket) of the JSON object or array starting at `begin`
// (text[begin] is '{' or '['), following strings and escapes; npos when the text ends first or
// the brackets do not match. It only delimits: the slice is validated by parsing it.
size_t json_value_end(std::string_view text, size_t begin);

}  // namespace strata::chat_output
