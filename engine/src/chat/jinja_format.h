// How values become text, byte for byte as Python prints them: str() for `{{ }}` output and
// `~`, repr() inside containers, float repr (shortest round trip, "1.0", "1e+16"), and the
// json.dumps that transformers' `tojson` filter calls. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>

#include "chat/jinja_value.h"

namespace strata::jinja {

std::string python_float_repr(double d);
std::string python_string_repr(const std::string& s);
std::string python_repr(const Value& v, int depth = 0);

// Python str(v): strings as they are, Undefined as "", None as "None", containers as repr.
std::string python_str(const Value& v);

// str(v) as tracked text: a string keeps its ranges; any other value's text is untrusted when
// anything inside it is (what `{{ }}` writes and `~` concatenates).
TrackedText to_text(const Value& v);

struct JsonOptions {
    bool ensure_ascii = false;
    std::optional<std::string> indent;  // None, or the string one level of indent adds
    std::string item_separator = ", ";  // Python's defaults: ", " / ": " without indent,
    std::string key_separator = ": ";   // "," / ": " with one
    bool sort_keys = false;
};

// json.dumps(v, ...) as Python writes it; throws a render error for values JSON cannot hold
// (Undefined, namespaces, macros), as json.dumps raises TypeError.
std::string to_json(const Value& v, const JsonOptions& options);

// Markup's escape(): & < > ' " as HTML entities.
std::string html_escape(const std::string& s);

}  // namespace strata::jinja
