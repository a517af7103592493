#include "model/hparams.h"

#include <cmath>
#include <iterator>

#include "gguf/gguf_file.h"

namespace strata {

namespace {

// What differs between the Llama-family architectures we run (everything else is shared).
struct ArchTraits {
    const char* name;
    RopeStyle rope_style;
    bool qkv_bias;
    bool qk_norm;
    ExpertSupport experts = ExpertSupport::none;
    bool shared_experts = false;
};

constexpr auto kNoExperts = ExpertSupport::none, kMayHaveExperts = ExpertSupport::optional,
               kExperts = ExpertSupport::required;

constexpr ArchTraits kArchs[] = {
    {"llama", RopeStyle::interleaved, false, false, kMayHaveExperts},  // Mixtral: llama with experts
    {"qwen2", RopeStyle::neox, true, false, kNoExperts},
    {"qwen3", RopeStyle::neox, false, true, kNoExperts},
    {"phi3", RopeStyle::neox, false, false, kNoExperts},  // fused qkv and gate|up tensors (model_tensors.cpp)
    {"gemma2", RopeStyle::neox, false, false, kNoExperts},
    {"gemma3", RopeStyle::neox, false, true, kNoExperts},
    {"mistral3", RopeStyle::interleaved, false, false, kNoExperts},
    {"qwen3moe", RopeStyle::neox, false, true, kExperts},  // qwen3 attention, experts in every layer
    {"gpt-oss", RopeStyle::neox, true, false, kExperts},   // sinks, alternating windows, biased experts (hparams_arch.cpp)
    // GLM-4.5 / 4.5-Air / 4.6: q/k/v biases, optional per-head q/k norms (model_tensors.cpp),
    // NeoX rotation of the first half of each head (rope.dimension_count), leading dense layers,
    // sigmoid routing with a choice bias and a shared expert, NextN layers at the end (hparams_moe.cpp).
    {"glm4moe", RopeStyle::neox, true, false, kExperts, true},
};

const ArchTraits* find_arch(const std::string& arch) {
    for (const auto& a : kArchs)
        if (arch == a.name) return &a;
    return nullptr;
}

class KeyReader {
public:
    KeyReader(const gguf::GgufFile& f, std::string prefix) : f_(f), prefix_(std::move(prefix)) {}

    Status required(const char* suffix, int64_t& out) {
        const std::string key = prefix_ + suffix;
        auto v = f_.get_int(key);
        if (!v.ok()) return v.status();
        if (!v->has_value()) {
            return Status(ErrorCode::corrupt, f_.path() + ": required key '" + key + "' is missing");
        }
        if (**v <= 0) {
            return Status(ErrorCode::corrupt, f_.path() + ": key '" + key + "' must be positive, is " +
                                                  std::to_string(**v));
        }
        out = **v;
        return {};
    }
    Status optional(const char* suffix, int64_t& out) {
        auto v = f_.get_int(prefix_ + suffix);
        if (!v.ok()) return v.status();
        if (v->has_value()) {
            if (**v <= 0) {
                return Status(ErrorCode::corrupt, f_.path() + ": key '" + prefix_ + suffix +
                                                      "' must be positive, is " + std::to_string(**v));
            }
            out = **v;
        }
        return {};
    }
    Status optional(const char* suffix, float& out) {
        auto v = f_.get_float(prefix_ + suffix);
        if (!v.ok()) return v.status();
        if (v->has_value()) out = static_cast<float>(**v);
        return {};
    }

private:
    const gguf::GgufFile& f_;
    std::string prefix_;
};

}  // namespace

bool is_supported_architecture(const std::string& arch) { return find_arch(arch) != nullptr; }

ExpertSupport architecture_experts(const std::string& arch) {
    const ArchTraits* a = find_arch(arch);
    return a ? a->experts : ExpertSupport::none;
}

bool architecture_runs_shared_experts(const std::string& arch) {
    const ArchTraits* a = find_arch(arch);
    return a && a->shared_experts;
}

std::vector<std::string> supported_architecture_names() {
    std::vector<std::string> out;
    for (const auto& a : kArchs) out.emplace_back(a.name);
    return out;
}

std::string supported_architecture_list() {
    std::string out;
    const size_t n = std::size(kArchs);
    for (size_t i = 0; i < n; ++i) out += std::string(i == 0 ? "" : i + 1 == n ? " and " : ", ") + kArchs[i].name;
    return out;
}

float HParams::attention_scale() const {
    return attn_scale > 0.0f ? attn_scale : 1.0f / std::sqrt(static_cast<float>(head_dim));
}

Result<HParams> read_hparams(const gguf::GgufFile& f) {
    auto arch = f.get_string("general.architecture");
    if (!arch.ok()) return arch.status();
    if (!arch->has_value()) {
        return Status(ErrorCode::corrupt, f.path() + ": key 'general.architecture' is missing");
    }
    HParams hp;
    hp.arch = **arch;
    const ArchTraits* traits = find_arch(hp.arch);
    if (!traits) {
        return Status(ErrorCode::unsupported, f.path() + ": architecture '" + hp.arch +
                                                  "' is not supported (Strata runs " + supported_architecture_list() + ")");
    }
    KeyReader keys(f, hp.arch + ".");
    STRATA_RETURN_IF_ERROR(keys.required("embedding_length", hp.n_embd));
    STRATA_RETURN_IF_ERROR(keys.required("block_count", hp.n_layer));
    STRATA_RETURN_IF_ERROR(keys.required("feed_forward_length", hp.n_ff));
    STRATA_RETURN_IF_ERROR(keys.required("attention.head_count", hp.n_head));
    hp.n_head_kv = hp.n_head;
    STRATA_RETURN_IF_ERROR(keys.optional("attention.head_count_kv", hp.n_head_kv));
    hp.n_ctx_train = 2048;
    STRATA_RETURN_IF_ERROR(keys.optional("context_length", hp.n_ctx_train));
    hp.head_dim = hp.n_embd / hp.n_head;
    STRATA_RETURN_IF_ERROR(keys.optional("attention.key_length", hp.head_dim));
    int64_t n_rot = hp.head_dim;
    STRATA_RETURN_IF_ERROR(keys.optional("rope.dimension_count", n_rot));
    STRATA_RETURN_IF_ERROR(keys.optional("attention.layer_norm_rms_epsilon", hp.rms_eps));
    auto fail = [&](const std::string& what) {
        return Status(ErrorCode::corrupt, f.path() + ": " + what);
    };
    if (hp.n_head % hp.n_head_kv != 0) {
        return fail("attention.head_count (" + std::to_string(hp.n_head) +
                    ") is not a multiple of attention.head_count_kv (" + std::to_string(hp.n_head_kv) + ")");
    }
    if (n_rot > hp.head_dim || n_rot % 2 != 0) {
        return fail("rope.dimension_count " + std::to_string(n_rot) + " must be even and at most the head size " +
                    std::to_string(hp.head_dim));
    }
    if (hp.n_layer > 4096 || hp.n_embd > (1 << 20) || hp.n_ff > (1 << 22) || hp.n_head > 4096) {
        return fail("implausible model dimensions (layers " + std::to_string(hp.n_layer) + ", embedding " +
                    std::to_string(hp.n_embd) + ")");
    }
    if (!(hp.rms_eps > 0.0f && hp.rms_eps < 1.0f)) return fail("attention.layer_norm_rms_epsilon out of range");
    auto rope = read_rope_config(f, hp.arch, static_cast<int>(n_rot), hp.n_ctx_train, traits->rope_style);
    if (!rope.ok()) return rope.status();
    hp.rope = rope->params;
    hp.rope_scaling = rope->scaling;
    hp.rope_factor = rope->factor;
    hp.n_ctx_orig = rope->n_ctx_orig;
    hp.rope_swa = hp.rope;
    STRATA_RETURN_IF_ERROR(read_arch_features(f, hp));
    STRATA_RETURN_IF_ERROR(read_moe_features(f, hp));
    hp.qkv_bias = traits->qkv_bias;
    hp.qk_norm = traits->qk_norm;
    return hp;
}

}  // namespace strata
