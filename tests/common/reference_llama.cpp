#include "reference_llama.h"

#include <algorithm>
#include <cmath>

#include "gguf/gguf_file.h"
#include "model/hparams.h"
#include "quant/quant.h"
#include "reference_rope.h"

namespace strata::test {

using Vec = std::vector<double>;

namespace {
// (rows, cols) row-major: out[r] = Σ_c w[r][c] x[c].
struct Mat {
    Vec w;
    int rows = 0, cols = 0;
};
}  // namespace

struct ReferenceLlama::Impl {
    HParams hp;                // shapes only; what the families add is read from the keys below
    ReferenceRope rope;        // global layers
    ReferenceRope rope_local;  // Gemma 3's sliding layers
    // The Gemma and Mistral 3 additions, from the file's keys and the models' published defaults.
    bool gemma = false;        // embeddings · sqrt(n_embd), GELU (tanh) FFN, post-norms
    double attn_cap = 0, final_cap = 0, q_scale = 0, temp_beta = 0, temp_floor = 1;
    int window = 0, pattern = 0;
    int n_vocab = 0;
    // Mixture of experts (expert_count > 1): softmax over the router's logits, the top
    // expert_used_count, their probabilities renormalized (unless expert_weights_norm is false).
    int n_expert = 0, n_used = 0;
    bool moe_norm = true;
    // gpt-oss (its published code, as llama.cpp's graph reads it): attention sinks join each
    // head's softmax denominator, the output projection has a bias, the norm before the FFN is
    // the file's post_attention_norm, the router's top-k logits (bias included) are softmaxed
    // among themselves, experts add biases after each matmul and gate with a clamped SwiGLU:
    // min(g, 7)·sigmoid(1.702·min(g, 7))·(clamp(u, -7, 7) + 1).
    bool gpt_oss = false;
    // GLM-4.5 (glm4moe; its published code): the first `dense_lead` layers have a dense FFN;
    // the others score experts with sigmoid(logit), choose the top expert_used_count by score +
    // exp_probs_b, weight them by their scores renormalized, times expert_weights_scale, and add
    // a shared expert's SwiGLU FFN for every token. The last nextn_predict_layers blocks of
    // block_count are not run. Q/K norms where the file has them.
    bool glm = false;
    int dense_lead = 0, n_run = 0;
    double moe_scale = 1.0;
    double choice_margin = INFINITY;  // of the last step (last_choice_margin)
    struct Layer {
        Vec attn_norm, ffn_norm, bq, bk, bv, bo, sinks, q_norm, k_norm, post_attn_norm, post_ffn_norm;
        Mat wq, wk, wv, wo, w1, w2, w3;
        Mat router;
        Vec router_b;
        std::vector<Mat> e1, e2, e3;  // per expert: gate, down, up
        std::vector<Vec> b1, b2, b3;  // gpt-oss: per expert biases of gate, down, up
        Vec choice_b;                 // glm4moe: exp_probs_b
        Mat s1, s2, s3;               // glm4moe: the shared expert's gate, down, up
    };
    Mat embd, out;
    Vec out_norm;
    std::vector<Layer> layers;
    std::vector<std::vector<Vec>> key_cache, value_cache;  // [layer][pos] (n_embd_kv)
    int pos = 0;
};

namespace {

bool read_tensor(const gguf::GgufFile& f, const std::string& name, Vec& out, int& rows, int& cols, std::string& err) {
    const gguf::TensorInfo* t = f.find_tensor(name);
    if (!t) { err = "missing " + name; return false; }
    cols = static_cast<int>(t->ne[0]);
    rows = static_cast<int>(t->n_elements() / t->ne[0]);
    std::vector<float> row(static_cast<size_t>(cols));
    out.resize(static_cast<size_t>(rows) * cols);
    const size_t rb = tensor_row_bytes(t->type, cols);
    for (int r = 0; r < rows; ++r) {
        quant::dequantize_row_ref(t->type, t->data + static_cast<size_t>(r) * rb, row.data(), cols);
        for (int c = 0; c < cols; ++c) out[static_cast<size_t>(r) * cols + c] = row[static_cast<size_t>(c)];
    }
    return true;
}

Mat rows_of(const Mat& m, int row0, int n_rows) {
    Mat r;
    r.rows = n_rows;
    r.cols = m.cols;
    r.w.assign(m.w.begin() + static_cast<std::ptrdiff_t>(row0) * m.cols,
               m.w.begin() + static_cast<std::ptrdiff_t>(row0 + n_rows) * m.cols);
    return r;
}

Vec matvec(const Mat& m, const Vec& x) {
    Vec y(static_cast<size_t>(m.rows), 0.0);
    for (int r = 0; r < m.rows; ++r) {
        double acc = 0;
        const double* w = &m.w[static_cast<size_t>(r) * m.cols];
        for (int c = 0; c < m.cols; ++c) acc += w[c] * x[static_cast<size_t>(c)];
        y[static_cast<size_t>(r)] = acc;
    }
    return y;
}

Vec rmsnorm(const Vec& x, const Vec& w, double eps) {
    double ss = 0;
    for (double v : x) ss += v * v;
    const double s = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + eps);
    Vec y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * s * w[i];
    return y;
}

}  // namespace

ReferenceLlama::ReferenceLlama() : impl_(std::make_unique<Impl>()) {}
ReferenceLlama::~ReferenceLlama() = default;

std::unique_ptr<ReferenceLlama> ReferenceLlama::load(const std::string& path, std::string& error, long n_ctx) {
    auto file = gguf::GgufFile::open(path);
    if (!file.ok()) { error = file.status().message(); return nullptr; }
    auto hp = read_hparams(**file);
    if (!hp.ok()) { error = hp.status().message(); return nullptr; }
    std::unique_ptr<ReferenceLlama> ref(new ReferenceLlama());
    Impl& m = *ref->impl_;
    m.hp = *hp;
    const gguf::GgufFile& f = **file;
    if (!ReferenceRope::load(f, n_ctx, m.rope, error)) return nullptr;
    m.rope_local = m.rope;  // sliding layers rotate as the others, except Gemma 3's (below)
    {
        const std::string a = m.hp.arch + ".";
        auto num = [&](const std::string& key, double fallback) {
            auto v = f.get_float(a + key);
            return v.ok() && v->has_value() ? **v : fallback;
        };
        const bool gemma2 = m.hp.arch == "gemma2", gemma3 = m.hp.arch == "gemma3";
        m.gemma = gemma2 || gemma3;
        m.q_scale = 1.0 / std::sqrt(num("attention.key_length", static_cast<double>(m.hp.n_embd / m.hp.n_head)));
        if (m.gemma) {
            m.attn_cap = gemma2 ? num("attn_logit_softcapping", 50.0) : 0.0;
            m.final_cap = num("final_logit_softcapping", gemma2 ? 30.0 : 0.0);
            if (gemma2 || f.find(a + "attention.sliding_window")) {
                m.window = static_cast<int>(num("attention.sliding_window", 4096.0));
                m.pattern = static_cast<int>(num("attention.sliding_window_pattern", gemma2 ? 2.0 : 6.0));
            }
            // Gemma 3's local layers: their own base (10000 by default), no scaling.
            m.rope_local = ReferenceRope{};
            m.rope_local.n_rot = m.rope.n_rot;
            m.rope_local.neox = true;
            const double base = gemma3 ? num("rope.freq_base_swa", 10000.0) : num("rope.freq_base", 10000.0);
            for (int i = 0; i < m.rope.n_rot / 2; ++i) m.rope_local.inv_freq.push_back(1.0 / std::pow(base, 2.0 * i / m.rope.n_rot));
            if (!gemma3) m.rope_local = m.rope;
        }
        if (m.hp.arch == "phi3") m.window = static_cast<int>(num("attention.sliding_window", 0.0));
        m.gpt_oss = m.hp.arch == "gpt-oss";
        if (m.gpt_oss) {  // even layers see the last `window` positions, odd ones all
            m.window = static_cast<int>(num("attention.sliding_window", 0.0));
            m.pattern = static_cast<int>(num("attention.sliding_window_pattern", 2.0));
        }
        m.n_expert = static_cast<int>(num("expert_count", 0.0));
        m.n_used = static_cast<int>(num("expert_used_count", 0.0));
        if (auto v = f.get_bool(a + "expert_weights_norm"); v.ok() && v->has_value()) m.moe_norm = **v;
        if (m.n_expert <= 1) m.n_expert = 0;
        m.glm = m.hp.arch == "glm4moe";
        m.moe_scale = num("expert_weights_scale", 1.0);
        m.dense_lead = static_cast<int>(num("leading_dense_block_count", 0.0));
        m.n_run = static_cast<int>(num("block_count", 0.0) - num("nextn_predict_layers", 0.0));
        m.temp_beta = num("attention.temperature_scale", 0.0);
        m.temp_floor = num("rope.scaling.original_context_length", num("context_length", 2048.0));
    }
    int r = 0, c = 0;
    auto vec = [&](const std::string& name, Vec& out) { return read_tensor(f, name, out, r, c, error); };
    auto mat = [&](const std::string& name, Mat& out) { return read_tensor(f, name, out.w, out.rows, out.cols, error); };
    if (!mat("token_embd.weight", m.embd) || !vec("output_norm.weight", m.out_norm)) return nullptr;
    m.n_vocab = m.embd.rows;
    if (f.find_tensor("output.weight")) {
        if (!mat("output.weight", m.out)) return nullptr;
    } else {
        m.out = m.embd;  // tied
    }
    m.layers.resize(static_cast<size_t>(m.n_run));
    for (int il = 0; il < m.n_run; ++il) {
        Impl::Layer& L = m.layers[static_cast<size_t>(il)];
        const std::string p = "blk." + std::to_string(il) + ".";
        if (m.gemma && (!vec(p + "post_attention_norm.weight", L.post_attn_norm) ||
                        !vec(p + "post_ffw_norm.weight", L.post_ffn_norm)))
            return nullptr;
        const std::string ffn_norm = m.gpt_oss || m.glm ? "post_attention_norm.weight" : "ffn_norm.weight";
        if (!vec(p + "attn_norm.weight", L.attn_norm) || !vec(p + ffn_norm, L.ffn_norm) ||
            !mat(p + "attn_output.weight", L.wo))
            return nullptr;
        if (m.gpt_oss && (!vec(p + "attn_output.bias", L.bo) || !vec(p + "attn_sinks.weight", L.sinks) ||
                          !vec(p + "ffn_gate_inp.bias", L.router_b)))
            return nullptr;
        if (f.find_tensor(p + "attn_qkv.weight")) {  // Phi-3: q, k, v rows in one matrix
            Mat qkv;
            if (!mat(p + "attn_qkv.weight", qkv)) return nullptr;
            const int n_q = static_cast<int>(m.hp.n_embd_q()), n_kv = static_cast<int>(m.hp.n_embd_kv());
            L.wq = rows_of(qkv, 0, n_q);
            L.wk = rows_of(qkv, n_q, n_kv);
            L.wv = rows_of(qkv, n_q + n_kv, n_kv);
        } else if (!mat(p + "attn_q.weight", L.wq) || !mat(p + "attn_k.weight", L.wk) || !mat(p + "attn_v.weight", L.wv)) {
            return nullptr;
        }
        if (m.n_expert > 0 && il >= m.dense_lead) {
            Mat g, u, d;
            if (!mat(p + "ffn_gate_inp.weight", L.router) || !mat(p + "ffn_gate_exps.weight", g) ||
                !mat(p + "ffn_up_exps.weight", u) || !mat(p + "ffn_down_exps.weight", d))
                return nullptr;
            const int ff = g.rows / m.n_expert, emb = d.rows / m.n_expert;
            for (int e = 0; e < m.n_expert; ++e) {
                L.e1.push_back(rows_of(g, e * ff, ff));
                L.e3.push_back(rows_of(u, e * ff, ff));
                L.e2.push_back(rows_of(d, e * emb, emb));
            }
            if (m.gpt_oss) {  // (n_expert) rows of biases each
                Mat gb, ub, db;
                if (!mat(p + "ffn_gate_exps.bias", gb) || !mat(p + "ffn_up_exps.bias", ub) ||
                    !mat(p + "ffn_down_exps.bias", db))
                    return nullptr;
                for (int e = 0; e < m.n_expert; ++e) {
                    L.b1.push_back(rows_of(gb, e, 1).w);
                    L.b3.push_back(rows_of(ub, e, 1).w);
                    L.b2.push_back(rows_of(db, e, 1).w);
                }
            }
            if (m.glm && (!vec(p + "exp_probs_b.bias", L.choice_b) || !mat(p + "ffn_gate_shexp.weight", L.s1) ||
                          !mat(p + "ffn_down_shexp.weight", L.s2) || !mat(p + "ffn_up_shexp.weight", L.s3)))
                return nullptr;
        } else if (!mat(p + "ffn_down.weight", L.w2)) {
            return nullptr;
        } else if (!f.find_tensor(p + "ffn_gate.weight")) {  // Phi-3: ffn_up holds the gate rows, then up's
            Mat gate_up;
            if (!mat(p + "ffn_up.weight", gate_up)) return nullptr;
            L.w1 = rows_of(gate_up, 0, gate_up.rows / 2);
            L.w3 = rows_of(gate_up, gate_up.rows / 2, gate_up.rows / 2);
        } else if (!mat(p + "ffn_gate.weight", L.w1) || !mat(p + "ffn_up.weight", L.w3)) {
            return nullptr;
        }
        if (f.find_tensor(p + "attn_q.bias") &&
            (!vec(p + "attn_q.bias", L.bq) || !vec(p + "attn_k.bias", L.bk) || !vec(p + "attn_v.bias", L.bv)))
            return nullptr;
        const bool qk_norm = m.hp.qk_norm || (m.glm && f.find_tensor(p + "attn_q_norm.weight"));
        if (qk_norm && (!vec(p + "attn_q_norm.weight", L.q_norm) || !vec(p + "attn_k_norm.weight", L.k_norm)))
            return nullptr;
    }
    ref->reset();
    return ref;
}

void ReferenceLlama::reset() {
    impl_->pos = 0;
    impl_->key_cache.assign(static_cast<size_t>(impl_->n_run), {});
    impl_->value_cache.assign(static_cast<size_t>(impl_->n_run), {});
}

int ReferenceLlama::n_vocab() const { return impl_->n_vocab; }

double ReferenceLlama::last_choice_margin() const { return impl_->choice_margin; }

std::vector<double> ReferenceLlama::step(int token) {
    Impl& m = *impl_;
    const HParams& hp = m.hp;
    const int n_embd = static_cast<int>(hp.n_embd), hd = static_cast<int>(hp.head_dim);
    const int n_head = static_cast<int>(hp.n_head), n_head_kv = static_cast<int>(hp.n_head_kv);
    const double eps = hp.rms_eps;
    m.choice_margin = INFINITY;
    Vec x(m.embd.w.begin() + static_cast<std::ptrdiff_t>(token) * n_embd,
          m.embd.w.begin() + static_cast<std::ptrdiff_t>(token + 1) * n_embd);
    if (m.gemma)
        for (double& v : x) v *= std::sqrt(static_cast<double>(n_embd));
    for (int il = 0; il < m.n_run; ++il) {
        const Impl::Layer& L = m.layers[static_cast<size_t>(il)];
        // Gemma: the last layer of each `pattern` is global, the others see `window` keys.
        // Phi-3: every layer slides where the file gives a window (pattern 0).
        const bool sliding = m.window > 0 && (m.pattern == 0 || il % m.pattern < m.pattern - 1);
        const ReferenceRope& rope = sliding ? m.rope_local : m.rope;
        Vec xb = rmsnorm(x, L.attn_norm, eps);
        Vec q = matvec(L.wq, xb), k = matvec(L.wk, xb), v = matvec(L.wv, xb);
        if (!L.bq.empty()) {
            for (size_t i = 0; i < q.size(); ++i) q[i] += L.bq[i];
            for (size_t i = 0; i < k.size(); ++i) { k[i] += L.bk[i]; v[i] += L.bv[i]; }
        }
        if (!L.q_norm.empty()) {
            for (int h = 0; h < n_head; ++h) {
                Vec part(q.begin() + h * hd, q.begin() + (h + 1) * hd);
                part = rmsnorm(part, L.q_norm, eps);
                std::copy(part.begin(), part.end(), q.begin() + h * hd);
            }
            for (int h = 0; h < n_head_kv; ++h) {
                Vec part(k.begin() + h * hd, k.begin() + (h + 1) * hd);
                part = rmsnorm(part, L.k_norm, eps);
                std::copy(part.begin(), part.end(), k.begin() + h * hd);
            }
        }
        for (int h = 0; h < n_head; ++h) rope.apply(&q[static_cast<size_t>(h) * hd], m.pos);
        for (int h = 0; h < n_head_kv; ++h) rope.apply(&k[static_cast<size_t>(h) * hd], m.pos);
        // Mistral 3: queries scaled by 1 + β·ln(1 + floor(pos / original context)).
        const double temp = 1.0 + m.temp_beta * std::log(1.0 + std::floor(m.pos / m.temp_floor));
        for (double& v : q) v *= temp * m.q_scale;
        m.key_cache[static_cast<size_t>(il)].push_back(k);
        m.value_cache[static_cast<size_t>(il)].push_back(v);
        Vec att_out(static_cast<size_t>(n_head) * hd, 0.0);
        const int group = n_head / n_head_kv;
        for (int h = 0; h < n_head; ++h) {
            const int kvh = h / group;
            Vec scores(static_cast<size_t>(m.pos + 1), 0.0);
            const int first = sliding ? std::max(0, m.pos + 1 - m.window) : 0;
            // A sink (gpt-oss) is one more logit in the denominator, with no value row.
            const double sink = L.sinks.empty() ? -INFINITY : L.sinks[static_cast<size_t>(h)];
            double mx = std::max(-1e300, sink);
            for (int t = first; t <= m.pos; ++t) {
                const Vec& kt = m.key_cache[static_cast<size_t>(il)][static_cast<size_t>(t)];
                double s = 0;
                for (int d = 0; d < hd; ++d) s += q[static_cast<size_t>(h * hd + d)] * kt[static_cast<size_t>(kvh * hd + d)];
                if (m.attn_cap > 0) s = m.attn_cap * std::tanh(s / m.attn_cap);
                scores[static_cast<size_t>(t)] = s;
                mx = std::max(mx, s);
            }
            double sum = L.sinks.empty() ? 0.0 : std::exp(sink - mx);
            for (int t = first; t <= m.pos; ++t) {
                double& s = scores[static_cast<size_t>(t)];
                s = std::exp(s - mx);
                sum += s;
            }
            for (int t = first; t <= m.pos; ++t) {
                const Vec& vt = m.value_cache[static_cast<size_t>(il)][static_cast<size_t>(t)];
                const double p = scores[static_cast<size_t>(t)] / sum;
                for (int d = 0; d < hd; ++d) att_out[static_cast<size_t>(h * hd + d)] += p * vt[static_cast<size_t>(kvh * hd + d)];
            }
        }
        Vec o = matvec(L.wo, att_out);
        for (size_t i = 0; i < L.bo.size(); ++i) o[i] += L.bo[i];
        if (m.gemma) o = rmsnorm(o, L.post_attn_norm, eps);
        for (int i = 0; i < n_embd; ++i) x[static_cast<size_t>(i)] += o[static_cast<size_t>(i)];
        xb = rmsnorm(x, L.ffn_norm, eps);
        auto gated_ffn = [&](const Mat& w1, const Mat& w2, const Mat& w3) {
            Vec h1 = matvec(w1, xb), h3 = matvec(w3, xb);
            for (size_t i = 0; i < h1.size(); ++i) {
                const double g = h1[i];
                const double act = m.gemma ? 0.5 * g * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (g + 0.044715 * g * g * g)))
                                           : g / (1.0 + std::exp(-g));
                h1[i] = act * h3[i];
            }
            return matvec(w2, h1);
        };
        Vec d;
        const bool moe_layer = m.n_expert > 0 && il >= m.dense_lead;
        if (moe_layer && m.glm) {
            const Vec logits = matvec(L.router, xb);
            Vec score(logits.size()), key(logits.size());
            for (size_t e = 0; e < logits.size(); ++e) {
                score[e] = 1.0 / (1.0 + std::exp(-logits[e]));
                key[e] = score[e] + L.choice_b[e];
            }
            std::vector<int> order(logits.size());
            for (size_t e = 0; e < order.size(); ++e) order[e] = static_cast<int>(e);
            std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return key[static_cast<size_t>(a)] > key[static_cast<size_t>(b)]; });
            double chosen = 0;
            for (int j = 0; j < m.n_used; ++j) chosen += score[static_cast<size_t>(order[static_cast<size_t>(j)])];
            if (m.n_used < m.n_expert)
                m.choice_margin = std::min(m.choice_margin, key[static_cast<size_t>(order[static_cast<size_t>(m.n_used - 1)])] -
                                                                key[static_cast<size_t>(order[static_cast<size_t>(m.n_used)])]);
            d = gated_ffn(L.s1, L.s2, L.s3);  // the shared expert, unweighted
            for (int j = 0; j < m.n_used; ++j) {
                const size_t e = static_cast<size_t>(order[static_cast<size_t>(j)]);
                const double w = score[e] / (m.moe_norm ? chosen : 1.0) * m.moe_scale;
                const Vec y = gated_ffn(L.e1[e], L.e2[e], L.e3[e]);
                for (int i = 0; i < n_embd; ++i) d[static_cast<size_t>(i)] += w * y[static_cast<size_t>(i)];
            }
        } else if (moe_layer && m.gpt_oss) {
            Vec logits = matvec(L.router, xb);
            for (size_t e = 0; e < logits.size(); ++e) logits[e] += L.router_b[e];
            std::vector<int> order(logits.size());
            for (size_t e = 0; e < order.size(); ++e) order[e] = static_cast<int>(e);
            std::stable_sort(order.begin(), order.end(),
                             [&](int a, int b) { return logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)]; });
            const double top = logits[static_cast<size_t>(order[0])];
            double z = 0;
            for (int j = 0; j < m.n_used; ++j) z += std::exp(logits[static_cast<size_t>(order[static_cast<size_t>(j)])] - top);
            d.assign(static_cast<size_t>(n_embd), 0.0);
            for (int j = 0; j < m.n_used; ++j) {
                const size_t e = static_cast<size_t>(order[static_cast<size_t>(j)]);
                const double w = std::exp(logits[e] - top) / z;
                Vec g = matvec(L.e1[e], xb), u = matvec(L.e3[e], xb);
                for (size_t i = 0; i < g.size(); ++i) {
                    const double gi = std::min(g[i] + L.b1[e][i], 7.0);
                    const double ui = std::clamp(u[i] + L.b3[e][i], -7.0, 7.0);
                    g[i] = gi / (1.0 + std::exp(-1.702 * gi)) * (ui + 1.0);
                }
                const Vec y = matvec(L.e2[e], g);
                for (int i = 0; i < n_embd; ++i) d[static_cast<size_t>(i)] += w * (y[static_cast<size_t>(i)] + L.b2[e][static_cast<size_t>(i)]);
            }
        } else if (moe_layer) {
            const Vec logits = matvec(L.router, xb);
            const double mx = *std::max_element(logits.begin(), logits.end());
            Vec p(logits.size());
            double sum = 0;
            for (size_t e = 0; e < p.size(); ++e) sum += p[e] = std::exp(logits[e] - mx);
            std::vector<int> order(p.size());
            for (size_t e = 0; e < order.size(); ++e) order[e] = static_cast<int>(e);
            std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return p[static_cast<size_t>(a)] > p[static_cast<size_t>(b)]; });
            double chosen = 0;
            for (int j = 0; j < m.n_used; ++j) chosen += p[static_cast<size_t>(order[static_cast<size_t>(j)])] / sum;
            d.assign(static_cast<size_t>(n_embd), 0.0);
            for (int j = 0; j < m.n_used; ++j) {
                const int e = order[static_cast<size_t>(j)];
                const double w = p[static_cast<size_t>(e)] / sum / (m.moe_norm ? chosen : 1.0) * m.moe_scale;
                const Vec y = gated_ffn(L.e1[static_cast<size_t>(e)], L.e2[static_cast<size_t>(e)], L.e3[static_cast<size_t>(e)]);
                for (int i = 0; i < n_embd; ++i) d[static_cast<size_t>(i)] += w * y[static_cast<size_t>(i)];
            }
        } else {
            d = gated_ffn(L.w1, L.w2, L.w3);
        }
        if (m.gemma) d = rmsnorm(d, L.post_ffn_norm, eps);
        for (int i = 0; i < n_embd; ++i) x[static_cast<size_t>(i)] += d[static_cast<size_t>(i)];
    }
    ++m.pos;
    Vec logits = matvec(m.out, rmsnorm(x, m.out_norm, eps));
    if (m.final_cap > 0)
        for (double& l : logits) l = m.final_cap * std::tanh(l / m.final_cap);
    return logits;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<double>& b) {
    double d = 0;
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
    return a.size() == b.size() ? d : INFINITY;
}

double max_abs(const std::vector<double>& b) {
    double m = 0;
    for (double v : b) m = std::max(m, std::fabs(v));
    return m;
}

int argmax(const std::vector<double>& v) { return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin()); }
int argmax(const std::vector<float>& v) { return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin()); }

}  // namespace strata::test
