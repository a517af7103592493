// Helpers for tests that need a model file: random tiny models written to a temp folder.
#pragma once

#include <QString>
#include <QTemporaryDir>

#include "model/random_model.h"

namespace strata::test {

// Writes a random model into `dir` as `name`.gguf; QFAIL-style: returns "" and sets `error`.
QString writeRandomModel(const QTemporaryDir& dir, const QString& name, const RandomModelConfig& config,
                         QString* error = nullptr);

}  // namespace strata::test
