// Jinja parser: source → tokens (jinja_lexer) → Program: the statements here, expressions in
// jinja_expression_parser. Unknown filters, tests and tags are rejected here, as Jinja rejects
// them when it compiles a template. Pure function; thread-safe.
#pragma once

#include <string_view>

#include "chat/jinja_ast.h"

namespace strata::jinja {

// Nesting deeper than this (brackets, operators, blocks) is refused: parsing and evaluating
// recurse, and a hostile template must not overflow the stack.
inline constexpr int k_max_nesting = 100;

// Throws Error(syntax) with the line and column of the offending token.
Program parse_template(std::string_view source);

// Whether a filter or test of this name exists (the parser checks names at compile time).
bool is_known_filter(const std::string& name);
bool is_known_test(const std::string& name);

}  // namespace strata::jinja
