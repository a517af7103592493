// CudaDevice::run_items: turns planned launch items (cuda_fusion.h) into kernel launches on the
// device stream. Runs under the device lock, eagerly or inside a CUDA graph capture; so it
// allocates nothing and never synchronizes.
#include <cuda_runtime.h>

#include "backend/cuda/cuda_device.h"

namespace strata::cuda {

namespace {

const cuk::WeightView& view_of(const OpWeight& w) { return static_cast<const CudaWeight*>(w.handle)->view(); }
const float* vector_of(const OpWeight& w) { return static_cast<const CudaWeight*>(w.handle)->f32(); }

int kv_type_of(KvCacheType t) {
    return t == KvCacheType::f32 ? cuk::kKvF32 : t == KvCacheType::f16 ? cuk::kKvF16 : cuk::kKvQ8_0;
}

// Width of the slices a plain store_kv writes per block: 32 when rows hold whole 32-blocks (as
// q8_0 needs), else the largest divisor of the row ≤ 1024.
int64_t store_slice(int64_t n_embd_kv) {
    if (n_embd_kv % 32 == 0) return 32;
    for (int64_t s = std::min<int64_t>(n_embd_kv, 1024); s > 1; --s)
        if (n_embd_kv % s == 0) return s;
    return 1;
}

cuk::RopeStoreArgs rope_base(const Op& op) {
    cuk::RopeStoreArgs a;
    a.n_tok = op.n_tok;
    a.head_dim = op.head_dim;
    a.n_rot = op.rope.n_rot;
    a.freq_base = op.rope.freq_base;
    a.freq_scale = op.rope.freq_scale;
    a.neox = op.rope.style == RopeStyle::neox ? 1 : 0;
    a.freq_factors = op.w.handle ? vector_of(op.w) : nullptr;
    a.ext_factor = op.rope.ext_factor;
    a.corr_low = op.rope.corr_low;
    a.corr_high = op.rope.corr_high;
    a.mscale = op.rope.mscale;
    return a;
}

}  // namespace

cudaError_t CudaDevice::run_items(const std::vector<Item>& items, std::string& what) {
    if (n_pos_ > segment_pos_) {  // this segment's position slots
        what = "copying token positions";
        cudaError_t e = cudaMemcpyAsync(pos_dev_.as<int32_t>() + segment_pos_, pos_host_.as<int32_t>() + segment_pos_,
                                              static_cast<size_t>(n_pos_ - segment_pos_) * sizeof(int32_t),
                                              cudaMemcpyHostToDevice, stream_.get());
        if (e != cudaSuccess) return e;
        if (profile_ && (e = profile_->mark(stream_.get(), "copy positions")) != cudaSuccess) return e;
    }
    for (const Item& it : items) {
        cudaError_t e = run_item(it, what);
        if (e == cudaSuccess && profile_) e = profile_->mark(stream_.get(), item_label(it, pending_));
        if (e != cudaSuccess) return e;
    }
    return cudaSuccess;
}

cudaError_t CudaDevice::run_item(const Item& it, std::string& what) {
    const Op& op = pending_[static_cast<size_t>(it.first)];
    what = std::string(item_kind_name(it.kind)) + " (" + op_kind_name(op.kind) + ")";
    const cuk::LaunchOn s(stream_.get(), pdl_);
    switch (it.kind) {
        case ItemKind::quant:
            return cuk::launch_quantize_act(it.act_x, it.act_rows, it.act_cols,
                                            cuk::act_q8_at(it.act, it.act_rows, it.act_cols), s);
        case ItemKind::norm_quant:
            return cuk::launch_rms_norm(op.x, vector_of(op.w), op.eps, op.n_tok, op.n, op.out,
                                        cuk::act_q8_at(it.act, op.n_tok, op.n), s);
        case ItemKind::matvec: {
            cuk::MatvecArgs a;
            a.n_mat = it.n_mat;
            a.row_begin[0] = 0;
            for (int m = 0; m < cuk::kMaxGroup; ++m) {
                if (m < it.n_mat) {
                    const Op& mm = pending_[static_cast<size_t>(it.first + m)];
                    a.w[m] = view_of(mm.w);
                    a.out[m] = mm.out;
                    a.row_begin[m + 1] = a.row_begin[m] + mm.w.n_rows;
                } else {
                    a.row_begin[m + 1] = a.row_begin[m];
                }
            }
            a.n_cols = op.w.n_cols;
            a.n_tok = static_cast<int>(op.n_tok);
            a.x = op.x;
            if (it.act) a.act = cuk::act_q8_at(it.act, op.n_tok, op.w.n_cols);
            a.epilogue = it.epilogue;
            if (it.epilogue == cuk::kEpiResidual) a.residual = const_cast<float*>(pending_[static_cast<size_t>(it.first) + 1].x);
            return op.w.quantized ? cuk::launch_matvec_q(a, s) : cuk::launch_matvec_f(a, s);
        }
        case ItemKind::gemm: return run_gemm(op, it.convert_x, what);
        case ItemKind::rope_store: {
            const Op& k = pending_[static_cast<size_t>(it.first) + 1];
            const Op& st = pending_[static_cast<size_t>(it.first) + 2];
            cuk::RopeStoreArgs a = rope_base(op);
            a.xa = const_cast<float*>(op.x);
            a.n_head_a = op.n_head;
            a.pos_a = pos_dev_.as<int32_t>() + op.pos_slot;
            a.xb = const_cast<float*>(k.x);
            a.n_head_b = k.n_head;
            a.pos_b_rope = pos_dev_.as<int32_t>() + k.pos_slot;
            a.store = 1;
            a.v = st.y;
            a.k_cache = st.kv.k;
            a.v_cache = st.kv.v;
            a.kv_type = kv_type_of(st.kv.type);
            a.n_embd_kv = st.kv.n_embd_kv;
            a.kv_rows = st.kv.rows();
            a.pos_store = pos_dev_.as<int32_t>() + st.pos_slot;
            return cuk::launch_rope_store(a, s);
        }
        case ItemKind::attention: {
            cuk::AttnArgs a;
            a.n_head = op.n_head;
            a.n_head_kv = op.n_head_kv;
            a.head_dim = op.head_dim;
            a.scale = op.scale;
            a.softcap = op.softcap;
            a.window = op.window;
            a.sinks = op.w.handle ? vector_of(op.w) : nullptr;  // CudaOps::attention checked its size
            a.k = op.kv.k;
            a.v = op.kv.v;
            a.kv_type = kv_type_of(op.kv.type);
            a.n_embd_kv = op.kv.n_embd_kv;
            a.n_ctx = op.kv.n_ctx;
            a.n_rows = op.kv.rows();
            a.partial = op.scratch;
            a.chunk_len = op.chunk_len;
            a.n_chunks = op.n_chunks;
            if (!attention_uses_split_k(op.n_tok, op.head_dim)) {
                a.q = op.x;
                a.out = op.out;
                a.n_tok = op.n_tok;
                a.pos = pos_dev_.as<int32_t>() + op.pos_slot;
                // Soft caps, sliding windows (Gemma) and attention sinks (gpt-oss) are in the
                // generic tiled kernel only.
                if (op.softcap != 0.0f || op.window > 0 || op.kv.rows() < op.kv.n_ctx || a.sinks)
                    return cuk::launch_attention_prefill(a, s);
                if (options_.mma_attention && cc_major_ >= 8 && cuk::attention_prefill_mma_supported(op.head_dim, a.kv_type))
                    return cuk::launch_attention_prefill_mma(a, s);
                if (cuk::attention_prefill_hd_supported(op.head_dim) && !options_.generic_attention)
                    return cuk::launch_attention_prefill_hd(a, s);
                return cuk::launch_attention_prefill(a, s);
            }
            // Split-K in groups of 8 tokens (the partials region holds 8), one position slot each.
            const int64_t row = op.n_head * op.head_dim;
            for (int64_t t0 = 0, g = 0; t0 < op.n_tok; t0 += 8, ++g) {
                a.q = op.x + t0 * row;
                a.out = op.out + t0 * row;
                a.n_tok = std::min<int64_t>(8, op.n_tok - t0);
                a.pos = pos_dev_.as<int32_t>() + op.pos_slot + g;
                if (it.act && op.n_tok <= 8) a.act = cuk::act_q8_at(it.act, op.n_tok, row);
                cudaError_t e = cuk::launch_attention_partial(a, s);
                if (e == cudaSuccess) e = cuk::launch_attention_combine(a, s);
                if (e != cudaSuccess) return e;
            }
            return cudaSuccess;
        }
        case ItemKind::op: break;
    }
    switch (op.kind) {
        case OpKind::copy_h2d: return cudaMemcpyAsync(op.dst, op.src, static_cast<size_t>(op.n), cudaMemcpyHostToDevice, stream_.get());
        case OpKind::copy_d2h: return cudaMemcpyAsync(op.dst, op.src, static_cast<size_t>(op.n), cudaMemcpyDeviceToHost, stream_.get());
        case OpKind::copy_d2d: return cudaMemcpyAsync(op.dst, op.src, static_cast<size_t>(op.n), cudaMemcpyDeviceToDevice, stream_.get());
        case OpKind::embed: return cuk::launch_embed(view_of(op.w), op.tokens, op.n_tok, op.out, bad_token_dev_, s);
        case OpKind::rms_norm:
            return cuk::launch_rms_norm(op.x, vector_of(op.w), op.eps, op.n_tok, op.n, op.out, cuk::ActQ8{}, s);
        case OpKind::add_bias: return cuk::launch_add_bias(const_cast<float*>(op.x), vector_of(op.w), op.n_tok, op.n, s);
        case OpKind::rope: {
            cuk::RopeStoreArgs a = rope_base(op);
            a.xa = const_cast<float*>(op.x);
            a.n_head_a = op.n_head;
            a.pos_a = pos_dev_.as<int32_t>() + op.pos_slot;
            return cuk::launch_rope_store(a, s);
        }
        case OpKind::store_kv: {
            cuk::RopeStoreArgs a;
            a.n_tok = op.n_tok;
            a.head_dim = store_slice(op.kv.n_embd_kv);
            a.xb = const_cast<float*>(op.x);  // read only: no rope
            a.n_head_b = op.kv.n_embd_kv / a.head_dim;
            a.store = 1;
            a.v = op.y;
            a.k_cache = op.kv.k;
            a.v_cache = op.kv.v;
            a.kv_type = kv_type_of(op.kv.type);
            a.n_embd_kv = op.kv.n_embd_kv;
            a.kv_rows = op.kv.rows();
            a.pos_store = pos_dev_.as<int32_t>() + op.pos_slot;
            return cuk::launch_rope_store(a, s);
        }
        case OpKind::swiglu: return cuk::launch_swiglu(op.x, op.y, op.n, op.out, s);
        case OpKind::geglu: return cuk::launch_geglu(op.x, op.y, op.n, op.out, s);
        case OpKind::scale: return cuk::launch_scale(const_cast<float*>(op.x), op.scale, op.n, s);
        case OpKind::add: return cuk::launch_add(const_cast<float*>(op.x), op.y, op.n, s);
        case OpKind::moe_route: return cuk::launch_moe_route(op.route, s);
        case OpKind::moe_ffn: return cuk::launch_moe_ffn(op.moe, s);
        case OpKind::matmul:
        case OpKind::attention: break;  // always planned as their own item kinds
    }
    what = std::string("unplanned op ") + op_kind_name(op.kind);
    return cudaErrorInvalidValue;
}

}  // namespace strata::cuda
