// SpecialTokenIndex: finds the longest of a set of token spellings (control or user-defined
// tokens) starting at a position of a text — the matching behind Vocab::encode's leftmost-longest
// split of added tokens out of the text.
//
// Candidates are bucketed by first byte, longest first; a 256×256 table of which second bytes
// occur lets most positions be rejected with one lookup, which matters for vocabularies with
// thousands of "<...>" tokens (Gemma's <unusedN>, Llama 3's reserved tokens) over code and HTML.
// Immutable after finish(); lookups are const and thread-safe.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace strata::tokenizer {

class SpecialTokenIndex {
public:
    // `text` must be non-empty and outlive the index (it views the vocabulary's strings).
    void add(int32_t id, std::string_view text);
    void finish();  // after the last add()
    bool empty() const { return n_ == 0; }

    // The id and length of the longest token spelled at text[pos..] (pos < text.size()), or
    // {-1, 0}. Among equally long spellings the first added wins.
    std::pair<int32_t, size_t> longest_at(std::string_view text, size_t pos) const;

private:
    struct Entry {
        int32_t id;
        std::string_view text;
    };
    std::array<std::vector<Entry>, 256> by_first_byte_;
    std::array<std::bitset<256>, 256> second_bytes_;  // [first][second]: some token starts so
    std::bitset<256> single_byte_;                     // a one-byte token exists
    size_t n_ = 0;
};

}  // namespace strata::tokenizer
