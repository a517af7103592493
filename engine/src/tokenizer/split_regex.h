// SplitRegex: one pre-tokenizer split pattern, compiled once with PCRE2 and then shared.
//
// Hugging Face's `Split` pre-tokenizer with behavior "Isolated": every match becomes a piece and
// so does every stretch of text between matches, so the pieces tile the input. The pattern is
// compiled with PCRE2_UTF | PCRE2_UCP (so \s, \p{L}, \p{N}, (?i:...) follow Unicode, as in the
// Rust/Oniguruma engines tokenizers use) and PCRE2_MATCH_INVALID_UTF: ill-formed UTF-8 never
// matches, so invalid bytes land in the between-matches pieces instead of failing the call.
// JIT-compiled where PCRE2 supports it.
//
// The compiled code is immutable after create(); split() keeps its match data and JIT stack per
// thread, so one SplitRegex may be used from any number of threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "strata/status.h"

namespace strata::tokenizer {

class SplitRegex {
public:
    // Fails (invalid_argument, naming the pattern and PCRE2's message and offset) on a pattern
    // PCRE2 cannot compile.
    static Result<SplitRegex> create(std::string pattern);

    // Appends the pieces of `text` (views into it, none empty, concatenating back to `text`).
    // A match the engine cannot finish (a resource limit) leaves the rest of `text` as one piece.
    void split(std::string_view text, std::vector<std::string_view>& out) const;

    const std::string& pattern() const { return pattern_; }
    bool jit() const;  // whether the JIT compiled this pattern (else the interpreter runs it)

private:
    struct Code;
    std::string pattern_;
    std::shared_ptr<const Code> code_;
};

}  // namespace strata::tokenizer
