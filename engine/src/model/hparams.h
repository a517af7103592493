// HParams: the shape and constants of a Llama-family model, read from GGUF metadata.
// Plain value type.
#pragma once

#include <cstdint>
#include <string>

#include "backend/device.h"
#include "model/rope_config.h"
#include "strata/plan.h"
#include "strata/status.h"

namespace strata {

namespace gguf { class GgufFile; }

struct HParams {
    std::string arch;          // "llama", "qwen2", "qwen3", "phi3", "gemma2", "gemma3", "mistral3", "qwen3moe", "gpt-oss"
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
    bool qkv_bias = false;     // qwen2, gpt-oss: biases on the q, k, v projections
    bool qk_norm = false;      // qwen3, gemma3: RMSNorm of each q and k head before rope

    // What the Gemma and Mistral 3 families add (hparams_arch.cpp reads them; off by default).
    float embd_scale = 0.0f;       // embeddings multiplied by this (Gemma: sqrt(n_embd))
    bool post_norms = false;       // Gemma: RMSNorm of the attention and FFN outputs before the residual add
    bool gelu_ffn = false;         // Gemma: gelu(gate)·up instead of silu(gate)·up
    float attn_scale = 0.0f;       // q·k scale (0: 1/sqrt(head_dim))
    float attn_softcap = 0.0f;     // Gemma 2: scores capped to c·tanh(s/c)
    float final_softcap = 0.0f;    // Gemma 2: logits capped the same way
    SlidingWindow swa;             // which layers see only a window (strata/plan.h)
    RopeParams rope_swa;           // RoPE of sliding layers (Gemma 3: local base, unscaled)
    float attn_temp_scale = 0.0f;  // Mistral 3: q·k scaled by 1 + β·ln(1 + floor(pos / n_ctx_orig))
    // What gpt-oss adds (hparams_arch.cpp; off by default).
    bool attn_sinks = false;       // a learned logit per query head in each softmax's denominator
    bool attn_out_bias = false;    // a bias on the attention output projection
    bool expert_bias = false;      // biases on the router and on each expert's gate, up and down
    bool swiglu_oai = false;       // experts' clamped SwiGLU (FfnActivation::swiglu_oai)

    // Mixture of experts (Mixtral: 'llama' with expert keys; qwen3moe, gpt-oss): every layer's FFN is
    // n_expert gated FFNs of n_ff_exp rows and a router; 0 experts = a dense model.
    int64_t n_expert = 0;
    int64_t n_ff_exp = 0;          // expert_feed_forward_length (Mixtral: feed_forward_length)
    MoeRouting moe;                // n_expert, n_used (expert_used_count), normalization, scale
    bool is_moe() const { return n_expert > 0; }

    const RopeParams& rope_of(int64_t il) const { return swa.slides(il) ? rope_swa : rope; }
    FfnActivation ffn_activation() const {
        return swiglu_oai ? FfnActivation::swiglu_oai : gelu_ffn ? FfnActivation::gelu_tanh : FfnActivation::silu;
    }
    float attention_scale() const;  // attn_scale, or 1/sqrt(head_dim)

    int64_t n_embd_q() const { return n_head * head_dim; }
    int64_t n_embd_kv() const { return n_head_kv * head_dim; }
};

// True for architectures Strata can run.
bool is_supported_architecture(const std::string& arch);
// "llama, qwen2, ... and mistral3", for messages.
std::string supported_architecture_list();

// Reads what an architecture adds beyond the Llama block (Gemma's norms, caps and sliding
// windows, Mistral 3's attention temperature) into `hp`, whose shape and RoPE are read already.
// hparams_arch.cpp.
Status read_arch_features(const gguf::GgufFile& file, HParams& hp);

// Reads the expert keys (expert_count, expert_used_count, expert_feed_forward_length,
// expert_weights_norm, expert_weights_scale) into `hp`; an architecture that needs experts
// without them, or counts out of range, is an error naming the key. hparams_moe.cpp.
Status read_moe_features(const gguf::GgufFile& file, HParams& hp);

// Reads and checks the hparams (every error names the key and the file).
Result<HParams> read_hparams(const gguf::GgufFile& file);

}  // namespace strata
