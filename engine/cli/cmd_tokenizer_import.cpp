// strata-cli tokenizer-import: a Hugging Face tokenizer.json (+ tokenizer_config.json) → a
// vocab-only GGUF that `tokenize -m` and the tokenizer tests load (see
// tokenizer/hf_tokenizer_import.h for what is converted and how).
#include <cstdio>
#include <filesystem>

#include "cli_common.h"
#include "tokenizer/hf_tokenizer_import.h"

namespace strata::cli {

int cmd_tokenizer_import(Args& args) {
    const auto out = args.value({"-o", "--output"});
    const auto config = args.value({"--config"});
    const auto pre = args.value({"--pre"});
    std::vector<std::string> pos;
    std::string err;
    if (!args.finish(pos, err) || !out || pos.size() != 1) {
        if (!err.empty()) std::fprintf(stderr, "error: %s\n", err.c_str());
        std::fprintf(stderr,
                     "usage: strata-cli tokenizer-import [--config tokenizer_config.json] [--pre NAME] -o OUT.gguf "
                     "TOKENIZER_JSON_OR_DIR\n"
                     "  A folder stands for its tokenizer.json and tokenizer_config.json. --pre names the\n"
                     "  pre-tokenizer (tokenizer.ggml.pre) instead of recognising it from the split patterns.\n");
        return 2;
    }
    namespace fs = std::filesystem;
    std::string json_path = pos[0];
    std::string config_path = config.value_or("");
    std::error_code ec;
    if (fs::is_directory(json_path, ec)) {
        const fs::path dir(json_path);
        json_path = (dir / "tokenizer.json").string();
        if (!config && fs::exists(dir / "tokenizer_config.json", ec)) config_path = (dir / "tokenizer_config.json").string();
    }
    auto result = tokenizer::write_vocab_gguf_from_hf(json_path, config_path, *out, pre.value_or(""));
    if (!result.ok()) {
        std::fprintf(stderr, "error: %s\n", result.status().message().c_str());
        return 1;
    }
    const auto& r = *result;
    std::printf("%s: %zu tokens, model '%s'%s%s, %zu merges, add_bos %s, add_eos %s\n", out->c_str(), r.n_tokens,
                r.model.c_str(), r.pre.empty() ? "" : ", pre ", r.pre.c_str(), r.n_merges, r.add_bos ? "yes" : "no",
                r.add_eos ? "yes" : "no");
    for (const std::string& note : r.notes) std::printf("note: %s\n", note.c_str());
    return 0;
}

}  // namespace strata::cli
