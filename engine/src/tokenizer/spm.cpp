#include "tokenizer/spm.h"

#include <algorithm>

#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace strata::tokenizer {

namespace {
constexpr std::string_view k_space = "\xE2\x96\x81";  // U+2581 "▁"

// Byte offsets of each "▁" in `piece` that follows a character other than "▁".
std::vector<size_t> inner_spaces(std::string_view piece) {
    std::vector<size_t> at;
    for (size_t p = piece.find(k_space, 1); p != std::string_view::npos; p = piece.find(k_space, p + 1)) {
        if (p < 3 || piece.compare(p - 3, 3, k_space) != 0) at.push_back(p);
    }
    return at;
}

// More pieces than this that span a word start (Gemma has one, ">▁</") and checking them at
// every "▁" costs more than merging whole runs of text.
constexpr size_t k_max_crossing_pieces = 64;
}  // namespace

int parse_byte_token(std::string_view text) {
    if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
    int value = 0;
    for (size_t i = 3; i < 5; ++i) {
        const char ch = text[i];
        int digit = -1;
        if (ch >= '0' && ch <= '9') digit = ch - '0';
        else if (ch >= 'A' && ch <= 'F') digit = ch - 'A' + 10;
        else if (ch >= 'a' && ch <= 'f') digit = ch - 'a' + 10;
        if (digit < 0) return -1;
        value = value * 16 + digit;
    }
    return value;
}

Result<SpmEncoder> SpmEncoder::build(const VocabData& data) {
    SpmEncoder enc;
    enc.byte_to_id_.fill(-1);
    enc.unk_id_ = data.unk_id;
    const size_t n = data.tokens.size();
    enc.pieces_.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        const TokenType type = data.types.empty() ? TokenType::normal : data.types[i];
        const std::string& text = data.tokens[i];
        const int32_t id = static_cast<int32_t>(i);
        // Byte tokens: by type; without types, by their "<0xNN>" spelling.
        if (type == TokenType::byte || (data.types.empty() && parse_byte_token(text) >= 0)) {
            const int b = parse_byte_token(text);
            if (b < 0) {
                return make_error(ErrorCode::corrupt, "tokenizer.ggml.tokens[" + std::to_string(i) +
                                  "] has type byte but its text '" + text + "' is not <0xNN>");
            }
            if (enc.byte_to_id_[b] < 0) enc.byte_to_id_[b] = id;
            continue;
        }
        // Only ordinary pieces are merge targets: control, user-defined, unknown and unused tokens
        // are never produced from plain text (specials come only from parse_special).
        if (type != TokenType::normal && type != TokenType::undefined) continue;
        if (text.empty()) continue;
        const float score = data.scores.empty() ? 0.0f : data.scores[i];
        enc.pieces_.try_emplace(std::string_view(text), Piece{id, score});  // first id wins
        enc.max_piece_len_ = std::max(enc.max_piece_len_, text.size());
        for (size_t at : inner_spaces(text)) enc.crossing_.push_back({std::string_view(text), at});
    }
    enc.split_at_words_ = enc.crossing_.size() <= k_max_crossing_pieces;
    return enc;
}

struct SpmEncoder::Scratch {
    struct Symbol {
        int32_t prev;
        int32_t next;   // -1 at the ends
        size_t start;   // byte offset in the chunk
        size_t len;     // bytes; 0 once merged into its left neighbour
    };
    struct Candidate {
        float score;
        int32_t left;
        int32_t right;
        size_t len;  // combined length when queued (stale if either side changed since)
    };
    struct Order {
        // The heap's top is the "largest": highest score, then the smallest left index.
        bool operator()(const Candidate& a, const Candidate& b) const {
            if (a.score != b.score) return a.score < b.score;
            return a.left > b.left;
        }
    };
    std::vector<Symbol> sym;
    std::vector<Candidate> heap;  // managed with std::push_heap / pop_heap
};

void SpmEncoder::encode(std::string_view text, std::vector<int32_t>& out, PieceCache* cache) const {
    if (text.empty()) return;
    Scratch scratch;
    if (!split_at_words_) {
        encode_chunk(text, out, scratch);
        return;
    }
    PieceCache local;
    PieceCache& seen = cache ? *cache : local;
    const auto chunk = [&](std::string_view c) {
        if (seen.append(c, out)) return;
        const size_t first = out.size();
        encode_chunk(c, out, scratch);
        seen.remember(c, out, first);
    };
    // A merge can join the character before a "▁" to it only by forming a piece that holds "x▁"
    // (a "crossing" piece), so where no crossing piece is spelled across a "▁", no merge crosses
    // the point before it: the chunks between such points merge one by one with the same result
    // as the whole text (the merge order within a chunk is unchanged), with small, cache-resident
    // queues. "▁" starts with 0xE2, never a continuation byte, so every cut is a character boundary.
    const auto crossed = [&](size_t p) {
        for (const auto& [piece, at] : crossing_) {
            if (p >= at && text.compare(p - at, piece.size(), piece) == 0) return true;
        }
        return false;
    };
    size_t start = 0;
    for (size_t p = text.find(k_space, 1); p != std::string_view::npos; p = text.find(k_space, p + 1)) {
        if (p >= 3 && text.compare(p - 3, 3, k_space) == 0) continue;  // a run of "▁" stays together
        if (crossed(p)) continue;
        chunk(text.substr(start, p - start));
        start = p;
    }
    chunk(text.substr(start));
}

void SpmEncoder::encode_chunk(std::string_view text, std::vector<int32_t>& out, Scratch& s) const {
    if (text.empty()) return;
    s.sym.clear();
    s.heap.clear();
    for (size_t pos = 0; pos < text.size();) {
        const size_t len = unicode::utf8_step(text, pos).len;  // an ill-formed byte stands alone
        const auto idx = static_cast<int32_t>(s.sym.size());
        s.sym.push_back({idx - 1, idx + 1, pos, len});
        pos += len;
    }
    s.sym.back().next = -1;

    const Scratch::Order order;
    const auto try_pair = [&](int32_t left, int32_t right) {
        if (left < 0 || right < 0) return;
        const size_t len = s.sym[left].len + s.sym[right].len;
        if (len > max_piece_len_) return;
        const auto it = pieces_.find(text.substr(s.sym[left].start, len));
        if (it == pieces_.end()) return;
        s.heap.push_back({it->second.score, left, right, len});
        std::push_heap(s.heap.begin(), s.heap.end(), order);
    };
    for (int32_t i = 1; i < static_cast<int32_t>(s.sym.size()); ++i) try_pair(i - 1, i);

    while (!s.heap.empty()) {
        std::pop_heap(s.heap.begin(), s.heap.end(), order);
        const Scratch::Candidate c = s.heap.back();
        s.heap.pop_back();
        Scratch::Symbol& l = s.sym[c.left];
        Scratch::Symbol& r = s.sym[c.right];
        if (l.len == 0 || r.len == 0 || l.next != c.right || l.len + r.len != c.len) continue;
        l.len += r.len;
        r.len = 0;
        l.next = r.next;
        if (r.next >= 0) s.sym[r.next].prev = c.left;
        try_pair(l.prev, c.left);
        try_pair(c.left, l.next);
    }

    for (int32_t i = 0; i >= 0; i = s.sym[i].next) {
        const std::string_view piece = text.substr(s.sym[i].start, s.sym[i].len);
        if (const auto it = pieces_.find(piece); it != pieces_.end()) {
            out.push_back(it->second.id);
            continue;
        }
        bool all_bytes = true;
        for (char ch : piece) all_bytes = all_bytes && byte_to_id_[static_cast<uint8_t>(ch)] >= 0;
        if (all_bytes) {
            for (char ch : piece) out.push_back(byte_to_id_[static_cast<uint8_t>(ch)]);
        } else if (unk_id_ >= 0) {
            out.push_back(unk_id_);
        }
        // else: neither byte tokens nor unk — the character cannot be represented; dropped.
    }
}

}  // namespace strata::tokenizer
