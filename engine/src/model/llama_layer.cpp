#include "model/llama_layer.h"

#include <algorithm>
#include <cmath>

namespace strata {

namespace {

// Mistral 3's attention temperature for a query at `pos`: 1 + β·ln(1 + floor(pos / n_ctx_orig)).
float attention_temperature(const HParams& hp, int64_t pos) {
    return 1.0f + hp.attn_temp_scale * std::log1p(static_cast<float>(pos / hp.n_ctx_orig));
}

}  // namespace

Status moe_block_forward(DeviceOps& ops, const HParams& hp, const MoeWeights& w, const float* x, int64_t n_tok,
                         const MoeBlockScratch& s, float* out) {
    STRATA_RETURN_IF_ERROR(ops.matmul(*w.router, x, n_tok, s.logits));  // (n_tok, n_expert)
    if (w.router_bias) STRATA_RETURN_IF_ERROR(ops.add_bias(s.logits, *w.router_bias, n_tok, hp.n_expert));
    STRATA_RETURN_IF_ERROR(ops.moe_route(s.logits, n_tok, hp.moe, w.selection_bias.get(), s.ids, s.weights));
    return ops.moe_ffn(w.view, hp.ffn_activation(), x, n_tok, s.ids, s.weights, hp.moe.n_used, s.experts, out);
}

namespace {

// RoPE, the cache store and attention for one sequence's rows (q, k, v, attn point at its first
// row).
Status attend_sequence(DeviceOps& ops, const HParams& hp, int64_t il, const LayerWeights& w, const SequenceRows& sr,
                       float* q, float* k, const float* v, float* scores, float* attn) {
    const int64_t n_q = hp.n_embd_q(), hd = hp.head_dim, pos0 = sr.pos0, n_tok = sr.n_tok;
    const RopeParams& rope = hp.rope_of(il);
    STRATA_RETURN_IF_ERROR(ops.rope(q, n_tok, hp.n_head, hd, pos0, rope, w.rope_factors.get()));
    STRATA_RETURN_IF_ERROR(ops.rope(k, n_tok, hp.n_head_kv, hd, pos0, rope, w.rope_factors.get()));
    STRATA_RETURN_IF_ERROR(ops.store_kv(k, v, sr.kv, pos0, n_tok));
    AttentionParams ap;
    ap.scale = hp.attention_scale();
    ap.softcap = hp.attn_softcap;
    ap.window = hp.swa.slides(il) ? hp.swa.window : 0;
    ap.sinks = w.sinks.get();
    if (hp.attn_temp_scale == 0.0f)
        return ops.attention(q, sr.kv, pos0, n_tok, hp.n_head, hp.n_head_kv, hd, ap, scores, attn);
    // The temperature changes only every n_ctx_orig positions: one attention call per run of
    // tokens that share it, its factor folded into the score scale (q·k·t·scale).
    for (int64_t t0 = 0; t0 < n_tok;) {
        const int64_t bucket = (pos0 + t0) / hp.n_ctx_orig;
        const int64_t t1 = std::min(n_tok, (bucket + 1) * hp.n_ctx_orig - pos0);
        AttentionParams seg = ap;
        seg.scale = ap.scale * attention_temperature(hp, pos0 + t0);
        STRATA_RETURN_IF_ERROR(ops.attention(q + t0 * n_q, sr.kv, pos0 + t0, t1 - t0, hp.n_head, hp.n_head_kv, hd, seg,
                                             scores, attn + t0 * n_q));
        t0 = t1;
    }
    return {};
}

}  // namespace

Status llama_layer_forward(DeviceOps& ops, const HParams& hp, int64_t il, const LayerWeights& w,
                           std::span<const SequenceRows> seqs, float* x, const LayerScratch& s, RemoteExperts* remote) {
    const int64_t n_embd = hp.n_embd, n_q = hp.n_embd_q(), n_kv = hp.n_embd_kv(), hd = hp.head_dim;
    int64_t n_tok = 0;
    for (const SequenceRows& sr : seqs) n_tok += sr.n_tok;

    // ---- attention ----
    STRATA_RETURN_IF_ERROR(ops.rms_norm(x, *w.attn_norm, hp.rms_eps, n_tok, n_embd, s.cur));
    STRATA_RETURN_IF_ERROR(ops.matmul(*w.wq, s.cur, n_tok, s.q));  // (n_tok, n_embd_q)
    STRATA_RETURN_IF_ERROR(ops.matmul(*w.wk, s.cur, n_tok, s.k));  // (n_tok, n_embd_kv)
    STRATA_RETURN_IF_ERROR(ops.matmul(*w.wv, s.cur, n_tok, s.v));  // (n_tok, n_embd_kv)
    if (w.bq) {
        STRATA_RETURN_IF_ERROR(ops.add_bias(s.q, *w.bq, n_tok, n_q));
        STRATA_RETURN_IF_ERROR(ops.add_bias(s.k, *w.bk, n_tok, n_kv));
        STRATA_RETURN_IF_ERROR(ops.add_bias(s.v, *w.bv, n_tok, n_kv));
    }
    if (w.q_norm) {  // per-head norms: rows of head_dim values
        STRATA_RETURN_IF_ERROR(ops.rms_norm(s.q, *w.q_norm, hp.rms_eps, n_tok * hp.n_head, hd, s.q));
        STRATA_RETURN_IF_ERROR(ops.rms_norm(s.k, *w.k_norm, hp.rms_eps, n_tok * hp.n_head_kv, hd, s.k));
    }
    int64_t row = 0;
    for (const SequenceRows& sr : seqs) {
        STRATA_RETURN_IF_ERROR(attend_sequence(ops, hp, il, w, sr, s.q + row * n_q, s.k + row * n_kv,
                                               s.v + row * n_kv, s.scores, s.attn + row * n_q));
        row += sr.n_tok;
    }
    STRATA_RETURN_IF_ERROR(ops.matmul(*w.wo, s.attn, n_tok, s.cur));  // (n_tok, n_embd)
    if (w.bo) STRATA_RETURN_IF_ERROR(ops.add_bias(s.cur, *w.bo, n_tok, n_embd));
    if (w.post_attn_norm)
        STRATA_RETURN_IF_ERROR(ops.rms_norm(s.cur, *w.post_attn_norm, hp.rms_eps, n_tok, n_embd, s.cur));
    STRATA_RETURN_IF_ERROR(ops.add(x, s.cur, n_tok * n_embd));

    // ---- feed-forward (SwiGLU, or GeGLU for Gemma; experts for MoE models) ----
    STRATA_RETURN_IF_ERROR(ops.rms_norm(x, *w.ffn_norm, hp.rms_eps, n_tok, n_embd, s.cur));
    if (hp.is_moe_layer(il)) {
        if (w.moe) {
            STRATA_RETURN_IF_ERROR(moe_block_forward(ops, hp, *w.moe, s.cur, n_tok, s.moe, s.ffn_out));
        } else if (remote) {
            STRATA_RETURN_IF_ERROR(remote->run(il, s.cur, n_tok, s.ffn_out));
        } else {
            return Status(ErrorCode::internal, "layer " + std::to_string(il) + " has no experts to run");
        }
        if (w.post_ffn_norm)
            STRATA_RETURN_IF_ERROR(ops.rms_norm(s.ffn_out, *w.post_ffn_norm, hp.rms_eps, n_tok, n_embd, s.ffn_out));
        STRATA_RETURN_IF_ERROR(ops.add(x, s.ffn_out, n_tok * n_embd));
        if (!w.shexp_gate) return {};
        // Shared experts (glm4moe; no post-FFN norm there): x += down(silu(gate·h)·(up·h)) of the
        // same normed input h, still in s.cur. gate/up are free again once the experts ran.
        const int64_t n_sh = hp.n_ff_shexp;
        STRATA_RETURN_IF_ERROR(ops.matmul(*w.shexp_gate, s.cur, n_tok, s.gate));  // (n_tok, n_ff_shexp)
        STRATA_RETURN_IF_ERROR(ops.matmul(*w.shexp_up, s.cur, n_tok, s.up));      // (n_tok, n_ff_shexp)
        STRATA_RETURN_IF_ERROR(ops.swiglu(s.gate, s.up, n_tok * n_sh, s.gate));
        STRATA_RETURN_IF_ERROR(ops.matmul(*w.shexp_down, s.gate, n_tok, s.ffn_out));  // (n_tok, n_embd)
        return ops.add(x, s.ffn_out, n_tok * n_embd);
    }
    STRATA_RETURN_IF_ERROR(ops.matmul(*w.w_gate, s.cur, n_tok, s.gate));  // (n_tok, n_ff)
    STRATA_RETURN_IF_ERROR(ops.matmul(*w.w_up, s.cur, n_tok, s.up));      // (n_tok, n_ff)
    if (hp.gelu_ffn) STRATA_RETURN_IF_ERROR(ops.geglu(s.gate, s.up, n_tok * hp.n_ff, s.gate));
    else STRATA_RETURN_IF_ERROR(ops.swiglu(s.gate, s.up, n_tok * hp.n_ff, s.gate));
    STRATA_RETURN_IF_ERROR(ops.matmul(*w.w_down, s.gate, n_tok, s.cur));  // (n_tok, n_embd)
    if (w.post_ffn_norm)
        STRATA_RETURN_IF_ERROR(ops.rms_norm(s.cur, *w.post_ffn_norm, hp.rms_eps, n_tok, n_embd, s.cur));
    return ops.add(x, s.cur, n_tok * n_embd);
}

}  // namespace strata
