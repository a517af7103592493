// The Llama-family transformer block, written once against DeviceOps so it runs on any device.
// qwen2 (q/k/v biases), qwen3 (per-head q/k RMSNorm), phi3 (fused tensors, split at load),
// Gemma 2/3 (post-norms, GeGLU, soft caps, sliding windows), Mistral 3 (attention
// temperature), qwen3moe (experts) and gpt-oss (attention sinks, an output bias, biased
// experts with a clamped SwiGLU) are flags in HParams, not copies.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "backend/device.h"
#include "model/hparams.h"
#include "model/model_tensors.h"

namespace strata {

// A mixture-of-experts FFN's weights on the device that runs it: the router and every expert.
struct MoeWeights {
    std::unique_ptr<DeviceWeight> router;                      // (n_expert, n_embd)
    std::unique_ptr<DeviceWeight> router_bias;                 // gpt-oss: (n_expert), else null
    std::unique_ptr<DeviceWeight> selection_bias;              // glm4moe: (n_expert) choice bias, else null
    std::vector<std::unique_ptr<DeviceWeight>> gate, up, down;  // (n_expert) each
    std::vector<std::unique_ptr<DeviceWeight>> gate_bias, up_bias, down_bias;  // gpt-oss, else empty
    ExpertWeights view;  // non-owning pointers to the above, for DeviceOps::moe_ffn (set by upload_experts)
};

// One block's weights on one device. Optional members are null when the architecture lacks them.
struct LayerWeights {
    std::unique_ptr<DeviceWeight> attn_norm, wq, wk, wv, wo, bq, bk, bv, bo, sinks, q_norm, k_norm;
    std::unique_ptr<DeviceWeight> ffn_norm, w_gate, w_up, w_down, post_attn_norm, post_ffn_norm;
    std::unique_ptr<DeviceWeight> shexp_gate, shexp_up, shexp_down;  // glm4moe: the shared experts (LayerTensors)
    std::unique_ptr<DeviceWeight> rope_factors;  // (n_rot/2) F32, the model's RoPE frequency factors
    std::unique_ptr<MoeWeights> moe;             // MoE layers whose experts sit on this device
};

// Working memory of a MoE FFN on the device that runs it.
struct MoeBlockScratch {
    float* logits = nullptr;    // (n_batch, n_expert)
    int32_t* ids = nullptr;     // (n_batch, n_used)
    float* weights = nullptr;   // (n_batch, n_used)
    MoeScratch experts;         // DeviceOps::moe_ffn's regions
};

// out = the MoE FFN of x (router, routing, experts), all on the device of `ops`.
// x, out: (n_tok, n_embd).
Status moe_block_forward(DeviceOps& ops, const HParams& hp, const MoeWeights& w, const float* x, int64_t n_tok,
                         const MoeBlockScratch& s, float* out);

// Runs layer il's MoE FFN where its experts live when that is not the layer's device (the
// stage moves x there and the result back). Driven by the stage's thread.
class RemoteExperts {
public:
    virtual ~RemoteExperts() = default;
    // x, out: (n_tok, n_embd) on the layer's device.
    virtual Status run(int64_t il, const float* x, int64_t n_tok, float* out) = 0;
};

// Working memory of one forward step, on the stage's device (regions of its scratch buffer).
struct LayerScratch {
    float* cur;     // (n_tok, n_embd)
    float* q;       // (n_tok, n_embd_q)
    float* k;       // (n_tok, n_embd_kv)
    float* v;       // (n_tok, n_embd_kv)
    float* attn;    // (n_tok, n_embd_q)
    float* gate;    // (n_tok, max(n_ff, n_ff_exp, n_ff_shexp)) as the model's layers need
    float* up;      // (n_tok, the same)
    float* scores;  // attention scratch (see DeviceOps::attention)
    float* ffn_out; // (n_tok, n_embd)  MoE FFN output
    MoeBlockScratch moe;
};

// One sequence's rows in a batch: n_tok consecutive rows at positions pos0 .. pos0+n_tok-1,
// whose keys and values go to (and whose queries read) that sequence's cache `kv`.
struct SequenceRows {
    KvView kv;
    int64_t pos0 = 0;
    int64_t n_tok = 0;
};

// x ← x + attention(norm(x)); x ← x + ffn(norm(x)) for a batch of rows that may belong to
// several sequences at different positions (continuous batching): `seqs` lists them in row order.
// Everything but RoPE, the cache store and attention runs once over all rows (weights are read
// once per batch); those three run per sequence. (Gemma: each branch's output normed again
// before the add.) il: the layer's index in the model (sliding-window layers and their RoPE,
// leading dense layers of MoE models). x: (Σ n_tok, n_embd) residual stream, updated in place. A
// MoE layer without w.moe runs its routed experts through `remote` (which must then be given);
// its shared experts (glm4moe) run here.
Status llama_layer_forward(DeviceOps& ops, const HParams& hp, int64_t il, const LayerWeights& w,
                           std::span<const SequenceRows> seqs, float* x, const LayerScratch& s,
                           RemoteExperts* remote = nullptr);

// One sequence's n_tok rows at positions pos0.. (the single-sequence form of the above).
inline Status llama_layer_forward(DeviceOps& ops, const HParams& hp, int64_t il, const LayerWeights& w,
                                  const KvView& kv, int64_t pos0, int64_t n_tok, float* x, const LayerScratch& s,
                                  RemoteExperts* remote = nullptr) {
    const SequenceRows one{kv, pos0, n_tok};
    return llama_layer_forward(ops, hp, il, w, std::span<const SequenceRows>(&one, 1), x, s, remote);
}

}  // namespace strata
