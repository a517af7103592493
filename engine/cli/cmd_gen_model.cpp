// strata-cli gen-model: writes a random-weight model of a real shape, for tests and benchmarks
// (the GPU machine makes its 7B benchmark models this way, with no downloads).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "cli_common.h"
#include "model/random_model.h"
#include "quant/quant.h"
#include "quant/quant_mix.h"

namespace strata::cli {

int cmd_gen_model(Args& args) {
    RandomModelConfig c;
    const std::string preset = args.value({"--preset"}).value_or("tiny");
    if (!random_model_preset(preset, c)) {
        std::fprintf(stderr, "error: unknown preset '%s' (tiny, tinyllama, llama2-7b, gemma3-4b, phi3-mini, qwen3moe-bench, glm4moe-bench, gptoss-bench)\n", preset.c_str());
        return 2;
    }
    long long n = 0;
    auto int_opt = [&](const char* name, int64_t& field) {
        if (auto v = args.value({name})) {
            if (!Args::to_int(*v, name, n) || n <= 0) return false;
            field = n;
        }
        return true;
    };
    if (auto v = args.value({"--arch"})) {
        if (!random_model_arch(*v, c)) {
            std::fprintf(stderr, "error: unknown --arch '%s' (llama, llama31, qwen2, qwen3, phi3, gemma2, gemma3, mistral3, mixtral, qwen3moe, gpt-oss, glm4moe)\n", v->c_str());
            return 2;
        }
    }
    if (!int_opt("--vocab", c.n_vocab) || !int_opt("--embd", c.n_embd) || !int_opt("--layers", c.n_layer) ||
        !int_opt("--heads", c.n_head) || !int_opt("--kv-heads", c.n_head_kv) || !int_opt("--ff", c.n_ff) ||
        !int_opt("--head-dim", c.head_dim) || !int_opt("--rot", c.n_rot) || !int_opt("--ctx-train", c.n_ctx_train) ||
        !int_opt("--ctx-orig", c.n_ctx_orig) || !int_opt("--window", c.n_swa) || !int_opt("--experts", c.n_expert) ||
        !int_opt("--experts-used", c.n_expert_used) || !int_opt("--expert-ff", c.n_ff_exp))
        return 2;
    if (auto v = args.value({"--rope-scaling"})) c.rope_scaling = *v;
    if (auto v = args.value({"--rope-factor"})) {
        char* end = nullptr;
        c.rope_factor = std::strtof(v->c_str(), &end);
        if (end == v->c_str() || *end != '\0' || !(c.rope_factor >= 1.0f)) {
            std::fprintf(stderr, "error: --rope-factor must be a number of at least 1\n");
            return 2;
        }
    }
    if (auto v = args.value({"--seed"})) {
        if (!Args::to_int(*v, "--seed", n)) return 2;
        c.seed = static_cast<uint64_t>(n);
    }
    // A mix name (Q4_K_M, and also Q8_0, Q4_0, F16 ...) gives the per-tensor types the quantizer
    // would choose, so the file looks like a downloaded one (output.weight at Q6_K in Q4_0, ...).
    // A plain type without a mix of that name (Q4_K, Q5_K, Q3_K) applies to every matrix.
    if (auto v = args.value({"--type"})) {
        if (auto mix = quant::find_quant_mix(*v)) {
            c.mix = mix->name;
        } else if (auto t = parse_tensor_type(*v); t && quant::can_quantize(*t)) {
            // MXFP4 is an expert format (gpt-oss): a MoE model's experts take it and the rest
            // keeps the base type; a dense model's matrices all take it.
            if (*t == TensorType::MXFP4 && c.n_expert > 1) c.expert_type = *t;
            else c.weight_type = *t;
        } else {
            std::fprintf(stderr, "error: unknown --type '%s' (a mix such as Q4_K_M, or a tensor type such as Q4_K)\n",
                         v->c_str());
            return 2;
        }
    }
    if (auto v = args.value({"--expert-type"})) {
        const auto t = parse_tensor_type(*v);
        if (!t || !quant::can_quantize(*t)) {
            std::fprintf(stderr, "error: unknown --expert-type '%s' (a tensor type such as MXFP4 or Q4_K)\n", v->c_str());
            return 2;
        }
        c.expert_type = *t;
    }
    // --tied ties any architecture; without it an architecture keeps its own rule (Gemma ties).
    if (args.flag({"--tied"})) c.tied_output = true;
    std::vector<std::string> pos;
    std::string err;
    if (!args.finish(pos, err) || pos.size() != 1) {
        std::fprintf(stderr, "usage: strata-cli gen-model [--preset tiny|tinyllama|llama2-7b|gemma3-4b|phi3-mini|qwen3moe-bench|glm4moe-bench|gptoss-bench] [--type F16|Q8_0|Q4_0|Q4_K_M|...]\n"
                             "       [--arch llama|llama31|qwen2|qwen3|phi3|gemma2|gemma3|mistral3|mixtral|qwen3moe|gpt-oss|glm4moe]\n"
                             "       [--vocab N --embd N --layers N --heads N --kv-heads N --ff N]\n"
                             "       [--experts N --experts-used N --expert-ff N --expert-type MXFP4|Q4_K|...]\n"
                             "       [--head-dim N] [--rot N] [--ctx-train N] [--window N]\n"
                             "       [--rope-scaling linear|yarn|llama3|longrope --rope-factor F --ctx-orig N]\n"
                             "       [--seed S] [--tied] OUT.gguf\n");
        return 2;
    }
    const bool tty = isatty(STDERR_FILENO);
    Status st = write_random_model(c, pos[0], [&](size_t done, size_t total) {
        if (tty) std::fprintf(stderr, "\rwriting %zu/%zu tensors", done, total);
    });
    if (tty) std::fprintf(stderr, "\n");
    if (!st.ok()) {
        std::fprintf(stderr, "error: %s\n", st.message().c_str());
        return 1;
    }
    return 0;
}

}  // namespace strata::cli
