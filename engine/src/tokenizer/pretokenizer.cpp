#include "tokenizer/pretokenizer.h"

#include <algorithm>
#include <cstdint>

#include "tokenizer/unicode.h"

namespace strata::tokenizer {

using unicode::CharClass;

std::optional<PreTokenizer> pre_tokenizer_from_name(std::string_view name) {
    if (name.empty() || name == "default" || name == "gpt2") return PreTokenizer::gpt2;
    if (name == "llama-bpe" || name == "llama3") return PreTokenizer::llama3;
    if (name == "qwen2") return PreTokenizer::qwen2;
    return std::nullopt;
}

const char* pre_tokenizer_name(PreTokenizer kind) {
    switch (kind) {
        case PreTokenizer::gpt2: return "gpt2";
        case PreTokenizer::llama3: return "llama-bpe";
        case PreTokenizer::qwen2: return "qwen2";
    }
    return "?";
}

namespace {

constexpr uint32_t k_invalid_cp = 0xFFFFFFFFu;  // an ill-formed byte run (class `other`)

// The text as characters: code point, class and byte offset of each (offset[n] = text size).
struct Chars {
    std::vector<uint32_t> cp;
    std::vector<CharClass> cls;
    std::vector<size_t> offset;
    size_t size() const { return cp.size(); }
};

Chars split_chars(std::string_view text) {
    Chars c;
    c.cp.reserve(text.size());
    c.cls.reserve(text.size());
    c.offset.reserve(text.size() + 1);
    size_t pos = 0;
    while (pos < text.size()) {
        const unicode::Utf8Step step = unicode::utf8_step(text, pos);
        const bool ok = step.status == unicode::Utf8Status::complete;
        c.cp.push_back(ok ? step.cp : k_invalid_cp);
        c.cls.push_back(ok ? unicode::classify(step.cp) : CharClass::other);
        c.offset.push_back(pos);
        pos += step.len;
    }
    c.offset.push_back(text.size());
    return c;
}

// Scanners: each returns the end (exclusive, in characters) of the match starting at i < n.
class Scanner {
public:
    Scanner(const Chars& c) : c_(c), n_(c.size()) {}  // NOLINT: internal helper

    size_t gpt2(size_t i) const {
        if (size_t e = contraction(i, /*any_case=*/false)) return e;
        for (CharClass k : {CharClass::letter, CharClass::number, CharClass::other}) {
            // ` ?K+`
            if (is(i, k)) return run(i, k);
            if (cp(i) == ' ' && is(i + 1, k)) return run(i + 1, k);
        }
        return whitespace_tail(i);
    }

    size_t llama3(size_t i, size_t max_digits) const {
        if (size_t e = contraction(i, /*any_case=*/true)) return e;
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (is(i, CharClass::letter)) return run(i, CharClass::letter);
        if (!is_newline(i) && !is(i, CharClass::number) && is(i + 1, CharClass::letter))
            return run(i + 1, CharClass::letter);
        // \p{N}{1,max_digits}
        if (is(i, CharClass::number)) return std::min(run(i, CharClass::number), i + max_digits);
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        size_t k = i;
        if (cp(k) == ' ' && is(k + 1, CharClass::other)) ++k;
        if (is(k, CharClass::other)) {
            size_t e = run(k, CharClass::other);
            while (e < n_ && is_newline(e)) ++e;
            return e;
        }
        // \s*[\r\n]+ : from i through the last \r or \n of the white-space run at i.
        const size_t ws_end = run(i, CharClass::whitespace);
        for (size_t e = ws_end; e > i; --e) {
            if (is_newline(e - 1)) return e;
        }
        return whitespace_tail(i);
    }

private:
    uint32_t cp(size_t i) const { return i < n_ ? c_.cp[i] : k_invalid_cp; }
    bool is(size_t i, CharClass k) const { return i < n_ && c_.cls[i] == k; }
    bool is_newline(size_t i) const { return cp(i) == '\r' || cp(i) == '\n'; }
    size_t run(size_t i, CharClass k) const {
        while (i < n_ && c_.cls[i] == k) ++i;
        return i;
    }
    // Case folding as far as the contractions need it: ASCII, and U+017F (long s) folds to 's'.
    static uint32_t fold(uint32_t v) {
        if (v >= 'A' && v <= 'Z') return v + 32;
        return v == 0x017F ? 's' : v;
    }

    // 's 't 're 've 'm 'll 'd (ASCII apostrophe); 0 when none starts at i.
    size_t contraction(size_t i, bool any_case) const {
        if (cp(i) != '\'') return 0;
        const auto at = [&](size_t j) { return any_case ? fold(cp(j)) : cp(j); };
        const uint32_t a = at(i + 1);
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
        const uint32_t b = at(i + 2);
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
        return 0;
    }

    // \s+(?!\S)|\s+ at a white-space character: the run, less its last character when a
    // non-space follows and the run is longer than one (that character then leads the next piece).
    size_t whitespace_tail(size_t i) const {
        const size_t e = run(i, CharClass::whitespace);
        if (e == i) return i + 1;  // unreachable for well-classified input; guarantees progress
        if (e < n_ && e - i >= 2) return e - 1;
        return e;
    }

    const Chars& c_;
    size_t n_;
};

}  // namespace

std::vector<std::string_view> pre_tokenize(PreTokenizer kind, std::string_view text) {
    std::vector<std::string_view> pieces;
    if (text.empty()) return pieces;
    const Chars chars = split_chars(text);
    const Scanner scanner(chars);
    size_t i = 0;
    while (i < chars.size()) {
        size_t e = 0;
        switch (kind) {
            case PreTokenizer::gpt2: e = scanner.gpt2(i); break;
            case PreTokenizer::llama3: e = scanner.llama3(i, 3); break;
            case PreTokenizer::qwen2: e = scanner.llama3(i, 1); break;
        }
        e = std::max(e, i + 1);
        pieces.push_back(text.substr(chars.offset[i], chars.offset[e] - chars.offset[i]));
        i = e;
    }
    return pieces;
}

}  // namespace strata::tokenizer
