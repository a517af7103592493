#include "runtime/json_schema_prefix.h"

#include <algorithm>

namespace strata {

namespace {

constexpr std::string_view kLiterals[] = {"true", "false", "null"};

bool is_ws(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
bool is_hex(uint8_t c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

}  // namespace

bool JsonSchemaPrefix::feed(std::string_view bytes) {
    JsonSchemaPrefix next = *this;
    for (char ch : bytes)
        if (!next.step(static_cast<uint8_t>(ch))) return false;
    *this = std::move(next);
    return true;
}

bool JsonSchemaPrefix::accepts(std::string_view bytes) const {
    JsonSchemaPrefix copy = *this;
    return copy.feed(bytes);
}

bool JsonSchemaPrefix::whitespace(uint8_t c) {
    if (ws_run_ >= (mode_ == Mode::start ? kMaxLeadingWhitespace : kMaxWhitespace)) return false;
    if (c == '\n' && nl_run_ >= kMaxNewlines) return false;
    ++ws_run_;
    if (c == '\n') ++nl_run_;
    return true;
}

void JsonSchemaPrefix::end_value() { mode_ = depth_ == 0 ? Mode::done : Mode::after_value; }

bool JsonSchemaPrefix::key_available() const {
    const Frame& f = stack_[depth_ - 1];
    const SchemaNode& n = node(f.node);
    if (n.additional != JsonSchema::kNoAdditional) return true;
    for (size_t i = 0; i < n.keys.size(); ++i)
        if (!(f.seen & (uint64_t{1} << i))) return true;
    return false;
}

bool JsonSchemaPrefix::object_may_close() const {
    const Frame& f = stack_[depth_ - 1];
    return (node(f.node).required & ~f.seen) == 0;
}

bool JsonSchemaPrefix::close(uint8_t c) {
    if (depth_ == 0 || stack_[depth_ - 1].object != (c == '}')) return false;
    const Frame& f = stack_[depth_ - 1];
    if (f.object ? !object_may_close() : f.count < node(f.node).min_items) return false;
    --depth_;
    end_value();
    return true;
}

bool JsonSchemaPrefix::start_value(uint8_t c, int32_t index) {
    const SchemaNode& n = node(index);
    if (depth_ > 0 && !stack_[depth_ - 1].object) {  // an array's next item
        Frame& f = stack_[depth_ - 1];
        if (f.count >= node(f.node).max_items) return false;
        ++f.count;
    }
    if (!n.alternatives.empty()) {  // enum / const: one of the texts, byte for byte
        text_.clear();
        alt_node_ = index;
        mode_ = Mode::alternative;
        return step(c);
    }
    if (c == '{' || c == '[') {
        if (!(n.types & (c == '{' ? kJsonObject : kJsonArray)) || depth_ >= JsonSchema::kMaxDepth) return false;
        stack_[depth_++] = Frame{index, c == '{', 0, 0};
        mode_ = c == '{' ? Mode::object_first : Mode::array_first;
        return true;
    }
    if (c == '"') {
        if (!(n.types & kJsonString)) return false;
        mode_ = Mode::string;
        key_ = false;
        return true;
    }
    if (c == '-' || is_digit(c)) {
        if (!(n.types & (kJsonNumber | kJsonInteger))) return false;
        integer_only_ = !(n.types & kJsonNumber);
        mode_ = Mode::number;
        num_ = c == '-' ? Num::minus : c == '0' ? Num::zero : Num::integer;
        return true;
    }
    for (uint8_t i = 0; i < 3; ++i) {
        if (c != static_cast<uint8_t>(kLiterals[i][0])) continue;
        if (!(n.types & (i == 2 ? kJsonNull : kJsonBoolean))) return false;
        mode_ = Mode::literal;
        lit_ = i;
        lit_pos_ = 1;
        return true;
    }
    return false;
}

bool JsonSchemaPrefix::key_byte(uint8_t c) {
    if (text_.size() >= kMaxKeyBytes) key_long_ = true;
    else text_.push_back(static_cast<char>(c));
    const Frame& f = stack_[depth_ - 1];
    const SchemaNode& n = node(f.node);
    if (n.additional != JsonSchema::kNoAdditional) return true;  // any new key may follow
    if (key_long_) return false;
    for (size_t i = 0; i < n.keys.size(); ++i)
        if (!(f.seen & (uint64_t{1} << i)) && starts_with(n.keys[i], text_)) return true;
    return false;
}

bool JsonSchemaPrefix::key_end() {
    Frame& f = stack_[depth_ - 1];
    const SchemaNode& n = node(f.node);
    for (size_t i = 0; i < n.keys.size() && !key_long_; ++i) {
        if (n.keys[i] != text_) continue;
        const uint64_t bit = uint64_t{1} << i;
        if (f.seen & bit) return false;  // no key twice
        f.seen |= bit;
        value_node_ = n.key_nodes[i];
        mode_ = Mode::colon;
        return true;
    }
    if (n.additional == JsonSchema::kNoAdditional) return false;
    value_node_ = n.additional;
    mode_ = Mode::colon;
    return true;
}

bool JsonSchemaPrefix::string_byte(uint8_t c) {
    auto accept = [&] { return key_ ? key_byte(c) : true; };
    switch (mode_) {
        case Mode::string:
            if (utf8_left_ > 0) {  // inside a multi-byte character
                if (c < utf8_lo_ || c > utf8_hi_) return false;
                --utf8_left_;
                utf8_lo_ = 0x80;
                utf8_hi_ = 0xBF;
                return accept();
            }
            if (c >= 0x80) {  // a lead byte: C2..DF, E0..EF, F0..F4
                if (c < 0xC2 || c > 0xF4) return false;
                utf8_left_ = c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
                utf8_lo_ = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
                utf8_hi_ = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
                return accept();
            }
            if (c == '"') {
                if (key_) return key_end();
                end_value();
                return true;
            }
            if (c == '\\') {
                mode_ = Mode::escape;
                return accept();
            }
            return c >= 0x20 && accept();  // control characters must be escaped
        case Mode::escape:
            if (c == 'u') {
                mode_ = Mode::unicode;
                hex_left_ = 4;
                return accept();
            }
            if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't') {
                mode_ = Mode::string;
                return accept();
            }
            return false;
        case Mode::unicode:
            if (!is_hex(c)) return false;
            if (--hex_left_ == 0) mode_ = Mode::string;
            return accept();
        default: return false;
    }
}

bool JsonSchemaPrefix::step(uint8_t c) {
    if (mode_ != Mode::string && mode_ != Mode::escape && mode_ != Mode::unicode && mode_ != Mode::number &&
        mode_ != Mode::literal && mode_ != Mode::alternative) {
        if (is_ws(c)) return whitespace(c);
        ws_run_ = 0;
        nl_run_ = 0;
    }
    switch (mode_) {
        case Mode::start:
            if (c != '{') return false;
            return start_value(c, schema_->root);
        case Mode::value: return start_value(c, value_node_);
        case Mode::array_first:
            if (c == ']') return close(c);
            return start_value(c, node(stack_[depth_ - 1].node).items);
        case Mode::object_first:
            if (c == '}') return close(c);
            [[fallthrough]];
        case Mode::key:
            if (c != '"' || !key_available()) return false;
            mode_ = Mode::string;
            key_ = true;
            key_long_ = false;
            text_.clear();
            return true;
        case Mode::colon:
            if (c != ':') return false;
            mode_ = Mode::value;
            return true;
        case Mode::after_value: {
            Frame& f = stack_[depth_ - 1];
            if (c == ',') {
                if (f.object) {
                    if (!key_available()) return false;
                    mode_ = Mode::key;
                } else {
                    if (f.count >= node(f.node).max_items) return false;
                    mode_ = Mode::value;
                    value_node_ = node(f.node).items;
                }
                return true;
            }
            return (c == '}' || c == ']') && close(c);
        }
        case Mode::string:
        case Mode::escape:
        case Mode::unicode: return string_byte(c);
        case Mode::number: {
            const bool digit = is_digit(c);
            const bool fraction_or_exponent = c == '.' || c == 'e' || c == 'E';
            if (integer_only_ && fraction_or_exponent) {
                if (num_ == Num::minus) return false;
                end_value();  // an integer ended; this byte belongs to what follows (and fails there)
                return step(c);
            }
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
            end_value();  // the number ended in a complete form; this byte belongs to what follows
            return step(c);
        }
        case Mode::literal: {
            const std::string_view lit = kLiterals[lit_];
            if (c != static_cast<uint8_t>(lit[lit_pos_])) return false;
            if (++lit_pos_ == lit.size()) end_value();
            return true;
        }
        case Mode::alternative: {
            const auto& alts = node(alt_node_).alternatives;
            std::string next = text_;
            next.push_back(static_cast<char>(c));
            const bool continues = std::any_of(alts.begin(), alts.end(), [&](const std::string& a) { return starts_with(a, next); });
            if (continues) {
                text_ = std::move(next);
                // Whole, and no longer alternative goes on from here (a number such as 1 may
                // still become 12: the next byte decides, below).
                const bool whole = std::find(alts.begin(), alts.end(), text_) != alts.end();
                const bool longer = std::any_of(alts.begin(), alts.end(), [&](const std::string& a) {
                    return a.size() > text_.size() && starts_with(a, text_);
                });
                if (whole && !longer) end_value();
                return true;
            }
            if (std::find(alts.begin(), alts.end(), text_) == alts.end()) return false;
            end_value();
            return step(c);
        }
        case Mode::done: return false;  // only whitespace, handled above
    }
    return false;
}

}  // namespace strata
