// Python str operations shared by filters and methods, on TrackedText so that what survives
// unchanged keeps its untrusted ranges exactly (strip, split, replace, indent). Counting is in
// code points, as Python counts. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chat/tracked_text.h"

namespace strata::jinja {

// str.strip / lstrip / rstrip; `chars` null: Python white space.
TrackedText strip_text(const TrackedText& t, const std::string* chars, bool left, bool right);

// str.split(sep, maxsplit) and str.rsplit; `sep` null: runs of white space, empty parts dropped.
// Throws a render error on an empty separator (as Python raises ValueError).
std::vector<TrackedText> split_text(const TrackedText& t, const std::string* sep, int64_t maxsplit);
std::vector<TrackedText> rsplit_text(const TrackedText& t, const std::string* sep, int64_t maxsplit);

// str.replace(old, new, count); count < 0: all. `max_bytes` bounds the result (render error).
TrackedText replace_text(const TrackedText& t, const std::string& old, const TrackedText& replacement,
                         int64_t count, size_t max_bytes);

// str.splitlines() boundaries, without the line ends.
std::vector<TrackedText> split_lines(const TrackedText& t);

std::string python_title(const std::string& s);       // str.title()
std::string python_capitalize(const std::string& s);  // str.capitalize()
std::string jinja_title(const std::string& s);        // the `title` filter (splits on -, space, brackets)

// Number of code points before byte `offset` (for find(), which answers in code points).
int64_t code_point_index(const std::string& s, size_t offset);

}  // namespace strata::jinja
