// ModelTensors: every weight of a Llama-family model located in the GGUF mapping, with shapes
// checked against the hparams. Host-side views; nothing is copied. Valid while the GgufFile lives.
#pragma once

#include <vector>

#include "backend/device.h"
#include "model/hparams.h"

namespace strata {

namespace gguf { class GgufFile; }

struct LayerTensors {
    HostTensor attn_norm;  // (n_embd)
    HostTensor wq;         // (n_embd_q, n_embd)   rows × cols
    HostTensor wk;         // (n_embd_kv, n_embd)
    HostTensor wv;         // (n_embd_kv, n_embd)
    HostTensor wo;         // (n_embd, n_embd_q)
    HostTensor bq, bk, bv; // qwen2, gpt-oss: (n_embd_q), (n_embd_kv), (n_embd_kv)
    HostTensor bo;         // gpt-oss: (n_embd), the attention output's bias
    HostTensor sinks;      // gpt-oss: (n_head) attention sinks (AttentionParams)
    HostTensor q_norm, k_norm;  // qwen3, and GLM-4.5 files that have them: (head_dim)
    HostTensor post_attn_norm;  // Gemma only: (n_embd), on the attention output
    HostTensor ffn_norm;   // (n_embd); gpt-oss and glm4moe files name it post_attention_norm
    HostTensor w_gate;     // (n_ff, n_embd)   dense layers (and a MoE model's leading ones)
    HostTensor w_up;       // (n_ff, n_embd)
    HostTensor w_down;     // (n_embd, n_ff)
    // GLM-4.5's shared experts, one gated FFN of n_ff_shexp rows run for every token: part of
    // the layer's dense part, not of its experts unit (LayerTensors::all(false) has them). They
    // are read by every token like attention, are one expert's size against n_expert routed
    // ones, and their output joins the residual on the layer's device, so they sit with the
    // attention (a GPU when the layer is on one) and the expert host still takes one row per
    // token each way.
    HostTensor shexp_gate, shexp_up;  // (n_ff_shexp, n_embd)
    HostTensor shexp_down;            // (n_embd, n_ff_shexp)
    HostTensor post_ffn_norm;   // Gemma only: (n_embd), on the FFN output
    // Mixture of experts, instead of w_gate/w_up/w_down: the router (n_expert, n_embd) and each
    // expert's matrices, views of rows of the file's 3-D ffn_{gate,up,down}_exps tensors (or of
    // older files' per-expert ffn_gate.E tensors).
    HostTensor router;
    std::vector<HostTensor> exp_gate, exp_up;  // (n_expert) of (n_ff_exp, n_embd)
    std::vector<HostTensor> exp_down;          // (n_expert) of (n_embd, n_ff_exp)
    // gpt-oss: the router's bias (n_expert) and each expert's biases, F32 vectors that are views
    // of rows of the file's 2-D ffn_{gate,up,down}_exps.bias: (n_ff_exp), (n_ff_exp), (n_embd).
    HostTensor router_bias;
    std::vector<HostTensor> exp_gate_bias, exp_up_bias, exp_down_bias;
    // GLM-4.5: exp_probs_b, the (n_expert) F32 bias added to the router's scores to choose the
    // experts only (MoeRouting); it goes with the router.
    HostTensor selection_bias;

    // Every tensor present in this layer, for uploading and byte counts; the router and the
    // experts only with `with_experts` (they are a unit the planner may place on another device).
    std::vector<const HostTensor*> all(bool with_experts = true) const;
    // The router (and its biases), then each expert's gate, up, down (and their biases).
    std::vector<const HostTensor*> experts() const;
};

struct ModelTensors {
    HostTensor token_embd;    // (n_vocab, n_embd), role embedding
    HostTensor output_norm;   // (n_embd)
    HostTensor output;        // (n_vocab, n_embd), role matrix (token_embd's data when tied)
    bool output_tied = false;
    std::vector<LayerTensors> layers;  // (n_layer): the blocks that run; NextN blocks are not located
    // RoPE frequency factors (RopeParams), each (n_rot/2) F32 and optional: Llama 3's
    // rope_freqs, or LongRoPE's pair for contexts within / beyond the original one.
    HostTensor rope_freqs, rope_factors_short, rope_factors_long;

    // The factors every layer uses at a context of n_ctx positions: LongRoPE's long ones past
    // the original context (chosen once at load, so the KV cache is rotated one way), else
    // the short ones or rope_freqs; a tensor with null data when the model has none.
    const HostTensor& rope_factors(int64_t n_ctx, int64_t n_ctx_orig) const;
};

// Locates and shape-checks every tensor; errors name the tensor, expected and actual shape.
Result<ModelTensors> collect_model_tensors(const gguf::GgufFile& file, const HParams& hp);

}  // namespace strata
