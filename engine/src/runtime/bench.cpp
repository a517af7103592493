#include "strata/bench.h"

#include <algorithm>
#include <chrono>
#include <random>

namespace strata {

namespace {
using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n == 0 ? 0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<int32_t> random_tokens(int n, int64_t n_vocab, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<int32_t> t(static_cast<size_t>(n));
    for (auto& id : t) id = static_cast<int32_t>(3 + rng() % static_cast<uint64_t>(n_vocab - 3));
    return t;
}
}  // namespace

double BenchResult::prefill_tokens_per_second() const {
    for (auto it = tests.rbegin(); it != tests.rend(); ++it)
        if (it->prefill) return it->tokens_per_second;
    return 0;
}

double BenchResult::decode_tokens_per_second() const {
    for (auto it = tests.rbegin(); it != tests.rend(); ++it)
        if (!it->prefill) return it->tokens_per_second;
    return 0;
}

uint64_t decode_bytes_per_token(const Model& m) {
    uint64_t bytes = 0;
    for (const auto& l : m.plan_request().model.layer_bytes) bytes += l;
    return bytes + m.plan_request().model.output_bytes + m.plan_request().model.output_norm_bytes;
}

double flops_per_token(const Model& m) {
    return 2.0 * static_cast<double>(m.info().n_params - static_cast<uint64_t>(m.n_vocab()) * m.info().n_embd);
}

int64_t bench_context_needed(const BenchOptions& o) {
    int64_t need = 1;
    for (int n : o.prompt_sizes) need = std::max<int64_t>(need, int64_t(o.depth) + n + 1);
    for (int n : o.decode_sizes) need = std::max<int64_t>(need, int64_t(o.depth) + n + 2);
    return need;
}

Result<BenchResult> run_bench(Model& m, Sequence& seq, const BenchOptions& o, const std::atomic<bool>* cancel,
                              const std::function<void(const BenchTest&)>& on_test) {
    if (o.repeats < 1) return Status(ErrorCode::invalid_argument, "bench: repeats must be 1 or more");
    if (o.depth < 0) return Status(ErrorCode::invalid_argument, "bench: depth must be 0 or more");
    if (o.prompt_sizes.empty() && o.decode_sizes.empty())
        return Status(ErrorCode::invalid_argument, "bench: no test sizes given");
    for (int n : o.prompt_sizes)
        if (n <= 0) return Status(ErrorCode::invalid_argument, "bench: prompt sizes must be positive");
    for (int n : o.decode_sizes)
        if (n <= 0) return Status(ErrorCode::invalid_argument, "bench: decode sizes must be positive");
    if (bench_context_needed(o) > m.n_ctx())
        return Status(ErrorCode::invalid_argument, "bench: the context (" + std::to_string(m.n_ctx()) +
                                                       " positions) is too short for these tests: they need " +
                                                       std::to_string(bench_context_needed(o)));
    if (m.n_vocab() <= 3) return Status(ErrorCode::invalid_argument, "bench: the vocabulary is too small");

    BenchResult out;
    out.decode_bytes = decode_bytes_per_token(m);
    out.flops_per_token = flops_per_token(m);
    const int32_t bos = m.bos_token() >= 0 ? m.bos_token() : 1;
    auto cancelled = [cancel] { return cancel && cancel->load(); };

    // Puts the sequence at `depth` tokens of context (BOS first), untimed: the first call fills
    // the cache, later calls drop what the previous test added. With no depth, decode starts
    // from BOS alone (`with_bos`), prompt processing from an empty cache.
    bool filled = false;
    std::vector<float> logits;
    auto fill = [&](bool with_bos) -> Status {
        if (o.depth == 0) {
            seq.truncate(0);
            return with_bos ? seq.eval({bos}, &logits) : Status{};
        }
        if (filled) {
            seq.truncate(static_cast<size_t>(o.depth));
            return {};
        }
        auto ctx = random_tokens(o.depth, m.n_vocab(), 99);
        ctx[0] = bos;
        seq.truncate(0);
        Status st = seq.eval(ctx, &logits);
        filled = st.ok();
        return st;
    };
    const std::string at = o.depth > 0 ? "@d" + std::to_string(o.depth) : "";

    for (int n : o.prompt_sizes) {
        std::vector<double> times;
        const auto toks = random_tokens(n, m.n_vocab(), 42);
        for (int r = 0; r < o.repeats + 1; ++r) {  // the first run warms up
            if (cancelled()) return Status(ErrorCode::cancelled, "bench cancelled");
            Status st = fill(false);
            const auto t0 = Clock::now();
            if (st.ok()) st = seq.eval(toks, &logits);
            const double s = std::chrono::duration<double>(Clock::now() - t0).count();
            if (!st.ok()) return st;
            if (r > 0) times.push_back(s);
        }
        const double t = median(times);
        out.tests.push_back({"pp" + std::to_string(n) + at, true, n, t, t > 0 ? n / t : 0});
        if (on_test) on_test(out.tests.back());
    }
    for (int n : o.decode_sizes) {
        m.reset_timings();  // afterwards the stage timings cover the last decode test
        std::vector<double> times;
        const auto toks = random_tokens(n, m.n_vocab(), 7);
        for (int r = 0; r < o.repeats + 1; ++r) {
            if (cancelled()) return Status(ErrorCode::cancelled, "bench cancelled");
            Status st = fill(true);
            const auto t0 = Clock::now();
            for (int i = 0; i < n && st.ok(); ++i) st = seq.eval({toks[static_cast<size_t>(i)]}, &logits);
            const double s = std::chrono::duration<double>(Clock::now() - t0).count();
            if (!st.ok()) return st;
            if (r > 0) times.push_back(s);
        }
        const double t = median(times);
        out.tests.push_back({"tg" + std::to_string(n) + at, false, n, t, t > 0 ? n / t : 0});
        if (on_test) on_test(out.tests.back());
    }
    return out;
}

}  // namespace strata
