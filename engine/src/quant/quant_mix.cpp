// The mix rules stated in quant_mix.h, written as one small function per tensor role.
#include "quant/quant_mix.h"

#include <cctype>
#include <string>

namespace strata::quant {

namespace {

using T = TensorType;

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }
bool same_name(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i])))
            return false;
    }
    return true;
}
bool is_float_type(T t) { return t == T::F32 || t == T::F16 || t == T::BF16; }

// The LM head: Q6_K unless the mix is float or Q8_0 (which is already finer).
T head_type(const QuantMix& mix) {
    if (is_float_type(mix.base) || mix.base == T::Q8_0) return mix.base;
    return T::Q6_K;
}

T attn_v_type(const QuantMix& mix, const TensorSite& t, int64_t il) {
    const std::string_view m = mix.name;
    if (m == "Q2_K") return t.n_gqa >= 4 ? T::Q4_K : T::Q3_K;
    if (m == "Q3_K_M") return il < 2 ? T::Q5_K : T::Q4_K;
    if (m == "Q3_K_L") return T::Q5_K;
    if ((m == "Q4_K_M" || m == "Q5_K_M") && use_more_bits(il, t.n_layer)) return T::Q6_K;
    if (m == "Q4_K_S" && il < 4) return T::Q5_K;
    return mix.base;
}

T ffn_down_type(const QuantMix& mix, const TensorSite& t, int64_t il) {
    const std::string_view m = mix.name;
    if (m == "Q2_K") return T::Q3_K;
    if (m == "Q3_K_M") return il < t.n_layer / 16 ? T::Q5_K : T::Q4_K;
    if (m == "Q3_K_L") return T::Q5_K;
    if ((m == "Q4_K_M" || m == "Q5_K_M") && use_more_bits(il, t.n_layer)) return T::Q6_K;
    if (m == "Q4_K_S" && il < t.n_layer / 8) return T::Q5_K;
    return mix.base;
}

T attn_output_type(const QuantMix& mix) {
    const std::string_view m = mix.name;
    if (m == "Q2_K") return T::Q3_K;
    if (m == "Q3_K_M") return T::Q4_K;
    if (m == "Q3_K_L") return T::Q5_K;
    return mix.base;
}

T attn_qkv_type(const QuantMix& mix) {
    const std::string_view m = mix.name;
    if (m == "Q3_K_M") return T::Q4_K;
    if (m == "Q3_K_L" || m == "Q4_K_M") return T::Q5_K;
    if (m == "Q5_K_M") return T::Q6_K;
    return mix.base;
}

}  // namespace

const std::vector<QuantMix>& quant_mixes() {
    static const std::vector<QuantMix> mixes = {
        {"F32", T::F32, 0},       {"F16", T::F16, 1},       {"BF16", T::BF16, 32},
        {"Q8_0", T::Q8_0, 7},     {"Q6_K", T::Q6_K, 18},    {"Q5_K_M", T::Q5_K, 17},
        {"Q5_K_S", T::Q5_K, 16},  {"Q5_1", T::Q5_1, 9},     {"Q5_0", T::Q5_0, 8},
        {"Q4_K_M", T::Q4_K, 15},  {"Q4_K_S", T::Q4_K, 14},  {"Q4_1", T::Q4_1, 3},
        {"Q4_0", T::Q4_0, 2},     {"Q3_K_L", T::Q3_K, 13},  {"Q3_K_M", T::Q3_K, 12},
        {"Q3_K_S", T::Q3_K, 11},  {"Q2_K", T::Q2_K, 10},    {"IQ4_XS", T::IQ4_XS, 30},
        {"IQ4_NL", T::IQ4_NL, 25},
    };
    return mixes;
}

std::optional<QuantMix> find_quant_mix(std::string_view name) {
    for (const QuantMix& m : quant_mixes()) {
        if (same_name(m.name, name)) return m;
    }
    return std::nullopt;
}

int64_t tensor_layer_index(std::string_view name) {
    constexpr std::string_view prefix = "blk.";
    if (name.substr(0, prefix.size()) != prefix) return -1;
    int64_t il = 0;
    size_t i = prefix.size();
    if (i >= name.size() || !std::isdigit(static_cast<unsigned char>(name[i]))) return -1;
    for (; i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])); ++i) {
        il = il * 10 + (name[i] - '0');
        if (il > (int64_t{1} << 40)) return -1;
    }
    return i < name.size() && name[i] == '.' ? il : -1;
}

bool use_more_bits(int64_t il, int64_t n_layer) {
    const int64_t eighth = n_layer / 8;
    return il < eighth || il >= 7 * n_layer / 8 || (il - eighth) % 3 == 2;
}

bool is_matrix_weight(const TensorSite& t) { return t.n_dims >= 2 && ends_with(t.name, "weight"); }

TensorType mix_wanted_type(const QuantMix& mix, const TensorSite& t) {
    if (!is_matrix_weight(t)) return T::F32;
    // A MoE router stays F32 whatever the mix (llama.cpp's quantizer does not touch it either):
    // it is tiny, and a rounding that swaps two experts' ranks changes the whole FFN output.
    if (contains(t.name, ".ffn_gate_inp.")) return T::F32;
    if (is_float_type(mix.base)) return mix.base;
    if (t.name == "output.weight") return head_type(mix);
    if (t.name == "token_embd.weight") return t.has_output ? mix.base : head_type(mix);
    const int64_t il = tensor_layer_index(t.name);
    if (il >= 0) {
        if (contains(t.name, ".attn_v.")) return attn_v_type(mix, t, il);
        if (contains(t.name, ".ffn_down")) return ffn_down_type(mix, t, il);  // also _exps, _shexp
        if (contains(t.name, ".attn_output.")) return attn_output_type(mix);
        if (contains(t.name, ".attn_qkv.")) return attn_qkv_type(mix);
    }
    return mix.base;
}

TensorType fallback_type(TensorType want, int64_t row_length) {
    auto fits = [&](T t) { return row_length > 0 && row_length % tensor_type_traits(t).block_size == 0; };
    if (fits(want)) return want;
    T next = T::F16;
    switch (want) {
        case T::Q2_K: case T::Q3_K: next = T::Q4_0; break;
        case T::Q4_K: next = T::Q5_0; break;
        case T::Q5_K: next = T::Q5_1; break;
        case T::Q6_K: next = T::Q8_0; break;
        case T::IQ4_XS: next = T::IQ4_NL; break;
        default: break;
    }
    return fits(next) ? next : T::F16;
}

TypeChoice choose_tensor_type(const QuantMix& mix, const TensorSite& t) {
    const T wanted = mix_wanted_type(mix, t);
    return TypeChoice{fallback_type(wanted, t.row_length), wanted};
}

}  // namespace strata::quant
