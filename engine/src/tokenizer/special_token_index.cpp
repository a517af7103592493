#include "tokenizer/special_token_index.h"

#include <algorithm>

namespace strata::tokenizer {

void SpecialTokenIndex::add(int32_t id, std::string_view text) {
    if (text.empty()) return;
    const auto b0 = static_cast<uint8_t>(text[0]);
    by_first_byte_[b0].push_back({id, text});
    if (text.size() == 1) single_byte_.set(b0);
    else second_bytes_[b0].set(static_cast<uint8_t>(text[1]));
    ++n_;
}

void SpecialTokenIndex::finish() {
    for (auto& list : by_first_byte_) {
        std::stable_sort(list.begin(), list.end(), [](const Entry& a, const Entry& b) { return a.text.size() > b.text.size(); });
    }
}

std::pair<int32_t, size_t> SpecialTokenIndex::longest_at(std::string_view text, size_t pos) const {
    const auto b0 = static_cast<uint8_t>(text[pos]);
    const std::vector<Entry>& list = by_first_byte_[b0];
    if (list.empty()) return {-1, 0};
    if (pos + 1 < text.size() && !second_bytes_[b0].test(static_cast<uint8_t>(text[pos + 1]))) {
        // Only a one-byte token can start here (the first added, if several).
        if (single_byte_.test(b0)) {
            const auto it = std::find_if(list.begin(), list.end(), [](const Entry& e) { return e.text.size() == 1; });
            return {it->id, 1};
        }
        return {-1, 0};
    }
    for (const Entry& e : list) {
        if (text.compare(pos, e.text.size(), e.text) == 0) return {e.id, e.text.size()};
    }
    return {-1, 0};
}

}  // namespace strata::tokenizer
