// Tensor element types, numbered as in the GGUF file format (ggml's type ids are part of the
// format). Quantized types store blocks of `block_size` elements in `block_bytes` bytes.
//
// The table is read-only and safe to use from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace strata {

enum class TensorType : uint32_t {
    F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3,
    // 4 and 5 were Q4_2/Q4_3, removed from the format long ago.
    Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
    Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
    IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
    IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
    TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39,
};

struct TensorTypeTraits {
    const char* name;       // as llama.cpp and Hugging Face print it: "Q4_K", "F16"
    int64_t block_size;     // elements per block (1 for plain types)
    size_t block_bytes;     // bytes per block
    bool known;             // a type id this build knows the layout of
    bool computable;        // Strata can dequantize / compute with it
};

// Traits for a type id read from a file; unknown ids give a trait with known == false.
const TensorTypeTraits& tensor_type_traits(uint32_t type_id);
inline const TensorTypeTraits& tensor_type_traits(TensorType t) {
    return tensor_type_traits(static_cast<uint32_t>(t));
}
inline const char* tensor_type_name(TensorType t) { return tensor_type_traits(t).name; }

// Bytes taken by a row of n elements; n must be a multiple of the block size.
inline size_t tensor_row_bytes(TensorType t, int64_t n) {
    const auto& tr = tensor_type_traits(t);
    return static_cast<size_t>(n / tr.block_size) * tr.block_bytes;
}

// "q4_k", "Q4_K", "f16" ... → the type; nullopt when no type has that name.
std::optional<TensorType> parse_tensor_type(std::string_view name);

}  // namespace strata
