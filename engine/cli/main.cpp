// strata-cli entry point: dispatches to one subcommand per cmd_*.cpp file.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli_common.h"

namespace strata::cli {
int cmd_tokenizer_import(Args& args);  // cmd_tokenizer_import.cpp
int cmd_template(Args& args);          // cmd_template.cpp
int cmd_calibration(Args& args);       // cmd_calibration.cpp
}  // namespace strata::cli

namespace {

using strata::cli::Command;

const std::vector<Command>& commands() {
    static const std::vector<Command> table = {
        {"info", "show a GGUF model's architecture, sizes, tokenizer and tensor types", strata::cli::cmd_info},
        {"run", "generate text from a prompt (text to stdout, speeds to stderr)", strata::cli::cmd_run},
        {"chat", "chat with a model in the terminal", strata::cli::cmd_chat},
        {"serve", "serve the OpenAI-compatible HTTP API (no app needed)", strata::cli::cmd_serve},
        {"tokenize", "print the token ids of a text", strata::cli::cmd_tokenize},
        {"template", "print the exact prompt a model's chat template makes of a conversation", strata::cli::cmd_template},
        {"tokenizer-import", "write a vocab-only GGUF from a Hugging Face tokenizer.json", strata::cli::cmd_tokenizer_import},
        {"plan", "show how a model would be split across devices, before loading", strata::cli::cmd_plan},
        {"devices", "list the devices, with each NVIDIA GPU's load, memory, temperature and power now", strata::cli::cmd_devices},
        {"bench", "measure prompt and decode speed", strata::cli::cmd_bench},
        {"whatif", "would a model fit on GPUs you do not have: speed, $ per million tokens, a card failing", strata::cli::cmd_whatif},
        {"calibration", "how the planner's speed predictions are calibrated from this machine's bench runs", strata::cli::cmd_calibration},
        {"probe", "probe links: measure host-GPU and GPU-GPU copy speeds, stored for the planner", strata::cli::cmd_probe},
        {"gen-model", "write a random-weight model of a real shape (tests, benchmarks)", strata::cli::cmd_gen_model},
        {"selftest", "check every op and model path on every device (GPUs against the CPU)", strata::cli::cmd_selftest},
        {"quantize", "rewrite a model at a quantization type such as Q4_K_M or Q8_0", strata::cli::cmd_quantize},
        {"gguf-split", "write a model as a split set (NAME-00001-of-0000N.gguf ...)", strata::cli::cmd_gguf_split},
        {"perplexity", "how well a model predicts a text (compare quantizations)", strata::cli::cmd_perplexity},
        {"hub", "search the Hugging Face Hub, see which GGUF files fit before downloading, download", strata::cli::cmd_hub},
        {"pull", "download a model from the Hub: REPO[:QUANT] (e.g. Qwen/Qwen3-8B-GGUF:Q4_K_M)", strata::cli::cmd_pull},
        {"search", "search the Hub for GGUF repositories", strata::cli::cmd_search},
        {"hub-plan", "whether each GGUF model of a Hub repository fits this machine, before downloading", strata::cli::cmd_hub_plan},
    };
    return table;
}

void print_usage() {
    std::fprintf(stderr,
                 "strata-cli — run large language models across the devices of one machine\n\n"
                 "usage: strata-cli <command> [options]\n\ncommands:\n");
    for (const auto& c : commands()) std::fprintf(stderr, "  %-16s %s\n", c.name, c.summary);
    std::fprintf(stderr, "\n'strata-cli <command> --help' shows a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
        !std::strcmp(argv[1], "help")) {
        print_usage();
        return argc < 2 ? 2 : 0;
    }
    for (const auto& c : commands()) {
        if (std::strcmp(argv[1], c.name) == 0) {
            strata::cli::Args args(std::vector<std::string>(argv + 2, argv + argc));
            try {
                return c.run(args);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "error: %s\n", e.what());
                return 1;
            }
        }
    }
    std::fprintf(stderr, "error: unknown command '%s'\n\n", argv[1]);
    print_usage();
    return 2;
}
