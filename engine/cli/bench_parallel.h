// strata-cli bench --parallel (bench_parallel.cpp).
#pragma once

#include <vector>

#include "strata/engine.h"

namespace strata::cli {

// Decode speed with 1, 2, 4 … sequences generating at once (`parallel`, each generating
// n_tokens), then the time to first token of a ttft_prompt-token prompt idle and while the
// others decode (skipped when ttft_prompt is 0 or only one sequence). The model must have at
// least max(parallel) free sequence slots. Prints a table; returns the process exit code.
int bench_parallel(Model& model, const std::vector<int>& parallel, int n_tokens, int ttft_prompt);

}  // namespace strata::cli
