#include "model/random_model.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "gguf/gguf_writer.h"
#include "model/hparams.h"
#include "quant/quant.h"
#include "quant/quant_mix.h"

namespace strata {

namespace {

uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t hash_name(uint64_t seed, const std::string& name) {
    uint64_t h = 1469598103934665603ull ^ seed;
    for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
    return h;
}

// Gaussian values for rows [r0, r1) of a tensor; each row has its own stream, so any split
// of the rows over threads gives the same numbers.
void gaussian_rows(uint64_t tensor_seed, int64_t r0, int64_t r1, int64_t n_cols, float scale, float offset,
                   float* out) {
    for (int64_t r = r0; r < r1; ++r) {
        uint64_t state = tensor_seed ^ (static_cast<uint64_t>(r) * 0xd1b54a32d192ed03ull);
        float* row = out + (r - r0) * n_cols;
        for (int64_t i = 0; i < n_cols; i += 2) {
            // Box–Muller from two 53-bit uniforms (u1 in (0, 1]).
            const double u1 = (static_cast<double>(splitmix64(state) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
            const double u2 = static_cast<double>(splitmix64(state) >> 11) * (1.0 / 9007199254740992.0);
            const double rad = std::sqrt(-2.0 * std::log(u1));
            row[i] = offset + scale * static_cast<float>(rad * std::cos(6.283185307179586 * u2));
            if (i + 1 < n_cols) row[i + 1] = offset + scale * static_cast<float>(rad * std::sin(6.283185307179586 * u2));
        }
    }
}

std::vector<std::string> synthetic_vocab(int64_t n_vocab, std::vector<float>& scores, std::vector<int32_t>& types) {
    std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
    types = {2, 3, 3};
    for (int b = 0; b < 256; ++b) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "<0x%02X>", b);
        tokens.emplace_back(buf);
        types.push_back(6);
    }
    // Word pieces: "▁a".."▁z", "a".."z", then two- and three-letter pieces with and without "▁".
    const std::string space = "\xE2\x96\x81";
    std::vector<std::string> pieces;
    for (char c = 'a'; c <= 'z'; ++c) pieces.push_back(space + c);
    for (char c = 'a'; c <= 'z'; ++c) pieces.emplace_back(1, c);
    for (char a = 'a'; a <= 'z' && static_cast<int64_t>(pieces.size()) < n_vocab; ++a)
        for (char b = 'a'; b <= 'z'; ++b) {
            pieces.push_back(space + a + b);
            pieces.push_back(std::string() + a + b);
        }
    for (char a = 'a'; a <= 'z' && static_cast<int64_t>(pieces.size()) < n_vocab; ++a)
        for (char b = 'a'; b <= 'z'; ++b)
            for (char c = 'a'; c <= 'z'; ++c) pieces.push_back(space + a + b + c);
    size_t next = 0;
    while (static_cast<int64_t>(tokens.size()) < n_vocab) {
        tokens.push_back(next < pieces.size() ? pieces[next] : "<extra_" + std::to_string(tokens.size()) + ">");
        types.push_back(next < pieces.size() ? 1 : 5);
        ++next;
    }
    scores.resize(tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) scores[i] = i < 259 ? 0.0f : -static_cast<float>(i - 259);
    return tokens;
}

// Llama 3.1's per-pair frequency divisors (its configuration's rope_scaling of type "llama3"):
// pairs whose wavelength is shorter than n_ctx_orig / high_freq_factor keep their frequency,
// those longer than n_ctx_orig / low_freq_factor are divided by `factor`, and the ones between
// blend the two smoothly.
std::vector<float> llama3_rope_factors(int64_t n_rot, float freq_base, float factor, int64_t n_ctx_orig) {
    const double low_freq_factor = 1.0, high_freq_factor = 4.0;
    const double low_freq_wavelen = static_cast<double>(n_ctx_orig) / low_freq_factor;
    const double high_freq_wavelen = static_cast<double>(n_ctx_orig) / high_freq_factor;
    std::vector<float> f(static_cast<size_t>(n_rot / 2));
    for (int64_t i = 0; i < n_rot / 2; ++i) {
        const double freq = std::pow(static_cast<double>(freq_base), -2.0 * static_cast<double>(i) / static_cast<double>(n_rot));
        const double wavelen = 2.0 * M_PI / freq;
        double div = 1.0;
        if (wavelen > low_freq_wavelen) {
            div = factor;
        } else if (wavelen >= high_freq_wavelen) {
            const double smooth = (static_cast<double>(n_ctx_orig) / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor);
            div = 1.0 / ((1.0 - smooth) / factor + smooth);
        }
        f[static_cast<size_t>(i)] = static_cast<float>(div);
    }
    return f;
}

// Control tokens a family's vocabulary carries and other GGUF tools look up by name (llama.cpp
// refuses a Phi-3 file without <|endoftext|>); they take the vocabulary's last ids.
std::vector<std::string> family_control_tokens(const std::string& arch) {
    if (arch == "phi3") return {"<|endoftext|>", "<|assistant|>", "<|system|>", "<|end|>", "<|user|>"};
    if (arch == "gemma2" || arch == "gemma3") return {"<start_of_turn>", "<end_of_turn>"};
    return {};
}

}  // namespace

bool random_model_arch(const std::string& name, RandomModelConfig& c) {
    if (name == "llama" || name == "qwen2" || name == "qwen3") {
        c.arch = name;
    } else if (name == "phi3") {
        // Phi-3-mini-128k's RoPE: LongRoPE from 4096 to 131072 positions.
        c.arch = "phi3";
        c.rope_scaling = "longrope";
        c.rope_factor = 32.0f;
        c.n_ctx_orig = 4096;
        c.n_ctx_train = 131072;
    } else if (name == "gemma2") {
        // Gemma 2 9B's settings: window 4096 on every other layer, caps 50 / 30, tied output.
        c.arch = "gemma2";
        c.n_swa = 4096;
        c.tied_output = true;
        c.n_ctx_train = 8192;
    } else if (name == "gemma3") {
        // Gemma 3 4B's: window 1024 on five layers of six, global base 1e6 with linear factor 8.
        c.arch = "gemma3";
        c.n_swa = 1024;
        c.rope_freq_base = 1000000.0f;
        c.rope_scaling = "linear";
        c.rope_factor = 8.0f;
        c.n_ctx_train = 131072;
        c.tied_output = true;
    } else if (name == "mistral3") {
        // Ministral 3's: YaRN from 16384 to 262144 (log multiplier 1), temperature 0.1.
        c.arch = "mistral3";
        c.rope_freq_base = 1000000.0f;
        c.rope_scaling = "yarn";
        c.rope_factor = 16.0f;
        c.n_ctx_orig = 16384;
        c.n_ctx_train = 262144;
        c.yarn_log_mul = 1.0f;
        c.attn_temp_scale = 0.1f;
    } else if (name == "mixtral") {
        c.arch = "llama";
        c.n_expert = 8;
        c.n_expert_used = 2;
        c.rope_freq_base = 1000000.0f;
        c.n_ctx_train = 32768;
    } else if (name == "qwen3moe") {
        c.arch = "qwen3moe";
        c.n_expert = 16;
        c.n_expert_used = 4;
        c.n_ff_exp = std::max<int64_t>(8, c.n_ff / 4);
        c.rope_freq_base = 1000000.0f;
        c.n_ctx_train = 40960;
    } else if (name == "gpt-oss") {
        c.arch = "gpt-oss";
        c.n_expert = 8;
        c.n_expert_used = 4;
        c.head_dim = 64;
        c.n_swa = 128;
        c.rope_freq_base = 150000.0f;
        c.rope_scaling = "yarn";
        c.rope_factor = 32.0f;
        c.n_ctx_orig = 4096;
        c.n_ctx_train = 131072;
    } else if (name == "glm4moe") {
        c.arch = "glm4moe";
        c.n_expert = 16;
        c.n_expert_used = 4;
        c.n_ff_exp = std::max<int64_t>(8, c.n_ff / 4);
        c.n_expert_shared = 1;
        c.n_layer_dense_lead = 1;
        c.n_layer_nextn = 1;
        c.expert_weights_scale = 2.5f;
        c.rope_freq_base = 1000000.0f;
        c.n_ctx_train = 131072;
    } else if (name == "llama31") {
        c.arch = "llama";
        c.rope_freq_base = 500000.0f;
        c.rope_scaling = "llama3";
        c.rope_factor = 8.0f;
        c.n_ctx_orig = 8192;
        c.n_ctx_train = 131072;
    } else {
        return false;
    }
    return true;
}

bool random_model_preset(const std::string& name, RandomModelConfig& c) {
    if (name == "tiny") {
        c = RandomModelConfig{};
    } else if (name == "tinyllama") {
        c.n_vocab = 32000; c.n_embd = 2048; c.n_layer = 22; c.n_head = 32; c.n_head_kv = 4; c.n_ff = 5632;
        c.n_ctx_train = 2048;
    } else if (name == "llama2-7b") {
        c.n_vocab = 32000; c.n_embd = 4096; c.n_layer = 32; c.n_head = 32; c.n_head_kv = 32; c.n_ff = 11008;
        c.n_ctx_train = 4096;
    } else if (name == "gemma3-4b") {
        random_model_arch("gemma3", c);
        c.n_vocab = 262144; c.n_embd = 2560; c.n_layer = 34; c.n_head = 8; c.n_head_kv = 4; c.head_dim = 256;
        c.n_ff = 10240;
    } else if (name == "qwen3moe-bench") {
        random_model_arch("qwen3moe", c);
        c.n_vocab = 32000; c.n_embd = 2048; c.n_layer = 16; c.n_head = 32; c.n_head_kv = 4; c.head_dim = 128;
        c.n_ff = 6144; c.n_ff_exp = 768; c.n_expert = 16; c.n_expert_used = 4;
    } else if (name == "gptoss-bench") {
        random_model_arch("gpt-oss", c);
        c.n_vocab = 32000; c.n_embd = 2048; c.n_layer = 16; c.n_head = 32; c.n_head_kv = 4; c.head_dim = 64;
        c.n_ff = 768; c.n_ff_exp = 768; c.n_expert = 16; c.n_expert_used = 4;
    } else if (name == "glm4moe-bench") {
        random_model_arch("glm4moe", c);
        c.n_vocab = 32000; c.n_embd = 2048; c.n_layer = 17; c.n_head = 32; c.n_head_kv = 4; c.head_dim = 128;
        c.n_ff = 6144; c.n_ff_exp = 768; c.n_expert = 16; c.n_expert_used = 4;
    } else if (name == "phi3-mini") {
        random_model_arch("phi3", c);
        c.n_vocab = 32064; c.n_embd = 3072; c.n_layer = 32; c.n_head = 32; c.n_head_kv = 32; c.n_ff = 8192;
    } else {
        return false;
    }
    return true;
}

Status write_random_model(const RandomModelConfig& c, const std::string& path,
                          const std::function<void(size_t, size_t)>& progress) {
    if (c.n_vocab < 260) return Status(ErrorCode::invalid_argument, "random models need at least 260 tokens");
    if (c.n_head <= 0 || c.n_head_kv <= 0 || c.n_head % c.n_head_kv != 0)
        return Status(ErrorCode::invalid_argument, "head counts must be positive and n_head a multiple of n_head_kv");
    const int64_t head_dim = c.head_dim > 0 ? c.head_dim : c.n_embd / c.n_head;
    const int64_t n_q = head_dim * c.n_head, n_kv = head_dim * c.n_head_kv;
    const int n_threads = c.n_threads > 0 ? c.n_threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

    gguf::GgufWriter w;
    const std::string a = c.arch;
    w.set_string("general.architecture", a);
    w.set_string("general.name", "random " + a + " (seed " + std::to_string(c.seed) + ")");
    w.set_u32(a + ".context_length", static_cast<uint32_t>(c.n_ctx_train));
    w.set_u32(a + ".embedding_length", static_cast<uint32_t>(c.n_embd));
    w.set_u32(a + ".block_count", static_cast<uint32_t>(c.n_layer));
    w.set_u32(a + ".feed_forward_length", static_cast<uint32_t>(c.n_ff));
    w.set_u32(a + ".attention.head_count", static_cast<uint32_t>(c.n_head));
    w.set_u32(a + ".attention.head_count_kv", static_cast<uint32_t>(c.n_head_kv));
    if (c.head_dim > 0) {
        w.set_u32(a + ".attention.key_length", static_cast<uint32_t>(head_dim));
        w.set_u32(a + ".attention.value_length", static_cast<uint32_t>(head_dim));
    }
    // GLM-4.5 rotates half of each head (partial_rotary_factor 0.5); its converter writes that.
    const int64_t n_rot = c.n_rot > 0 ? c.n_rot : a == "glm4moe" ? head_dim / 2 : head_dim;
    if (n_rot > head_dim || n_rot % 2 != 0) return Status(ErrorCode::invalid_argument, "n_rot must be even and at most the head size");
    const int64_t n_ctx_orig = c.n_ctx_orig > 0 ? c.n_ctx_orig
                                                : std::max<int64_t>(1, static_cast<int64_t>(c.n_ctx_train / c.rope_factor));
    w.set_u32(a + ".rope.dimension_count", static_cast<uint32_t>(n_rot));
    w.set_f32(a + ".rope.freq_base", c.rope_freq_base);
    if (c.yarn_log_mul != 0.0f) w.set_f32(a + ".rope.scaling.yarn_log_multiplier", c.yarn_log_mul);
    if (c.n_swa > 0) w.set_u32(a + ".attention.sliding_window", static_cast<uint32_t>(c.n_swa));
    if (c.swa_pattern > 0) w.set_u32(a + ".attention.sliding_window_pattern", static_cast<uint32_t>(c.swa_pattern));
    if (c.attn_temp_scale != 0.0f) w.set_f32(a + ".attention.temperature_scale", c.attn_temp_scale);
    if (a == "gemma2") {  // as its converter writes them
        w.set_f32(a + ".attn_logit_softcapping", 50.0f);
        w.set_f32(a + ".final_logit_softcapping", 30.0f);
    }
    if (c.rope_scaling == "linear" || c.rope_scaling == "yarn") {
        w.set_string(a + ".rope.scaling.type", c.rope_scaling);
        w.set_f32(a + ".rope.scaling.factor", c.rope_factor);
        w.set_u32(a + ".rope.scaling.original_context_length", static_cast<uint32_t>(n_ctx_orig));
    } else if (c.rope_scaling == "longrope") {
        // Phi-3's attention factor: sqrt(1 + ln(scale) / ln(original context)).
        const double scale = static_cast<double>(c.n_ctx_train) / static_cast<double>(n_ctx_orig);
        w.set_f32(a + ".rope.scaling.attn_factor",
                  static_cast<float>(std::sqrt(1.0 + std::log(scale) / std::log(static_cast<double>(n_ctx_orig)))));
        w.set_u32(a + ".rope.scaling.original_context_length", static_cast<uint32_t>(n_ctx_orig));
    } else if (!c.rope_scaling.empty() && c.rope_scaling != "llama3") {
        return Status(ErrorCode::invalid_argument, "unknown RoPE scaling '" + c.rope_scaling +
                                                       "' (linear, yarn, llama3, longrope)");
    }
    w.set_f32(a + ".attention.layer_norm_rms_epsilon", c.rms_eps);
    const bool moe = c.n_expert > 1;
    const bool gpt_oss = a == "gpt-oss";
    const bool glm = a == "glm4moe";
    const int64_t n_ff_exp = c.n_ff_exp > 0 ? c.n_ff_exp : c.n_ff;
    if (moe) {
        if (c.n_expert_used < 1 || c.n_expert_used > c.n_expert)
            return Status(ErrorCode::invalid_argument, "n_expert_used must be 1..n_expert");
        // Mixtral-style llama files size their experts by feed_forward_length: other GGUF readers
        // ignore expert_feed_forward_length under `llama`, so a different expert size would make
        // a file only Strata reads as intended.
        if (a == "llama" && c.n_ff_exp > 0 && c.n_ff_exp != c.n_ff)
            return Status(ErrorCode::invalid_argument,
                          "a Mixtral-style llama model sizes its experts by feed_forward_length: give the expert "
                          "size as --ff, not --expert-ff");
        w.set_u32(a + ".expert_count", static_cast<uint32_t>(c.n_expert));
        w.set_u32(a + ".expert_used_count", static_cast<uint32_t>(c.n_expert_used));
        if (c.n_ff_exp > 0 || gpt_oss)  // gpt-oss's converter always writes it
            w.set_u32(a + ".expert_feed_forward_length", static_cast<uint32_t>(n_ff_exp));
        if (c.expert_weights_scale > 0.0f) w.set_f32(a + ".expert_weights_scale", c.expert_weights_scale);
    } else if (architecture_experts(a) == ExpertSupport::required) {
        return Status(ErrorCode::invalid_argument, "a " + a + " model needs experts (n_expert > 1)");
    }
    if (glm) {  // as GLM-4.5's converter writes them
        if (c.n_layer_nextn < 0 || c.n_layer_dense_lead < 0 || c.n_layer_dense_lead + c.n_layer_nextn >= c.n_layer)
            return Status(ErrorCode::invalid_argument, "glm4moe: the dense and NextN layers leave no MoE layer");
        w.set_u32(a + ".leading_dense_block_count", static_cast<uint32_t>(c.n_layer_dense_lead));
        w.set_u32(a + ".expert_shared_count", static_cast<uint32_t>(c.n_expert_shared));
        w.set_bool(a + ".expert_weights_norm", true);
        w.set_u32(a + ".expert_gating_func", 2);  // sigmoid
        w.set_u32(a + ".nextn_predict_layers", static_cast<uint32_t>(c.n_layer_nextn));
    } else if (c.n_layer_dense_lead > 0 || c.n_expert_shared > 0 || c.n_layer_nextn > 0) {
        return Status(ErrorCode::invalid_argument, "dense leading layers, shared experts and NextN layers are glm4moe's");
    }
    if (gpt_oss && c.n_swa <= 0) return Status(ErrorCode::invalid_argument, "a gpt-oss model needs a window (n_swa > 0)");
    // gpt-oss's experts are MXFP4 as its converter writes them, unless the config says otherwise.
    const std::optional<TensorType> expert_type = c.expert_type ? c.expert_type
                                                  : gpt_oss      ? std::optional<TensorType>(TensorType::MXFP4)
                                                                 : std::nullopt;
    std::vector<float> scores;
    std::vector<int32_t> types;
    w.set_string("tokenizer.ggml.model", "llama");
    std::vector<std::string> tokens = synthetic_vocab(c.n_vocab, scores, types);
    const std::vector<std::string> controls = family_control_tokens(a);
    for (size_t i = 0; i < controls.size() && controls.size() + 259 < tokens.size(); ++i) {
        const size_t id = tokens.size() - controls.size() + i;
        tokens[id] = controls[i];
        types[id] = 3;  // control
        scores[id] = 0.0f;
    }
    w.set_string_array("tokenizer.ggml.tokens", tokens);
    w.set_f32_array("tokenizer.ggml.scores", scores);
    w.set_i32_array("tokenizer.ggml.token_type", types);
    w.set_u32("tokenizer.ggml.unknown_token_id", 0);
    w.set_u32("tokenizer.ggml.bos_token_id", 1);
    w.set_u32("tokenizer.ggml.eos_token_id", 2);

    // A mix chooses per tensor (quant/quant_mix.h); a plain weight_type applies to every matrix.
    // Either way a type whose block does not divide the row falls back by the shared rule.
    std::optional<quant::QuantMix> mix;
    if (!c.mix.empty()) {
        mix = quant::find_quant_mix(c.mix);
        if (!mix) return Status(ErrorCode::invalid_argument, "unknown quantization mix '" + c.mix + "'");
    } else {
        mix = quant::find_quant_mix(tensor_type_name(c.weight_type));  // only for general.file_type
    }
    if (mix) {
        // llama.cpp's file type 38, MXFP4_MOE, for a float gpt-oss file with MXFP4 experts.
        const bool mxfp4_moe = c.mix.empty() && expert_type == TensorType::MXFP4 && moe;
        w.set_u32("general.file_type", mxfp4_moe ? 38u : mix->file_type);
        w.set_u32("general.quantization_version", 2);
    }
    std::string fallbacks;
    // n_stack > 0: a stack of n_stack (n_rows, n_cols) matrices, ne (n_cols, n_rows, n_stack),
    // typed as one matrix of those rows; force: this type whatever the weight type or mix (F32
    // for a router, as converters and quantizers leave it; the experts' type), falling back as
    // any type does where its block does not divide the row.
    auto add = [&](const std::string& name, int64_t n_cols, int64_t n_rows_one, float scale, float offset,
                   bool matrix, int64_t n_stack = 0, std::optional<TensorType> force = std::nullopt) -> Status {
        const int64_t n_rows = n_rows_one * std::max<int64_t>(1, n_stack);
        quant::TypeChoice choice{TensorType::F32, TensorType::F32};
        if (!c.mix.empty()) {
            quant::TensorSite site;
            site.name = name;
            site.n_dims = matrix ? 2 : 1;
            site.row_length = n_cols;
            site.n_layer = c.n_layer;
            site.n_gqa = c.n_head / c.n_head_kv;
            site.has_output = !c.tied_output;
            choice = quant::choose_tensor_type(*mix, site);
        } else if (matrix) {
            choice = quant::TypeChoice{quant::fallback_type(c.weight_type, n_cols), c.weight_type};
        }
        if (force) choice = quant::TypeChoice{quant::fallback_type(*force, n_cols), *force};
        const TensorType type = choice.type;
        if (choice.fell_back()) fallbacks += " " + name;
        std::vector<int64_t> ne = n_stack > 0                  ? std::vector<int64_t>{n_cols, n_rows_one, n_stack}
                                  : n_rows > 1 || matrix ? std::vector<int64_t>{n_cols, n_rows}
                                                         : std::vector<int64_t>{n_cols};
        const uint64_t tensor_seed = hash_name(c.seed, name);
        const size_t row_bytes = tensor_row_bytes(type, n_cols);
        return w.add_tensor(name, type, ne, [=](uint8_t* dst, size_t n_bytes) -> Status {
            if (n_bytes != row_bytes * static_cast<size_t>(n_rows))
                return Status(ErrorCode::internal, "size mismatch writing " + name);
            const int64_t rows_per_task = std::max<int64_t>(1, (n_rows + n_threads * 4 - 1) / (n_threads * 4));
            std::vector<std::thread> threads;
            std::atomic<int64_t> next{0};
            auto work = [&] {
                std::vector<float> buf;
                for (;;) {
                    const int64_t r0 = next.fetch_add(rows_per_task);
                    if (r0 >= n_rows) break;
                    const int64_t r1 = std::min(n_rows, r0 + rows_per_task);
                    buf.resize(static_cast<size_t>((r1 - r0) * n_cols));
                    gaussian_rows(tensor_seed, r0, r1, n_cols, scale, offset, buf.data());
                    for (int64_t r = r0; r < r1; ++r)
                        quant::quantize_row_ref(type, buf.data() + (r - r0) * n_cols, dst + r * row_bytes, n_cols);
                }
            };
            for (int t = 1; t < n_threads; ++t) threads.emplace_back(work);
            work();
            for (auto& t : threads) t.join();
            return {};
        });
    };

    // RoPE factor tensors hold exact values (not random rows): F32 vectors of n_rot/2.
    auto add_values = [&](const std::string& name, std::vector<float> values) -> Status {
        const int64_t n = static_cast<int64_t>(values.size());
        return w.add_tensor(name, TensorType::F32, {n}, [values = std::move(values)](uint8_t* dst, size_t n_bytes) -> Status {
            if (n_bytes != values.size() * 4) return Status(ErrorCode::internal, "size mismatch writing RoPE factors");
            std::memcpy(dst, values.data(), n_bytes);
            return {};
        });
    };
    if (c.rope_scaling == "llama3") {
        STRATA_RETURN_IF_ERROR(add_values("rope_freqs.weight",
                                          llama3_rope_factors(n_rot, c.rope_freq_base, c.rope_factor, n_ctx_orig)));
    } else if (c.rope_scaling == "longrope") {
        // Seeded factors rising from 1 (fast pairs) to about rope_factor (slow ones), as Phi-3's do;
        // the long set stretches more than the short one.
        std::vector<float> shortf(static_cast<size_t>(n_rot / 2)), longf(shortf.size());
        uint64_t state = hash_name(c.seed, "longrope");
        for (size_t i = 0; i < shortf.size(); ++i) {
            const double t = shortf.size() > 1 ? static_cast<double>(i) / static_cast<double>(shortf.size() - 1) : 0.0;
            const double jitter = static_cast<double>(splitmix64(state) >> 11) * (1.0 / 9007199254740992.0);
            shortf[i] = static_cast<float>(1.0 + t * 0.5 * (1.0 + jitter));
            longf[i] = static_cast<float>(1.0 + t * (c.rope_factor - 1.0) * (0.75 + 0.25 * jitter));
        }
        STRATA_RETURN_IF_ERROR(add_values("rope_factors_long.weight", std::move(longf)));
        STRATA_RETURN_IF_ERROR(add_values("rope_factors_short.weight", std::move(shortf)));
    }
    STRATA_RETURN_IF_ERROR(add("token_embd.weight", c.n_embd, c.n_vocab, 1.0f, 0.0f, true));
    for (int64_t il = 0; il < c.n_layer; ++il) {
        const std::string p = "blk." + std::to_string(il) + ".";
        const float s_in = 1.0f / std::sqrt(static_cast<float>(c.n_embd));
        STRATA_RETURN_IF_ERROR(add(p + "attn_norm.weight", c.n_embd, 1, 0.1f, 1.0f, false));
        if (a == "phi3") {  // fused: q, k, v rows in one matrix
            STRATA_RETURN_IF_ERROR(add(p + "attn_qkv.weight", c.n_embd, n_q + 2 * n_kv, s_in, 0.0f, true));
        } else {
            STRATA_RETURN_IF_ERROR(add(p + "attn_q.weight", c.n_embd, n_q, s_in, 0.0f, true));
            STRATA_RETURN_IF_ERROR(add(p + "attn_k.weight", c.n_embd, n_kv, s_in, 0.0f, true));
            STRATA_RETURN_IF_ERROR(add(p + "attn_v.weight", c.n_embd, n_kv, s_in, 0.0f, true));
        }
        if (a == "qwen2" || gpt_oss || glm) {
            STRATA_RETURN_IF_ERROR(add(p + "attn_q.bias", n_q, 1, 0.1f, 0.0f, false));
            STRATA_RETURN_IF_ERROR(add(p + "attn_k.bias", n_kv, 1, 0.1f, 0.0f, false));
            STRATA_RETURN_IF_ERROR(add(p + "attn_v.bias", n_kv, 1, 0.1f, 0.0f, false));
        }
        if (a == "qwen3" || a == "gemma3" || a == "qwen3moe" || (glm && c.qk_norm)) {
            STRATA_RETURN_IF_ERROR(add(p + "attn_q_norm.weight", head_dim, 1, 0.1f, 1.0f, false));
            STRATA_RETURN_IF_ERROR(add(p + "attn_k_norm.weight", head_dim, 1, 0.1f, 1.0f, false));
        }
        STRATA_RETURN_IF_ERROR(add(p + "attn_output.weight", n_q, c.n_embd, 1.0f / std::sqrt(static_cast<float>(n_q)), 0.0f, true));
        if (gpt_oss) {
            STRATA_RETURN_IF_ERROR(add(p + "attn_output.bias", c.n_embd, 1, 0.1f, 0.0f, false));
            // Sinks of the size of a score, so some heads put real weight on them.
            STRATA_RETURN_IF_ERROR(add(p + "attn_sinks.weight", c.n_head, 1, 1.0f, 0.0f, false));
        }
        const bool gemma = a == "gemma2" || a == "gemma3";
        if (gemma) STRATA_RETURN_IF_ERROR(add(p + "post_attention_norm.weight", c.n_embd, 1, 0.1f, 1.0f, false));
        // gpt-oss's and GLM-4.5's converters name the norm before the FFN post_attention_norm.
        STRATA_RETURN_IF_ERROR(add(p + (gpt_oss || glm ? "post_attention_norm.weight" : "ffn_norm.weight"), c.n_embd, 1, 0.1f, 1.0f, false));
        const bool moe_layer = moe && il >= c.n_layer_dense_lead;
        if (moe_layer) {
            // A wide router spread, so the experts' ranks are far apart (no near-ties to flip).
            STRATA_RETURN_IF_ERROR(add(p + "ffn_gate_inp.weight", c.n_embd, c.n_expert, 4.0f * s_in, 0.0f, true, 0,
                                       TensorType::F32));
            // gpt-oss: gate and up three times wider, so its SwiGLU's clamps at ±7 are reached.
            const float s_gate = gpt_oss ? 3.0f * s_in : s_in;
            STRATA_RETURN_IF_ERROR(add(p + "ffn_gate_exps.weight", c.n_embd, n_ff_exp, s_gate, 0.0f, true, c.n_expert, expert_type));
            STRATA_RETURN_IF_ERROR(add(p + "ffn_up_exps.weight", c.n_embd, n_ff_exp, s_gate, 0.0f, true, c.n_expert, expert_type));
            STRATA_RETURN_IF_ERROR(add(p + "ffn_down_exps.weight", n_ff_exp, c.n_embd,
                                       1.0f / std::sqrt(static_cast<float>(n_ff_exp)), 0.0f, true, c.n_expert, expert_type));
            if (gpt_oss) {  // biases: the router's, then per expert (rows of n_expert)
                STRATA_RETURN_IF_ERROR(add(p + "ffn_gate_inp.bias", c.n_expert, 1, 0.5f, 0.0f, false));
                STRATA_RETURN_IF_ERROR(add(p + "ffn_gate_exps.bias", n_ff_exp, c.n_expert, 0.5f, 0.0f, false));
                STRATA_RETURN_IF_ERROR(add(p + "ffn_up_exps.bias", n_ff_exp, c.n_expert, 0.5f, 0.0f, false));
                STRATA_RETURN_IF_ERROR(add(p + "ffn_down_exps.bias", c.n_embd, c.n_expert, 0.1f, 0.0f, false));
            }
            if (glm) {
                // The choice bias, of the size of the sigmoid scores' spread, so it changes choices.
                STRATA_RETURN_IF_ERROR(add(p + "exp_probs_b.bias", c.n_expert, 1, 0.3f, 0.0f, false));
            }
            if (c.n_expert_shared > 0) {
                const int64_t n_sh = n_ff_exp * c.n_expert_shared;
                STRATA_RETURN_IF_ERROR(add(p + "ffn_gate_shexp.weight", c.n_embd, n_sh, s_in, 0.0f, true));
                STRATA_RETURN_IF_ERROR(add(p + "ffn_up_shexp.weight", c.n_embd, n_sh, s_in, 0.0f, true));
                STRATA_RETURN_IF_ERROR(add(p + "ffn_down_shexp.weight", n_sh, c.n_embd, 1.0f / std::sqrt(static_cast<float>(n_sh)), 0.0f, true));
            }
            if (glm && il >= c.n_layer - c.n_layer_nextn) {
                // A NextN block: the MoE block above plus its input projection and norms
                // (embed_tokens and shared_head_head are optional and left out, as often).
                STRATA_RETURN_IF_ERROR(add(p + "nextn.eh_proj.weight", 2 * c.n_embd, c.n_embd, s_in, 0.0f, true));
                STRATA_RETURN_IF_ERROR(add(p + "nextn.enorm.weight", c.n_embd, 1, 0.1f, 1.0f, false));
                STRATA_RETURN_IF_ERROR(add(p + "nextn.hnorm.weight", c.n_embd, 1, 0.1f, 1.0f, false));
                STRATA_RETURN_IF_ERROR(add(p + "nextn.shared_head_norm.weight", c.n_embd, 1, 0.1f, 1.0f, false));
            }
        } else if (a == "phi3") {  // fused: gate rows then up rows
            STRATA_RETURN_IF_ERROR(add(p + "ffn_up.weight", c.n_embd, 2 * c.n_ff, s_in, 0.0f, true));
        } else {
            STRATA_RETURN_IF_ERROR(add(p + "ffn_gate.weight", c.n_embd, c.n_ff, s_in, 0.0f, true));
            STRATA_RETURN_IF_ERROR(add(p + "ffn_up.weight", c.n_embd, c.n_ff, s_in, 0.0f, true));
        }
        if (!moe_layer)
            STRATA_RETURN_IF_ERROR(add(p + "ffn_down.weight", c.n_ff, c.n_embd, 1.0f / std::sqrt(static_cast<float>(c.n_ff)), 0.0f, true));
        if (gemma) STRATA_RETURN_IF_ERROR(add(p + "post_ffw_norm.weight", c.n_embd, 1, 0.1f, 1.0f, false));
    }
    STRATA_RETURN_IF_ERROR(add("output_norm.weight", c.n_embd, 1, 0.1f, 1.0f, false));
    if (!c.tied_output) {
        STRATA_RETURN_IF_ERROR(add("output.weight", c.n_embd, c.n_vocab, 1.0f / std::sqrt(static_cast<float>(c.n_embd)), 0.0f, true));
    }
    w.set_string("general.description",
                 fallbacks.empty() ? std::string("random weights")
                                   : "random weights; tensors stored at a fallback type:" + fallbacks);
    return w.write(path, progress);
}

}  // namespace strata
