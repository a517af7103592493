// The quantization label of a model ("Q4_K_M"): general.file_type's name, else the tensor type
// holding the most bytes. One rule for ModelInfo::quantization (what the app and bench records
// show) and ModelFootprint::weight_type (what the planner's calibration is kept per).
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"

namespace strata::gguf {

// general.file_type in llama.cpp's llama_ftype numbering (a published part of the format):
// "Q4_K_M" for 15; nullptr for a number without a name.
const char* file_type_label(int64_t file_type);

// file_type_label(general.file_type) when the key is an integer with a name; otherwise the name
// of the tensor type with the most bytes (ties: the lower type id); "" without tensors.
std::string quantization_label(const std::vector<KeyValue>& metadata, const std::vector<TensorInfo>& tensors);

}  // namespace strata::gguf
