// RopeConfig: a GGUF file's rotary-embedding keys mapped onto RopeParams (backend/device.h's one
// form of every RoPE variant). Kept apart from the rest of the hparams because each scaling
// type has its own keys, defaults and formulas, and tests check each against the file's keys.
#pragma once

#include <cstdint>
#include <string>

#include "backend/device.h"
#include "strata/status.h"

namespace strata {

namespace gguf { class GgufFile; }

enum class RopeScaling {
    none,
    linear,    // positions divided by rope.scaling.factor
    yarn,      // YaRN: interpolation for low frequencies, extrapolation for high, magnitude fix
    longrope,  // Phi-3: per-pair factor tensors (short / long) and an attention factor
};
const char* rope_scaling_name(RopeScaling s);

struct RopeConfig {
    RopeScaling scaling = RopeScaling::none;
    RopeParams params;       // everything but the frequency factors (tensors, chosen at load)
    float factor = 1.0f;     // rope.scaling.factor (1 = none)
    int64_t n_ctx_orig = 0;  // rope.scaling.original_context_length, else the training context
};

// Reads `<arch>.rope.*` keys: freq_base, scaling.type / factor / attn_factor /
// original_context_length, and YaRN's yarn_ext_factor, yarn_beta_fast, yarn_beta_slow,
// yarn_log_multiplier and yarn_attn_factor (defaults as llama.cpp: ext 1, betas 32 and 1). n_rot and style come from the
// caller (the architecture decides the style). Errors name the key and the file.
Result<RopeConfig> read_rope_config(const gguf::GgufFile& file, const std::string& arch, int n_rot,
                                    int64_t n_ctx_train, RopeStyle style);

// YaRN's correction range for n_rot dims: the pair indices where a pair's wavelength spans
// beta_fast and beta_slow rotations over the original context, floored / ceiled (unless
// `truncate` is false) and clamped to [0, n_rot - 1], as the reference implementations do.
// gpt-oss's configuration says truncate: false (OpenAI's code keeps the fractional range;
// Hugging Face, vLLM and SGLang follow it, llama.cpp rounds).
void yarn_correction_range(int n_rot, int64_t n_ctx_orig, float freq_base, float beta_fast, float beta_slow,
                           float& low, float& high, bool truncate = true);

}  // namespace strata
