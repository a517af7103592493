#include "backend/cuda/cuda_ops.h"

#include <algorithm>

#include "backend/cuda/cuda_device.h"
#include "backend/cuda/cuda_gemm_plan.h"

namespace strata::cuda {

namespace {

Status bad(const CudaDevice& d, const std::string& what) {
    return Status(ErrorCode::invalid_argument, d.id() + ": " + what);
}

size_t f32_bytes(int64_t n) { return static_cast<size_t>(std::max<int64_t>(n, 0)) * 4; }

bool overlaps(const void* a, size_t an, const void* b, size_t bn) {
    const auto pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
    return an > 0 && bn > 0 && pa < pb + bn && pb < pa + an;
}

OpWeight op_weight(const CudaWeight& w) {
    OpWeight o;
    o.handle = &w;
    o.data = w.view().main;
    o.type = w.layout().dev_type;
    o.n_rows = w.n_rows();
    o.n_cols = w.n_cols();
    o.quantized = w.layout().quantized();
    return o;
}

Status check_kv(const CudaDevice& d, const KvView& kv, int64_t pos0, int64_t n_tok) {
    if (!kv.k || !kv.v || kv.n_ctx <= 0 || kv.n_embd_kv <= 0) return bad(d, "empty KV cache view");
    if (kv.n_rows < 0 || kv.n_rows > kv.n_ctx) return bad(d, "KV cache rows outside 0..n_ctx");
    if (kv.type == KvCacheType::q8_0 && kv.n_embd_kv % 32 != 0)
        return bad(d, "a q8_0 KV cache needs rows of a multiple of 32 values");
    if (pos0 < 0 || n_tok <= 0 || pos0 + n_tok > kv.n_ctx)
        return Status(ErrorCode::invalid_argument, "KV cache positions " + std::to_string(pos0) + ".." +
                                                       std::to_string(pos0 + n_tok) + " exceed the context of " +
                                                       std::to_string(kv.n_ctx));
    return {};
}

}  // namespace

Status CudaOps::embed(const DeviceWeight& table, const int32_t* tokens, int64_t n_tok, float* out) {
    STRATA_RETURN_IF_ERROR(dev_.begin_op("embed"));
    if (n_tok <= 0 || n_tok > 65535) return bad(dev_, "embed of " + std::to_string(n_tok) + " tokens");
    const auto& w = static_cast<const CudaWeight&>(table);
    Op op;
    op.kind = OpKind::embed;
    op.n_tok = n_tok;
    op.tokens = tokens;
    op.out = out;
    op.w = op_weight(w);
    return dev_.record(op);
}

Status CudaOps::rms_norm(const float* x, const DeviceWeight& weight, float eps, int64_t n_tok, int64_t n,
                         float* out) {
    STRATA_RETURN_IF_ERROR(dev_.begin_op("rms_norm"));
    const auto& w = static_cast<const CudaWeight&>(weight);
    if (w.layout().stored != TensorType::F32 || w.n_rows() * w.n_cols() != n)
        return bad(dev_, "rms_norm weight " + w.name() + " is not an F32 vector of " + std::to_string(n));
    if (n_tok <= 0 || n <= 0) return {};
    Op op;
    op.kind = OpKind::rms_norm;
    op.x = x;
    op.out = out;
    op.w = op_weight(w);
    op.eps = eps;
    op.n_tok = n_tok;
    op.n = n;
    return dev_.record(op);
}

Status CudaOps::matmul(const DeviceWeight& weight, const float* x, int64_t n_tok, float* out) {
    STRATA_RETURN_IF_ERROR(dev_.begin_op("matmul"));
    const auto& w = static_cast<const CudaWeight&>(weight);
    if (n_tok <= 0) return {};
    const size_t x_bytes = f32_bytes(n_tok * w.n_cols()), out_bytes = f32_bytes(n_tok * w.n_rows());
    if (overlaps(x, x_bytes, out, out_bytes)) return bad(dev_, "matmul output overlaps its input");
    Op op;
    op.kind = OpKind::matmul;
    op.x = x;
    op.out = out;
    op.w = op_weight(w);
    op.n_tok = n_tok;
    if (matmul_uses_matvec(n_tok)) {
        if (op.w.quantized) {
            auto ws = dev_.matmul_workspace(act_q8_size(n_tok, w.n_cols()), x, x_bytes, out, out_bytes);
            if (!ws.ok()) return ws.status();
            op.act = *ws;
        }
    } else {
        STRATA_RETURN_IF_ERROR(dev_.prepare_gemm());
        const GemmPlan g = plan_gemm(op.w.type, w.n_rows(), w.n_cols(), n_tok);
        auto ws = dev_.matmul_workspace(g.ws_bytes, x, x_bytes, out, out_bytes);
        if (!ws.ok()) return ws.status();
        op.ws = *ws;
        op.ws_bytes = g.ws_bytes;
        op.act = g.f32 ? nullptr : static_cast<char*>(*ws) + g.act16_offset;
    }
    return dev_.record(op);
}

Status CudaOps::add_bias(float* x, const DeviceWeight& bias, int64_t n_tok, int64_t n) {
    STRATA_RETURN_IF_ERROR(dev_.begin_op("add_bias"));
    const auto& b = static_cast<const CudaWeight&>(bias);
    if (b.layout().stored != TensorType::F32 || b.n_rows() * b.n_cols() != n)
        return bad(dev_, "bias " + b.name() + " is not an F32 vector of " + std::to_string(n));
    if (n_tok <= 0 || n <= 0) return {};
    Op op;
    op.kind = OpKind::add_bias;
    op.x = x;
    op.w = op_weight(b);
    op.n_tok = n_tok;
    op.n = n;
    return dev_.record(op);
}

Status CudaOps::rope(float* x, int64_t n_tok, int64_t n_head, int64_t head_dim, int64_t pos0,
                     const RopeParams& rope, const DeviceWeight* freq_factors) {
    STRATA_RETURN_IF_ERROR(dev_.begin_op("rope"));
    if (head_dim <= 0 || head_dim > 1024) return bad(dev_, "rope head size " + std::to_string(head_dim) + " (1..1024)");
    if (rope.n_rot < 0 || rope.n_rot > head_dim) return bad(dev_, "rope dimensions exceed the head size");
    if (freq_factors) {
        const auto& f = static_cast<const CudaWeight&>(*freq_factors);
        if (f.layout().stored != TensorType::F32 || f.n_rows() * f.n_cols() != rope.n_rot / 2)
            return bad(dev_, "rope frequency factors " + f.name() + " are not " + std::to_string(rope.n_rot / 2) +
                                 " F32 values");
    }
    if (n_tok <= 0 || n_head <= 0) return {};
    Op op;
    op.kind = OpKind::rope;
    op.x = x;
    op.n_tok = n_tok;
    op.n_head = n_head;
    op.head_dim = head_dim;
    op.rope = rope;
    if (freq_factors) op.w = op_weight(static_cast<const CudaWeight&>(*freq_factors));
    return dev_.record(op, &pos0, 1);
}

Status CudaOps::store_kv(const float* k, const float* v, const KvView& kv, int64_t pos0, int64_t n_tok) {
    STRATA_RETURN_IF_ERROR(dev_.begin_op("store_kv"));
    STRATA_RETURN_IF_ERROR(check_kv(dev_, kv, pos0, n_tok));
    Op op;
    op.kind = OpKind::store_kv;
    op.x = k;
    op.y = v;
    op.kv = kv;
    op.n_tok = n_tok;
    return dev_.record(op, &pos0, 1);
}

Status CudaOps::attention(const float* q, const KvView& kv, int64_t pos0, int64_t n_tok, int64_t n_head,
                          int64_t n_head_kv, int64_t head_dim, const AttentionParams& p, float* scratch,
                          float* out) {
    STRATA_RETURN_IF_ERROR(dev_.begin_op("attention"));
    STRATA_RETURN_IF_ERROR(check_kv(dev_, kv, pos0, n_tok));
    if (n_head <= 0 || n_head_kv <= 0 || n_head % n_head_kv != 0 || n_head > 65535)
        return bad(dev_, "attention with " + std::to_string(n_head) + " heads and " + std::to_string(n_head_kv) +
                             " KV heads");
    if (head_dim <= 0 || head_dim > 1024 || head_dim * n_head_kv != kv.n_embd_kv)
        return bad(dev_, "attention head size " + std::to_string(head_dim) + " does not match the KV rows of " +
                             std::to_string(kv.n_embd_kv));
    if (kv.rows() < kv.n_ctx && (p.window <= 0 || p.window + n_tok - 1 > kv.rows()))
        return bad(dev_, "a KV ring of " + std::to_string(kv.rows()) + " rows cannot serve a window of " +
                             std::to_string(p.window) + " for " + std::to_string(n_tok) + " tokens");
    if (p.sinks) {
        const auto& w = static_cast<const CudaWeight&>(*p.sinks);
        if (w.layout().stored != TensorType::F32 || w.n_rows() * w.n_cols() != n_head)
            return bad(dev_, "attention sinks " + w.name() + " are not " + std::to_string(n_head) + " F32 values");
    }
    Op op;
    op.kind = OpKind::attention;
    if (p.sinks) op.w = op_weight(static_cast<const CudaWeight&>(*p.sinks));  // (n_head) sink logits
    op.x = q;
    op.out = out;
    op.kv = kv;
    op.n_tok = n_tok;
    op.n_head = n_head;
    op.n_head_kv = n_head_kv;
    op.head_dim = head_dim;
    op.scale = p.scale;
    op.softcap = p.softcap;
    op.window = p.window;
    op.scratch = scratch;
    std::vector<int64_t> pos{pos0};
    if (attention_uses_split_k(n_tok, head_dim)) {
        if (!scratch) return bad(dev_, "attention needs its scratch region");
        const SplitK s = split_k_geometry(kv.n_ctx, pos0 + n_tok);
        op.chunk_len = s.chunk_len;
        op.n_chunks = s.n_chunks;
        // Tokens go in groups of 8 (the partials region holds 8 tokens): one slot per group.
        for (int64_t t = 8; t < n_tok; t += 8) pos.push_back(pos0 + t);
    }
    return dev_.record(op, pos.data(), static_cast<int>(pos.size()));
}

Status CudaOps::geglu(const float* gate, const float* up, int64_t n, float* out) {
    STRATA_RETURN_IF_ERROR(dev_.begin_op("geglu"));
    if (n <= 0) return {};
    Op op;
    op.kind = OpKind::geglu;
    op.x = gate;
    op.y = up;
    op.out = out;
    op.n = n;
    return dev_.record(op);
}

Status CudaOps::scale(float* x, float s, int64_t n) {
    STRATA_RETURN_IF_ERROR(dev_.begin_op("scale"));
    if (n <= 0) return {};
    Op op;
    op.kind = OpKind::scale;
    op.x = x;
    op.scale = s;
    op.n = n;
    return dev_.record(op);
}

Status CudaOps::swiglu(const float* gate, const float* up, int64_t n, float* out) {
    STRATA_RETURN_IF_ERROR(dev_.begin_op("swiglu"));
    if (n <= 0) return {};
    Op op;
    op.kind = OpKind::swiglu;
    op.x = gate;
    op.y = up;
    op.out = out;
    op.n = n;
    return dev_.record(op);
}

Status CudaOps::add(float* x, const float* y, int64_t n) {
    STRATA_RETURN_IF_ERROR(dev_.begin_op("add"));
    if (n <= 0) return {};
    Op op;
    op.kind = OpKind::add;
    op.x = x;
    op.y = y;
    op.n = n;
    return dev_.record(op);
}

}  // namespace strata::cuda
