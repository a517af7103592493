// strata-cli tokenize -m MODEL TEXT: prints the token ids (and with --pieces, each token's text).
// --file reads the text from a file; --bench FILE measures encode speed over a file instead.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli_common.h"
#include "gguf/gguf_file.h"
#include "tokenizer/vocab_loader.h"

namespace strata::cli {

namespace {

bool read_file(const std::string& path, std::string& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream text;
    text << in.rdbuf();
    out = std::move(text).str();
    return true;
}

// Encodes the whole text several times (the first run warms caches and the regex JIT) and
// reports the fastest run: bytes and tokens per second of Vocab::encode alone.
int bench(const Vocab& vocab, const std::string& path, const std::string& text, const EncodeOptions& options) {
    constexpr int k_runs = 3;
    double best_s = 0;
    size_t n_tokens = 0;
    for (int run = 0; run < k_runs; ++run) {
        const auto start = std::chrono::steady_clock::now();
        const auto ids = vocab.encode(text, options);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        n_tokens = ids.size();
        if (run == 0 || s < best_s) best_s = s;
    }
    const double mb = static_cast<double>(text.size()) / 1e6;
    std::printf("%s: %.2f MB, %zu tokens (%.2f bytes/token), best of %d: %.3f s — %.2f MB/s, %.0f tokens/s\n",
                path.c_str(), mb, n_tokens, n_tokens ? static_cast<double>(text.size()) / static_cast<double>(n_tokens) : 0.0,
                k_runs, best_s, best_s > 0 ? mb / best_s : 0.0, best_s > 0 ? static_cast<double>(n_tokens) / best_s : 0.0);
    return 0;
}

}  // namespace

int cmd_tokenize(Args& args) {
    const auto model = args.value({"-m", "--model"});
    const auto file_path = args.value({"-f", "--file"});
    const auto bench_path = args.value({"--bench"});
    const bool pieces = args.flag({"--pieces"});
    const bool no_bos = args.flag({"--no-bos"});
    const bool special = args.flag({"--special"});
    std::vector<std::string> pos;
    std::string err;
    if (!args.finish(pos, err) || !model || pos.size() + (file_path ? 1 : 0) + (bench_path ? 1 : 0) != 1) {
        if (!err.empty()) std::fprintf(stderr, "error: %s\n", err.c_str());
        std::fprintf(stderr,
                     "usage: strata-cli tokenize -m MODEL [--pieces] [--no-bos] [--special] (TEXT | --file FILE)\n"
                     "       strata-cli tokenize -m MODEL --bench FILE   (encode speed: MB/s and tokens/s)\n"
                     "  BOS and EOS are added as the model's add_bos_token / add_eos_token say (--no-bos: neither);\n"
                     "  --special turns control-token spellings such as <|im_start|> into their ids.\n");
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
    const Vocab& v = **vocab;
    const EncodeOptions options{!no_bos && v.add_bos(), !no_bos && v.add_eos(), special};
    std::string text;
    if (const auto& path = bench_path ? bench_path : file_path) {
        if (!read_file(*path, text)) {
            std::fprintf(stderr, "error: cannot read %s\n", path->c_str());
            return 1;
        }
        if (bench_path) return bench(v, *path, text, options);
    } else {
        text = pos[0];
    }
    const auto ids = v.encode(text, options);
    std::string line;
    for (size_t i = 0; i < ids.size(); ++i) {
        if (pieces) {
            std::printf("%6d  %s\n", ids[i], v.token_text(ids[i]).c_str());
            continue;
        }
        if (i) line += ' ';
        line += std::to_string(ids[i]);
    }
    if (!pieces) std::printf("%s\n", line.c_str());
    return 0;
}

}  // namespace strata::cli
