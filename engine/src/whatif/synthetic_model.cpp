// A model that exists only as a size and a quantization: the GGUF directory a llama-shaped file
// of that size would have, read by the same model_footprint() a real file goes through.
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "gguf/gguf_file.h"
#include "plan/model_footprint.h"
#include "quant/quant_mix.h"
#include "strata/whatif.h"

namespace strata {

namespace {

// Published shapes (config.json of each model).
struct Shape {
    const char* name;
    int n_layer;
    int64_t n_embd, n_ff, n_head, n_head_kv, n_vocab, n_ctx_train;
    bool tied;
};
constexpr Shape kShapes[] = {
    {"Llama 3.2 1B", 16, 2048, 8192, 32, 8, 128256, 131072, true},
    {"Llama 3.2 3B", 28, 3072, 8192, 24, 8, 128256, 131072, true},
    {"Llama 3.1 8B", 32, 4096, 14336, 32, 8, 128256, 131072, false},
    {"Qwen 2.5 14B", 48, 5120, 13824, 40, 8, 152064, 32768, false},
    {"Qwen 2.5 32B", 64, 5120, 27648, 40, 8, 152064, 32768, false},
    {"Llama 3.1 70B", 80, 8192, 28672, 64, 8, 128256, 131072, false},
    {"Llama 3.1 405B", 126, 16384, 53248, 128, 8, 128256, 131072, false},
};

double layer_params(const Shape& s) {
    const double kv = static_cast<double>(s.n_head_kv) * static_cast<double>(s.n_embd / s.n_head);
    const double d = static_cast<double>(s.n_embd);
    return 2 * d * d + 2 * d * kv + 3 * d * static_cast<double>(s.n_ff) + 2 * d;
}
double table_params(const Shape& s) {
    return static_cast<double>(s.n_vocab) * static_cast<double>(s.n_embd) * (s.tied ? 1 : 2);
}
double total_params(const Shape& s) { return s.n_layer * layer_params(s) + table_params(s) + static_cast<double>(s.n_embd); }

gguf::KeyValue int_key(const std::string& key, int64_t v) {
    gguf::KeyValue kv;
    kv.key = key;
    kv.value.type = gguf::ValueType::INT64;
    kv.value.i = v;
    return kv;
}

}  // namespace

Result<double> parse_param_count(const std::string& text) {
    if (text.empty()) return Status(ErrorCode::invalid_argument, "--params: give a size such as 70B, 8B or 500M");
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    std::string unit(end);
    for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (unit == "B") v *= 1e9;
    else if (unit == "M") v *= 1e6;
    else if (unit == "T") v *= 1e12;
    else if (!unit.empty() || end == text.c_str())
        return Status(ErrorCode::invalid_argument, "--params: '" + text + "' is not a size such as 70B, 8B or 500M");
    if (!std::isfinite(v) || v < 1e8 || v > 2e12)
        return Status(ErrorCode::invalid_argument, "--params: '" + text + "' is outside 100M to 2T parameters");
    return v;
}

Result<ModelFootprint> synthetic_footprint(double params, const std::string& quant, std::string* shape_text) {
    const auto mix = quant::find_quant_mix(quant);
    if (!mix) {
        std::string names;
        for (const quant::QuantMix& m : quant::quant_mixes()) names += (names.empty() ? "" : ", ") + std::string(m.name);
        return Status(ErrorCode::invalid_argument, "--type: unknown quantization '" + quant + "' (one of " + names + ")");
    }
    if (!(params >= 1e8 && params <= 2e12)) return Status(ErrorCode::invalid_argument, "parameters outside 100M to 2T");
    const Shape* best = &kShapes[0];
    for (const Shape& s : kShapes)
        if (std::abs(std::log(total_params(s) / params)) < std::abs(std::log(total_params(*best) / params))) best = &s;
    Shape s = *best;
    const bool published = std::abs(total_params(s) / params - 1) <= 0.15;
    if (!published)
        s.n_layer = std::max(1, static_cast<int>(std::lround((params - table_params(s)) / layer_params(s))));
    if (shape_text != nullptr) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.1fB", total_params(s) / 1e9);
        *shape_text = std::string(published ? "the shape of " : "scaled from ") + s.name + ": " +
                      std::to_string(s.n_layer) + " layers, n_embd " + std::to_string(s.n_embd) + ", n_ff " +
                      std::to_string(s.n_ff) + ", " + std::to_string(s.n_head) + " heads (" +
                      std::to_string(s.n_head_kv) + " KV), vocab " + std::to_string(s.n_vocab) + "; " + buf +
                      " parameters, " + mix->name;
    }

    const std::string arch = "llama";
    std::vector<gguf::KeyValue> meta;
    gguf::KeyValue a;
    a.key = "general.architecture";
    a.value.type = gguf::ValueType::STRING;
    a.value.str = arch;
    meta.push_back(a);
    meta.push_back(int_key("llama.block_count", s.n_layer));
    meta.push_back(int_key("llama.embedding_length", s.n_embd));
    meta.push_back(int_key("llama.feed_forward_length", s.n_ff));
    meta.push_back(int_key("llama.attention.head_count", s.n_head));
    meta.push_back(int_key("llama.attention.head_count_kv", s.n_head_kv));
    meta.push_back(int_key("llama.context_length", s.n_ctx_train));

    const int64_t kv = s.n_head_kv * (s.n_embd / s.n_head);
    std::vector<gguf::TensorInfo> tensors;
    auto add = [&](const std::string& name, std::vector<int64_t> ne) {
        quant::TensorSite site;
        site.name = name;
        site.n_dims = static_cast<int>(ne.size());
        site.row_length = ne[0];
        site.n_layer = s.n_layer;
        site.n_gqa = s.n_head / s.n_head_kv;
        site.has_output = !s.tied;
        gguf::TensorInfo t;
        t.name = name;
        t.type = quant::choose_tensor_type(*mix, site).type;
        t.ne = std::move(ne);
        t.n_bytes = static_cast<uint64_t>(t.n_rows()) * tensor_row_bytes(t.type, t.ne[0]);
        tensors.push_back(std::move(t));
    };
    add("token_embd.weight", {s.n_embd, s.n_vocab});
    for (int il = 0; il < s.n_layer; ++il) {
        const std::string b = "blk." + std::to_string(il) + ".";
        add(b + "attn_norm.weight", {s.n_embd});
        add(b + "attn_q.weight", {s.n_embd, s.n_embd});
        add(b + "attn_k.weight", {s.n_embd, kv});
        add(b + "attn_v.weight", {s.n_embd, kv});
        add(b + "attn_output.weight", {s.n_embd, s.n_embd});
        add(b + "ffn_norm.weight", {s.n_embd});
        add(b + "ffn_gate.weight", {s.n_embd, s.n_ff});
        add(b + "ffn_up.weight", {s.n_embd, s.n_ff});
        add(b + "ffn_down.weight", {s.n_ff, s.n_embd});
    }
    add("output_norm.weight", {s.n_embd});
    if (!s.tied) add("output.weight", {s.n_embd, s.n_vocab});
    auto footprint = model_footprint(meta, tensors, std::string("a ") + mix->name + " model of " + s.name + "'s shape");
    if (footprint.ok()) footprint->weight_type = mix->name;  // the mix, not its largest tensor type
    return footprint;
}

}  // namespace strata
