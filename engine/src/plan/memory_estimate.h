// Memory formulas shared by the planner (to predict) and the runtime (to allocate): the runtime
// carves its scratch buffer from exactly this layout, so the plan's numbers are the bytes that
// get allocated. Pure functions; thread-safe.
#pragma once

#include <cstdint>

#include "strata/device_info.h"
#include "strata/plan.h"

namespace strata {

// Bytes of one K or V row (n_embd_kv values) in the cache type.
uint64_t kv_row_bytes(int64_t n_embd_kv, KvCacheType type);
// Rows layer il's cache holds per sequence: n_ctx, or for a sliding-window layer its window
// plus a batch less one (device.h KvView), when that is fewer.
int64_t kv_layer_rows(const ModelFootprint& model, int64_t il, int64_t n_ctx, int64_t n_batch);
// K and V caches of layers [layer_begin, layer_begin + n_layers), for n_seq sequences of n_ctx
// positions each.
uint64_t kv_cache_bytes(const ModelFootprint& model, int layer_begin, int n_layers, int64_t n_ctx, int64_t n_batch,
                        int n_seq, KvCacheType type);

struct ScratchParams {
    int64_t n_batch = 512;
    int64_t n_ctx = 4096;
    int n_seq = 1;
    bool first_stage = false;   // holds the token ids and the embedding output
    bool last_stage = false;    // holds the final norm and logits
    DeviceType device_type = DeviceType::cpu;
    int n_threads = 1;          // CPU: per-thread attention rows
};

// Byte offsets of each region in a stage's scratch buffer (all 256-byte aligned).
// Activations are F32. Shapes are per region; "n_batch" rows.
struct ScratchLayout {
    uint64_t hidden = 0;      // (n_seq, n_batch, n_embd)  stage input, one lane per batch in flight
    uint64_t cur = 0;         // (n_batch, n_embd)         normed input / attention output proj
    uint64_t q = 0;           // (n_batch, n_embd_q)
    uint64_t k = 0;           // (n_batch, n_embd_kv)
    uint64_t v = 0;           // (n_batch, n_embd_kv)
    uint64_t attn = 0;        // (n_batch, n_embd_q)       attention output before wo
    uint64_t gate = 0;        // (n_batch, n_ff)
    uint64_t up = 0;          // (n_batch, n_ff)
    uint64_t tokens = 0;      // (n_batch) int32           first stage only
    uint64_t logits = 0;      // (min(n_seq, n_batch), n_vocab) last stage only: a batch's sequences' logits
    uint64_t attn_scores = 0; // CPU: (n_threads, n_head/n_head_kv, n_ctx); CUDA: split-K partials
    uint64_t ffn_out = 0;     // (n_batch, n_embd)          MoE models: the experts' sum
    uint64_t moe_logits = 0;  // (n_batch, n_expert)        MoE models: router output
    uint64_t moe_ids = 0;     // (n_batch, n_used) int32    chosen experts
    uint64_t moe_weights = 0; // (n_batch, n_used)          their weights
    uint64_t moe_x = 0;       // (n_batch, n_embd)          rows routed to one expert
    uint64_t moe_y = 0;       // (n_batch, n_embd)          that expert's output
    uint64_t act_quant = 0;   // quantized activations for the matmul kernels: n_batch × max(n_embd, n_ff) × 1.25 B
    uint64_t device_extra = 0;// CUDA: cuBLAS workspace + F16 weight tiles + F16 activations. The LAST
                              // region: the CUDA device finds its matmul workspace as the end of the
                              // scratch buffer a matmul writes into.
    uint64_t total = 0;

    uint64_t device_extra_bytes = 0;
};

ScratchLayout make_scratch_layout(const ModelFootprint& model, const ScratchParams& params);

// What a device that runs other devices' experts (PlanRequest::experts) holds for them: a MoE
// FFN's working memory (the rows it is handed and gives back stay in the caller's host memory).
// Same alignment.
struct ExpertScratchLayout {
    uint64_t logits = 0, ids = 0, weights = 0, moe_x = 0, moe_y = 0;  // as in ScratchLayout
    uint64_t gate = 0, up = 0;  // (n_batch, n_ff_exp)
    uint64_t act_quant = 0;
    uint64_t total = 0;
};
ExpertScratchLayout make_expert_scratch_layout(const ModelFootprint& model, int64_t n_batch);

}  // namespace strata
