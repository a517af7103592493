#include "tokenizer/bpe.h"

#include <algorithm>

#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace strata::tokenizer {

namespace {

bool byte_is_printable(uint32_t b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

struct ByteTables {
    std::array<uint32_t, 256> to_cp{};
    std::array<int16_t, 0x100 + 68> to_byte{};  // code point → byte, -1 outside the table
    std::array<std::string, 256> symbols;
    ByteTables() {
        to_byte.fill(-1);
        uint32_t next = 0x100;
        for (uint32_t b = 0; b < 256; ++b) {
            to_cp[b] = byte_is_printable(b) ? b : next++;
            to_byte[to_cp[b]] = static_cast<int16_t>(b);
            unicode::append_utf8(symbols[b], to_cp[b]);
        }
    }
};

const ByteTables& byte_tables() {
    static const ByteTables tables;  // immutable after first use; thread-safe initialization
    return tables;
}

}  // namespace

uint32_t byte_to_codepoint(uint8_t b) { return byte_tables().to_cp[b]; }

int codepoint_to_byte(uint32_t cp) {
    const auto& to_byte = byte_tables().to_byte;
    return cp < to_byte.size() ? to_byte[cp] : -1;
}

const std::array<std::string, 256>& byte_symbols() { return byte_tables().symbols; }

Result<BpeEncoder> BpeEncoder::build(const VocabData& data, const PreTokenizer& pre) {
    BpeEncoder enc;
    enc.pre_ = &pre;
    enc.ignore_merges_ = pre.ignore_merges();
    enc.unk_id_ = data.unk_id;
    const size_t n = data.tokens.size();
    enc.pieces_.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        const TokenType type = data.types.empty() ? TokenType::normal : data.types[i];
        // Specials (control, user-defined) come only from parse_special, never from merges.
        if (type != TokenType::normal && type != TokenType::undefined) continue;
        if (data.tokens[i].empty()) continue;
        enc.pieces_.try_emplace(std::string_view(data.tokens[i]), static_cast<int32_t>(i));
    }
    const auto find = [&](std::string_view s) {
        const auto it = enc.pieces_.find(s);
        return it == enc.pieces_.end() ? -1 : it->second;
    };
    for (int b = 0; b < 256; ++b) enc.byte_to_id_[b] = find(byte_symbols()[b]);

    enc.merges_.reserve(data.merges.size());
    std::string joined;
    for (size_t r = 0; r < data.merges.size(); ++r) {
        const std::string& m = data.merges[r];
        const size_t space = m.find(' ', 1);
        if (space == std::string::npos || space + 1 >= m.size()) {
            return make_error(ErrorCode::corrupt, "tokenizer.ggml.merges[" + std::to_string(r) + "] = '" + m +
                              "' is not two pieces separated by a space");
        }
        const std::string_view left(m.data(), space);
        const std::string_view right(m.data() + space + 1, m.size() - space - 1);
        joined.assign(left);
        joined.append(right);
        const int32_t a = find(left), b = find(right), result = find(joined);
        // A merge whose pieces are not all in the vocabulary could never yield a token: skipped.
        if (a < 0 || b < 0 || result < 0) continue;
        enc.merges_.try_emplace(pair_key(a, b), Merge{static_cast<int32_t>(r), result});  // first rank wins
    }
    return enc;
}

struct BpeEncoder::Scratch {
    struct Symbol {
        int32_t prev;
        int32_t next;
        int32_t id;  // -1: a byte whose character is not in the vocabulary (never merges)
    };
    struct Candidate {
        int32_t rank;
        int32_t left;
        int32_t right;
        int32_t left_id;
        int32_t right_id;
        int32_t result;
    };
    struct Order {
        // priority_queue pops the "largest": lowest rank, then the smallest left index.
        bool operator()(const Candidate& a, const Candidate& b) const {
            if (a.rank != b.rank) return a.rank > b.rank;
            return a.left > b.left;
        }
    };
    std::vector<Symbol> sym;
    std::vector<Candidate> heap;  // managed with std::push_heap / pop_heap
    std::string mapped;
};

void BpeEncoder::encode(std::string_view text, std::vector<int32_t>& out, PieceCache* cache) const {
    Scratch scratch;
    PieceCache local;
    PieceCache& seen = cache ? *cache : local;
    for (std::string_view word : pre_->split(text)) {
        if (seen.append(word, out)) continue;
        const size_t first = out.size();
        encode_word(word, out, scratch);
        seen.remember(word, out, first);
    }
}

void BpeEncoder::encode_word(std::string_view word, std::vector<int32_t>& out, Scratch& s) const {
    if (word.empty()) return;
    if (ignore_merges_) {
        s.mapped.clear();
        for (char ch : word) s.mapped += byte_symbols()[static_cast<uint8_t>(ch)];
        if (const auto it = pieces_.find(s.mapped); it != pieces_.end()) {
            out.push_back(it->second);
            return;
        }
    }
    s.sym.clear();
    s.heap.clear();
    const auto n = static_cast<int32_t>(word.size());
    for (int32_t i = 0; i < n; ++i) {
        s.sym.push_back({i - 1, i + 1 < n ? i + 1 : -1, byte_to_id_[static_cast<uint8_t>(word[i])]});
    }
    const Scratch::Order order;
    const auto try_pair = [&](int32_t left, int32_t right) {
        if (left < 0 || right < 0) return;
        const int32_t a = s.sym[left].id, b = s.sym[right].id;
        if (a < 0 || b < 0) return;
        const auto it = merges_.find(pair_key(a, b));
        if (it == merges_.end()) return;
        s.heap.push_back({it->second.rank, left, right, a, b, it->second.result});
        std::push_heap(s.heap.begin(), s.heap.end(), order);
    };
    for (int32_t i = 1; i < n; ++i) try_pair(i - 1, i);

    while (!s.heap.empty()) {
        std::pop_heap(s.heap.begin(), s.heap.end(), order);
        const Scratch::Candidate c = s.heap.back();
        s.heap.pop_back();
        Scratch::Symbol& l = s.sym[c.left];
        Scratch::Symbol& r = s.sym[c.right];
        // Stale when either side merged since it was queued (ids change on every merge).
        if (l.next != c.right || l.id != c.left_id || r.id != c.right_id) continue;
        l.id = c.result;
        l.next = r.next;
        if (r.next >= 0) s.sym[r.next].prev = c.left;
        r.id = -2;  // dead
        r.next = -1;
        try_pair(l.prev, c.left);
        try_pair(c.left, l.next);
    }
    for (int32_t i = 0; i >= 0; i = s.sym[i].next) {
        const int32_t id = s.sym[i].id;
        if (id >= 0) {
            out.push_back(id);
        } else if (unk_id_ >= 0) {
            out.push_back(unk_id_);
        }
        // else: a byte with no token and no unk — cannot be represented; dropped.
    }
}

}  // namespace strata::tokenizer
