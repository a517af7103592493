#include "plan/model_footprint.h"

#include <algorithm>
#include <cmath>
#include <cctype>
#include <charconv>
#include <cstring>
#include <limits>
#include <optional>

#include "backend/weight_storage.h"
#include "gguf/file_type.h"
#include "plan/sliding_window.h"

namespace strata {

namespace {

constexpr int64_t kMaxLayers = 1 << 16;

// Metadata lookups by key over the directory lists (the typed getters of GgufFile do the same
// on a whole file; this works on any KeyValue list, which keeps the footprint testable alone).
class Meta {
public:
    Meta(const std::vector<gguf::KeyValue>& kv, const std::string& source)
        : kv_(kv), source_(source) {}

    const gguf::KeyValue* find(const std::string& key) const {
        for (const gguf::KeyValue& e : kv_)
            if (e.key == key) return &e;
        return nullptr;
    }

    Status error(ErrorCode code, const std::string& what) const {
        return make_error(code, source_ + ": " + what);
    }

    Result<std::optional<int64_t>> get_int(const std::string& key) const {
        const gguf::KeyValue* e = find(key);
        if (e == nullptr) return std::optional<int64_t>();
        using VT = gguf::ValueType;
        const gguf::Value& v = e->value;
        switch (v.type) {
            case VT::UINT8: case VT::UINT16: case VT::UINT32: case VT::UINT64:
                if (v.u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
                    return error(ErrorCode::corrupt, "key " + key + " at offset " +
                                                         std::to_string(e->offset) + ": value " +
                                                         std::to_string(v.u) + " is too large");
                return std::optional<int64_t>(static_cast<int64_t>(v.u));
            case VT::INT8: case VT::INT16: case VT::INT32: case VT::INT64:
                return std::optional<int64_t>(v.i);
            default:
                return error(ErrorCode::corrupt,
                             "key " + key + " at offset " + std::to_string(e->offset) +
                                 ": expected an integer, found value type " +
                                 std::to_string(static_cast<uint32_t>(v.type)));
        }
    }

    // A required positive integer within [1, max].
    Result<int64_t> require(const std::string& key, int64_t max) const {
        STRATA_ASSIGN_OR_RETURN(std::optional<int64_t> v, get_int(key));
        if (!v) return error(ErrorCode::corrupt, "missing key " + key);
        return check_range(key, *v, max);
    }

    Result<int64_t> check_range(const std::string& key, int64_t v, int64_t max) const {
        if (v < 1 || v > max)
            return error(ErrorCode::corrupt, "key " + key + " is " + std::to_string(v) +
                                                 ", expected 1 to " + std::to_string(max));
        return v;
    }

private:
    const std::vector<gguf::KeyValue>& kv_;
    const std::string& source_;
};

int64_t elements(const gguf::TensorInfo& t) {
    int64_t n = 1;
    for (int64_t d : t.ne) n *= d;
    return t.ne.empty() ? 0 : n;
}

// "blk.12.attn_q.weight" → 12; nullopt for other names; -1 for a malformed block name.
std::optional<int64_t> block_index(const std::string& name) {
    constexpr std::string_view prefix = "blk.";
    if (name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
    const char* first = name.data() + prefix.size();
    const char* last = name.data() + name.size();
    int64_t il = -1;
    const auto [end, ec] = std::from_chars(first, last, il);
    if (ec != std::errc() || end == first || end == last || *end != '.') return -1;
    return il;
}

// Which tensors of a MoE layer belong to its experts unit: the router and GLM-4.5's choice bias
// (counted whole), the 3-D expert stacks, and the per-expert matrices of early Mixtral files
// ("ffn_gate.3.weight"). Shared experts ("_shexp.") are the layer's dense part.
enum class ExpertPart { none, router, stack, single };
ExpertPart expert_part(const std::string& name) {
    if (name.find(".ffn_gate_inp.") != std::string::npos || name.find(".exp_probs_b.") != std::string::npos)
        return ExpertPart::router;
    if (name.find("_exps.") != std::string::npos) return ExpertPart::stack;
    for (const char* kind : {".ffn_gate.", ".ffn_up.", ".ffn_down."}) {
        const size_t at = name.find(kind);
        if (at == std::string::npos) continue;
        const size_t d = at + std::strlen(kind);
        if (d < name.size() && std::isdigit(static_cast<unsigned char>(name[d]))) return ExpertPart::single;
    }
    return ExpertPart::none;
}

// Bytes of one tensor on a CUDA device (weight_storage.h), counted into m.cuda_conversions
// where the GPU stores another type. Roles as the loader gives them: 1-D tensors are vectors.
uint64_t cuda_tensor_bytes(const gguf::TensorInfo& t, WeightRole role, ModelFootprint& m) {
    if (t.ne.size() < 2) role = WeightRole::vector;
    const uint64_t b = cuda_weight_bytes(t.type, role, t.n_rows(), t.ne.empty() ? 0 : t.ne[0]);
    if (b == 0) return t.n_bytes;  // not loadable anyway: the loader says why
    const TensorType to = cuda_storage_type(t.type, role, t.ne[0]);
    if (to != t.type && role != WeightRole::vector) {
        auto it = std::find_if(m.cuda_conversions.begin(), m.cuda_conversions.end(),
                               [&](const ModelFootprint::CudaConversion& c) { return c.from == t.type && c.to == to; });
        if (it == m.cuda_conversions.end()) it = m.cuda_conversions.insert(it, {t.type, to, 0, 0, 0});
        ++it->tensors;
        it->file_bytes += t.n_bytes;
        it->cuda_bytes += b;
    }
    return b;
}

// A fused matrix (Phi-3's attn_qkv, and ffn_up holding gate and up) is loaded as separate row
// ranges (model_tensors.cpp), each laid out on its own on a GPU.
uint64_t cuda_fused_bytes(const gguf::TensorInfo& t, ModelFootprint& m) {
    std::vector<int64_t> parts;
    const bool matrix = t.ne.size() == 2;
    if (matrix && t.name.ends_with(".attn_qkv.weight")) {
        const int64_t n_q = m.n_head * m.head_dim;
        if (t.ne[1] == n_q + 2 * m.n_embd_kv) parts = {n_q, m.n_embd_kv, m.n_embd_kv};
    } else if (matrix && t.name.ends_with(".ffn_up.weight") && t.ne[1] == 2 * m.n_ff) {
        parts = {m.n_ff, m.n_ff};
    }
    if (parts.empty()) return cuda_tensor_bytes(t, WeightRole::matrix, m);
    uint64_t total = 0;
    const uint64_t row_bytes = t.n_bytes / static_cast<uint64_t>(t.ne[1]);
    for (int64_t rows : parts) {
        gguf::TensorInfo part = t;
        part.ne[1] = rows;
        part.n_bytes = row_bytes * static_cast<uint64_t>(rows);
        total += cuda_tensor_bytes(part, WeightRole::matrix, m);
    }
    return total;
}

// Bytes of a stack of experts (a 3-D ffn_*_exps weight, or an (n, n_expert) bias stack) on a
// CUDA device: the loader uploads each expert's slice as a weight of its own
// (model_tensors.cpp), so a split layout pads each expert's matrix, not the stack once.
uint64_t cuda_stack_bytes(const gguf::TensorInfo& t, ModelFootprint& m) {
    const uint64_t whole = cuda_tensor_bytes(t, WeightRole::matrix, m);  // counts a conversion once
    if (t.ne.size() != 3 || t.ne[2] <= 0) return whole;
    const uint64_t per = cuda_weight_bytes(t.type, WeightRole::matrix, t.ne[1], t.ne[0]);
    return per == 0 ? whole : per * static_cast<uint64_t>(t.ne[2]);
}

}  // namespace

Result<ModelFootprint> model_footprint(const std::vector<gguf::KeyValue>& metadata,
                                       const std::vector<gguf::TensorInfo>& tensors,
                                       const std::string& source) {
    const Meta meta(metadata, source);
    ModelFootprint m;
    const gguf::KeyValue* arch = meta.find("general.architecture");
    if (arch == nullptr) return meta.error(ErrorCode::corrupt, "missing key general.architecture");
    if (arch->value.type != gguf::ValueType::STRING || arch->value.str.empty())
        return meta.error(ErrorCode::corrupt, "key general.architecture is not a non-empty string");
    m.architecture = std::string(arch->value.str);
    m.weight_type = gguf::quantization_label(metadata, tensors);
    const std::string a = m.architecture + ".";

    constexpr int64_t kMaxDim = int64_t{1} << 24;
    STRATA_ASSIGN_OR_RETURN(const int64_t n_block, meta.require(a + "block_count", kMaxLayers));
    // GLM-4.5's NextN blocks (counted in block_count) are not run: no layer, no bytes, no cache.
    STRATA_ASSIGN_OR_RETURN(std::optional<int64_t> n_nextn, meta.get_int(a + "nextn_predict_layers"));
    if (n_nextn.value_or(0) < 0 || n_nextn.value_or(0) >= n_block)
        return meta.error(ErrorCode::corrupt, "key " + a + "nextn_predict_layers is " + std::to_string(*n_nextn) +
                                                  ", but " + a + "block_count is " + std::to_string(n_block));
    const int64_t n_layer = n_block - n_nextn.value_or(0);
    m.n_layer_nextn = static_cast<int>(n_nextn.value_or(0));
    STRATA_ASSIGN_OR_RETURN(m.n_embd, meta.require(a + "embedding_length", kMaxDim));
    STRATA_ASSIGN_OR_RETURN(m.n_ff, meta.require(a + "feed_forward_length", kMaxDim));
    STRATA_ASSIGN_OR_RETURN(m.n_head, meta.require(a + "attention.head_count", kMaxDim));
    STRATA_ASSIGN_OR_RETURN(std::optional<int64_t> n_head_kv, meta.get_int(a + "attention.head_count_kv"));
    m.n_head_kv = n_head_kv.value_or(m.n_head);
    STRATA_ASSIGN_OR_RETURN(m.n_head_kv, meta.check_range(a + "attention.head_count_kv", m.n_head_kv, kMaxDim));
    STRATA_ASSIGN_OR_RETURN(std::optional<int64_t> key_length, meta.get_int(a + "attention.key_length"));
    int64_t head_dim = 0;
    if (key_length) {
        STRATA_ASSIGN_OR_RETURN(head_dim, meta.check_range(a + "attention.key_length", *key_length, kMaxDim));
    } else {
        if (m.n_embd % m.n_head != 0)
            return meta.error(ErrorCode::corrupt,
                              a + "embedding_length " + std::to_string(m.n_embd) +
                                  " is not a multiple of " + a + "attention.head_count " +
                                  std::to_string(m.n_head) + " (and there is no " + a +
                                  "attention.key_length)");
        head_dim = m.n_embd / m.n_head;
    }
    m.head_dim = head_dim;
    m.n_embd_kv = m.n_head_kv * head_dim;
    STRATA_ASSIGN_OR_RETURN(std::optional<int64_t> n_ctx_train, meta.get_int(a + "context_length"));
    m.n_ctx_train = n_ctx_train.value_or(0);
    if (m.n_ctx_train < 0)
        return meta.error(ErrorCode::corrupt, "key " + a + "context_length is negative");
    m.n_ctx_usable = m.n_ctx_train;
    if (const gguf::KeyValue* type = meta.find(a + "rope.scaling.type");
        type != nullptr && type->value.type == gguf::ValueType::STRING &&
        (type->value.str == "yarn" || type->value.str == "linear")) {
        const gguf::KeyValue* factor = meta.find(a + "rope.scaling.factor");
        const double f = factor != nullptr ? factor->value.as_double().value_or(1.0) : 1.0;
        STRATA_ASSIGN_OR_RETURN(std::optional<int64_t> orig, meta.get_int(a + "rope.scaling.original_context_length"));
        const int64_t base = orig.value_or(0) > 0 ? *orig : m.n_ctx_train;
        // A factor that is not a finite number above 1 extends nothing (the loader refuses
        // nonsense factors; the planner only needs not to promise more than the file says).
        if (std::isfinite(f) && f > 1.0 && f < 1024.0 && base > 0)
            m.n_ctx_usable = std::max(m.n_ctx_usable, static_cast<int64_t>(static_cast<double>(base) * f));
    }

    STRATA_ASSIGN_OR_RETURN(std::optional<int64_t> n_expert, meta.get_int(a + "expert_count"));
    if (n_expert.value_or(0) > 1) {
        STRATA_ASSIGN_OR_RETURN(m.n_expert, meta.check_range(a + "expert_count", *n_expert, 1024));
        STRATA_ASSIGN_OR_RETURN(m.n_expert_used, meta.require(a + "expert_used_count", m.n_expert));
        STRATA_ASSIGN_OR_RETURN(std::optional<int64_t> n_ff_exp, meta.get_int(a + "expert_feed_forward_length"));
        STRATA_ASSIGN_OR_RETURN(m.n_ff_exp, meta.check_range(a + "expert_feed_forward_length",
                                                             n_ff_exp.value_or(m.n_ff), kMaxDim));
        STRATA_ASSIGN_OR_RETURN(std::optional<int64_t> n_dense, meta.get_int(a + "leading_dense_block_count"));
        if (n_dense.value_or(0) < 0 || n_dense.value_or(0) >= n_layer)
            return meta.error(ErrorCode::corrupt, "key " + a + "leading_dense_block_count is " + std::to_string(*n_dense) +
                                                      " of " + std::to_string(n_layer) + " blocks that run");
        m.n_layer_dense_lead = static_cast<int>(n_dense.value_or(0));
        STRATA_ASSIGN_OR_RETURN(std::optional<int64_t> n_shared, meta.get_int(a + "expert_shared_count"));
        if (n_shared.value_or(0) > 0) {
            STRATA_ASSIGN_OR_RETURN(n_shared, meta.check_range(a + "expert_shared_count", *n_shared, 64));
            STRATA_ASSIGN_OR_RETURN(std::optional<int64_t> n_ff_sh, meta.get_int(a + "expert_shared_feed_forward_length"));
            STRATA_ASSIGN_OR_RETURN(m.n_ff_shexp, meta.check_range(a + "expert_shared_feed_forward_length",
                                                                   n_ff_sh.value_or(m.n_ff_exp * *n_shared), kMaxDim));
        }
    }
    m.n_layer = static_cast<int>(n_layer);
    STRATA_ASSIGN_OR_RETURN(m.swa, read_sliding_window(
                                       m.architecture, [&](const std::string& key) { return meta.get_int(key); }, source));
    m.layer_bytes.assign(static_cast<size_t>(n_layer), 0);
    m.cuda_layer_bytes.assign(static_cast<size_t>(n_layer), 0);
    if (m.is_moe()) {
        m.layer_expert_bytes.assign(static_cast<size_t>(n_layer), 0);
        m.cuda_layer_expert_bytes.assign(static_cast<size_t>(n_layer), 0);
    }
    std::vector<bool> seen(static_cast<size_t>(n_layer), false);
    const gguf::TensorInfo* token_embd = nullptr;
    const gguf::TensorInfo* output = nullptr;
    const gguf::TensorInfo* rope_factors = nullptr;
    uint64_t flops_all_layers = 0;
    for (const gguf::TensorInfo& t : tensors) {
        if (const auto il = block_index(t.name)) {
            if (*il < 0)
                return meta.error(ErrorCode::corrupt, "tensor " + t.name + ": no layer number after blk.");
            if (*il >= n_block)
                return meta.error(ErrorCode::corrupt, "tensor " + t.name + ": layer " + std::to_string(*il) +
                                                          " but " + a + "block_count is " +
                                                          std::to_string(n_block));
            if (*il >= n_layer) continue;  // a NextN block: never loaded
            const ExpertPart part = m.is_moe() ? expert_part(t.name) : ExpertPart::none;
            const uint64_t cuda_bytes = part == ExpertPart::stack ? cuda_stack_bytes(t, m) : cuda_fused_bytes(t, m);
            m.layer_bytes[static_cast<size_t>(*il)] += t.n_bytes;
            m.cuda_layer_bytes[static_cast<size_t>(*il)] += cuda_bytes;
            seen[static_cast<size_t>(*il)] = true;
            if (t.name.ends_with(".attn_sinks.weight")) m.attention_sinks = true;
            if (part != ExpertPart::none) {
                m.layer_expert_bytes[static_cast<size_t>(*il)] += t.n_bytes;
                m.cuda_layer_expert_bytes[static_cast<size_t>(*il)] += cuda_bytes;
            }
            if (t.ne.size() >= 2) {
                // A token runs n_expert_used of the experts: only their share is work. Summed
                // over the layers and averaged below (a MoE model's leading layers are dense).
                uint64_t flops = 2 * static_cast<uint64_t>(elements(t));
                if (part == ExpertPart::stack) flops = flops / static_cast<uint64_t>(m.n_expert) * static_cast<uint64_t>(m.n_expert_used);
                if (part == ExpertPart::single)
                    flops = flops * static_cast<uint64_t>(m.n_expert_used) / static_cast<uint64_t>(m.n_expert);
                flops_all_layers += flops;
            }
        } else if (t.name == "token_embd.weight") {
            token_embd = &t;
        } else if (t.name == "output.weight") {
            output = &t;
        } else if (t.name == "output_norm.weight") {
            m.output_norm_bytes = t.n_bytes;
        } else if (t.name == "rope_freqs.weight" || t.name == "rope_factors_long.weight") {
            rope_factors = &t;  // LongRoPE's short and long tensors have one size; a load holds one
        }
    }
    m.layer_flops_per_token = flops_all_layers / static_cast<uint64_t>(n_layer);
    // A CUDA device running a layer's experts also keeps their table (weight_storage.h).
    for (size_t il = 0; il < m.cuda_layer_expert_bytes.size(); ++il) {
        if (!m.layer_has_experts(il)) continue;
        m.cuda_layer_expert_bytes[il] += cuda_expert_table_bytes(m.n_expert);
        m.cuda_layer_bytes[il] += cuda_expert_table_bytes(m.n_expert);
    }
    // Every layer holds a copy of the RoPE frequency factors (runtime/stage.cpp).
    if (rope_factors != nullptr) {
        for (int64_t il = 0; il < n_layer; ++il) {
            m.layer_bytes[static_cast<size_t>(il)] += rope_factors->n_bytes;
            m.cuda_layer_bytes[static_cast<size_t>(il)] += cuda_tensor_bytes(*rope_factors, WeightRole::vector, m);
        }
    }
    for (int64_t il = 0; il < n_layer; ++il)
        if (!seen[static_cast<size_t>(il)])
            return meta.error(ErrorCode::corrupt, "no tensors for layer " + std::to_string(il) +
                                                      " (blk." + std::to_string(il) + ".*) of " +
                                                      std::to_string(n_layer));
    if (token_embd == nullptr) return meta.error(ErrorCode::corrupt, "missing tensor token_embd.weight");
    if (token_embd->ne.size() < 2 || token_embd->ne[0] != m.n_embd || token_embd->ne[1] < 1)
        return meta.error(ErrorCode::corrupt, "tensor token_embd.weight: expected shape (" +
                                                  std::to_string(m.n_embd) +
                                                  ", n_vocab) from " + a + "embedding_length");
    m.n_vocab = token_embd->ne[1];
    m.embedding_bytes = token_embd->n_bytes;
    m.output_tied = output == nullptr;
    m.output_bytes = output != nullptr ? output->n_bytes : m.embedding_bytes;
    // token_embd is read as an embedding table and, for a tied head, as a matrix too.
    m.cuda_embedding_bytes = cuda_tensor_bytes(*token_embd, WeightRole::embedding, m);
    m.cuda_output_bytes = cuda_tensor_bytes(output != nullptr ? *output : *token_embd, WeightRole::matrix, m);
    return m;
}

Result<ModelFootprint> model_footprint(const gguf::GgufFile& file) {
    return model_footprint(file.metadata(), file.tensors(), file.path());
}

}  // namespace strata
