// JsonSchemaPrefix: recognises, byte by byte, the texts that can still become one JSON object
// that a compiled schema (strata/json_schema.h) accepts. Constrained decoding offers each
// candidate token's bytes to a copy and keeps only tokens it accepts, so the output is always
// such a prefix, and complete() says when the value is whole.
//
// Never a dead end: every accepted prefix can be completed. A key is accepted byte by byte only
// while it can still become a property not yet given (or any new key where the schema allows
// others); ',' only while another property or item may follow; '}' and ']' only once the
// required properties and minItems are there. Nesting is limited to kMaxDepth, whitespace runs
// outside strings to kMaxWhitespace bytes with at most kMaxNewlines newlines (kMaxLeadingWhitespace
// before the object), so a model cannot stall in endless indentation; strings must be
// well-formed UTF-8 (a character may arrive over several tokens). JSON mode is this machine over
// {"type": "object"} (runtime/json_prefix.h). Copying is cheap (a few hundred bytes); the schema must outlive it. Not
// thread-safe; one per generation.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/json_schema_nodes.h"

namespace strata {

class JsonSchemaPrefix {
public:
    static constexpr int kMaxDepth = JsonSchema::kMaxDepth;
    static constexpr int kMaxWhitespace = 24;       // bytes in a run between tokens (a newline and indentation)
    static constexpr int kMaxLeadingWhitespace = 2;  // before the top-level '{'
    static constexpr int kMaxNewlines = 2;           // in one run (pretty-printing needs one)
    static constexpr size_t kMaxKeyBytes = 256;  // longer keys can only be additional ones

    explicit JsonSchemaPrefix(const JsonSchema& schema) : schema_(&schema) {}

    // Feeds bytes; on a byte the schema's values cannot continue with, returns false and leaves
    // the state as it was before the call.
    bool feed(std::string_view bytes);
    bool accepts(std::string_view bytes) const;
    bool complete() const { return mode_ == Mode::done; }
    // Nothing but whitespace fed yet.
    bool empty() const { return mode_ == Mode::start; }

private:
    enum class Mode : uint8_t {
        start, value, array_first, object_first, key, colon, after_value,
        string, escape, unicode, number, literal, alternative, done,
    };
    enum class Num : uint8_t { minus, zero, integer, dot, fraction, exp_mark, exp_sign, exponent };
    struct Frame {
        int32_t node = 0;
        bool object = false;
        uint64_t seen = 0;   // objects: properties given (bit per property index)
        int64_t count = 0;   // arrays: items started
    };

    const SchemaNode& node(int32_t i) const { return schema_->nodes[static_cast<size_t>(i)]; }
    bool step(uint8_t c);
    bool start_value(uint8_t c, int32_t node_index);
    bool close(uint8_t c);
    void end_value();
    bool whitespace(uint8_t c);
    bool key_available() const;       // the innermost object may take another key
    bool object_may_close() const;    // its required properties are all there
    bool key_byte(uint8_t c);         // a byte of a key (after string validation)
    bool key_end();                   // the key's closing quote
    bool string_byte(uint8_t c);      // UTF-8 and escapes shared by keys and string values

    const JsonSchema* schema_;
    std::array<Frame, JsonSchema::kMaxDepth> stack_{};
    uint8_t depth_ = 0;
    Mode mode_ = Mode::start;
    Num num_ = Num::integer;
    bool integer_only_ = false;
    bool key_ = false;
    int32_t value_node_ = 0;   // the node of the value after the current key's colon
    int32_t alt_node_ = 0;     // alternative mode: the node whose alternatives are matched
    std::string text_;         // the key so far (up to kMaxKeyBytes), or the alternative so far
    bool key_long_ = false;    // the key outgrew text_: only an additional key
    uint8_t hex_left_ = 0;
    uint8_t lit_ = 0, lit_pos_ = 0;
    uint8_t ws_run_ = 0, nl_run_ = 0;
    uint8_t utf8_left_ = 0, utf8_lo_ = 0x80, utf8_hi_ = 0xBF;
};

}  // namespace strata
