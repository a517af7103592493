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

// Options for one CPU device with `kv` cache entries (2 threads).
LoadOptions cpuLoadOptions(KvCacheType kv, int64_t n_ctx, int64_t n_batch);

// n seeded token ids: BOS (1), then ids in 3 .. n_vocab - 1.
std::vector<int32_t> seededTokens(int n, int n_vocab, uint32_t seed);

}  // namespace strata::test
