#include "model/llama_layer.h"

#include <cmath>

namespace strata {

Status llama_layer_forward(DeviceOps& ops, const HParams& hp, const LayerWeights& w, const KvView& kv,
                           int64_t pos0, int64_t n_tok, float* x, const LayerScratch& s) {
    const int64_t n_embd = hp.n_embd, n_q = hp.n_embd_q(), n_kv = hp.n_embd_kv(), hd = hp.head_dim;

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
    STRATA_RETURN_IF_ERROR(ops.rope(s.q, n_tok, hp.n_head, hd, pos0, hp.rope, w.rope_factors.get()));
    STRATA_RETURN_IF_ERROR(ops.rope(s.k, n_tok, hp.n_head_kv, hd, pos0, hp.rope, w.rope_factors.get()));
    STRATA_RETURN_IF_ERROR(ops.store_kv(s.k, s.v, kv, pos0, n_tok));
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    STRATA_RETURN_IF_ERROR(
        ops.attention(s.q, kv, pos0, n_tok, hp.n_head, hp.n_head_kv, hd, scale, s.scores, s.attn));
    STRATA_RETURN_IF_ERROR(ops.matmul(*w.wo, s.attn, n_tok, s.cur));  // (n_tok, n_embd)
    STRATA_RETURN_IF_ERROR(ops.add(x, s.cur, n_tok * n_embd));

    // ---- feed-forward (SwiGLU) ----
    STRATA_RETURN_IF_ERROR(ops.rms_norm(x, *w.ffn_norm, hp.rms_eps, n_tok, n_embd, s.cur));
    STRATA_RETURN_IF_ERROR(ops.matmul(*w.w_gate, s.cur, n_tok, s.gate));  // (n_tok, n_ff)
    STRATA_RETURN_IF_ERROR(ops.matmul(*w.w_up, s.cur, n_tok, s.up));      // (n_tok, n_ff)
    STRATA_RETURN_IF_ERROR(ops.swiglu(s.gate, s.up, n_tok * hp.n_ff, s.gate));
    STRATA_RETURN_IF_ERROR(ops.matmul(*w.w_down, s.gate, n_tok, s.cur));  // (n_tok, n_embd)
    return ops.add(x, s.cur, n_tok * n_embd);
}

}  // namespace strata
