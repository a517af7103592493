// Hugging Face tokenizer.json (+ tokenizer_config.json) → a vocab-only GGUF, written the way
// llama.cpp's convert_hf_to_gguf.py writes a model's tokenizer.ggml.* keys.
//
// Two shapes of BPE tokenizer.json are understood:
//  - byte-level BPE (a ByteLevel pre-tokenizer or decoder): tokenizer.ggml.model "gpt2", the
//    merges, and tokenizer.ggml.pre named by matching the tokenizer.json's split patterns against
//    Strata's pre-tokenizer table (or as the caller names it);
//  - SentencePiece-style BPE with byte fallback ("▁" for spaces via a Replace normalizer or a
//    Metaspace pre-tokenizer; Gemma, Llama 2, Mistral): tokenizer.ggml.model "llama" with scores
//    that order merges as the tokenizer.json's merge list does (score = −rank of the first merge
//    that makes the piece), "<0xNN>" pieces typed byte, and add_space_prefix from whether the
//    normalizer or pre-tokenizer prepends "▁". This is what a SentencePiece tokenizer.model
//    converts to, where the model ships one.
//
// Token types follow the converter: added tokens that are special, or that look special
// (<|...|>, <｜...｜>, <unused...>, <pad>, <mask>), are control; other added tokens are
// user-defined, with "▁" in their text turned back into spaces; ids no entry names are
// "[PADn]" (unused). bos/eos/unk/pad ids come from tokenizer_config.json. add_bos/add_eos: the
// config's add_bos_token/add_eos_token where present, else whether the post-processor's
// template starts with BOS / ends with EOS; written explicitly either way (the converter would
// leave the key out and let the loader's per-name default decide; written, the file says what
// the tokenizer.json does).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "strata/status.h"

namespace strata::tokenizer {

struct HfTokenizerImport {
    std::string model;               // "gpt2" or "llama"
    std::string pre;                 // tokenizer.ggml.pre written ("" for "llama")
    size_t n_tokens = 0;
    size_t n_merges = 0;             // merges written (gpt2) or used for scores (llama)
    bool add_bos = false;
    bool add_eos = false;
    std::vector<std::string> notes;  // what the GGUF cannot express (e.g. an NFC normalizer)
};

// Reads both JSON files (the config may be "" for none) and writes the GGUF at `out_path`.
// `pre_override` names the pre-tokenizer instead of recognising it. Errors name the file and
// field (corrupt JSON, a model type other than BPE, an unrecognised pre-tokenizer).
Result<HfTokenizerImport> write_vocab_gguf_from_hf(const std::string& tokenizer_json_path,
                                                   const std::string& tokenizer_config_path,
                                                   const std::string& out_path,
                                                   std::string_view pre_override = {});

}  // namespace strata::tokenizer
