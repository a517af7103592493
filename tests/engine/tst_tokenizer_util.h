// Helpers shared by the tokenizer tests (header only; not a test itself).
#pragma once

#include <QByteArray>
#include <QStringList>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace strata::test {

inline const std::string k_spm_space = "\xE2\x96\x81";  // "▁"

inline QByteArray qbytes(std::string_view s) { return QByteArray(s.data(), static_cast<qsizetype>(s.size())); }

inline bool is_valid_utf8(std::string_view s) {
    for (size_t pos = 0; pos < s.size();) {
        const unicode::Utf8Step step = unicode::utf8_step(s, pos);
        if (step.status != unicode::Utf8Status::complete) return false;
        pos += step.len;
    }
    return true;
}

// A random string of n characters drawn from `alphabet` (each entry one character or a short
// run such as "  " or "\n\n").
inline std::string random_text(std::mt19937& rng, const std::vector<std::string>& alphabet, size_t n) {
    std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
    std::string s;
    for (size_t i = 0; i < n; ++i) s += alphabet[pick(rng)];
    return s;
}

// The stored texts of `ids`, for readable comparisons ("▁the|<0x0A>").
inline QStringList piece_texts(const Vocab& vocab, const std::vector<int32_t>& ids) {
    QStringList out;
    for (int32_t id : ids) out << QString::fromStdString(vocab.token_text(id));
    return out;
}

// Characters of several scripts and widths: 1-byte ASCII, 2-byte Latin/Cyrillic, 3-byte CJK and
// punctuation, 4-byte emoji; spaces and newlines.
inline std::vector<std::string> mixed_alphabet() {
    return {"a", "b", "c", "d", "e", "h", "l", "o", "t", "T", "1", "7", " ", " ", "  ", "\n", "\t", ".", ",",
            "'", "!", "\xC3\xA9" /* é */, "\xD0\xB6" /* ж */, "\xE4\xB8\xAD" /* 中 */, "\xE2\x82\xAC" /* € */,
            "\xF0\x9F\x98\x80" /* 😀 */, "\xF0\x9D\x90\x80" /* 𝐀 */};
}

// Naive SPM reference (add_space_prefix honoured, no special parsing): repeatedly merge the best-scoring adjacent pair (leftmost on ties) by
// scanning all pairs — O(n^2), obviously right.
inline std::vector<int32_t> spm_reference_encode(const VocabData& d, std::string_view text) {
    std::map<std::string, std::pair<int32_t, float>, std::less<>> pieces;
    std::map<int, int32_t> byte_ids;
    for (size_t i = 0; i < d.tokens.size(); ++i) {
        if (d.types[i] == TokenType::normal) pieces.try_emplace(d.tokens[i], static_cast<int32_t>(i), d.scores[i]);
        if (d.types[i] == TokenType::byte) byte_ids[std::stoi(d.tokens[i].substr(3, 2), nullptr, 16)] = static_cast<int32_t>(i);
    }
    std::string norm = d.add_space_prefix && !text.empty() ? k_spm_space : "";
    for (char ch : text) norm += ch == ' ' ? k_spm_space : std::string(1, ch);
    std::vector<std::string> sym;
    for (size_t pos = 0; pos < norm.size();) {
        const size_t len = unicode::utf8_step(norm, pos).len;
        sym.push_back(norm.substr(pos, len));
        pos += len;
    }
    for (;;) {
        int best = -1;
        float best_score = 0;
        for (size_t i = 0; i + 1 < sym.size(); ++i) {
            const auto it = pieces.find(sym[i] + sym[i + 1]);
            if (it != pieces.end() && (best < 0 || it->second.second > best_score)) {
                best = static_cast<int>(i);
                best_score = it->second.second;
            }
        }
        if (best < 0) break;
        sym[best] += sym[best + 1];
        sym.erase(sym.begin() + best + 1);
    }
    std::vector<int32_t> ids;
    for (const std::string& s : sym) {
        if (const auto it = pieces.find(s); it != pieces.end()) {
            ids.push_back(it->second.first);
        } else if (std::all_of(s.begin(), s.end(), [&](char ch) { return byte_ids.count(static_cast<uint8_t>(ch)); })) {
            for (char ch : s) ids.push_back(byte_ids[static_cast<uint8_t>(ch)]);
        } else {
            ids.push_back(d.unk_id);
        }
    }
    return ids;
}

}  // namespace strata::test
