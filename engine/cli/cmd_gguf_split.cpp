// strata-cli gguf-split IN.gguf OUT-PREFIX --parts N: writes a model as a split set
// (OUT-PREFIX-00001-of-0000N.gguf ...), the layout of most large downloads. IN may be a whole
// file or any part of a set. The written parts go to stdout, progress to stderr.
// Exit codes: 0 done, 1 error, 2 usage.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "cli_common.h"
#include "gguf/gguf_file.h"
#include "gguf/split_writer.h"
#include "strata/model_info.h"

namespace strata::cli {

namespace {

void print_usage() {
    std::fprintf(stderr,
                 "usage: strata-cli gguf-split IN.gguf OUT-PREFIX --parts N\n\n"
                 "  --parts N   number of parts, 2 to 65535 (at most one per tensor)\n\n"
                 "Writes OUT-PREFIX-00001-of-0000N.gguf ... as llama.cpp's gguf-split does: part 1 holds the\n"
                 "metadata, the tensors are cut into runs of about equal size. A trailing .gguf on OUT-PREFIX\n"
                 "is dropped. IN may be a single file or any part of a split set. Parts are written as\n"
                 "*.partial and renamed only when all are complete.\n");
}

}  // namespace

int cmd_gguf_split(Args& args) {
    if (args.flag({"-h", "--help"})) {
        print_usage();
        return 0;
    }
    const auto parts_text = args.value({"--parts"});
    std::vector<std::string> pos;
    std::string err;
    if (!args.finish(pos, err)) {
        std::fprintf(stderr, "error: %s\n", err.c_str());
        return 2;
    }
    if (pos.size() != 2 || !parts_text) {
        print_usage();
        return 2;
    }
    long long n_parts = 0;
    if (!Args::to_int(*parts_text, "--parts", n_parts)) return 2;
    if (n_parts < 2 || n_parts > 65535) {
        std::fprintf(stderr, "error: --parts must be between 2 and 65535, got %lld\n", n_parts);
        return 2;
    }
    std::string prefix = pos[1];
    if (prefix.size() > 5 && prefix.compare(prefix.size() - 5, 5, ".gguf") == 0) prefix.resize(prefix.size() - 5);

    auto in = gguf::GgufFile::open(pos[0]);
    if (!in.ok()) {
        std::fprintf(stderr, "error: %s\n", in.status().message().c_str());
        return 1;
    }
    const bool tty = isatty(STDERR_FILENO);
    auto written = gguf::write_split_set(**in, prefix, n_parts, [&](size_t done, size_t total) {
        if (tty) std::fprintf(stderr, "\rwriting %zu/%zu tensors", done, total);
    });
    if (tty) std::fprintf(stderr, "\n");
    if (!written.ok()) {
        std::fprintf(stderr, "error: %s\n", written.status().message().c_str());
        return 1;
    }
    // Read back: what was written opens as one model with the input's tensors.
    auto check = gguf::GgufFile::open(written->front());
    if (!check.ok()) {
        std::fprintf(stderr, "error: the written set does not read back: %s\n", check.status().message().c_str());
        return 1;
    }
    for (const gguf::GgufPart& p : (*check)->parts()) {
        std::printf("%s  %s, %zu tensors\n", p.path.c_str(), format_bytes(p.file_size).c_str(), p.n_tensors);
    }
    return 0;
}

}  // namespace strata::cli
