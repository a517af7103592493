// SentencePiece-style tokenization of one piece of normalized text (spaces already "▁").
//
// The text is split into UTF-8 characters; then, repeatedly, the adjacent pair whose
// concatenation is a vocabulary piece with the highest score is merged (ties: leftmost), via a
// priority queue over adjacent pairs with lazy invalidation — O(n log n). Where the vocabulary
// allows it (no piece spans a word start) each word is merged on its own: same result, small
// queues. Final symbols that are not pieces fall back to their bytes' "<0xNN>" tokens, or to
// unk when some byte has none.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "strata/status.h"
#include "tokenizer/piece_cache.h"

namespace strata {
struct VocabData;
}

namespace strata::tokenizer {

class SpmEncoder {
public:
    // `data` must outlive the encoder (the lookup table holds views of its token strings).
    static Result<SpmEncoder> build(const VocabData& data);

    // `cache` (optional): as for BpeEncoder::encode — chunks already merged in this Vocab::encode.
    void encode(std::string_view normalized, std::vector<int32_t>& out, PieceCache* cache = nullptr) const;

    int32_t byte_token(uint8_t b) const { return byte_to_id_[b]; }  // -1 when absent

    // False when too many pieces hold "▁" after another character (then the text is merged
    // whole); with a few such pieces, words are merged one by one except where one is spelled.
    bool splits_at_words() const { return split_at_words_; }

private:
    struct Scratch;
    void encode_chunk(std::string_view chunk, std::vector<int32_t>& out, Scratch& scratch) const;

    struct Piece {
        int32_t id;
        float score;
    };
    std::unordered_map<std::string_view, Piece> pieces_;  // merge targets only
    std::array<int32_t, 256> byte_to_id_{};
    int32_t unk_id_ = -1;
    size_t max_piece_len_ = 0;     // bytes; longer pairs are not looked up
    bool split_at_words_ = true;
    // Pieces holding "▁" after another character, with the byte offset of that "▁".
    std::vector<std::pair<std::string_view, size_t>> crossing_;
};

// "<0xNN>" (upper- or lower-case hex) → NN; -1 for any other text.
int parse_byte_token(std::string_view text);

}  // namespace strata::tokenizer
