// The Llama-family transformer block, written once against DeviceOps so it runs on any device.
// qwen2 (q/k/v biases), qwen3 (per-head q/k RMSNorm), phi3 (fused tensors, split at load),
// Gemma 2/3 (post-norms, GeGLU, soft caps, sliding windows) and Mistral 3 (attention
// temperature) are flags in HParams, not copies.
#pragma once

#include <memory>

#include "backend/device.h"
#include "model/hparams.h"
#include "model/model_tensors.h"

namespace strata {

// One block's weights on one device. Optional members are null when the architecture lacks them.
struct LayerWeights {
    std::unique_ptr<DeviceWeight> attn_norm, wq, wk, wv, wo, bq, bk, bv, q_norm, k_norm;
    std::unique_ptr<DeviceWeight> ffn_norm, w_gate, w_up, w_down, post_attn_norm, post_ffn_norm;
    std::unique_ptr<DeviceWeight> rope_factors;  // (n_rot/2) F32, the model's RoPE frequency factors
};

// Working memory of one forward step, on the stage's device (regions of its scratch buffer).
struct LayerScratch {
    float* cur;     // (n_tok, n_embd)
    float* q;       // (n_tok, n_embd_q)
    float* k;       // (n_tok, n_embd_kv)
    float* v;       // (n_tok, n_embd_kv)
    float* attn;    // (n_tok, n_embd_q)
    float* gate;    // (n_tok, n_ff)
    float* up;      // (n_tok, n_ff)
    float* scores;  // attention scratch (see DeviceOps::attention)
};

// x ← x + attention(norm(x)); x ← x + ffn(norm(x)), for tokens at positions pos0 .. pos0+n_tok-1
// (Gemma: each branch's output normed again before the add). il: the layer's index in the
// model (sliding-window layers and their RoPE). x: (n_tok, n_embd) residual stream, updated in
// place; kv: this layer's cache for the sequence.
Status llama_layer_forward(DeviceOps& ops, const HParams& hp, int64_t il, const LayerWeights& w, const KvView& kv,
                           int64_t pos0, int64_t n_tok, float* x, const LayerScratch& s);

}  // namespace strata
