#include "backend/cpu/cpu_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "backend/cpu/cpu_attention.h"
#include "backend/cpu/cpu_device.h"
#include "backend/cpu/cpu_matmul.h"
#include "backend/moe_routing.h"
#include "quant/quant.h"
#include "util/cpu_features.h"
#include "util/fp16.h"

namespace strata {

struct CpuOps::Scratch {
    MatmulScratch matmul;
    // moe_ffn's (token, weight) rows per expert, kept between calls so decode allocates nothing.
    std::vector<std::vector<std::pair<int64_t, float>>> routed;
};

CpuOps::CpuOps(CpuDevice& device) : device_(device), scratch_(std::make_unique<Scratch>()) {}
CpuOps::~CpuOps() = default;

namespace {

TensorType kv_tensor_type(KvCacheType t) {
    switch (t) {
        case KvCacheType::f32: return TensorType::F32;
        case KvCacheType::f16: return TensorType::F16;
        case KvCacheType::q8_0: return TensorType::Q8_0;
    }
    return TensorType::F32;
}

void write_kv_row(void* cache, KvCacheType type, int64_t n_embd_kv, int64_t pos, const float* src) {
    const TensorType tt = kv_tensor_type(type);
    const size_t row_bytes = tensor_row_bytes(tt, n_embd_kv);
    uint8_t* row = static_cast<uint8_t*>(cache) + static_cast<size_t>(pos) * row_bytes;
    switch (type) {
        case KvCacheType::f32: std::memcpy(row, src, row_bytes); break;
        case KvCacheType::f16: {
            uint16_t* h = reinterpret_cast<uint16_t*>(row);
            for (int64_t i = 0; i < n_embd_kv; ++i) h[i] = fp32_to_fp16(src[i]);
            break;
        }
        case KvCacheType::q8_0: quant::quantize_row(tt, src, row, n_embd_kv); break;
    }
}

// out = act(gate, up) over n values (out may alias gate); FfnActivation says which.
void gated_activation(FfnActivation act, const float* gate, const float* up, int64_t n, float* out) {
    if (act == FfnActivation::swiglu_oai) {
        for (int64_t i = 0; i < n; ++i) {
            const float g = std::min(gate[i], kSwigluOaiLimit);
            const float u = std::clamp(up[i], -kSwigluOaiLimit, kSwigluOaiLimit);
            out[i] = g / (1.0f + std::exp(-kSwigluOaiAlpha * g)) * (u + 1.0f);
        }
        return;
    }
    if (act == FfnActivation::silu) {
        for (int64_t i = 0; i < n; ++i) {
            const float g = gate[i];
            out[i] = g / (1.0f + std::exp(-g)) * up[i];
        }
        return;
    }
    constexpr float kSqrt2OverPi = 0.7978845608028654f;
    for (int64_t i = 0; i < n; ++i) {
        const float g = gate[i];
        out[i] = 0.5f * g * (1.0f + std::tanh(kSqrt2OverPi * (g + 0.044715f * g * g * g))) * up[i];
    }
}

}  // namespace

Status CpuOps::embed(const DeviceWeight& table, const int32_t* tokens, int64_t n_tok, float* out) {
    STRATA_RETURN_IF_ERROR(device_.begin_op("embed"));
    const CpuWeight& w = cpu_weight_of(table);
    const size_t row_bytes = tensor_row_bytes(w.type(), w.n_cols());
    for (int64_t t = 0; t < n_tok; ++t) {
        if (tokens[t] < 0 || tokens[t] >= w.n_rows()) {
            return Status(ErrorCode::invalid_argument,
                          "token id " + std::to_string(tokens[t]) + " is outside the vocabulary (" +
                              std::to_string(w.n_rows()) + " tokens)");
        }
        const uint8_t* row = static_cast<const uint8_t*>(w.data()) + static_cast<size_t>(tokens[t]) * row_bytes;
        quant::dequantize_row(w.type(), row, out + t * w.n_cols(), w.n_cols());
    }
    return {};
}

Status CpuOps::rms_norm(const float* x, const DeviceWeight& weight, float eps, int64_t n_tok, int64_t n,
                        float* out) {
    STRATA_RETURN_IF_ERROR(device_.begin_op("rms_norm"));
    const float* w = static_cast<const float*>(cpu_weight_of(weight).data());
    for (int64_t t = 0; t < n_tok; ++t) {
        const float* xt = x + t * n;
        float* ot = out + t * n;
        double ss = 0.0;  // double: the sum of squares of thousands of values keeps its precision
        for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(xt[i]) * xt[i];
        const float scale = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
        for (int64_t i = 0; i < n; ++i) ot[i] = xt[i] * scale * w[i];
    }
    return {};
}

Status CpuOps::matmul(const DeviceWeight& w, const float* x, int64_t n_tok, float* out) {
    STRATA_RETURN_IF_ERROR(device_.begin_op("matmul"));
    cpu_matmul(device_.pool(), cpu_weight_of(w), x, n_tok, out, scratch_->matmul);
    return {};
}

Status CpuOps::add_bias(float* x, const DeviceWeight& bias, int64_t n_tok, int64_t n) {
    STRATA_RETURN_IF_ERROR(device_.begin_op("add_bias"));
    const float* b = static_cast<const float*>(cpu_weight_of(bias).data());
    for (int64_t t = 0; t < n_tok; ++t)
        for (int64_t i = 0; i < n; ++i) x[t * n + i] += b[i];
    return {};
}

Status CpuOps::rope(float* x, int64_t n_tok, int64_t n_head, int64_t head_dim, int64_t pos0,
                    const RopeParams& rope, const DeviceWeight* freq_factors) {
    STRATA_RETURN_IF_ERROR(device_.begin_op("rope"));
    const int64_t half = rope.n_rot / 2;
    const float* factors = nullptr;
    if (freq_factors) {
        if (freq_factors->type() != TensorType::F32 || freq_factors->n_rows() * freq_factors->n_cols() != half)
            return Status(ErrorCode::invalid_argument, "rope frequency factors " + freq_factors->name() +
                                                           " are not " + std::to_string(half) + " F32 values");
        factors = static_cast<const float*>(cpu_weight_of(*freq_factors).data());
    }
    // Each pair's angle is linear in the position (device.h), so one rate per pair, in double:
    // at position 100,000 a float angle would be off by ~0.01 rad.
    std::vector<double> rate(static_cast<size_t>(half));
    for (int64_t i = 0; i < half; ++i) {
        double extrap = std::pow(static_cast<double>(rope.freq_base), -2.0 * static_cast<double>(i) / rope.n_rot);
        if (factors) extrap /= factors[i];
        const double interp = extrap * rope.freq_scale;
        double r = interp;
        if (rope.ext_factor != 0.0f) {
            const double y = (static_cast<double>(i) - rope.corr_low) / std::max(0.001, double(rope.corr_high) - rope.corr_low);
            const double mix = (1.0 - std::clamp(y, 0.0, 1.0)) * rope.ext_factor;
            r = interp * (1.0 - mix) + extrap * mix;
        }
        rate[static_cast<size_t>(i)] = r;
    }
    for (int64_t t = 0; t < n_tok; ++t) {
        const double pos = static_cast<double>(pos0 + t);
        for (int64_t i = 0; i < half; ++i) {
            const double theta = pos * rate[static_cast<size_t>(i)];
            const float c = static_cast<float>(std::cos(theta) * rope.mscale);
            const float s = static_cast<float>(std::sin(theta) * rope.mscale);
            for (int64_t h = 0; h < n_head; ++h) {
                float* xh = x + (t * n_head + h) * head_dim;
                const int64_t a = rope.style == RopeStyle::interleaved ? 2 * i : i;
                const int64_t b = rope.style == RopeStyle::interleaved ? 2 * i + 1 : i + half;
                const float x0 = xh[a], x1 = xh[b];
                xh[a] = x0 * c - x1 * s;
                xh[b] = x0 * s + x1 * c;
            }
        }
    }
    return {};
}

Status CpuOps::store_kv(const float* k, const float* v, const KvView& kv, int64_t pos0, int64_t n_tok) {
    STRATA_RETURN_IF_ERROR(device_.begin_op("store_kv"));
    if (pos0 < 0 || pos0 + n_tok > kv.n_ctx) {
        return Status(ErrorCode::invalid_argument, "KV cache positions " + std::to_string(pos0) + ".." +
                                                       std::to_string(pos0 + n_tok) + " exceed the context of " +
                                                       std::to_string(kv.n_ctx));
    }
    for (int64_t t = 0; t < n_tok; ++t) {
        write_kv_row(kv.k, kv.type, kv.n_embd_kv, kv.row_of(pos0 + t), k + t * kv.n_embd_kv);
        write_kv_row(kv.v, kv.type, kv.n_embd_kv, kv.row_of(pos0 + t), v + t * kv.n_embd_kv);
    }
    return {};
}

Status CpuOps::attention(const float* q, const KvView& kv, int64_t pos0, int64_t n_tok, int64_t n_head,
                         int64_t n_head_kv, int64_t head_dim, const AttentionParams& p, float* scratch, float* out) {
    STRATA_RETURN_IF_ERROR(device_.begin_op("attention"));
    const int64_t group = n_head / n_head_kv;
    const int64_t n_ctx = kv.n_ctx;
    const TensorType tt = kv_tensor_type(kv.type);
    const size_t row_bytes = tensor_row_bytes(tt, kv.n_embd_kv);
    const size_t head_offset = tensor_row_bytes(tt, head_dim);  // bytes of one head's slice
    if (kv.rows() < n_ctx && (p.window <= 0 || p.window + n_tok - 1 > kv.rows())) {
        return Status(ErrorCode::internal, "a KV ring of " + std::to_string(kv.rows()) + " rows cannot serve a window of " +
                                               std::to_string(p.window) + " for " + std::to_string(n_tok) + " tokens");
    }
    const float scale = p.scale;
    const float* sinks = nullptr;
    if (p.sinks) {
        if (p.sinks->type() != TensorType::F32 || p.sinks->n_rows() * p.sinks->n_cols() != n_head)
            return Status(ErrorCode::invalid_argument, "attention sinks " + p.sinks->name() + " are not " +
                                                           std::to_string(n_head) + " F32 values");
        sinks = static_cast<const float*>(cpu_weight_of(*p.sinks).data());
    }
    // Soft-capped scores (Gemma 2) take the scalar path; its tanh is per score anyway.
    const CpuIsa isa = cpu_isa();
    const bool vectorised = p.softcap == 0.0f && attention_task_vectorised(kv.type, head_dim, isa);
    // One task per (token, KV head): the group of query heads sharing that KV head. Each task
    // writes only its own outputs, so the result does not depend on how tasks land on threads.
    device_.pool().parallel_for(n_tok * n_head_kv, [&](int64_t task, int thread) {
        const int64_t t = task / n_head_kv, kvh = task % n_head_kv;
        // Causal: positions first .. pos0 + t, where a sliding window starts `window` back.
        const int64_t first = p.window > 0 ? std::max<int64_t>(0, pos0 + t + 1 - p.window) : 0;
        const int64_t n_pos = pos0 + t + 1 - first;
        // Position `first` is row first_row; a window's ring wraps back to row 0 after n_rows.
        const int64_t n_rows = kv.rows(), first_row = kv.row_of(first);
        auto row_at = [&](int64_t j) { return ring_row_offset(first_row, n_rows, row_bytes, j); };
        float* scores = scratch + static_cast<int64_t>(thread) * group * n_ctx;  // (group, n_ctx)
        if (vectorised) {
            const AttentionTask a{q + (t * n_head + kvh * group) * head_dim,
                                  static_cast<const uint8_t*>(kv.k) + static_cast<size_t>(kvh) * head_offset,
                                  static_cast<const uint8_t*>(kv.v) + static_cast<size_t>(kvh) * head_offset,
                                  row_bytes, first_row, n_rows, kv.type, n_pos, group, head_dim, scale, scores, n_ctx,
                                  out + (t * n_head + kvh * group) * head_dim, sinks ? sinks + kvh * group : nullptr};
            attention_task_vectorised_run(a, isa);
            return;
        }
        float row_buf[512];
        std::vector<float> big;
        float* row = row_buf;  // one dequantized K or V slice (head_dim)
        if (head_dim > 512) {
            big.resize(static_cast<size_t>(head_dim));
            row = big.data();
        }
        const uint8_t* k_base = static_cast<const uint8_t*>(kv.k) + static_cast<size_t>(kvh) * head_offset;
        const uint8_t* v_base = static_cast<const uint8_t*>(kv.v) + static_cast<size_t>(kvh) * head_offset;
        const float* q0 = q + (t * n_head + kvh * group) * head_dim;
        for (int64_t j = 0; j < n_pos; ++j) {
            const uint8_t* k_row = k_base + row_at(j);
            const void* k_vals = k_row;
            TensorType k_type = tt;
            if (tt == TensorType::Q8_0) {  // dot products want float or F16 rows
                quant::dequantize_row(tt, k_row, row, head_dim);
                k_vals = row;
                k_type = TensorType::F32;
            }
            for (int64_t g = 0; g < group; ++g) {
                float s = quant::vec_dot(k_type, head_dim, k_vals, q0 + g * head_dim) * scale;
                if (p.softcap > 0.0f) s = p.softcap * std::tanh(s / p.softcap);
                scores[g * n_ctx + j] = s;
            }
        }
        for (int64_t g = 0; g < group; ++g) {
            float* sg = scores + g * n_ctx;
            const float* sink = sinks ? sinks + kvh * group + g : nullptr;  // in the sum only
            const float max_score = std::max(*std::max_element(sg, sg + n_pos), sink ? *sink : -INFINITY);
            float sum = sink ? std::exp(*sink - max_score) : 0.0f;
            for (int64_t j = 0; j < n_pos; ++j) {
                sg[j] = std::exp(sg[j] - max_score);
                sum += sg[j];
            }
            const float inv_sum = 1.0f / sum;
            for (int64_t j = 0; j < n_pos; ++j) sg[j] *= inv_sum;
            float* oh = out + (t * n_head + kvh * group + g) * head_dim;
            std::fill(oh, oh + head_dim, 0.0f);
        }
        for (int64_t j = 0; j < n_pos; ++j) {
            quant::dequantize_row(tt, v_base + row_at(j), row, head_dim);
            for (int64_t g = 0; g < group; ++g) {
                const float w = scores[g * n_ctx + j];
                float* oh = out + (t * n_head + kvh * group + g) * head_dim;
                for (int64_t d = 0; d < head_dim; ++d) oh[d] += w * row[d];
            }
        }
    });
    return {};
}

Status CpuOps::swiglu(const float* gate, const float* up, int64_t n, float* out) {
    STRATA_RETURN_IF_ERROR(device_.begin_op("swiglu"));
    gated_activation(FfnActivation::silu, gate, up, n, out);
    return {};
}

Status CpuOps::geglu(const float* gate, const float* up, int64_t n, float* out) {
    STRATA_RETURN_IF_ERROR(device_.begin_op("geglu"));
    gated_activation(FfnActivation::gelu_tanh, gate, up, n, out);
    return {};
}

Status CpuOps::moe_route(const float* logits, int64_t n_tok, const MoeRouting& r, const DeviceWeight* selection_bias,
                         int32_t* ids, float* weights) {
    STRATA_RETURN_IF_ERROR(device_.begin_op("moe_route"));
    if (r.n_used < 1 || r.n_used > r.n_expert)
        return Status(ErrorCode::invalid_argument, "moe_route: " + std::to_string(r.n_used) + " of " +
                                                       std::to_string(r.n_expert) + " experts");
    const float* bias = nullptr;
    if (selection_bias) {
        if (selection_bias->type() != TensorType::F32 || selection_bias->n_rows() * selection_bias->n_cols() != r.n_expert)
            return Status(ErrorCode::invalid_argument, "moe_route: the selection bias " + selection_bias->name() +
                                                           " is not " + std::to_string(r.n_expert) + " F32 values");
        bias = static_cast<const float*>(cpu_weight_of(*selection_bias).data());
    }
    for (int64_t t = 0; t < n_tok; ++t)
        route_token(logits + t * r.n_expert, r, bias, ids + t * r.n_used, weights + t * r.n_used);
    return {};
}

Status CpuOps::moe_ffn(const ExpertWeights& experts, FfnActivation act, const float* x, int64_t n_tok,
                       const int32_t* ids, const float* weights, int64_t n_used, const MoeScratch& s, float* out) {
    STRATA_RETURN_IF_ERROR(device_.begin_op("moe_ffn"));
    const int64_t n_expert = static_cast<int64_t>(experts.gate.size());
    if (n_expert == 0 || experts.up.size() != experts.gate.size() || experts.down.size() != experts.gate.size())
        return Status(ErrorCode::invalid_argument, "moe_ffn: incomplete expert set");
    const int64_t n_embd = experts.gate[0]->n_cols(), n_ff = experts.n_ff;
    // Biases (gpt-oss): all three lists or none, one F32 vector per expert of the right size.
    const bool biased = !experts.gate_bias.empty() || !experts.up_bias.empty() || !experts.down_bias.empty();
    if (biased) {
        const auto ok = [&](const std::vector<const DeviceWeight*>& v, int64_t n) {
            if (static_cast<int64_t>(v.size()) != n_expert) return false;
            for (const DeviceWeight* b : v)
                if (!b || b->type() != TensorType::F32 || b->n_rows() * b->n_cols() != n) return false;
            return true;
        };
        if (!ok(experts.gate_bias, n_ff) || !ok(experts.up_bias, n_ff) || !ok(experts.down_bias, n_embd))
            return Status(ErrorCode::invalid_argument, "moe_ffn: expert biases do not match the experts");
    }
    const auto add_rows = [](float* rows, int64_t n, const DeviceWeight* bias, int64_t width) {
        const float* b = static_cast<const float*>(cpu_weight_of(*bias).data());
        for (int64_t i = 0; i < n; ++i)
            for (int64_t c = 0; c < width; ++c) rows[i * width + c] += b[c];
    };
    // Tokens by expert, in token order, so each expert's matrices are read once for all its rows
    // (prefill) and only chosen experts are read at all (decode).
    auto& routed = scratch_->routed;
    routed.resize(static_cast<size_t>(n_expert));
    for (auto& rows : routed) rows.clear();
    for (int64_t t = 0; t < n_tok; ++t) {
        for (int64_t j = 0; j < n_used; ++j) {
            const int32_t e = ids[t * n_used + j];
            if (e < 0 || e >= n_expert)
                return Status(ErrorCode::invalid_argument, "moe_ffn: expert id " + std::to_string(e) + " of " +
                                                               std::to_string(n_expert));
            routed[static_cast<size_t>(e)].emplace_back(t, weights[t * n_used + j]);
        }
    }
    std::fill(out, out + n_tok * n_embd, 0.0f);
    for (int64_t e = 0; e < n_expert; ++e) {
        const auto& rows = routed[static_cast<size_t>(e)];
        if (rows.empty()) continue;
        const int64_t n = static_cast<int64_t>(rows.size());
        for (int64_t i = 0; i < n; ++i)
            std::memcpy(s.x + i * n_embd, x + rows[static_cast<size_t>(i)].first * n_embd, static_cast<size_t>(n_embd) * 4);
        cpu_matmul(device_.pool(), cpu_weight_of(*experts.gate[static_cast<size_t>(e)]), s.x, n, s.gate, scratch_->matmul);
        cpu_matmul(device_.pool(), cpu_weight_of(*experts.up[static_cast<size_t>(e)]), s.x, n, s.up, scratch_->matmul);
        if (biased) {
            add_rows(s.gate, n, experts.gate_bias[static_cast<size_t>(e)], n_ff);
            add_rows(s.up, n, experts.up_bias[static_cast<size_t>(e)], n_ff);
        }
        gated_activation(act, s.gate, s.up, n * n_ff, s.gate);
        cpu_matmul(device_.pool(), cpu_weight_of(*experts.down[static_cast<size_t>(e)]), s.gate, n, s.y, scratch_->matmul);
        if (biased) add_rows(s.y, n, experts.down_bias[static_cast<size_t>(e)], n_embd);
        // Added in expert order for every token: the sum's order does not depend on the batch.
        for (int64_t i = 0; i < n; ++i) {
            const auto [t, w] = rows[static_cast<size_t>(i)];
            float* o = out + t * n_embd;
            const float* y = s.y + i * n_embd;
            for (int64_t c = 0; c < n_embd; ++c) o[c] += w * y[c];
        }
    }
    return {};
}

Status CpuOps::scale(float* x, float s, int64_t n) {
    STRATA_RETURN_IF_ERROR(device_.begin_op("scale"));
    for (int64_t i = 0; i < n; ++i) x[i] *= s;
    return {};
}

Status CpuOps::add(float* x, const float* y, int64_t n) {
    STRATA_RETURN_IF_ERROR(device_.begin_op("add"));
    for (int64_t i = 0; i < n; ++i) x[i] += y[i];
    return {};
}

}  // namespace strata
