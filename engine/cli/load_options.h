// Options shared by the subcommands that load or plan a model (run, chat, bench, plan):
// -m/--model, --devices, --split, --mode, --ctx, --batch, --parallel, --kv-type, --threads,
// --reserve, --disable, --pin-embedding, --pin-output.
#pragma once

#include <string>

#include "cli_common.h"
#include "strata/engine.h"

namespace strata::cli {

struct ModelOptions {
    std::string model_path;
    LoadOptions load;
};

// Consumes the options from args. Returns false after printing an error naming the option.
bool parse_model_options(Args& args, ModelOptions& out);

// Sampling options: -n/--n-predict, --temp, --top-k, --top-p, --min-p, --repeat-penalty,
// --repeat-last-n, --seed, --stop TEXT, --ignore-eos. Fields not given keep the caller's values.
bool parse_generate_options(Args& args, GenerateParams& out);
const char* generate_options_help();

// After all other options are consumed: rejects unknown ones and takes the model path from a
// lone positional when -m was not given. Prints the error (naming `command`) and returns false.
bool finish_model_args(Args& args, ModelOptions& out, const char* command);

// The option list for --help texts.
const char* model_options_help();

// Prints a load progress line to stderr (overwriting itself on a terminal).
void print_load_progress(const LoadProgress& p);

}  // namespace strata::cli
