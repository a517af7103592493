// ModelFootprint from a GGUF file's directory: what the planner needs to know about a model
// (layer sizes, hyperparameters) without reading any weights. Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "strata/plan.h"
#include "strata/status.h"

namespace strata {

// Reads `<arch>.block_count`, `.embedding_length`, `.feed_forward_length`,
// `.attention.head_count`, `.attention.head_count_kv` (default: head_count),
// `.attention.key_length` (default: embedding_length / head_count) and `.context_length`
// (default 0 = unknown), where <arch> is `general.architecture`; sizes from the tensor
// directory: `blk.N.*` per layer, `token_embd.weight` (its ne[1] is n_vocab), `output.weight`
// (absent = tied to the embedding) and `output_norm.weight`; the RoPE frequency factors
// (`rope_freqs.weight`, or one of LongRoPE's pair) once per layer, as the runtime holds them.
// Other tensors are not counted. Errors (ErrorCode::corrupt / unsupported) name the file and the key or tensor.
Result<ModelFootprint> model_footprint(const gguf::GgufFile& file);

// The same from a directory given as lists (what model_footprint(file) passes on); `source`
// names the file in messages.
Result<ModelFootprint> model_footprint(const std::vector<gguf::KeyValue>& metadata,
                                       const std::vector<gguf::TensorInfo>& tensors,
                                       const std::string& source);

}  // namespace strata
