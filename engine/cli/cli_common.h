// Shared helpers for strata-cli subcommands: a small argument parser and the command table.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace strata::cli {

// Parses "--name value", "--name=value", "-x value" and bare positionals, in order.
// Unknown options are errors, so typos are reported instead of ignored.
class Args {
public:
    Args(std::vector<std::string> argv) : argv_(std::move(argv)) {}

    // Declares an option taking a value; `names` like {"-m", "--model"}. Given more than once,
    // the last occurrence wins (all are consumed).
    std::optional<std::string> value(std::initializer_list<const char*> names);
    // Declares a repeatable option: every occurrence's value, in command-line order (empty when
    // the option is absent; a trailing option without a value gives "").
    std::vector<std::string> values(std::initializer_list<const char*> names);
    // Declares a flag without value.
    bool flag(std::initializer_list<const char*> names);
    // After all value()/flag() calls: the positionals, or an error on unknown options.
    bool finish(std::vector<std::string>& positionals, std::string& error);

    // Typed helpers: print an error naming the option and return false on a bad number.
    static bool to_int(const std::string& text, const char* option, long long& out);
    static bool to_float(const std::string& text, const char* option, double& out);

private:
    std::vector<std::string> argv_;
    std::vector<bool> used_ = std::vector<bool>(argv_.size(), false);
};

struct Command {
    const char* name;
    const char* summary;
    std::function<int(Args&)> run;
};

// Every subcommand registers here (defined in its own cmd_*.cpp).
int cmd_info(Args& args);
int cmd_run(Args& args);
int cmd_chat(Args& args);
int cmd_serve(Args& args);
int cmd_tokenize(Args& args);
int cmd_bench(Args& args);
int cmd_plan(Args& args);
int cmd_gen_model(Args& args);
int cmd_selftest(Args& args);
int cmd_quantize(Args& args);
int cmd_gguf_split(Args& args);
int cmd_devices(Args& args);
int cmd_perplexity(Args& args);
int cmd_hub(Args& args);  // cmd_hub.cpp
int cmd_pull(Args& args);      // cmd_hub.cpp
int cmd_search(Args& args);    // cmd_hub.cpp
int cmd_hub_plan(Args& args);  // cmd_hub.cpp
int cmd_whatif(Args& args);    // cmd_whatif.cpp
int cmd_probe(Args& args);     // cmd_probe.cpp

}  // namespace strata::cli
