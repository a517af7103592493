#include "load_options.h"

#include <unistd.h>

#include <cstdio>
#include <sstream>

namespace strata::cli {

namespace {
bool fail(const std::string& msg) {
    std::fprintf(stderr, "error: %s\n", msg.c_str());
    return false;
}

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) out.push_back(item);
    return out;
}
}  // namespace

const char* model_options_help() {
    return "  -m, --model FILE        GGUF model file\n"
           "  --devices LIST          devices in priority order, e.g. cuda0,cuda1,cpu or cpu:4GiB,cpu:2GiB\n"
           "                          (virtual CPU devices with memory caps; default: every GPU, then the CPU)\n"
           "  --split R1,R2,...       layer split ratios, one per device (like --tensor-split 3,1)\n"
           "  --mode fewest|even      automatic split: fill devices in order (default) or spread evenly\n"
           "  --ctx N                 context length (default: the model's, at most 4096)\n"
           "  --batch N               prompt tokens per step (default 512)\n"
           "  --parallel N            sequences served at once (default 1; serve: up to 4 that fit)\n"
           "  --kv-type f16|f32|q8_0  KV cache precision (default f16)\n"
           "  --threads N             CPU threads (default: all)\n"
           "  --reserve SIZE          memory kept free on each GPU (default 512MiB)\n"
           "  --disable ID,...        devices never to use\n"
           "  --pin-embedding ID      device for the token embedding\n"
           "  --pin-output ID         device for the output head\n"
           "  --cpu-moe               MoE models: every layer's experts in system memory, on the CPU\n"
           "  --n-cpu-moe N           MoE models: the experts of the first N layers on the CPU\n"
           "  --experts-on ID         MoE models: the CPU device that holds experts moved off their layers\n"
           "                          (default: automatic, attention and KV caches first, then experts where they fit)\n";
}

bool parse_model_options(Args& args, ModelOptions& out) {
    if (auto v = args.value({"-m", "--model"})) out.model_path = *v;
    LoadOptions& o = out.load;
    if (auto v = args.value({"--devices"})) {
        std::string err;
        if (!parse_device_specs(*v, o.devices, err)) return fail("--devices: " + err);
    }
    if (auto v = args.value({"--split"})) {
        for (const auto& item : split_list(*v)) {
            double r = 0;
            if (!Args::to_float(item, "--split", r)) return false;
            if (r < 0) return fail("--split ratios must be zero or positive");
            o.ratios.push_back(r);
        }
        o.mode = SplitMode::ratios;
    }
    if (auto v = args.value({"--mode"})) {
        if (*v == "fewest") o.mode = SplitMode::fewest;
        else if (*v == "even") o.mode = SplitMode::even;
        else return fail("--mode must be fewest or even, not '" + *v + "'");
    }
    long long n = 0;
    if (auto v = args.value({"--ctx", "-c"})) {
        if (!Args::to_int(*v, "--ctx", n)) return false;
        if (n < 1) return fail("--ctx must be at least 1");
        o.n_ctx = n;
    }
    if (auto v = args.value({"--batch", "-b"})) {
        if (!Args::to_int(*v, "--batch", n)) return false;
        o.n_batch = n;
    }
    if (auto v = args.value({"--parallel"})) {
        if (!Args::to_int(*v, "--parallel", n)) return false;
        o.n_seq = static_cast<int>(n);
    }
    if (auto v = args.value({"--kv-type"})) {
        if (!parse_kv_cache_type(*v, o.kv_type)) return fail("--kv-type must be f16, f32 or q8_0, not '" + *v + "'");
    }
    if (auto v = args.value({"--threads", "-t"})) {
        if (!Args::to_int(*v, "--threads", n)) return false;
        if (n < 1 || n > 1024) return fail("--threads must be 1..1024");
        o.n_threads = static_cast<int>(n);
    }
    if (auto v = args.value({"--reserve"})) {
        uint64_t bytes = 0;
        std::string err;
        if (!parse_byte_size(*v, bytes, err)) return fail("--reserve: " + err);
        o.gpu_reserve = bytes;
    }
    if (auto v = args.value({"--disable"})) o.disabled = split_list(*v);
    if (auto v = args.value({"--pin-embedding"})) o.embedding_device = *v;
    if (auto v = args.value({"--pin-output"})) o.output_device = *v;
    if (args.flag({"--cpu-moe"})) o.expert_mode = ExpertMode::cpu;
    if (auto v = args.value({"--n-cpu-moe"})) {
        if (!Args::to_int(*v, "--n-cpu-moe", n)) return false;
        if (n < 0 || n > (1 << 16)) return fail("--n-cpu-moe must be 0 or more layers");
        if (o.expert_mode == ExpertMode::cpu) return fail("give --cpu-moe or --n-cpu-moe, not both");
        o.expert_mode = ExpertMode::first_n;
        o.n_cpu_moe = static_cast<int>(n);
    }
    if (auto v = args.value({"--experts-on"})) o.expert_device = *v;
    return true;
}

const char* generate_options_help() {
    return "  -n, --n-predict N       tokens to generate (run: 256, chat: 1024 per answer)\n"
           "  --temp T                temperature; 0 = greedy (default 0.8)\n"
           "  --top-k K               (default 40; 0 = off)\n"
           "  --top-p P               (default 0.95; 1 = off)\n"
           "  --min-p P               (default 0.05; 0 = off)\n"
           "  --repeat-penalty R      e.g. 1.1 (default 1 = off)\n"
           "  --repeat-last-n N       tokens the penalties look back over (default 64)\n"
           "  --frequency-penalty F   subtract F per earlier use from a token's logit (default 0)\n"
           "  --presence-penalty F    subtract F once from any token used before (default 0)\n"
           "  --seed S                random seed (default 0)\n"
           "  --stop TEXT             stop when this text appears (not printed)\n"
           "  --ignore-eos            keep generating past end-of-text\n"
           "  --json                  JSON mode: the answer is one JSON object (generation ends when it closes)\n";
}

bool parse_generate_options(Args& args, GenerateParams& g) {
    long long n = 0;
    double f = 0;
    if (auto v = args.value({"-n", "--n-predict"})) {
        if (!Args::to_int(*v, "--n-predict", n)) return false;
        if (n < 0) return fail("--n-predict must be zero or more");
        g.max_tokens = static_cast<int>(n);
    }
    if (auto v = args.value({"--temp", "--temperature"})) {
        if (!Args::to_float(*v, "--temp", f)) return false;
        g.sampler.temperature = static_cast<float>(f);
    }
    if (auto v = args.value({"--top-k"})) {
        if (!Args::to_int(*v, "--top-k", n)) return false;
        g.sampler.top_k = static_cast<int>(n);
    }
    if (auto v = args.value({"--top-p"})) {
        if (!Args::to_float(*v, "--top-p", f)) return false;
        g.sampler.top_p = static_cast<float>(f);
    }
    if (auto v = args.value({"--min-p"})) {
        if (!Args::to_float(*v, "--min-p", f)) return false;
        g.sampler.min_p = static_cast<float>(f);
    }
    if (auto v = args.value({"--repeat-penalty"})) {
        if (!Args::to_float(*v, "--repeat-penalty", f)) return false;
        if (f <= 0) return fail("--repeat-penalty must be positive");
        g.sampler.repeat_penalty = static_cast<float>(f);
    }
    if (auto v = args.value({"--repeat-last-n"})) {
        if (!Args::to_int(*v, "--repeat-last-n", n)) return false;
        g.sampler.repeat_last_n = static_cast<int>(n);
    }
    if (auto v = args.value({"--frequency-penalty"})) {
        if (!Args::to_float(*v, "--frequency-penalty", f)) return false;
        if (f < -2 || f > 2) return fail("--frequency-penalty must be between -2 and 2");
        g.sampler.frequency_penalty = static_cast<float>(f);
    }
    if (auto v = args.value({"--presence-penalty"})) {
        if (!Args::to_float(*v, "--presence-penalty", f)) return false;
        if (f < -2 || f > 2) return fail("--presence-penalty must be between -2 and 2");
        g.sampler.presence_penalty = static_cast<float>(f);
    }
    if (auto v = args.value({"--seed", "-s"})) {
        if (!Args::to_int(*v, "--seed", n)) return false;
        g.sampler.seed = static_cast<uint64_t>(n);
    }
    if (auto v = args.value({"--stop"})) g.stop_strings.push_back(*v);
    if (args.flag({"--ignore-eos"})) g.stop_at_eos = false;
    if (args.flag({"--json"})) g.json_object = true;
    return true;
}

bool finish_model_args(Args& args, ModelOptions& out, const char* command) {
    std::vector<std::string> pos;
    std::string err;
    if (!args.finish(pos, err)) return fail(err + " (see strata-cli " + command + " --help)");
    size_t used = 0;
    if (out.model_path.empty() && !pos.empty()) out.model_path = pos[used++];
    if (used < pos.size()) return fail("unexpected argument '" + pos[used] + "' (see strata-cli " + command + " --help)");
    if (out.model_path.empty()) return fail("no model given (-m MODEL.gguf)");
    return true;
}

void print_load_progress(const LoadProgress& p) {
    static_cast<void>(p);
    if (!isatty(STDERR_FILENO) || p.bytes_total == 0) return;
    const int pct = static_cast<int>(100.0 * static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total));
    std::fprintf(stderr, "\rloading %s: %3d%%", p.device_id.c_str(), pct);
    if (p.bytes_done >= p.bytes_total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
}

}  // namespace strata::cli
