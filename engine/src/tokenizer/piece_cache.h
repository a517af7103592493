// PieceCache: within one Vocab::encode call, the ids each short piece (a pre-tokenizer piece for
// BPE, a "▁word" chunk for SPM) produced the first time it was merged, so a repeated piece —
// " the", indentation, "();" — is copied instead of merged again. Merging dominates encode time
// and real text repeats its words, so this roughly halves it on prose and code.
//
// Entries point into the caller's output vector (first position, count), which only grows during
// the call. One per call: not shared, not thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace strata::tokenizer {

class PieceCache {
public:
    static constexpr size_t k_max_piece_bytes = 48;     // longer pieces rarely repeat
    static constexpr size_t k_max_entries = size_t{1} << 16;  // bounds memory on huge inputs

    // Appends the ids remembered for `piece` to `out`; false when there are none.
    bool append(std::string_view piece, std::vector<int32_t>& out) const {
        if (piece.size() > k_max_piece_bytes) return false;
        const auto it = map_.find(piece);
        if (it == map_.end()) return false;
        const auto [first, n] = it->second;
        out.resize(out.size() + n);
        std::copy_n(out.begin() + static_cast<std::ptrdiff_t>(first), n, out.end() - static_cast<std::ptrdiff_t>(n));
        return true;
    }
    // `piece` produced out[first, out.size()).
    void remember(std::string_view piece, const std::vector<int32_t>& out, size_t first) {
        if (piece.size() > k_max_piece_bytes || map_.size() >= k_max_entries) return;
        map_.try_emplace(std::string(piece), first, out.size() - first);
    }

private:
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, std::pair<size_t, size_t>, Hash, std::equal_to<>> map_;
};

}  // namespace strata::tokenizer
