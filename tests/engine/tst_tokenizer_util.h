// Helpers shared by the tokenizer tests (header only; not a test itself).
#pragma once

#include <QByteArray>
#include <QStringList>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace strata::test {

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

}  // namespace strata::test
