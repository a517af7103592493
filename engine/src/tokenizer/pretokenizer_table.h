// The data behind tokenizer/pretokenizer.h: one entry per pre-tokenizer, its names and patterns.
#pragma once

#include <string_view>
#include <vector>

namespace strata::tokenizer {

struct PreTokenizerSpec {
    std::vector<std::string_view> names;     // tokenizer.ggml.pre values; the first is canonical
    std::vector<std::string_view> patterns;  // split regexes, applied in turn (Isolated)
    bool ignore_merges = false;              // see PreTokenizer::ignore_merges
    bool add_bos = false;                    // add_bos_token when the file leaves it out
};

// Every entry, in a fixed order (static storage; immutable).
const std::vector<PreTokenizerSpec>& pre_tokenizer_specs();

}  // namespace strata::tokenizer
