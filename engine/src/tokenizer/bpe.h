// Byte-level BPE (GPT-2 style): the text is pre-tokenized, each piece's bytes are mapped to
// printable code points (GPT-2's bytes→unicode table), and adjacent symbols are merged by merge
// rank (lowest first, ties leftmost) with a priority queue over adjacent pairs — O(n log n) in
// the piece length, so a 100 KB piece without spaces costs what 100 KB of words do.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "strata/status.h"
#include "tokenizer/piece_cache.h"
#include "tokenizer/pretokenizer.h"

namespace strata {
struct VocabData;
}

namespace strata::tokenizer {

// GPT-2's byte ↔ code point table: bytes 0x21..0x7E, 0xA1..0xAC and 0xAE..0xFF stand for
// themselves; the other 68 bytes map, in byte order, to U+0100 upwards (space → U+0120 "Ġ").
uint32_t byte_to_codepoint(uint8_t b);
int codepoint_to_byte(uint32_t cp);  // -1 for code points outside the table
// The UTF-8 of byte_to_codepoint(b) for each byte, precomputed.
const std::array<std::string, 256>& byte_symbols();

class BpeEncoder {
public:
    // `data` must outlive the encoder (lookups hold views of its token strings); `pre` comes from
    // the registry (static storage). Fails on a merge that is not two space-separated pieces
    // (naming tokenizer.ggml.merges[i]).
    static Result<BpeEncoder> build(const VocabData& data, const PreTokenizer& pre);

    // Pre-tokenizes `text` and appends the ids of every piece. `cache` (optional) carries pieces
    // already merged across the calls of one Vocab::encode; `out` must be the same vector.
    void encode(std::string_view text, std::vector<int32_t>& out, PieceCache* cache = nullptr) const;

    const PreTokenizer& pre_tokenizer() const { return *pre_; }
    size_t n_merges() const { return merges_.size(); }  // merges usable with this vocab

private:
    struct Merge {
        int32_t rank;
        int32_t result;  // id of the merged piece
    };
    struct Scratch;
    void encode_word(std::string_view word, std::vector<int32_t>& out, Scratch& scratch) const;
    static uint64_t pair_key(int32_t a, int32_t b) {
        return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
    }

    const PreTokenizer* pre_ = nullptr;
    bool ignore_merges_ = false;  // a piece that is itself a token is emitted whole
    std::unordered_map<std::string_view, int32_t> pieces_;
    std::unordered_map<uint64_t, Merge> merges_;
    std::array<int32_t, 256> byte_to_id_{};  // token of each byte's single mapped character
    int32_t unk_id_ = -1;
};

}  // namespace strata::tokenizer
