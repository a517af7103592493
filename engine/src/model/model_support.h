// The support verdict of a model file (strata/model_info.h): architecture, experts, tokenizer
// and pre-tokenizer, from the header alone. Pure; used by inspect_model.
#pragma once

#include <string>

#include "strata/model_info.h"

namespace strata {

namespace gguf { class GgufFile; }

SupportVerdict judge_support(const gguf::GgufFile& file, const std::string& architecture);

// "llama, qwen2, ... and mistral3": the architectures Strata runs, for messages.
std::string supported_architectures_text();

}  // namespace strata
