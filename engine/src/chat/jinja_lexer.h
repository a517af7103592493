// Jinja lexer: template source → tokens, with the whitespace rules transformers renders with
// (trim_blocks: the newline after a block or comment tag is dropped; lstrip_blocks: spaces and
// tabs before a block or comment tag on its own line are dropped; `{%-`/`-%}` etc. strip all
// white space on that side; `{%+`/`+%}` keep it). Also as Jinja: newlines normalised to "\n",
// one trailing newline at the end of the template dropped, comments removed, raw blocks
// passed through as data. Pure function; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja_error.h"

namespace strata::jinja {

enum class TokenKind {
    data,         // template text outside tags
    block_begin,  // {%
    block_end,    // %}
    var_begin,    // {{
    var_end,      // }}
    name,
    string,       // text = the decoded value
    integer,
    floating,
    op,           // text = the operator ("+", "//", "==", "(", ...)
    eof,
};

struct Token {
    TokenKind kind = TokenKind::eof;
    std::string text;
    int64_t int_value = 0;
    double float_value = 0.0;
    SourcePos pos;
};

// Throws Error(syntax) on an unterminated tag, comment or string, or a character that starts
// no token.
std::vector<Token> tokenize(std::string_view source);

}  // namespace strata::jinja
