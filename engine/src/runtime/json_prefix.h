// JsonPrefix: recognises, byte by byte, the texts that can still become one JSON object
// (RFC 8259, the top level an object, whitespace around it allowed). Generation in JSON mode
// offers each candidate token's bytes to a copy and keeps only tokens it accepts, so the output
// is always a prefix of a valid object, and complete() says when the object has closed.
//
// The state is a few dozen bytes, trivially copyable (trying a token copies it). Nesting is
// limited to kMaxDepth and whitespace runs outside strings to kMaxWhitespace bytes with at most
// kMaxNewlines newlines (two bytes before the object), so a model cannot stall in endless
// indentation or blank lines. Strings must be well-formed
// UTF-8 (a character may arrive over several tokens, as byte-fallback tokens spell it). Not
// thread-safe; one per generation.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace strata {

class JsonPrefix {
public:
    static constexpr int kMaxDepth = 32;
    static constexpr int kMaxWhitespace = 24;       // bytes in a run between tokens (a newline and indentation)
    static constexpr int kMaxLeadingWhitespace = 2;  // before the top-level '{'
    static constexpr int kMaxNewlines = 2;           // in one run (pretty-printing needs one)


    // Feeds bytes; on a byte that no JSON object could continue with, returns false and leaves
    // the state as it was before the call.
    bool feed(std::string_view bytes);
    // Whether feed(bytes) would succeed (the state is not changed).
    bool accepts(std::string_view bytes) const;
    // The top-level object has closed (only whitespace may follow).
    bool complete() const { return mode_ == Mode::done; }
    // Nothing but whitespace fed yet.
    bool empty() const { return mode_ == Mode::start; }

private:
    enum class Mode : uint8_t {
        start,        // before the top-level '{'
        value,        // a value is expected (after ':' or ',' in an array)
        array_first,  // after '[': a value or ']'
        object_first, // after '{': a key or '}'
        key,          // after ',' in an object: a key
        colon,        // after a key
        after_value,  // ',' or the closing bracket
        string,       // inside a string (key_ says which kind)
        escape,       // after '\' in a string
        unicode,      // in \uXXXX, hex_left digits to go
        number,       // in a number (num_ says where)
        literal,      // in true / false / null (lit_, lit_pos_)
        done,         // the object has closed
    };
    enum class Num : uint8_t { minus, zero, integer, dot, fraction, exp_mark, exp_sign, exponent };

    bool step(uint8_t c);
    bool start_value(uint8_t c);
    bool close(uint8_t c);      // '}' or ']' matching the innermost container
    void end_value();           // a value ended: after_value, or done at the top level
    bool whitespace(uint8_t c); // counts a whitespace byte outside strings; false past the cap

    std::array<uint8_t, kMaxDepth> stack_{};  // '{' or '[' per open container
    uint8_t depth_ = 0;
    Mode mode_ = Mode::start;
    Num num_ = Num::integer;
    bool key_ = false;
    uint8_t hex_left_ = 0;
    uint8_t lit_ = 0;      // which literal: 0 true, 1 false, 2 null
    uint8_t lit_pos_ = 0;  // bytes of it matched
    uint8_t ws_run_ = 0;
    uint8_t nl_run_ = 0;  // newlines in the current whitespace run
    uint8_t utf8_left_ = 0;                    // continuation bytes the current character still needs
    uint8_t utf8_lo_ = 0x80, utf8_hi_ = 0xBF;  // range of the next one (narrower after E0, ED, F0, F4)
};

}  // namespace strata
