// Vocab: a model's tokenizer vocabulary and the encode/decode rules it implies.
//
// Built once from VocabData (filled from the GGUF's tokenizer.ggml.* keys by the model loader)
// and then shared read-only between every sequence (std::shared_ptr<const Vocab>): all methods
// are const and thread-safe. Per-sequence state (streaming detokenization) lives in
// StreamingDetokenizer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/status.h"

namespace strata {

// tokenizer.ggml.token_type values (GGUF convention).
enum class TokenType : int32_t {
    undefined = 0, normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6,
};

enum class VocabKind {
    spm,  // tokenizer.ggml.model = "llama": SentencePiece, scores, byte fallback, "▁" for space
    bpe,  // tokenizer.ggml.model = "gpt2": byte-level BPE with merges
};

struct VocabData {
    VocabKind kind = VocabKind::spm;
    std::vector<std::string> tokens;   // (n_vocab)
    std::vector<float> scores;         // (n_vocab) or empty
    std::vector<TokenType> types;      // (n_vocab) or empty (then all normal)
    std::vector<std::string> merges;   // BPE: "a b" pairs in priority order
    std::string pre;                   // BPE pre-tokenizer name (tokenizer.ggml.pre), e.g. "llama-bpe"
    int32_t bos_id = -1;
    int32_t eos_id = -1;
    int32_t unk_id = -1;
    int32_t pad_id = -1;
    std::vector<int32_t> extra_eog_ids;  // end-of-generation besides EOS (eot, eom)
    bool add_bos = true;
    bool add_eos = false;
    bool add_space_prefix = true;      // SPM: prepend "▁" to the text
    bool remove_extra_whitespaces = false;  // SPM: drop leading/trailing spaces, collapse runs
};

// How Vocab::encode treats the ends of the text and special-token spellings.
struct EncodeOptions {
    bool add_bos = false;        // prepend BOS (when the vocab has one)
    bool add_eos = false;        // append EOS (when the vocab has one)
    bool parse_special = false;  // control-token spellings in the text become their ids
    // With parse_special: byte ranges [first, second) of the text, sorted and disjoint, where
    // control-token spellings stay text — a chat prompt's user content inside template markup
    // (strata/chat_template.h). A control token that would overlap one is not matched. The
    // text is still encoded in one pass, so merges and SPM spaces are as without the ranges.
    const std::vector<std::pair<size_t, size_t>>* literal = nullptr;
};

class Vocab {
public:
    // Validates sizes and ids (a bad id names the key); builds lookup tables.
    static Result<std::shared_ptr<const Vocab>> create(VocabData data);
    ~Vocab();

    VocabKind kind() const;
    int32_t n_tokens() const;
    int32_t bos() const;
    int32_t eos() const;
    int32_t unk() const;                 // -1 when the vocab has none
    int32_t pad() const;                 // -1 when the vocab has none
    bool add_bos() const;
    bool add_eos() const;                // the model wants EOS appended (see EncodeOptions::add_eos)
    bool add_space_prefix() const;       // SPM: "▁" prepended to the text
    const std::string& pre() const;      // BPE pre-tokenizer name as given ("" for SPM)
    bool is_eog(int32_t id) const;       // EOS or another end-of-generation token
    bool is_control(int32_t id) const;
    TokenType token_type(int32_t id) const;  // normal for vocabs without types
    // Ids outside [0, n_tokens) give "" here and from token_to_bytes; decode skips them.
    const std::string& token_text(int32_t id) const;  // as stored in the vocab ("▁the", "<0x0A>")
    int32_t find_token(std::string_view text) const;  // exact stored text → id (first one), or -1

    // Text → ids. User-defined tokens (tokenizer.json's non-special added tokens: Gemma's "<b>",
    // whitespace runs, Qwen's "<think>") are always matched in the text, as Hugging Face and
    // llama.cpp do; control tokens ("<|im_start|>") only with parse_special — without it their
    // spelling is plain text and never yields a control id. Matching is leftmost-longest, and the
    // text between matches is tokenized on its own. SPM: spaces become "▁", and with
    // add_space_prefix a "▁" is prepended to the text and to each run of text after a matched
    // token (as llama.cpp does). O(n log n) in the text length.
    //
    // EOS: a model's add_eos_token (add_eos()) is for whole documents — embeddings, scoring —
    // and is the caller's to pass; a generation prompt is continued, and an EOS at its end would
    // tell the model the text is over, so the prompt path (LoadedModel) never sets it.
    std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options) const;
    // encode(text, {add_bos, /*add_eos=*/false, parse_special}).
    std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special = false) const;

    // The bytes a token stands for ("▁the" → " the", "<0x0A>" → "\n"); control tokens give "".
    // Bytes may be an incomplete UTF-8 sequence (byte-fallback tokens). SPM unknown tokens give
    // " ⁇ " (SentencePiece's rendering); BPE user-defined tokens give their text as stored.
    std::string token_to_bytes(int32_t id) const;

    // Whole-sequence decode (strips the leading space SPM adds after BOS when strip_leading_space:
    // one space from the first piece that follows only BOS tokens, when add_space_prefix). The
    // result is valid UTF-8: ill-formed byte runs become U+FFFD, exactly as StreamingDetokenizer.
    std::string decode(const std::vector<int32_t>& ids, bool strip_leading_space = true) const;

private:
    struct Impl;
    explicit Vocab(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Turns a stream of token ids into text that is always valid UTF-8: bytes of a multi-byte
// character split across tokens are held back until the character is complete.
// One per sequence; not thread-safe.
class StreamingDetokenizer {
public:
    // control_text: control tokens give their text ("[TOOL_CALLS]", "<|channel|>") instead of
    // nothing, for output parsers that read them as structure.
    explicit StreamingDetokenizer(std::shared_ptr<const Vocab> vocab, bool strip_leading_space = true,
                                  bool control_text = false);
    // Returns the text that became complete with this token (possibly empty).
    std::string push(int32_t id);
    // End of stream: whatever is held back (invalid bytes become U+FFFD).
    std::string flush();

private:
    std::shared_ptr<const Vocab> vocab_;
    std::string pending_;
    bool at_start_;
    bool strip_leading_space_;
    bool control_text_;
};

}  // namespace strata
