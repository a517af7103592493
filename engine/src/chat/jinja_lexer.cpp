#include "chat/jinja_lexer.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "chat/jinja_utf8.h"

namespace strata::jinja {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Jinja's newline handling: "\r\n" and "\r" become "\n"; one trailing newline is dropped
// (keep_trailing_newline is off in transformers' environment).
std::string normalize_source(std::string_view source) {
    std::string out;
    out.reserve(source.size());
    for (size_t i = 0; i < source.size(); ++i) {
        if (source[i] == '\r') {
            out += '\n';
            if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
        } else {
            out += source[i];
        }
    }
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

class Lexer {
public:
    explicit Lexer(std::string_view source) : src_(normalize_source(source)) {
        line_starts_.push_back(0);
        for (size_t i = 0; i < src_.size(); ++i)
            if (src_[i] == '\n') line_starts_.push_back(i + 1);
    }

    std::vector<Token> run() {
        while (pos_ < src_.size()) {
            const size_t tag = find_tag_start(pos_);
            if (tag == std::string::npos) {
                emit_data(src_.substr(pos_), pos_);
                break;
            }
            lex_tag(tag);
        }
        Token eof;
        eof.kind = TokenKind::eof;
        eof.pos = at(src_.size());
        out_.push_back(eof);
        return std::move(out_);
    }

private:
    SourcePos at(size_t offset) const {
        const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
        const size_t line = static_cast<size_t>(it - line_starts_.begin());
        const size_t col = offset - line_starts_[line - 1];
        return {static_cast<int>(line), static_cast<int>(col) + 1};
    }

    [[noreturn]] void fail(size_t offset, const std::string& what) const {
        throw Error(ErrorKind::syntax, at(offset), what);
    }

    bool starts_with(size_t at_pos, std::string_view s) const {
        return src_.compare(at_pos, s.size(), s) == 0;
    }

    size_t find_tag_start(size_t from) const {
        for (size_t i = from; i + 1 < src_.size(); ++i) {
            if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
        }
        return std::string::npos;
    }

    void skip_spaces(size_t& p) const {
        while (p < src_.size() && is_space(src_[p])) ++p;
    }

    void emit_data(std::string text, size_t offset) {
        if (text.empty()) return;
        Token t;
        t.kind = TokenKind::data;
        t.text = std::move(text);
        t.pos = at(offset);
        out_.push_back(std::move(t));
    }

    void emit(TokenKind kind, std::string text, size_t offset) {
        Token t;
        t.kind = kind;
        t.text = std::move(text);
        t.pos = at(offset);
        out_.push_back(std::move(t));
    }

    // Text before a tag, with the tag's white-space control applied.
    std::string strip_before(std::string text, char sign, bool is_variable) const {
        if (sign == '-') {
            while (!text.empty() && is_space(text.back())) text.pop_back();
        } else if (sign != '+' && !is_variable) {  // lstrip_blocks
            const size_t nl = text.rfind('\n');
            const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
            if (l_pos > 0 || line_starting_) {
                const bool only_space = l_pos < text.size() &&
                    std::all_of(text.begin() + static_cast<std::ptrdiff_t>(l_pos), text.end(), is_space);
                if (only_space) text.resize(l_pos);
            }
        }
        return text;
    }

    // `{% raw %}` at `tag` (sign already known); returns the offset after the begin tag, or npos.
    size_t match_raw_begin(size_t after_sign) const {
        size_t p = after_sign;
        skip_spaces(p);
        if (!starts_with(p, "raw")) return std::string::npos;
        p += 3;
        if (p < src_.size() && is_name_char(src_[p])) return std::string::npos;
        skip_spaces(p);
        if (starts_with(p, "-%}")) {
            p += 3;
            skip_spaces(p);
            return p;
        }
        if (starts_with(p, "%}")) return p + 2;
        return std::string::npos;
    }

    void lex_tag(size_t tag) {
        const char kind = src_[tag + 1];
        size_t p = tag + 2;
        char sign = 0;
        if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) sign = src_[p++];
        std::string text = strip_before(src_.substr(pos_, tag - pos_), sign, kind == '{');
        emit_data(std::move(text), pos_);
        line_starting_ = false;

        if (kind == '%') {
            const size_t raw_end = match_raw_begin(p);
            if (raw_end != std::string::npos) {
                lex_raw(tag, raw_end);
                return;
            }
        }
        if (kind == '#') {
            lex_comment(tag, p);
            return;
        }
        emit(kind == '%' ? TokenKind::block_begin : TokenKind::var_begin, {}, tag);
        lex_inside(kind == '%', tag, p);
    }

    void lex_comment(size_t tag, size_t p) {
        for (; p + 1 < src_.size(); ++p) {
            if (src_[p] == '+' && starts_with(p + 1, "#}")) {
                finish_tag(p + 3);
                return;
            }
            if (src_[p] == '-' && starts_with(p + 1, "#}")) {
                size_t e = p + 3;
                skip_spaces(e);
                finish_tag(e);
                return;
            }
            if (starts_with(p, "#}")) {
                size_t e = p + 2;
                if (e < src_.size() && src_[e] == '\n') ++e;  // trim_blocks
                finish_tag(e);
                return;
            }
        }
        fail(tag, "missing end of comment tag");
    }

    void lex_raw(size_t tag, size_t body) {
        for (size_t p = body; p + 1 < src_.size(); ++p) {
            if (!starts_with(p, "{%")) continue;
            size_t q = p + 2;
            char sign = 0;
            if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) sign = src_[q++];
            skip_spaces(q);
            if (!starts_with(q, "endraw")) continue;
            q += 6;
            skip_spaces(q);
            size_t end;
            if (starts_with(q, "+%}")) {
                end = q + 3;
            } else if (starts_with(q, "-%}")) {
                end = q + 3;
                skip_spaces(end);
            } else if (starts_with(q, "%}")) {
                end = q + 2;
                if (end < src_.size() && src_[end] == '\n') ++end;
            } else {
                continue;
            }
            emit_data(strip_before(src_.substr(body, p - body), sign, false), body);
            finish_tag(end);
            return;
        }
        fail(tag, "missing end of raw directive");
    }

    void finish_tag(size_t end) {
        line_starting_ = end > 0 && src_[end - 1] == '\n';
        pos_ = end;
    }

    void lex_inside(bool block, size_t tag, size_t p) {
        std::vector<char> brackets;
        while (true) {
            if (p >= src_.size()) fail(tag, block ? "unexpected end of template inside a '{%' tag"
                                                  : "unexpected end of template inside a '{{' tag");
            if (brackets.empty()) {
                if (block) {
                    if (starts_with(p, "+%}")) {
                        emit(TokenKind::block_end, {}, p);
                        finish_tag(p + 3);
                        return;
                    }
                    if (starts_with(p, "-%}")) {
                        emit(TokenKind::block_end, {}, p);
                        size_t e = p + 3;
                        skip_spaces(e);
                        finish_tag(e);
                        return;
                    }
                    if (starts_with(p, "%}")) {
                        emit(TokenKind::block_end, {}, p);
                        size_t e = p + 2;
                        if (e < src_.size() && src_[e] == '\n') ++e;  // trim_blocks
                        finish_tag(e);
                        return;
                    }
                } else {
                    if (starts_with(p, "-}}")) {
                        emit(TokenKind::var_end, {}, p);
                        size_t e = p + 3;
                        skip_spaces(e);
                        finish_tag(e);
                        return;
                    }
                    if (starts_with(p, "}}")) {
                        emit(TokenKind::var_end, {}, p);
                        finish_tag(p + 2);
                        return;
                    }
                }
            }
            const char c = src_[p];
            if (is_space(c)) {
                ++p;
            } else if (is_digit(c)) {
                p = lex_number(p);
            } else if (is_name_start(c)) {
                const size_t start = p;
                while (p < src_.size() && is_name_char(src_[p])) ++p;
                emit(TokenKind::name, src_.substr(start, p - start), start);
            } else if (c == '\'' || c == '"') {
                p = lex_string(p);
            } else {
                p = lex_operator(p, brackets);
            }
        }
    }

    size_t lex_operator(size_t p, std::vector<char>& brackets) {
        static constexpr std::string_view two[] = {"//", "**", "==", "!=", ">=", "<="};
        for (auto op : two) {
            if (starts_with(p, op)) {
                emit(TokenKind::op, std::string(op), p);
                return p + 2;
            }
        }
        const char c = src_[p];
        if (std::string_view("+-/*%~[](){}><=.:|,;").find(c) == std::string_view::npos) {
            if (static_cast<unsigned char>(c) >= 0x80) fail(p, "unexpected character in expression (only ASCII names are supported)");
            fail(p, std::string("unexpected character '") + c + "'");
        }
        if (c == '(' || c == '[' || c == '{') {
            brackets.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
        } else if (c == ')' || c == ']' || c == '}') {
            if (brackets.empty()) fail(p, std::string("unexpected '") + c + "'");
            if (brackets.back() != c) fail(p, std::string("unexpected '") + c + "', expected '" + brackets.back() + "'");
            brackets.pop_back();
        }
        emit(TokenKind::op, std::string(1, c), p);
        return p + 1;
    }

    // Digits with optional single underscores between them, from p; returns the end.
    size_t digits_end(size_t p, bool (*digit)(char)) const {
        if (p >= src_.size() || !digit(src_[p])) return p;
        ++p;
        while (p < src_.size()) {
            if (digit(src_[p])) ++p;
            else if (src_[p] == '_' && p + 1 < src_.size() && digit(src_[p + 1])) p += 2;
            else break;
        }
        return p;
    }

    size_t lex_number(size_t start) {
        auto dec = [](char c) { return is_digit(c); };
        // Float: digits, then a fraction and/or an exponent (a lone "1." is an integer and a dot).
        const bool after_dot = start > 0 && src_[start - 1] == '.';
        size_t p = digits_end(start, dec);
        size_t q = p;
        bool is_float = false;
        if (!after_dot) {
            if (q + 1 < src_.size() && src_[q] == '.' && is_digit(src_[q + 1])) {
                q = digits_end(q + 1, dec);
                is_float = true;
            }
            if (q < src_.size() && (src_[q] == 'e' || src_[q] == 'E')) {
                size_t e = q + 1;
                if (e < src_.size() && (src_[e] == '+' || src_[e] == '-')) ++e;
                const size_t e_end = digits_end(e, dec);
                if (e_end > e) {
                    q = e_end;
                    is_float = true;
                }
            }
        }
        if (is_float) {
            std::string digits;
            for (size_t i = start; i < q; ++i)
                if (src_[i] != '_') digits += src_[i];
            Token t;
            t.kind = TokenKind::floating;
            t.float_value = std::strtod(digits.c_str(), nullptr);
            t.text = digits;
            t.pos = at(start);
            out_.push_back(std::move(t));
            return q;
        }
        int base = 10;
        size_t body = start;
        if (src_[start] == '0' && start + 1 < src_.size()) {
            const char x = src_[start + 1];
            if (x == 'x' || x == 'X') base = 16;
            else if (x == 'o' || x == 'O') base = 8;
            else if (x == 'b' || x == 'B') base = 2;
        }
        if (base != 10) {
            body = start + 2;
            if (body < src_.size() && src_[body] == '_') ++body;
            auto digit = base == 16 ? +[](char c) { return is_hex(c); }
                       : base == 8 ? +[](char c) { return c >= '0' && c <= '7'; }
                                   : +[](char c) { return c == '0' || c == '1'; };
            p = digits_end(body, digit);
            if (p == body) fail(start, "invalid integer literal");
        } else if (src_[start] == '0') {
            // "0", "00", "0_0": a leading zero allows only more zeros.
            p = start + 1;
            while (p < src_.size() && (src_[p] == '0' || (src_[p] == '_' && p + 1 < src_.size() && src_[p + 1] == '0'))) ++p;
        }
        std::string digits;
        for (size_t i = body; i < p; ++i)
            if (src_[i] != '_') digits += src_[i];
        errno = 0;
        const long long v = std::strtoll(digits.c_str(), nullptr, base);
        if (errno == ERANGE) fail(start, "integer literal too large");
        Token t;
        t.kind = TokenKind::integer;
        t.int_value = v;
        t.text = src_.substr(start, p - start);
        t.pos = at(start);
        out_.push_back(std::move(t));
        return p;
    }

    size_t lex_string(size_t start) {
        const char quote = src_[start];
        std::string value;
        size_t p = start + 1;
        while (true) {
            if (p >= src_.size()) fail(start, "unterminated string literal");
            const char c = src_[p];
            if (c == quote) break;
            if (c != '\\') {
                value += c;
                ++p;
                continue;
            }
            if (p + 1 >= src_.size()) fail(start, "unterminated string literal");
            p = decode_escape(p, value);
        }
        Token t;
        t.kind = TokenKind::string;
        t.text = std::move(value);
        t.pos = at(start);
        out_.push_back(std::move(t));
        return p + 1;
    }

    // Python's unicode-escape rules for the escape at src_[p] == '\\'; returns the next offset.
    size_t decode_escape(size_t p, std::string& value) const {
        const char e = src_[p + 1];
        auto hex_escape = [&](size_t n) {
            if (p + 2 + n > src_.size()) fail(p, "truncated \\x, \\u or \\U escape");
            uint32_t cp = 0;
            for (size_t i = 0; i < n; ++i) {
                const char h = src_[p + 2 + i];
                if (!is_hex(h)) fail(p, "truncated \\x, \\u or \\U escape");
                cp = cp * 16 + static_cast<uint32_t>(is_digit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
            }
            if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) fail(p, "escape is not a valid character");
            append_utf8(value, cp);
            return p + 2 + n;
        };
        switch (e) {
            case '\n': return p + 2;  // line continuation
            case '\\': value += '\\'; return p + 2;
            case '\'': value += '\''; return p + 2;
            case '"': value += '"'; return p + 2;
            case 'a': value += '\a'; return p + 2;
            case 'b': value += '\b'; return p + 2;
            case 'f': value += '\f'; return p + 2;
            case 'n': value += '\n'; return p + 2;
            case 'r': value += '\r'; return p + 2;
            case 't': value += '\t'; return p + 2;
            case 'v': value += '\v'; return p + 2;
            case 'x': return hex_escape(2);
            case 'u': return hex_escape(4);
            case 'U': return hex_escape(8);
            case 'N': fail(p, "\\N{...} escapes are not supported");
            default: break;
        }
        if (e >= '0' && e <= '7') {
            uint32_t cp = 0;
            size_t q = p + 1;
            for (int i = 0; i < 3 && q < src_.size() && src_[q] >= '0' && src_[q] <= '7'; ++i, ++q)
                cp = cp * 8 + static_cast<uint32_t>(src_[q] - '0');
            append_utf8(value, cp);
            return q;
        }
        value += '\\';  // unknown escapes keep their backslash
        return p + 1;
    }

    std::string src_;
    std::vector<size_t> line_starts_;
    std::vector<Token> out_;
    size_t pos_ = 0;
    bool line_starting_ = true;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) {
    if (!is_valid_utf8(source)) throw Error(ErrorKind::syntax, {1, 1}, "template is not valid UTF-8");
    return Lexer(source).run();
}

}  // namespace strata::jinja
