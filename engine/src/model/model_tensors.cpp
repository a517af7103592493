#include "model/model_tensors.h"

#include <cmath>
#include <string>
#include <utility>

#include "gguf/gguf_file.h"
#include "quant/quant.h"

namespace strata {

namespace {

std::string shape_text(const std::vector<int64_t>& ne) {
    std::string s = "[";
    for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
    return s + "]";
}

class Collector {
public:
    explicit Collector(const gguf::GgufFile& f) : f_(f) {}

    // Finds `name` and checks it is (cols) or (cols, rows) as in GGUF's ne order.
    Status get(const std::string& name, WeightRole role, int64_t cols, int64_t rows, HostTensor& out,
               bool optional = false) {
        const gguf::TensorInfo* t = f_.find_tensor(name);
        if (!t) {
            if (optional) return {};
            return Status(ErrorCode::corrupt, f_.path() + ": tensor '" + name + "' is missing");
        }
        std::vector<int64_t> want = rows > 0 ? std::vector<int64_t>{cols, rows} : std::vector<int64_t>{cols};
        std::vector<int64_t> have = t->ne;
        while (have.size() > want.size() && have.back() == 1) have.pop_back();
        if (have != want) {
            return Status(ErrorCode::corrupt, f_.path() + ": tensor '" + name + "' has shape " + shape_text(t->ne) +
                                                  ", expected " + shape_text(want));
        }
        if (!tensor_type_traits(t->type).computable || !quant::can_dequantize(t->type)) {
            return Status(ErrorCode::unsupported, f_.path() + ": tensor '" + name + "' has type " +
                                                      tensor_type_name(t->type) + ", which Strata cannot compute with yet");
        }
        if (role == WeightRole::vector && t->type != TensorType::F32) {
            return Status(ErrorCode::unsupported, f_.path() + ": tensor '" + name + "' should be F32, is " +
                                                      tensor_type_name(t->type));
        }
        out.name = name;
        out.role = role;
        out.type = t->type;
        out.n_cols = cols;
        out.n_rows = rows > 0 ? rows : 1;
        out.data = t->data;
        out.n_bytes = t->n_bytes;
        return {};
    }

    // A stack of n_expert (rows, cols) matrices, ne (cols, rows, n_expert), as one matrix of
    // rows · n_expert rows (expert e's rows are a contiguous range of whole blocks).
    Status get_stack(const std::string& name, int64_t cols, int64_t rows, int64_t n_expert, HostTensor& out) {
        const gguf::TensorInfo* t = f_.find_tensor(name);
        if (!t) return Status(ErrorCode::corrupt, f_.path() + ": tensor '" + name + "' is missing");
        if (t->ne != std::vector<int64_t>{cols, rows, n_expert}) {
            return Status(ErrorCode::corrupt, f_.path() + ": tensor '" + name + "' has shape " + shape_text(t->ne) +
                                                  ", expected " + shape_text({cols, rows, n_expert}));
        }
        gguf::TensorInfo flat = *t;
        flat.ne = {cols, rows * n_expert};
        return check_and_fill(name, flat, WeightRole::matrix, cols, rows * n_expert, out);
    }

private:
    Status check_and_fill(const std::string& name, const gguf::TensorInfo& t, WeightRole role, int64_t cols,
                          int64_t rows, HostTensor& out) {
        if (!tensor_type_traits(t.type).computable || !quant::can_dequantize(t.type)) {
            return Status(ErrorCode::unsupported, f_.path() + ": tensor '" + name + "' has type " +
                                                      tensor_type_name(t.type) + ", which Strata cannot compute with yet");
        }
        out.name = name;
        out.role = role;
        out.type = t.type;
        out.n_cols = cols;
        out.n_rows = rows;
        out.data = t.data;
        out.n_bytes = t.n_bytes;
        return {};
    }

    const gguf::GgufFile& f_;
};

// Rows [row0, row0 + n_rows) of a matrix as a tensor of their own (a view of the same bytes).
HostTensor row_slice(const HostTensor& t, int64_t row0, int64_t n_rows, const char* part) {
    HostTensor s = t;
    const size_t row_bytes = tensor_row_bytes(t.type, t.n_cols);
    s.name = t.name + "[" + part + "]";
    s.n_rows = n_rows;
    s.data = static_cast<const uint8_t*>(t.data) + static_cast<size_t>(row0) * row_bytes;
    s.n_bytes = static_cast<size_t>(n_rows) * row_bytes;
    return s;
}

// gpt-oss: a layer's expert biases, a (n, n_expert) F32 tensor, as one vector of n per expert.
Status collect_expert_biases(Collector& c, const gguf::GgufFile& f, const std::string& name, int64_t n,
                             int64_t n_expert, std::vector<HostTensor>& out) {
    HostTensor all;
    STRATA_RETURN_IF_ERROR(c.get(name, WeightRole::matrix, n, n_expert, all));
    if (all.type != TensorType::F32)
        return Status(ErrorCode::unsupported, f.path() + ": tensor '" + name + "' should be F32, is " + tensor_type_name(all.type));
    out.resize(static_cast<size_t>(n_expert));
    for (int64_t e = 0; e < n_expert; ++e) {
        HostTensor& b = out[static_cast<size_t>(e)];
        b = row_slice(all, e, 1, std::to_string(e).c_str());
        b.role = WeightRole::vector;
    }
    return {};
}

// A MoE layer's router and experts: the 3-D ffn_*_exps tensors current converters write, or
// the per-expert ffn_gate.E / ffn_up.E / ffn_down.E tensors of early Mixtral files; for
// gpt-oss also the router's and the experts' biases.
Status collect_experts(Collector& c, const gguf::GgufFile& f, const HParams& hp, const std::string& p,
                       LayerTensors& L) {
    const int64_t n_expert = hp.n_expert, n_ff = hp.n_ff_exp, n_embd = hp.n_embd;
    STRATA_RETURN_IF_ERROR(c.get(p + "ffn_gate_inp.weight", WeightRole::matrix, n_embd, n_expert, L.router));
    if (hp.expert_selection_bias)
        STRATA_RETURN_IF_ERROR(c.get(p + "exp_probs_b.bias", WeightRole::vector, n_expert, 0, L.selection_bias));
    if (hp.n_expert_shared > 0) {
        const int64_t n_sh = hp.n_ff_shexp;
        STRATA_RETURN_IF_ERROR(c.get(p + "ffn_gate_shexp.weight", WeightRole::matrix, n_embd, n_sh, L.shexp_gate));
        STRATA_RETURN_IF_ERROR(c.get(p + "ffn_up_shexp.weight", WeightRole::matrix, n_embd, n_sh, L.shexp_up));
        STRATA_RETURN_IF_ERROR(c.get(p + "ffn_down_shexp.weight", WeightRole::matrix, n_sh, n_embd, L.shexp_down));
    }
    if (hp.expert_bias) {
        STRATA_RETURN_IF_ERROR(c.get(p + "ffn_gate_inp.bias", WeightRole::vector, n_expert, 0, L.router_bias));
        STRATA_RETURN_IF_ERROR(collect_expert_biases(c, f, p + "ffn_gate_exps.bias", n_ff, n_expert, L.exp_gate_bias));
        STRATA_RETURN_IF_ERROR(collect_expert_biases(c, f, p + "ffn_up_exps.bias", n_ff, n_expert, L.exp_up_bias));
        STRATA_RETURN_IF_ERROR(collect_expert_biases(c, f, p + "ffn_down_exps.bias", n_embd, n_expert, L.exp_down_bias));
    }
    L.exp_gate.resize(static_cast<size_t>(n_expert));
    L.exp_up.resize(static_cast<size_t>(n_expert));
    L.exp_down.resize(static_cast<size_t>(n_expert));
    if (f.find_tensor(p + "ffn_gate_up_exps.weight")) {
        return Status(ErrorCode::unsupported, f.path() + ": tensor '" + p +
                                                  "ffn_gate_up_exps.weight' holds gate and up experts fused, which "
                                                  "Strata does not read yet (convert without --fuse-gate-up-exps)");
    }
    if (f.find_tensor(p + "ffn_gate_exps.weight")) {
        HostTensor gate, up, down;
        STRATA_RETURN_IF_ERROR(c.get_stack(p + "ffn_gate_exps.weight", n_embd, n_ff, n_expert, gate));
        STRATA_RETURN_IF_ERROR(c.get_stack(p + "ffn_up_exps.weight", n_embd, n_ff, n_expert, up));
        STRATA_RETURN_IF_ERROR(c.get_stack(p + "ffn_down_exps.weight", n_ff, n_embd, n_expert, down));
        for (int64_t e = 0; e < n_expert; ++e) {
            const std::string part = std::to_string(e);
            L.exp_gate[static_cast<size_t>(e)] = row_slice(gate, e * n_ff, n_ff, part.c_str());
            L.exp_up[static_cast<size_t>(e)] = row_slice(up, e * n_ff, n_ff, part.c_str());
            L.exp_down[static_cast<size_t>(e)] = row_slice(down, e * n_embd, n_embd, part.c_str());
        }
        return {};
    }
    for (int64_t e = 0; e < n_expert; ++e) {
        std::string x = ".";  // built in steps: GCC 12 warns falsely on "." + to_string(e) (bug 105329)
        x += std::to_string(e);
        x += ".weight";
        const size_t i = static_cast<size_t>(e);
        STRATA_RETURN_IF_ERROR(c.get(p + "ffn_gate" + x, WeightRole::matrix, n_embd, n_ff, L.exp_gate[i]));
        STRATA_RETURN_IF_ERROR(c.get(p + "ffn_up" + x, WeightRole::matrix, n_embd, n_ff, L.exp_up[i]));
        STRATA_RETURN_IF_ERROR(c.get(p + "ffn_down" + x, WeightRole::matrix, n_ff, n_embd, L.exp_down[i]));
    }
    return {};
}

}  // namespace

std::vector<const HostTensor*> LayerTensors::all(bool with_experts) const {
    std::vector<const HostTensor*> v;
    for (const HostTensor* t : {&attn_norm, &wq, &wk, &wv, &wo, &bq, &bk, &bv, &bo, &sinks, &q_norm, &k_norm,
                                &post_attn_norm, &ffn_norm, &w_gate, &w_up, &w_down, &post_ffn_norm, &shexp_gate,
                                &shexp_up, &shexp_down}) {
        if (t->data) v.push_back(t);
    }
    if (with_experts)
        for (const HostTensor* t : experts()) v.push_back(t);
    return v;
}

std::vector<const HostTensor*> LayerTensors::experts() const {
    std::vector<const HostTensor*> v;
    if (router.data) v.push_back(&router);
    if (router_bias.data) v.push_back(&router_bias);
    if (selection_bias.data) v.push_back(&selection_bias);
    for (size_t e = 0; e < exp_gate.size(); ++e) {
        v.push_back(&exp_gate[e]);
        v.push_back(&exp_up[e]);
        v.push_back(&exp_down[e]);
        if (e < exp_gate_bias.size()) {
            v.push_back(&exp_gate_bias[e]);
            v.push_back(&exp_up_bias[e]);
            v.push_back(&exp_down_bias[e]);
        }
    }
    return v;
}

const HostTensor& ModelTensors::rope_factors(int64_t n_ctx, int64_t n_ctx_orig) const {
    if (rope_factors_long.data && n_ctx > n_ctx_orig) return rope_factors_long;
    if (rope_factors_short.data) return rope_factors_short;
    return rope_freqs;
}

Result<ModelTensors> collect_model_tensors(const gguf::GgufFile& f, const HParams& hp) {
    Collector c(f);
    ModelTensors m;
    const gguf::TensorInfo* embd = f.find_tensor("token_embd.weight");
    if (!embd || embd->ne.size() < 2) {
        return Status(ErrorCode::corrupt, f.path() + ": tensor 'token_embd.weight' is missing or not a matrix");
    }
    const int64_t n_vocab = embd->ne[1];
    const auto mat = WeightRole::matrix, vec = WeightRole::vector;
    STRATA_RETURN_IF_ERROR(c.get("token_embd.weight", WeightRole::embedding, hp.n_embd, n_vocab, m.token_embd));
    STRATA_RETURN_IF_ERROR(c.get("output_norm.weight", vec, hp.n_embd, 0, m.output_norm));
    STRATA_RETURN_IF_ERROR(c.get("output.weight", mat, hp.n_embd, n_vocab, m.output, /*optional=*/true));
    if (!m.output.data) {
        m.output = m.token_embd;
        m.output.role = WeightRole::matrix;
        m.output.name = "output.weight (tied to token_embd.weight)";
        m.output_tied = true;
    }
    // Frequency factors divide frequencies: each must be a positive finite number, or a hostile
    // file would turn every angle into NaN.
    const int64_t n_pairs = hp.rope.n_rot / 2;
    for (auto [name, dst] : {std::pair{"rope_freqs.weight", &m.rope_freqs},
                             std::pair{"rope_factors_short.weight", &m.rope_factors_short},
                             std::pair{"rope_factors_long.weight", &m.rope_factors_long}}) {
        STRATA_RETURN_IF_ERROR(c.get(name, vec, n_pairs, 0, *dst, /*optional=*/true));
        if (!dst->data) continue;
        const float* v = static_cast<const float*>(dst->data);
        for (int64_t i = 0; i < n_pairs; ++i) {
            if (!(v[i] > 0.0f) || !std::isfinite(v[i])) {
                return Status(ErrorCode::corrupt, f.path() + ": tensor '" + name + "' holds " + std::to_string(v[i]) +
                                                      " at " + std::to_string(i) + "; frequency factors must be positive");
            }
        }
    }
    if (m.rope_factors_long.data != nullptr && m.rope_factors_short.data == nullptr) {
        return Status(ErrorCode::corrupt, f.path() + ": tensor 'rope_factors_long.weight' comes without "
                                                     "'rope_factors_short.weight'");
    }
    m.layers.resize(static_cast<size_t>(hp.n_layer));
    for (int64_t il = 0; il < hp.n_layer; ++il) {
        LayerTensors& L = m.layers[static_cast<size_t>(il)];
        const std::string p = "blk." + std::to_string(il) + ".";
        STRATA_RETURN_IF_ERROR(c.get(p + "attn_norm.weight", vec, hp.n_embd, 0, L.attn_norm));
        if (f.find_tensor(p + "attn_qkv.weight")) {
            // Phi-3: one (n_embd_q + 2·n_embd_kv, n_embd) matrix, rows q then k then v. Each row
            // is whole blocks, so the three parts are views of row ranges, not copies.
            HostTensor qkv;
            STRATA_RETURN_IF_ERROR(c.get(p + "attn_qkv.weight", mat, hp.n_embd, hp.n_embd_q() + 2 * hp.n_embd_kv(), qkv));
            L.wq = row_slice(qkv, 0, hp.n_embd_q(), "q");
            L.wk = row_slice(qkv, hp.n_embd_q(), hp.n_embd_kv(), "k");
            L.wv = row_slice(qkv, hp.n_embd_q() + hp.n_embd_kv(), hp.n_embd_kv(), "v");
        } else {
            STRATA_RETURN_IF_ERROR(c.get(p + "attn_q.weight", mat, hp.n_embd, hp.n_embd_q(), L.wq));
            STRATA_RETURN_IF_ERROR(c.get(p + "attn_k.weight", mat, hp.n_embd, hp.n_embd_kv(), L.wk));
            STRATA_RETURN_IF_ERROR(c.get(p + "attn_v.weight", mat, hp.n_embd, hp.n_embd_kv(), L.wv));
        }
        STRATA_RETURN_IF_ERROR(c.get(p + "attn_output.weight", mat, hp.n_embd_q(), hp.n_embd, L.wo));
        if (hp.qkv_bias) {
            STRATA_RETURN_IF_ERROR(c.get(p + "attn_q.bias", vec, hp.n_embd_q(), 0, L.bq));
            STRATA_RETURN_IF_ERROR(c.get(p + "attn_k.bias", vec, hp.n_embd_kv(), 0, L.bk));
            STRATA_RETURN_IF_ERROR(c.get(p + "attn_v.bias", vec, hp.n_embd_kv(), 0, L.bv));
        }
        if (hp.attn_out_bias) STRATA_RETURN_IF_ERROR(c.get(p + "attn_output.bias", vec, hp.n_embd, 0, L.bo));
        if (hp.attn_sinks) STRATA_RETURN_IF_ERROR(c.get(p + "attn_sinks.weight", vec, hp.n_head, 0, L.sinks));
        if (hp.qk_norm) {
            STRATA_RETURN_IF_ERROR(c.get(p + "attn_q_norm.weight", vec, hp.head_dim, 0, L.q_norm));
            STRATA_RETURN_IF_ERROR(c.get(p + "attn_k_norm.weight", vec, hp.head_dim, 0, L.k_norm));
        } else if (hp.arch == "glm4moe") {
            // GLM-4.5 (use_qk_norm) has them, GLM-4.5-Air not: both or neither.
            STRATA_RETURN_IF_ERROR(c.get(p + "attn_q_norm.weight", vec, hp.head_dim, 0, L.q_norm, /*optional=*/true));
            STRATA_RETURN_IF_ERROR(c.get(p + "attn_k_norm.weight", vec, hp.head_dim, 0, L.k_norm, /*optional=*/true));
            if ((L.q_norm.data == nullptr) != (L.k_norm.data == nullptr))
                return Status(ErrorCode::corrupt, f.path() + ": layer " + std::to_string(il) +
                                                      " has one of attn_q_norm and attn_k_norm without the other");
        }
        if (hp.post_norms) {
            STRATA_RETURN_IF_ERROR(c.get(p + "post_attention_norm.weight", vec, hp.n_embd, 0, L.post_attn_norm));
            STRATA_RETURN_IF_ERROR(c.get(p + "post_ffw_norm.weight", vec, hp.n_embd, 0, L.post_ffn_norm));
        }
        // gpt-oss's and GLM-4.5's converters name the norm before the FFN post_attention_norm (it
        // follows the attention's residual add, as every ffn_norm does).
        const bool post_named = hp.arch == "gpt-oss" || hp.arch == "glm4moe";
        const char* ffn_norm = post_named ? "post_attention_norm.weight" : "ffn_norm.weight";
        STRATA_RETURN_IF_ERROR(c.get(p + ffn_norm, vec, hp.n_embd, 0, L.ffn_norm));
        if (hp.is_moe_layer(il)) {
            STRATA_RETURN_IF_ERROR(collect_experts(c, f, hp, p, L));
            continue;
        }
        if (!f.find_tensor(p + "ffn_gate.weight") && f.find_tensor(p + "ffn_up.weight")) {
            // Phi-3: ffn_up holds gate and up, (2·n_ff, n_embd): the first n_ff rows are the gate.
            HostTensor gate_up;
            STRATA_RETURN_IF_ERROR(c.get(p + "ffn_up.weight", mat, hp.n_embd, 2 * hp.n_ff, gate_up));
            L.w_gate = row_slice(gate_up, 0, hp.n_ff, "gate");
            L.w_up = row_slice(gate_up, hp.n_ff, hp.n_ff, "up");
        } else {
            STRATA_RETURN_IF_ERROR(c.get(p + "ffn_gate.weight", mat, hp.n_embd, hp.n_ff, L.w_gate));
            STRATA_RETURN_IF_ERROR(c.get(p + "ffn_up.weight", mat, hp.n_embd, hp.n_ff, L.w_up));
        }
        STRATA_RETURN_IF_ERROR(c.get(p + "ffn_down.weight", mat, hp.n_ff, hp.n_embd, L.w_down));
    }
    return m;
}

}  // namespace strata
