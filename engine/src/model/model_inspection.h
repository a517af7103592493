// inspect_model / inspect_model_file (strata/model_info.h) on a file that is already open, for
// the engine's own callers that open it anyway (Engine::plan, read_load_inputs): they read the
// mapping they hold instead of opening and parsing the file a second time.
#pragma once

#include "gguf/gguf_file.h"
#include "strata/model_info.h"

namespace strata {

// What inspect_model(file.path()) returns, from `file`. May throw std::bad_alloc (the public
// functions catch it).
Result<ModelInfo> read_model_info(const gguf::GgufFile& file);

// What inspect_model_file(file.path()) returns, from `file`: the info, and the footprint or why
// it could not be computed.
Result<ModelInspection> inspect_open_model(const gguf::GgufFile& file);

}  // namespace strata
