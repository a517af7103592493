#include "backend/cuda/cuda_fusion.h"

#include <cstdio>
#include <cstring>

namespace strata::cuda {

namespace {

bool overlaps(const void* a, size_t a_bytes, const void* b, size_t b_bytes) {
    const auto pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
    return a_bytes > 0 && b_bytes > 0 && pa < pb + b_bytes && pb < pa + a_bytes;
}

size_t floats(int64_t n) { return static_cast<size_t>(n) * 4; }

bool is_matvec(const Op& op) { return op.kind == OpKind::matmul && matmul_uses_matvec(op.n_tok); }

// q and k rotated alike: the same parameters and the same frequency factors.
bool same_rope(const Op& a, const Op& b) { return a.rope == b.rope && a.w.data == b.w.data; }

// The quantized activations currently valid in an ActQ8 buffer.
struct ActCache {
    const float* x = nullptr;
    int64_t rows = 0, cols = 0;
    void* act = nullptr;
    bool matches(const Op& mm) const {
        return act && x == mm.x && rows == mm.n_tok && cols == mm.w.n_cols && act == mm.act;
    }
    void set(const float* x_, int64_t rows_, int64_t cols_, void* act_) {
        x = x_;
        rows = rows_;
        cols = cols_;
        act = act_;
    }
    void clear() { *this = ActCache{}; }
};

}  // namespace

const char* op_kind_name(OpKind k) {
    switch (k) {
        case OpKind::copy_h2d: return "copy_h2d";
        case OpKind::copy_d2h: return "copy_d2h";
        case OpKind::copy_d2d: return "copy_d2d";
        case OpKind::embed: return "embed";
        case OpKind::rms_norm: return "rms_norm";
        case OpKind::matmul: return "matmul";
        case OpKind::add_bias: return "add_bias";
        case OpKind::rope: return "rope";
        case OpKind::store_kv: return "store_kv";
        case OpKind::attention: return "attention";
        case OpKind::swiglu: return "swiglu";
        case OpKind::geglu: return "geglu";
        case OpKind::scale: return "scale";
        case OpKind::add: return "add";
        case OpKind::moe_route: return "moe_route";
        case OpKind::moe_ffn: return "moe_ffn";
    }
    return "?";
}

const char* item_kind_name(ItemKind k) {
    switch (k) {
        case ItemKind::op: return "op";
        case ItemKind::norm_quant: return "norm_quant";
        case ItemKind::quant: return "quant";
        case ItemKind::matvec: return "matvec";
        case ItemKind::gemm: return "gemm";
        case ItemKind::rope_store: return "rope_store";
        case ItemKind::attention: return "attention";
    }
    return "?";
}

void append_signature(const Op& op, std::vector<uint64_t>& sig) {
    auto p = [&](const void* ptr) { sig.push_back(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(ptr))); };
    auto i = [&](int64_t v) { sig.push_back(static_cast<uint64_t>(v)); };
    auto f = [&](float v) {
        uint32_t b;
        std::memcpy(&b, &v, 4);
        sig.push_back(b);
    };
    i(static_cast<int64_t>(op.kind));
    i(op.n_tok);
    i(op.n);
    i(op.n_head);
    i(op.n_head_kv);
    i(op.head_dim);
    f(op.eps);
    f(op.scale);
    f(op.softcap);
    i(op.window);
    p(op.x);
    p(op.y);
    p(op.out);
    p(op.w.handle);
    p(op.w.data);
    p(op.tokens);
    p(op.kv.k);
    p(op.kv.v);
    i(static_cast<int64_t>(op.kv.type));
    i(op.kv.n_ctx);
    i(op.kv.n_embd_kv);
    i(op.kv.n_rows);
    i(op.rope.n_rot);
    f(op.rope.freq_base);
    f(op.rope.freq_scale);
    i(static_cast<int64_t>(op.rope.style));
    f(op.rope.ext_factor);
    f(op.rope.corr_low);
    f(op.rope.corr_high);
    f(op.rope.mscale);
    p(op.scratch);
    i(op.chunk_len);
    i(op.n_chunks);
    i(op.pos_slot);
    p(op.act);
    p(op.ws);
    i(static_cast<int64_t>(op.ws_bytes));
    p(op.src);
    p(op.dst);
    if (op.kind == OpKind::moe_route) {
        const cuk::MoeRouteArgs& r = op.route;
        p(r.logits);
        i(r.n_tok);
        i(r.n_expert);
        i(r.n_used);
        i(r.sigmoid);
        i(r.normalize);
        f(r.scale);
        p(r.bias);
        p(r.ids);
        p(r.weights);
    } else if (op.kind == OpKind::moe_ffn) {
        const cuk::MoeFfnArgs& m = op.moe;
        p(m.experts);
        i(m.n_expert);
        i(m.n_embd);
        i(m.n_ff);
        i(m.n_used);
        i(m.gate_type);
        i(m.down_type);
        i(m.act);
        i(m.biased);
        p(m.x);
        p(m.x_q.qs);
        p(m.x_q.ds);
        p(m.ids);
        p(m.weights);
        p(m.h);
        p(m.h_q);
        p(m.out);
        i(m.n_tok);
        i(m.group_tok);
        i(m.slot_chunk);
        i(m.grouped);
        p(m.y);
        p(m.sort);
    }
}

std::vector<Item> plan_launches(const std::vector<Op>& ops, const PlanOptions& opt) {
    std::vector<Item> items;
    ActCache cache;
    const int n = static_cast<int>(ops.size());
    for (int i = 0; i < n;) {
        const Op& op = ops[static_cast<size_t>(i)];
        const Op* next = i + 1 < n ? &ops[static_cast<size_t>(i) + 1] : nullptr;
        Item it;
        it.first = i;

        if (op.kind == OpKind::rms_norm && opt.fuse && next && is_matvec(*next) && next->w.quantized &&
            next->x == op.out && next->n_tok == op.n_tok && next->w.n_cols == op.n && op.n % 32 == 0 && next->act) {
            it.kind = ItemKind::norm_quant;
            it.act = next->act;
            cache.set(op.out, op.n_tok, op.n, next->act);
            items.push_back(it);
            i += 1;
            continue;
        }

        if (is_matvec(op)) {
            int g = 1;
            while (opt.fuse && g < 3 && i + g < n) {
                const Op& m = ops[static_cast<size_t>(i + g)];
                if (!is_matvec(m) || m.x != op.x || m.n_tok != op.n_tok || m.w.n_cols != op.w.n_cols ||
                    m.w.type != op.w.type)
                    break;
                ++g;
            }
            if (op.w.quantized) {
                if (!opt.fuse || !cache.matches(op)) {
                    Item q;
                    q.kind = ItemKind::quant;
                    q.first = i;
                    q.count = 0;
                    q.act = op.act;
                    q.act_x = op.x;
                    q.act_rows = op.n_tok;
                    q.act_cols = op.w.n_cols;
                    items.push_back(q);
                    cache.set(op.x, op.n_tok, op.w.n_cols, op.act);
                }
                it.act = op.act;
            }
            it.kind = ItemKind::matvec;
            it.n_mat = g;
            it.count = g;
            const Op* after = i + g < n ? &ops[static_cast<size_t>(i + g)] : nullptr;
            const int64_t n_out = op.n_tok * op.w.n_rows;
            if (opt.fuse && after && g == 2 && after->kind == OpKind::swiglu) {
                const Op& up = ops[static_cast<size_t>(i) + 1];
                if (after->x == op.out && after->y == up.out && after->out == op.out && after->n == n_out &&
                    up.w.n_rows == op.w.n_rows) {
                    it.epilogue = 2;  // kEpiSwiglu
                    it.count = 3;
                }
            } else if (opt.fuse && after && g == 1 && after->kind == OpKind::add && after->y == op.out &&
                       after->n == n_out && !overlaps(after->x, floats(n_out), op.out, floats(n_out)) &&
                       !overlaps(after->x, floats(n_out), op.x, floats(op.n_tok * op.w.n_cols))) {
                it.epilogue = 1;  // kEpiResidual
                it.count = 2;
            }
            if (it.epilogue != 0 || !opt.fuse) cache.clear();
            items.push_back(it);
            i += it.count;
            continue;
        }

        if (op.kind == OpKind::matmul) {
            it.kind = ItemKind::gemm;
            if (!items.empty() && items.back().kind == ItemKind::gemm && opt.fuse) {
                const Op& prev = ops[static_cast<size_t>(items.back().first)];
                it.convert_x = !(prev.x == op.x && prev.n_tok == op.n_tok && prev.w.n_cols == op.w.n_cols &&
                                 prev.act == op.act && op.act != nullptr);
            }
            cache.clear();
            items.push_back(it);
            i += 1;
            continue;
        }

        if (op.kind == OpKind::rope && opt.fuse && i + 2 < n) {
            const Op& k = ops[static_cast<size_t>(i) + 1];
            const Op& st = ops[static_cast<size_t>(i) + 2];
            if (k.kind == OpKind::rope && st.kind == OpKind::store_kv && st.x == k.x && k.x != op.x &&
                k.n_tok == op.n_tok && st.n_tok == op.n_tok && k.head_dim == op.head_dim &&
                k.n_head * k.head_dim == st.kv.n_embd_kv && same_rope(op, k) && op.head_dim <= 1024 &&
                (st.kv.type != KvCacheType::q8_0 || op.head_dim % 32 == 0)) {
                it.kind = ItemKind::rope_store;
                it.count = 3;
                cache.clear();
                items.push_back(it);
                i += 3;
                continue;
            }
        }

        if (op.kind == OpKind::attention) {
            it.kind = ItemKind::attention;
            cache.clear();
            const bool split = attention_uses_split_k(op.n_tok, op.head_dim);
            const int64_t width = op.n_head * op.head_dim;
            if (opt.fuse && split && next && is_matvec(*next) && next->w.quantized && next->x == op.out &&
                next->n_tok == op.n_tok && next->w.n_cols == width && op.head_dim % 32 == 0 && next->act) {
                // The partials must not share memory with the activations being written.
                const size_t partial_bytes =
                    floats(op.n_tok * op.n_head * op.n_chunks * (2 + op.head_dim));
                if (!overlaps(next->act, act_q8_size(op.n_tok, width), op.scratch, partial_bytes)) {
                    it.act = next->act;
                    cache.set(op.out, op.n_tok, width, next->act);
                }
            }
            items.push_back(it);
            i += 1;
            continue;
        }

        it.kind = ItemKind::op;
        cache.clear();
        items.push_back(it);
        i += 1;
    }
    return items;
}

bool graphable(const std::vector<Op>& ops, const std::vector<Item>& items) {
    for (const Item& it : items) {
        if (it.kind == ItemKind::gemm) return false;
        const Op& op = ops[static_cast<size_t>(it.first)];
        if (it.kind == ItemKind::attention && !attention_uses_split_k(op.n_tok, op.head_dim)) return false;
    }
    return true;
}

namespace {

const char* type_name(int t) {
    static const char* const names[] = {"F32", "F16", "BF16", "Q4_0", "Q8_0", "Q4_K", "Q5_K", "Q6_K"};
    return t >= 0 && t < 8 ? names[t] : "?";
}

long long ll(int64_t v) { return static_cast<long long>(v); }

}  // namespace

std::string item_label(const Item& it, const std::vector<Op>& ops) {
    const Op& op = ops[static_cast<size_t>(it.first)];
    char buf[200];
    switch (it.kind) {
        case ItemKind::quant:
            std::snprintf(buf, sizeof buf, "quantize activations %lld t%lld", ll(it.act_cols), ll(it.act_rows));
            return buf;
        case ItemKind::norm_quant:
            std::snprintf(buf, sizeof buf, "rms_norm+quantize %lld t%lld", ll(op.n), ll(op.n_tok));
            return buf;
        case ItemKind::matvec: {
            std::string rows;
            for (int m = 0; m < it.n_mat; ++m) {
                if (m) rows += '+';
                rows += std::to_string(ops[static_cast<size_t>(it.first + m)].w.n_rows);
            }
            const char* epi = it.epilogue == 1 ? " +residual" : it.epilogue == 2 ? " +swiglu" : "";
            std::snprintf(buf, sizeof buf, "matvec %s %s%s%sx%lld t%lld%s", type_name(op.w.type), it.n_mat > 1 ? "(" : "",
                          rows.c_str(), it.n_mat > 1 ? ")" : "", ll(op.w.n_cols), ll(op.n_tok), epi);
            return buf;
        }
        case ItemKind::gemm:
            std::snprintf(buf, sizeof buf, "gemm %s %lldx%lld t%lld", type_name(op.w.type), ll(op.w.n_rows),
                          ll(op.w.n_cols), ll(op.n_tok));
            return buf;
        case ItemKind::rope_store:
            std::snprintf(buf, sizeof buf, "rope q,k+store_kv hd%lld t%lld", ll(op.head_dim), ll(op.n_tok));
            return buf;
        case ItemKind::attention:
            if (attention_uses_split_k(op.n_tok, op.head_dim)) {
                std::snprintf(buf, sizeof buf, "attention split-K %lldx%lld chunks %lld t%lld%s", ll(op.n_head),
                              ll(op.head_dim), ll(op.n_chunks), ll(op.n_tok), it.act ? " +quantize" : "");
            } else {
                std::snprintf(buf, sizeof buf, "attention prefill %lldx%lld t%lld", ll(op.n_head), ll(op.head_dim),
                              ll(op.n_tok));
            }
            return buf;
        case ItemKind::op: break;
    }
    std::snprintf(buf, sizeof buf, "%s %lld t%lld", op_kind_name(op.kind), ll(op.n), ll(op.n_tok));
    return buf;
}

}  // namespace strata::cuda
