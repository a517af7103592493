// strata-cli tokenize -m MODEL TEXT: prints the token ids (and with --pieces, each token's text).
#include <cstdio>

#include "cli_common.h"
#include "gguf/gguf_file.h"
#include "tokenizer/vocab_loader.h"

namespace strata::cli {

int cmd_tokenize(Args& args) {
    const auto model = args.value({"-m", "--model"});
    const bool pieces = args.flag({"--pieces"});
    const bool no_bos = args.flag({"--no-bos"});
    const bool special = args.flag({"--special"});
    std::vector<std::string> pos;
    std::string err;
    if (!args.finish(pos, err) || !model || pos.size() != 1) {
        std::fprintf(stderr, "usage: strata-cli tokenize -m MODEL [--pieces] [--no-bos] [--special] TEXT\n");
        return 2;
    }
    auto file = gguf::GgufFile::open(*model);
    if (!file.ok()) {
        std::fprintf(stderr, "error: %s\n", file.status().message().c_str());
        return 1;
    }
    auto vocab = load_vocab(**file);
    if (!vocab.ok()) {
        std::fprintf(stderr, "error: %s\n", vocab.status().message().c_str());
        return 1;
    }
    const auto ids = (*vocab)->encode(pos[0], !no_bos, special);
    for (size_t i = 0; i < ids.size(); ++i) {
        if (pieces) std::printf("%6d  %s\n", ids[i], (*vocab)->token_text(ids[i]).c_str());
        else std::printf("%s%d", i ? " " : "", ids[i]);
    }
    if (!pieces) std::printf("\n");
    return 0;
}

}  // namespace strata::cli
