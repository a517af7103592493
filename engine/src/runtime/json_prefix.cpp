#include "runtime/json_prefix.h"

namespace strata {

namespace {

constexpr std::string_view kLiterals[] = {"true", "false", "null"};

bool is_ws(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
bool is_hex(uint8_t c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

}  // namespace

bool JsonPrefix::feed(std::string_view bytes) {
    JsonPrefix next = *this;
    for (char ch : bytes)
        if (!next.step(static_cast<uint8_t>(ch))) return false;
    *this = next;
    return true;
}

bool JsonPrefix::accepts(std::string_view bytes) const {
    JsonPrefix copy = *this;
    return copy.feed(bytes);
}

bool JsonPrefix::whitespace(uint8_t c) {
    if (ws_run_ >= (mode_ == Mode::start ? kMaxLeadingWhitespace : kMaxWhitespace)) return false;
    if (c == '\n' && nl_run_ >= kMaxNewlines) return false;
    ++ws_run_;
    if (c == '\n') ++nl_run_;
    return true;
}

void JsonPrefix::end_value() { mode_ = depth_ == 0 ? Mode::done : Mode::after_value; }

bool JsonPrefix::close(uint8_t c) {
    if (depth_ == 0 || stack_[depth_ - 1] != (c == '}' ? '{' : '[')) return false;
    --depth_;
    end_value();
    return true;
}

bool JsonPrefix::start_value(uint8_t c) {
    if (c == '{' || c == '[') {
        if (depth_ >= kMaxDepth) return false;
        stack_[depth_++] = c;
        mode_ = c == '{' ? Mode::object_first : Mode::array_first;
        return true;
    }
    if (c == '"') {
        mode_ = Mode::string;
        key_ = false;
        return true;
    }
    if (c == '-' || is_digit(c)) {
        mode_ = Mode::number;
        num_ = c == '-' ? Num::minus : c == '0' ? Num::zero : Num::integer;
        return true;
    }
    for (uint8_t i = 0; i < 3; ++i)
        if (c == static_cast<uint8_t>(kLiterals[i][0])) {
            mode_ = Mode::literal;
            lit_ = i;
            lit_pos_ = 1;
            return true;
        }
    return false;
}

bool JsonPrefix::step(uint8_t c) {
    if (mode_ != Mode::string && mode_ != Mode::escape && mode_ != Mode::unicode && mode_ != Mode::number &&
        mode_ != Mode::literal) {
        if (is_ws(c)) return whitespace(c);
        ws_run_ = 0;
        nl_run_ = 0;
    }
    switch (mode_) {
        case Mode::start:
            if (c != '{') return false;
            stack_[depth_++] = c;
            mode_ = Mode::object_first;
            return true;
        case Mode::value: return start_value(c);
        case Mode::array_first: return c == ']' ? close(c) : start_value(c);
        case Mode::object_first:
            if (c == '}') return close(c);
            [[fallthrough]];
        case Mode::key:
            if (c != '"') return false;
            mode_ = Mode::string;
            key_ = true;
            return true;
        case Mode::colon:
            if (c != ':') return false;
            mode_ = Mode::value;
            return true;
        case Mode::after_value:
            if (c == ',') {
                mode_ = stack_[depth_ - 1] == '{' ? Mode::key : Mode::value;
                return true;
            }
            return (c == '}' || c == ']') && close(c);
        case Mode::string:
            if (utf8_left_ > 0) {  // inside a multi-byte character
                if (c < utf8_lo_ || c > utf8_hi_) return false;
                --utf8_left_;
                utf8_lo_ = 0x80;
                utf8_hi_ = 0xBF;
                return true;
            }
            if (c >= 0x80) {  // a lead byte: C2..DF, E0..EF, F0..F4 (no overlongs, surrogates or > U+10FFFF)
                if (c < 0xC2 || c > 0xF4) return false;
                utf8_left_ = c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
                utf8_lo_ = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
                utf8_hi_ = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
                return true;
            }
            if (c == '"') {
                if (key_) mode_ = Mode::colon;
                else end_value();
                return true;
            }
            if (c == '\\') {
                mode_ = Mode::escape;
                return true;
            }
            return c >= 0x20;  // control characters must be escaped
        case Mode::escape:
            if (c == 'u') {
                mode_ = Mode::unicode;
                hex_left_ = 4;
                return true;
            }
            if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't') {
                mode_ = Mode::string;
                return true;
            }
            return false;
        case Mode::unicode:
            if (!is_hex(c)) return false;
            if (--hex_left_ == 0) mode_ = Mode::string;
            return true;
        case Mode::number: {
            const bool digit = is_digit(c);
            switch (num_) {
                case Num::minus:
                    if (!digit) return false;
                    num_ = c == '0' ? Num::zero : Num::integer;
                    return true;
                case Num::zero:
                case Num::integer:
                    if (digit && num_ == Num::integer) return true;
                    if (c == '.') {
                        num_ = Num::dot;
                        return true;
                    }
                    if (c == 'e' || c == 'E') {
                        num_ = Num::exp_mark;
                        return true;
                    }
                    if (digit) return false;  // no leading zeros
                    break;
                case Num::dot:
                    if (!digit) return false;
                    num_ = Num::fraction;
                    return true;
                case Num::fraction:
                    if (digit) return true;
                    if (c == 'e' || c == 'E') {
                        num_ = Num::exp_mark;
                        return true;
                    }
                    break;
                case Num::exp_mark:
                    if (c == '+' || c == '-') {
                        num_ = Num::exp_sign;
                        return true;
                    }
                    [[fallthrough]];
                case Num::exp_sign:
                    if (!digit) return false;
                    num_ = Num::exponent;
                    return true;
                case Num::exponent:
                    if (digit) return true;
                    break;
            }
            // The number ended with a complete form; this byte belongs to what follows it.
            end_value();
            return step(c);
        }
        case Mode::literal: {
            const std::string_view lit = kLiterals[lit_];
            if (c != static_cast<uint8_t>(lit[lit_pos_])) return false;
            if (++lit_pos_ == lit.size()) end_value();
            return true;
        }
        case Mode::done: return false;  // only whitespace, handled above
    }
    return false;
}

}  // namespace strata
