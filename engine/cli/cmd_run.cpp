// strata-cli run: generate from a prompt. Only the generated text goes to stdout (so it can be
// piped and compared); speeds, the plan and errors go to stderr.
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "cli_common.h"
#include "load_options.h"

namespace strata::cli {

int cmd_run(Args& args) {
    if (args.flag({"-h", "--help"})) {
        std::fprintf(stderr, "usage: strata-cli run -m MODEL [-p PROMPT] [options]\n\n"
                             "Generates text after PROMPT (after BOS alone when PROMPT is empty).\n\n%s%s"
                             "  -p, --prompt TEXT       the prompt\n"
                             "  --logits-out FILE       write each step's logits (float32, n_vocab per token)\n"
                             "  --verbose               print the plan to stderr\n",
                     model_options_help(), generate_options_help());
        return 0;
    }
    ModelOptions mo;
    GenerateParams gp;
    gp.max_tokens = 256;
    if (!parse_model_options(args, mo) || !parse_generate_options(args, gp)) return 2;
    const std::string prompt = args.value({"-p", "--prompt"}).value_or("");
    const std::string logits_path = args.value({"--logits-out"}).value_or("");
    const bool verbose = args.flag({"--verbose", "-v"});
    if (!finish_model_args(args, mo, "run")) return 2;

    std::ofstream logits_file;
    if (!logits_path.empty()) {
        logits_file.open(logits_path, std::ios::binary | std::ios::trunc);
        if (!logits_file) {
            std::fprintf(stderr, "error: cannot write %s\n", logits_path.c_str());
            return 1;
        }
    }

    Engine engine;
    auto model = engine.load(mo.model_path, mo.load, print_load_progress);
    if (!model.ok()) {
        std::fprintf(stderr, "error: %s\n", model.status().message().c_str());
        return 1;
    }
    if (verbose) std::fprintf(stderr, "%s\n", format_plan((*model)->plan_request(), (*model)->plan()).c_str());
    auto seq = (*model)->create_sequence();
    if (!seq.ok()) {
        std::fprintf(stderr, "error: %s\n", seq.status().message().c_str());
        return 1;
    }
    const std::vector<int32_t> tokens = (*model)->tokenize(prompt, /*add_bos=*/true);
    if (tokens.empty()) {
        std::fprintf(stderr, "error: the prompt is empty and this model's tokenizer adds no BOS token: give a prompt (-p)\n");
        return 1;
    }
    LogitsCallback on_logits;
    if (logits_file.is_open()) {
        on_logits = [&](const float* logits, int64_t n) {
            logits_file.write(reinterpret_cast<const char*>(logits), static_cast<std::streamsize>(n * 4));
        };
    }
    auto stats = (*seq)->generate(
        tokens, gp,
        [](std::string_view text) {
            std::fwrite(text.data(), 1, text.size(), stdout);
            std::fflush(stdout);
        },
        nullptr, on_logits);
    if (isatty(STDOUT_FILENO)) std::fprintf(stdout, "\n");  // piped output stays byte-exact
    if (!stats.ok()) {
        std::fprintf(stderr, "error: %s\n", stats.status().message().c_str());
        return 1;
    }
    if (logits_file.is_open() && !logits_file.flush()) {
        std::fprintf(stderr, "error: writing %s failed (disk full?)\n", logits_path.c_str());
        return 1;
    }
    std::fprintf(stderr, "prompt: %d tokens in %.3f s (%.1f tok/s); generated %d tokens in %.3f s (%.2f tok/s); stop: %s\n",
                 stats->n_prompt, stats->prompt_seconds, stats->prompt_tps(), stats->n_generated,
                 stats->generate_seconds, stats->generate_tps(), stop_reason_name(stats->stop));
    return 0;
}

}  // namespace strata::cli
