// BPE pre-tokenizers: split text into the pieces that BPE merges never cross.
//
// A pre-tokenizer is data (pretokenizer_table.cpp): the ordered list of split patterns a
// Hugging Face tokenizer.json applies (a `Sequence` of `Split` regexes, `Digits`, and the GPT-2
// regex of a `ByteLevel` step with use_regex), each run on every piece the previous one left,
// keeping matches and the text between them as pieces ("Isolated"). The patterns run on PCRE2
// (tokenizer/split_regex.h), so Unicode classes are PCRE2's. Names are the tokenizer.ggml.pre
// values llama.cpp's converter writes; unknown names are refused by whoever loads the vocab.
//
// The registry is built lazily and is immutable afterwards; a PreTokenizer is shared read-only
// between threads (split() is const and thread-safe).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/split_regex.h"

namespace strata::tokenizer {

class PreTokenizer {
public:
    PreTokenizer(std::string name, std::vector<SplitRegex> patterns, bool ignore_merges, bool add_bos_by_default)
        : name_(std::move(name)), patterns_(std::move(patterns)), ignore_merges_(ignore_merges),
          add_bos_by_default_(add_bos_by_default) {}

    // The canonical tokenizer.ggml.pre name ("llama-bpe" for "llama3" too).
    const std::string& name() const { return name_; }
    const std::vector<SplitRegex>& patterns() const { return patterns_; }
    // BPE: a piece that is itself a token is emitted whole, merges or not (llama.cpp keys this on
    // the pre-tokenizer name, since GGUF has no key for tokenizers' `ignore_merges`).
    bool ignore_merges() const { return ignore_merges_; }
    // What tokenizer.ggml.add_bos_token means when a file leaves it out (llama.cpp's defaults).
    bool add_bos_by_default() const { return add_bos_by_default_; }

    // The pieces, in order; views into `text` that concatenate back to it exactly.
    std::vector<std::string_view> split(std::string_view text) const;

private:
    std::string name_;
    std::vector<SplitRegex> patterns_;
    bool ignore_merges_;
    bool add_bos_by_default_;
};

// tokenizer.ggml.pre value → pre-tokenizer; nullptr for a name Strata does not know. "" (a file
// without the key) is llama.cpp's "default".
const PreTokenizer* pre_tokenizer_from_name(std::string_view name);

// Every accepted name (aliases included), comma-separated, for messages.
const std::string& supported_pre_tokenizer_names();

// The canonical name whose pattern list is exactly `patterns` (as a tokenizer.json spells them,
// see pretokenizer_table.h), or "" when none is. For converters that must name a tokenizer.json's
// pre-tokenizer.
std::string pre_tokenizer_name_for_patterns(const std::vector<std::string>& patterns);

// Shorthand for pre.split(text).
inline std::vector<std::string_view> pre_tokenize(const PreTokenizer& pre, std::string_view text) {
    return pre.split(text);
}

}  // namespace strata::tokenizer
