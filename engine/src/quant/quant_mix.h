// Quantization mixes: which type each tensor of a model gets for a named mix ("Q4_K_M").
//
// A mix is a base type for the bulk of the 2-D weights plus a few per-tensor rules, following
// the convention llama.cpp's quantizer made common (the numbering of general.file_type is its
// published llama_ftype enum). The rules, as implemented in quant_mix.cpp:
//   - Tensors with fewer than 2 dimensions (norms, biases) and tensors whose name does not end
//     in "weight" are stored as F32 (the quantizer keeps such a tensor as it is when its type
//     cannot be converted, e.g. an I32 table).
//   - F32, F16, BF16 mixes: every 2-D weight at that type, no exceptions.
//   - output.weight (the LM head) gets Q6_K in every quantized mix except Q8_0 (which keeps
//     Q8_0). When the model has no output.weight, token_embd.weight is the head and gets the
//     head's type; otherwise token_embd.weight follows the base type.
//   - "more bits" layers: il < n/8, il >= 7n/8, or (il - n/8) % 3 == 2 (integer division, n the
//     layer count): the first and last eighth of the layers and every third one between.
//   - Q4_K_M, Q5_K_M: attn_v and ffn_down at Q6_K in the "more bits" layers; attn_qkv (fused)
//     one step up (Q5_K / Q6_K).
//   - Q4_K_S: attn_v at Q5_K in layers 0-3, ffn_down at Q5_K in the first eighth of the layers.
//   - Q3_K_M: attn_v at Q5_K in layers 0-1 and Q4_K after; ffn_down at Q5_K in the first
//     sixteenth of the layers and Q4_K after; attn_output and attn_qkv at Q4_K.
//   - Q3_K_L: attn_v, ffn_down, attn_output and attn_qkv at Q5_K.
//   - Q2_K: attn_v at Q3_K (Q4_K when n_head / n_head_kv >= 4), ffn_down and attn_output at Q3_K.
//   - Q3_K_S, Q5_K_S, Q6_K, Q8_0, IQ4_XS, IQ4_NL and the legacy Q4_0, Q4_1, Q5_0, Q5_1: the
//     base type everywhere (besides the head rule above).
// Fallback: a type whose block does not divide the row length (ne[0]) is replaced by the
// nearest type that fits: Q2_K, Q3_K → Q4_0; Q4_K → Q5_0; Q5_K → Q5_1; Q6_K → Q8_0;
// IQ4_XS → IQ4_NL; and a
// 32-block type whose block does not divide the row → F16.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "strata/tensor_type.h"

namespace strata::quant {

struct QuantMix {
    const char* name;     // "Q4_K_M", as users type it
    TensorType base;      // the type of most 2-D weights
    uint32_t file_type;   // general.file_type (llama.cpp's llama_ftype value)
};

// Every mix this build can write, in a stable order (for usage text and tests).
const std::vector<QuantMix>& quant_mixes();
// A mix by name, case-insensitive ("q4_k_m" works); nullopt for an unknown name.
std::optional<QuantMix> find_quant_mix(std::string_view name);

// What the mix rules need to know about one tensor and its model.
struct TensorSite {
    std::string_view name;     // "blk.3.attn_v.weight"
    int n_dims = 2;
    int64_t row_length = 0;    // ne[0]
    int64_t n_layer = 0;       // the model's block count
    int64_t n_gqa = 1;         // n_head / n_head_kv (1 when unknown)
    bool has_output = true;    // the model has output.weight (else token_embd is the head)
};

// The layer index in "blk.<il>.…", or -1 for tensors outside the blocks.
int64_t tensor_layer_index(std::string_view name);
// The "more bits" layer rule stated above.
bool use_more_bits(int64_t il, int64_t n_layer);

// True for the tensors the mix rules apply to: 2 or more dims and a name ending in "weight".
// Others (norms, biases) are written as F32.
bool is_matrix_weight(const TensorSite& t);
// The type the mix asks for, before the row-length fallback.
TensorType mix_wanted_type(const QuantMix& mix, const TensorSite& t);
// `want` if its block divides row_length, else the fallback rule stated above.
TensorType fallback_type(TensorType want, int64_t row_length);

struct TypeChoice {
    TensorType type;    // what gets written
    TensorType wanted;  // what the mix asked for
    bool fell_back() const { return type != wanted; }
};
TypeChoice choose_tensor_type(const QuantMix& mix, const TensorSite& t);

}  // namespace strata::quant
