// Prompt processing (ppN) and decode (tgN) speed of a loaded model on one sequence: medians of
// repeats after one warm-up run, on seeded random tokens. The measuring part of
// `strata-cli bench`, shared by the CLI and the app's bench runner.
//
//   BenchOptions o;                       // pp 128, 512; tg 64; 3 repeats
//   auto r = run_bench(model, seq, o, &cancel);
//   if (r.ok()) for (const BenchTest& t : r->tests) show(t.name, t.tokens_per_second);
//
// Threads: runs on the caller's thread and uses `seq` (truncated before every test, left with
// whatever the last test put in it) and the model's stage timings (reset before each decode
// test: afterwards Model::stage_timings() covers the last one's runs). Nothing else may use the
// sequence meanwhile; other sequences of the model may run (they slow the figures down).
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "strata/engine.h"

namespace strata {

struct BenchOptions {
    std::vector<int> prompt_sizes{128, 512};  // ppN: N tokens evaluated at once
    std::vector<int> decode_sizes{64};        // tgN: N tokens evaluated one at a time
    int repeats = 3;                          // timed runs per test (the median is reported)
    int depth = 0;                            // tokens already in the KV cache before each test
};

struct BenchTest {
    std::string name;           // "pp512", "tg64", "tg64@d4096"
    bool prefill = false;       // pp (true) or tg (false)
    int tokens = 0;             // N
    double seconds = 0;         // median time of one run
    double tokens_per_second = 0;
};

struct BenchResult {
    std::vector<BenchTest> tests;  // pp tests first, then tg, in the order asked for
    uint64_t decode_bytes = 0;     // weight bytes one decoded token reads
    double flops_per_token = 0;    // 2 × non-embedding parameters
    // The last pp test's and the last tg test's tokens/s (0 when there was none).
    double prefill_tokens_per_second() const;
    double decode_tokens_per_second() const;
};

// Weight bytes one decoded token reads (every layer, the output head and norm; the embedding
// lookup reads one row only), and 2 × the non-embedding parameters.
uint64_t decode_bytes_per_token(const Model& model);
double flops_per_token(const Model& model);

// Positions of KV cache the tests need (depth + the largest test + BOS).
int64_t bench_context_needed(const BenchOptions& options);

// Runs the tests; `on_test` (optional) hears each result as it is measured. Errors: invalid_argument (an empty or non-positive size, repeats < 1, a
// context too short for depth + tokens), cancelled (`cancel` set between runs), or whatever
// evaluation fails with.
Result<BenchResult> run_bench(Model& model, Sequence& seq, const BenchOptions& options,
                              const std::atomic<bool>* cancel = nullptr,
                              const std::function<void(const BenchTest&)>& on_test = {});

}  // namespace strata
