#include "plan/memory_estimate.h"

#include <algorithm>

namespace strata {

namespace {
constexpr uint64_t kAlign = 256;
uint64_t align_up(uint64_t x) { return (x + kAlign - 1) / kAlign * kAlign; }

// Sequentially places regions; a zero-size region gets the current offset and no space.
struct Placer {
    uint64_t offset = 0;
    uint64_t place(uint64_t bytes) {
        const uint64_t at = offset;
        offset = align_up(offset + bytes);
        return at;
    }
};
}  // namespace

uint64_t kv_row_bytes(int64_t n_embd_kv, KvCacheType type) {
    switch (type) {
        case KvCacheType::f32: return static_cast<uint64_t>(n_embd_kv) * 4;
        case KvCacheType::f16: return static_cast<uint64_t>(n_embd_kv) * 2;
        case KvCacheType::q8_0: return static_cast<uint64_t>((n_embd_kv + 31) / 32) * 34;
    }
    return 0;
}

int64_t kv_layer_rows(const ModelFootprint& model, int64_t il, int64_t n_ctx, int64_t n_batch) {
    if (!model.swa.slides(il)) return n_ctx;
    return std::min(n_ctx, model.swa.window + std::max<int64_t>(1, n_batch) - 1);
}

uint64_t kv_cache_bytes(const ModelFootprint& model, int layer_begin, int n_layers, int64_t n_ctx, int64_t n_batch,
                        int n_seq, KvCacheType type) {
    // K and V, per layer, per sequence, per row held: one row each.
    uint64_t rows = 0;
    for (int il = layer_begin; il < layer_begin + n_layers; ++il)
        rows += static_cast<uint64_t>(kv_layer_rows(model, il, n_ctx, n_batch));
    return 2ull * rows * static_cast<uint64_t>(n_seq) * kv_row_bytes(model.n_embd_kv, type);
}

ScratchLayout make_scratch_layout(const ModelFootprint& m, const ScratchParams& p) {
    const uint64_t f = 4;  // float32 activations
    const uint64_t nb = static_cast<uint64_t>(std::max<int64_t>(1, p.n_batch));
    const uint64_t n_embd = static_cast<uint64_t>(m.n_embd);
    const uint64_t head_dim = m.head_dim > 0 ? static_cast<uint64_t>(m.head_dim)
                              : m.n_head > 0 ? n_embd / static_cast<uint64_t>(m.n_head) : 0;
    const uint64_t n_embd_q = head_dim * static_cast<uint64_t>(m.n_head);
    const uint64_t n_kv = static_cast<uint64_t>(m.n_embd_kv);
    // A MoE model's FFN rows are its experts' (its dense feed_forward_length is unused), or its
    // leading dense layers' or shared experts' where those are wider (GLM-4.5).
    int64_t ff = m.n_ff;
    if (m.is_moe()) ff = std::max(m.n_ff_exp, std::max(m.n_ff_shexp, m.n_layer_dense_lead > 0 ? m.n_ff : int64_t{0}));
    const uint64_t n_ff = static_cast<uint64_t>(ff);
    const uint64_t widest = std::max(n_embd, n_ff);

    ScratchLayout s;
    Placer pl;
    s.hidden = pl.place(static_cast<uint64_t>(std::max(1, p.n_seq)) * nb * n_embd * f);
    s.cur = pl.place(nb * n_embd * f);
    s.q = pl.place(nb * n_embd_q * f);
    s.k = pl.place(nb * n_kv * f);
    s.v = pl.place(nb * n_kv * f);
    s.attn = pl.place(nb * n_embd_q * f);
    s.gate = pl.place(nb * n_ff * f);
    s.up = pl.place(nb * n_ff * f);
    if (m.is_moe()) {
        const uint64_t used = static_cast<uint64_t>(m.n_expert_used);
        s.ffn_out = pl.place(nb * n_embd * f);
        s.moe_logits = pl.place(nb * static_cast<uint64_t>(m.n_expert) * f);
        s.moe_ids = pl.place(nb * used * 4);
        s.moe_weights = pl.place(nb * used * f);
        s.moe_x = pl.place(nb * n_embd * f);
        s.moe_y = pl.place(nb * n_embd * f);
    }
    s.tokens = pl.place(p.first_stage ? nb * 4 : 0);
    // One row of logits per sequence of a batch (continuous batching samples each sequence).
    const uint64_t logit_rows = std::min<uint64_t>(static_cast<uint64_t>(std::max(1, p.n_seq)), nb);
    s.logits = pl.place(p.last_stage ? logit_rows * static_cast<uint64_t>(m.n_vocab) * f : 0);
    if (p.device_type == DeviceType::cpu) {
        // Per thread: the scores of one KV head's group of query heads over the context.
        const uint64_t group = m.n_head_kv > 0 ? static_cast<uint64_t>(m.n_head / m.n_head_kv) : 1;
        s.attn_scores = pl.place(static_cast<uint64_t>(std::max(1, p.n_threads)) * group *
                                 static_cast<uint64_t>(p.n_ctx) * f);
        // Widest activation row quantized to 8 bits plus per-block scales (≤ 1.25 bytes/value).
        s.act_quant = pl.place(nb * widest * 5 / 4 + 4096);
        s.device_extra_bytes = 0;
    } else {
        // Split-K attention partials: per head, up to 256 chunks of (max, sum, head_dim) for a
        // group of at most 8 tokens — longer batches run in groups of 8 or use the tiled
        // prefill kernel, which needs no partials (backend/cuda/cuda_exec.cpp).
        const uint64_t split_tokens = std::min<uint64_t>(nb, 8);
        s.attn_scores = pl.place(static_cast<uint64_t>(m.n_head) * split_tokens * 256 * (2 + head_dim) * f);
        s.act_quant = pl.place(nb * widest * 5 / 4 + 4096);
        // The matmul workspace, the LAST region (the CUDA device takes it from the end of the
        // scratch buffer a matmul writes into; backend/cuda/cuda_gemm_plan.h): cuBLAS workspace
        // (32 MiB) + F16 weight tiles (two buffers of half of 4096 rows of the widest matrix
        // row) + the F16 copy of the activations for cublasGemmEx.
        const uint64_t widest_cols = std::max(widest, n_embd_q);
        s.device_extra_bytes = align_up(32ull << 20) + align_up(4096ull * widest_cols * 2) +
                               align_up(nb * widest_cols * 2);
    }
    s.device_extra = pl.place(s.device_extra_bytes);
    s.total = pl.offset;
    return s;
}

ExpertScratchLayout make_expert_scratch_layout(const ModelFootprint& m, int64_t n_batch) {
    const uint64_t f = 4;
    const uint64_t nb = static_cast<uint64_t>(std::max<int64_t>(1, n_batch));
    const uint64_t n_embd = static_cast<uint64_t>(m.n_embd), n_ff = static_cast<uint64_t>(m.n_ff_exp);
    const uint64_t used = static_cast<uint64_t>(m.n_expert_used);
    ExpertScratchLayout s;
    Placer pl;
    s.logits = pl.place(nb * static_cast<uint64_t>(m.n_expert) * f);
    s.ids = pl.place(nb * used * 4);
    s.weights = pl.place(nb * used * f);
    s.moe_x = pl.place(nb * n_embd * f);
    s.moe_y = pl.place(nb * n_embd * f);
    s.gate = pl.place(nb * n_ff * f);
    s.up = pl.place(nb * n_ff * f);
    s.act_quant = pl.place(nb * std::max(n_embd, n_ff) * 5 / 4 + 4096);
    s.total = pl.offset;
    return s;
}

}  // namespace strata
