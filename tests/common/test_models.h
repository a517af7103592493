// Helpers for tests that need a model file: random tiny models written to a temp folder.
#pragma once

#include <QString>
#include <QTemporaryDir>

#include <cstdint>
#include <vector>

#include "model/random_model.h"
#include "strata/engine.h"

namespace strata::test {

// Writes a random model into `dir` as `name`.gguf; QFAIL-style: returns "" and sets `error`.
QString writeRandomModel(const QTemporaryDir& dir, const QString& name, const RandomModelConfig& config,
                         QString* error = nullptr);

// A llama-shaped random model small enough for any UI test (2 layers, 64 wide, 4 heads, 2 KV heads).
inline RandomModelConfig tinyModelConfig() {
    RandomModelConfig cfg;
    cfg.n_layer = 2;
    cfg.n_embd = 64;
    cfg.n_ff = 128;
    cfg.n_head = 4;
    cfg.n_head_kv = 2;
    return cfg;
}

// Options for one CPU device with `kv` cache entries (2 threads).
LoadOptions cpuLoadOptions(KvCacheType kv, int64_t n_ctx, int64_t n_batch);

// n seeded token ids: BOS (1), then ids in 3 .. n_vocab - 1.
std::vector<int32_t> seededTokens(int n, int n_vocab, uint32_t seed);

// n greedy tokens after `prompt` on a new sequence of `m` (no repeat penalty, EOS ignored): the
// text, the generated tokens and every step's logits (steps × n_vocab), or why it failed.
struct GreedyRun {
    std::string text;
    std::vector<int32_t> tokens;
    std::vector<float> logits;
    Status status;
};
GreedyRun greedyRun(Model& m, const std::vector<int32_t>& prompt, int n);

}  // namespace strata::test
