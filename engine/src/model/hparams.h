// HParams: the shape and constants of a Llama-family model, read from GGUF metadata.
// Plain value type.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backend/device.h"
#include "model/rope_config.h"
#include "strata/plan.h"
#include "strata/status.h"

namespace strata {

namespace gguf { class GgufFile; }

struct HParams {
    std::string arch;          // "llama", "qwen2", ..., "qwen3moe", "gpt-oss", "glm4moe" (hparams.cpp's table)
    int64_t n_vocab = 0;
    int64_t n_ctx_train = 0;
    int64_t n_embd = 0;
    int64_t n_layer = 0;       // blocks that run: block_count less the trailing NextN layers
    int64_t n_layer_nextn = 0; // GLM-4.5: NextN / multi-token-prediction blocks after them in the
                               // file (counted in block_count), never run nor loaded
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

    // Mixture of experts (Mixtral: 'llama' with expert keys; qwen3moe, gpt-oss, glm4moe): every
    // layer's FFN from n_layer_dense_lead on is n_expert gated FFNs of n_ff_exp rows and a router
    // (the leading layers have an ordinary FFN of n_ff rows); 0 experts = a dense model.
    int64_t n_expert = 0;
    int64_t n_ff_exp = 0;          // expert_feed_forward_length (Mixtral: feed_forward_length)
    MoeRouting moe;                // n_expert, n_used (expert_used_count), gating, normalization, scale
    int64_t n_layer_dense_lead = 0;  // GLM-4.5: leading_dense_block_count
    // GLM-4.5: n_expert_shared shared experts, stored as one gated FFN of n_ff_shexp =
    // n_expert_shared · n_ff_exp rows (ffn_{gate,up,down}_shexp), run for every token and added
    // to the routed experts' sum.
    int64_t n_expert_shared = 0;
    int64_t n_ff_shexp = 0;
    bool expert_selection_bias = false;  // GLM-4.5: exp_probs_b, the router's choice-only bias
    bool is_moe() const { return n_expert > 0; }
    bool is_moe_layer(int64_t il) const { return n_expert > 0 && il >= n_layer_dense_lead; }

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
// What an architecture does with experts (hparams.cpp's table, the one list the loader and the
// support check read): none, optional (llama: Mixtral files), or required (qwen3moe, gpt-oss,
// glm4moe); and whether it runs shared experts (glm4moe).
enum class ExpertSupport { none, optional, required };
ExpertSupport architecture_experts(const std::string& arch);
bool architecture_runs_shared_experts(const std::string& arch);
// "llama, qwen2, ... and mistral3", for messages.
std::string supported_architecture_list();
// The same names, in the table's order.
std::vector<std::string> supported_architecture_names();

// Reads what an architecture adds beyond the Llama block (Gemma's norms, caps and sliding
// windows, Mistral 3's attention temperature) into `hp`, whose shape and RoPE are read already.
// hparams_arch.cpp.
Status read_arch_features(const gguf::GgufFile& file, HParams& hp);

// Reads the expert keys (expert_count, expert_used_count, expert_feed_forward_length,
// expert_weights_norm, expert_weights_scale, expert_gating_func, expert_shared_count,
// leading_dense_block_count, expert_group_count) and nextn_predict_layers into `hp` (n_layer
// becomes the blocks that run); an architecture that needs experts without them, counts out of
// range or a routing Strata does not implement is an error naming the key. hparams_moe.cpp.
Status read_moe_features(const gguf::GgufFile& file, HParams& hp);

// Reads and checks the hparams (every error names the key and the file).
Result<HParams> read_hparams(const gguf::GgufFile& file);

}  // namespace strata
