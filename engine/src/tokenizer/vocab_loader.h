// Builds a Vocab from a GGUF file's tokenizer.ggml.* metadata.
//
// Links against the GGUF reader (gguf/); the rest of the tokenizer does not depend on it.
//
// Keys read: model ("llama" → SPM, "gpt2" → byte-level BPE), tokens, scores, token_type, merges
// (required for BPE), pre, bos/eos/unknown/padding/eot/eom_token_id, add_bos_token,
// add_eos_token, add_space_prefix. Lengths, types and ids are validated; every error names the
// key (and the file). An id of -1 or 0xFFFFFFFF (how converters write "none") means absent.
// Defaults for absent keys: SPM bos 1, eos 2, unk 0 (the SentencePiece
// convention), add_bos true, add_space_prefix true; BPE no special ids, add_bos true only for
// the llama-bpe pre-tokenizer. Control tokens spelled like the common end-of-turn markers
// ("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|eom_id|>", "<|endoftext|>") count
// as end-of-generation too.
#pragma once

#include <memory>

#include "gguf/gguf_file.h"
#include "strata/status.h"
#include "tokenizer/vocab.h"

namespace strata {

// The VocabData the keys describe (not yet validated by Vocab::create).
Result<VocabData> read_vocab_data(const gguf::GgufFile& file);

// read_vocab_data + Vocab::create; errors carry the file's path as context.
Result<std::shared_ptr<const Vocab>> load_vocab(const gguf::GgufFile& file);

}  // namespace strata
