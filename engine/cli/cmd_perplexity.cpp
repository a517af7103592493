// strata-cli perplexity: how well a model predicts a text, to compare quantizations of one model
// (a lower perplexity on the same text, context and tokenizer is closer to the original).
//
// The text is tokenized once and cut into chunks of the context length; each chunk is evaluated
// from an empty cache (its first token replaced by BOS where the model's tokenizer adds one) and the second
// half of its positions is scored, so every scored token sees at least half a context before
// it: perplexity = exp(mean of -log p(next token)). The same method as llama.cpp's perplexity
// tool, so figures are comparable for the same text, context and chunks.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli_common.h"
#include "load_options.h"

namespace strata::cli {

namespace {

// -log softmax(logits)[target], in double.
double negative_log_likelihood(const float* logits, int64_t n_vocab, int32_t target) {
    double max = logits[0];
    for (int64_t i = 1; i < n_vocab; ++i) max = std::max<double>(max, logits[i]);
    double sum = 0;
    for (int64_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - max);
    return std::log(sum) + max - static_cast<double>(logits[target]);
}

}  // namespace

int cmd_perplexity(Args& args) {
    if (args.flag({"-h", "--help"})) {
        std::fprintf(stderr, "usage: strata-cli perplexity -m MODEL -f TEXT_FILE [--ctx N] [--chunks K] [options]\n\n"
                             "Perplexity of the model on a text (lower is better), to compare quantizations:\n"
                             "chunks of --ctx tokens (default 512), the second half of each scored.\n\n%s"
                             "  -f, --file FILE         the text (UTF-8), e.g. wiki.test.raw\n"
                             "  --chunks K              score at most the first K chunks\n",
                     model_options_help());
        return 0;
    }
    ModelOptions mo;
    mo.load.n_ctx = 512;
    if (!parse_model_options(args, mo)) return 2;
    const std::string path = args.value({"-f", "--file"}).value_or("");
    long long max_chunks = 0;
    if (auto v = args.value({"--chunks"})) {
        if (!Args::to_int(*v, "--chunks", max_chunks)) return 2;
        if (max_chunks < 1) {
            std::fprintf(stderr, "error: --chunks must be at least 1\n");
            return 2;
        }
    }
    if (!finish_model_args(args, mo, "perplexity")) return 2;
    if (path.empty()) {
        std::fprintf(stderr, "error: perplexity needs a text: -f FILE\n");
        return 2;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "error: cannot read %s\n", path.c_str());
        return 1;
    }
    std::stringstream text;
    text << in.rdbuf();

    Engine engine;
    auto model = engine.load(mo.model_path, mo.load, print_load_progress);
    if (!model.ok()) {
        std::fprintf(stderr, "error: %s\n", model.status().message().c_str());
        return 1;
    }
    const int64_t n_ctx = (*model)->n_ctx(), n_vocab = (*model)->n_vocab();
    const std::vector<int32_t> tokens = (*model)->tokenize(text.str(), /*add_bos=*/false);
    int64_t n_chunks = static_cast<int64_t>(tokens.size()) / n_ctx;
    if (max_chunks > 0) n_chunks = std::min<int64_t>(n_chunks, max_chunks);
    if (n_ctx < 4 || n_chunks < 1) {
        std::fprintf(stderr, "error: %s is %zu tokens; one chunk needs --ctx = %lld of them (and --ctx at least 4)\n",
                     path.c_str(), tokens.size(), static_cast<long long>(n_ctx));
        return 1;
    }
    auto seq = (*model)->create_sequence();
    if (!seq.ok()) {
        std::fprintf(stderr, "error: %s\n", seq.status().message().c_str());
        return 1;
    }
    // BOS first only where the tokenizer adds one (as llama.cpp's tool does).
    const std::vector<int32_t> lead = (*model)->tokenize("", /*add_bos=*/true);
    const int32_t bos = lead.empty() ? -1 : lead.front();
    std::fprintf(stderr, "%zu tokens: %lld chunks of %lld, scoring positions %lld..%lld of each\n", tokens.size(),
                 static_cast<long long>(n_chunks), static_cast<long long>(n_ctx), static_cast<long long>(n_ctx / 2),
                 static_cast<long long>(n_ctx - 2));
    double sum = 0, sum_sq = 0;
    int64_t n_scored = 0;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<float> logits;
    for (int64_t c = 0; c < n_chunks; ++c) {
        std::vector<int32_t> chunk(tokens.begin() + c * n_ctx, tokens.begin() + (c + 1) * n_ctx);
        if (bos >= 0) chunk[0] = bos;
        (*seq)->truncate(0);
        const Status st = (*seq)->eval_all(chunk, &logits);
        if (!st.ok()) {
            std::fprintf(stderr, "\nerror: chunk %lld: %s\n", static_cast<long long>(c + 1), st.message().c_str());
            return 1;
        }
        for (int64_t j = n_ctx / 2; j + 1 < n_ctx; ++j) {
            const double nll = negative_log_likelihood(logits.data() + j * n_vocab, n_vocab, chunk[static_cast<size_t>(j) + 1]);
            sum += nll;
            sum_sq += nll * nll;
            ++n_scored;
        }
        std::printf("[%lld]%.4f ", static_cast<long long>(c + 1), std::exp(sum / static_cast<double>(n_scored)));
        std::fflush(stdout);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double mean = sum / static_cast<double>(n_scored);
    const double var = n_scored > 1 ? std::max(0.0, (sum_sq - sum * mean) / static_cast<double>(n_scored - 1)) : 0;
    const double ppl = std::exp(mean);
    // Delta method: the standard error of the mean log-likelihood, carried through exp().
    const double err = ppl * std::sqrt(var / static_cast<double>(n_scored));
    std::printf("\nperplexity: %.4f ± %.4f (%lld tokens scored in %lld chunks of %lld; %.1f s, %.0f tokens/s)\n", ppl, err,
                static_cast<long long>(n_scored), static_cast<long long>(n_chunks), static_cast<long long>(n_ctx), seconds,
                static_cast<double>(n_chunks * n_ctx) / std::max(seconds, 1e-9));
    return 0;
}

}  // namespace strata::cli
