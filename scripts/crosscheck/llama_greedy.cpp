// Greedy decoding with llama.cpp's library, for scripts/crosscheck_llamacpp.sh: the same prompt
// and steps Strata's `run --temp 0 --logits-out` takes, so the two engines can be compared on one
// random-weight GGUF file. Written against the public llama.h API (llama.cpp de3ff81); it is
// built and run beside the repository, never linked into Strata.
//
//   llama_greedy MODEL PROMPT N LOGITS_OUT   → stdout "prompt: ids…" and "gen: ids…"; LOGITS_OUT
//                                              gets N rows of n_vocab float32 (each step's logits)
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "llama.h"

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s MODEL PROMPT N LOGITS_OUT\n", argv[0]);
        return 2;
    }
    llama_log_set([](ggml_log_level, const char*, void*) {}, nullptr);
    ggml_backend_load_all();
    llama_model* model = llama_model_load_from_file(argv[1], llama_model_default_params());
    if (!model) {
        std::fprintf(stderr, "llama.cpp could not load %s\n", argv[1]);
        return 1;
    }
    const llama_vocab* vocab = llama_model_get_vocab(model);
    const std::string prompt = argv[2];
    const int n_predict = std::atoi(argv[3]);
    // BOS and special tokens as Strata's `run` treats a prompt: the vocabulary's own add-BOS rule.
    const int n_prompt = -llama_tokenize(vocab, prompt.c_str(), static_cast<int32_t>(prompt.size()), nullptr, 0, true, true);
    std::vector<llama_token> tokens(static_cast<size_t>(n_prompt));
    llama_tokenize(vocab, prompt.c_str(), static_cast<int32_t>(prompt.size()), tokens.data(), n_prompt, true, true);

    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = static_cast<uint32_t>(n_prompt + n_predict + 8);
    cp.n_batch = cp.n_ctx;
    cp.n_threads = cp.n_threads_batch = 1;  // one thread: no reduction-order differences between runs
    llama_context* ctx = llama_init_from_model(model, cp);
    if (!ctx) {
        std::fprintf(stderr, "llama.cpp could not create a context\n");
        return 1;
    }
    const int n_vocab = llama_vocab_n_tokens(vocab);
    FILE* out = std::fopen(argv[4], "wb");
    if (!out) {
        std::fprintf(stderr, "cannot write %s\n", argv[4]);
        return 1;
    }
    std::printf("prompt:");
    for (llama_token t : tokens) std::printf(" %d", t);
    std::printf("\ngen:");
    llama_batch batch = llama_batch_get_one(tokens.data(), n_prompt);
    llama_token next = 0;
    for (int i = 0; i < n_predict; ++i) {
        if (llama_decode(ctx, batch) != 0) {
            std::fprintf(stderr, "llama_decode failed at step %d\n", i);
            return 1;
        }
        const float* logits = llama_get_logits_ith(ctx, -1);
        std::fwrite(logits, sizeof(float), static_cast<size_t>(n_vocab), out);
        int best = 0;
        for (int j = 1; j < n_vocab; ++j)
            if (logits[j] > logits[best]) best = j;
        next = best;
        std::printf(" %d", best);
        batch = llama_batch_get_one(&next, 1);
    }
    std::printf("\n");
    std::fclose(out);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
