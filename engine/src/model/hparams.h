// HParams: the shape and constants of a Llama-family model, read from GGUF metadata.
// Plain value type.
#pragma once

#include <cstdint>
#include <string>

#include "backend/device.h"
#include "model/rope_config.h"
#include "strata/status.h"

namespace strata {

namespace gguf { class GgufFile; }

struct HParams {
    std::string arch;          // "llama", "qwen2", "qwen3", "phi3"
    int64_t n_vocab = 0;
    int64_t n_ctx_train = 0;
    int64_t n_embd = 0;
    int64_t n_layer = 0;
    int64_t n_ff = 0;
    int64_t n_head = 0;
    int64_t n_head_kv = 0;
    int64_t head_dim = 0;      // per attention head
    float rms_eps = 1e-5f;
    RopeParams rope;           // without frequency factors (tensors, see ModelTensors)
    RopeScaling rope_scaling = RopeScaling::none;
    float rope_factor = 1.0f;  // rope.scaling.factor
    int64_t n_ctx_orig = 0;    // the context RoPE scaling extends from (original_context_length)
    bool qkv_bias = false;     // qwen2: biases on the q, k, v projections
    bool qk_norm = false;      // qwen3: RMSNorm of each q and k head before rope

    int64_t n_embd_q() const { return n_head * head_dim; }
    int64_t n_embd_kv() const { return n_head_kv * head_dim; }
};

// True for architectures Strata can run.
bool is_supported_architecture(const std::string& arch);

// Reads and checks the hparams (every error names the key and the file).
Result<HParams> read_hparams(const gguf::GgufFile& file);

}  // namespace strata
