// The support verdict of a model file (strata/model_info.h): architecture, experts, tokenizer
// and pre-tokenizer, from the header alone. Pure; used by inspect_model.
#pragma once

#include <string>
#include <vector>

#include "strata/model_info.h"

namespace strata {

namespace gguf { class GgufFile; }

SupportVerdict judge_support(const gguf::GgufFile& file, const std::string& architecture);

// Notes on what a runnable file holds that Strata does not use (a vision tower beside a Gemma 3
// text model, as some converters write one file for both).
std::vector<std::string> model_notes(const gguf::GgufFile& file);

// "llama, qwen2, ... and mistral3": the architectures Strata runs, for messages.
std::string supported_architectures_text();

}  // namespace strata
