// BPE pre-tokenizers: split text into the pieces that BPE merges never cross.
//
// Each is a hand-written scanner with exactly the semantics of the published split pattern
// (leftmost alternative that matches, greedy runs, the same backtracking), over the character
// classes of tokenizer/unicode.h:
//   gpt2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   llama3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}
//           | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   qwen2:  as llama3, but \p{N} (digits one by one)
// Linear in the text length. Bytes that are not valid UTF-8 count as `other` characters.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace strata::tokenizer {

enum class PreTokenizer { gpt2, llama3, qwen2 };

// tokenizer.ggml.pre value → kind: "" / "default" / "gpt2" → gpt2, "llama-bpe" / "llama3" →
// llama3, "qwen2" → qwen2; nullopt for anything else.
std::optional<PreTokenizer> pre_tokenizer_from_name(std::string_view name);
const char* pre_tokenizer_name(PreTokenizer kind);

// The pieces, in order; they are views into `text` and concatenate back to it exactly.
std::vector<std::string_view> pre_tokenize(PreTokenizer kind, std::string_view text);

}  // namespace strata::tokenizer
