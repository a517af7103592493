// strata-cli bench --parallel: aggregate and per-sequence decode speed with several sequences
// generating at once (continuous batching), and the time to first token of a new request while
// others decode.
#include "bench_parallel.h"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

namespace strata::cli {

namespace {
using Clock = std::chrono::steady_clock;

GenerateParams greedy(int n) {
    GenerateParams g;
    g.sampler.temperature = 0;
    g.max_tokens = n;
    g.stop_at_eos = false;
    return g;
}

std::vector<int32_t> prompt_of(const Model& m, int n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<int32_t> t(static_cast<size_t>(n));
    for (auto& id : t) id = static_cast<int32_t>(3 + rng() % static_cast<uint64_t>(m.n_vocab() - 3));
    t[0] = m.bos_token() >= 0 ? m.bos_token() : 1;
    return t;
}

struct Run {
    double seconds = 0;      // wall time of the slowest sequence
    double per_seq_tps = 0;  // mean of each sequence's decode speed
};

// p sequences each generating n tokens after a one-token prompt, started together.
Result<Run> run_parallel(Model& m, std::vector<std::unique_ptr<Sequence>>& seqs, int p, int n) {
    std::barrier start(p + 1);
    std::vector<Status> status(static_cast<size_t>(p));
    std::vector<double> tps(static_cast<size_t>(p));
    std::vector<std::thread> threads;
    for (int i = 0; i < p; ++i) {
        threads.emplace_back([&, i] {
            Sequence& seq = *seqs[static_cast<size_t>(i)];
            seq.truncate(0);
            start.arrive_and_wait();
            auto r = seq.generate(prompt_of(m, 1, 0), greedy(n), {});
            if (!r.ok()) status[static_cast<size_t>(i)] = r.status();
            else tps[static_cast<size_t>(i)] = r->generate_tps();
        });
    }
    start.arrive_and_wait();
    const auto t0 = Clock::now();
    for (auto& t : threads) t.join();
    Run run;
    run.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    for (const Status& st : status)
        if (!st.ok()) return st;
    for (double v : tps) run.per_seq_tps += v / p;
    return run;
}

// Seconds to the first token of a `prompt_len`-token prompt on `seq` while `busy` others
// generate (until it is done).
Result<double> time_to_first_token(Model& m, Sequence& seq, std::vector<std::unique_ptr<Sequence>>& busy,
                                   int prompt_len) {
    std::atomic<bool> stop{false};
    std::atomic<int> started{0};
    std::vector<std::thread> threads;
    for (auto& s : busy) {
        threads.emplace_back([&, b = s.get()] {
            b->truncate(0);
            ++started;
            (void)b->generate(prompt_of(m, 1, 0), greedy(1 << 20), {}, &stop);
        });
    }
    // Let them reach steady decoding before the new request arrives.
    while (started.load() < static_cast<int>(busy.size())) std::this_thread::yield();
    if (!busy.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(300));
    seq.truncate(0);
    auto r = seq.generate(prompt_of(m, prompt_len, 5), greedy(1), {});
    stop = true;
    for (auto& t : threads) t.join();
    if (!r.ok()) return r.status();
    return r->time_to_first_token;
}
}  // namespace

int bench_parallel(Model& m, const std::vector<int>& parallel, int n_tokens, int ttft_prompt) {
    const int most = *std::max_element(parallel.begin(), parallel.end());
    std::vector<std::unique_ptr<Sequence>> seqs;
    for (int i = 0; i < most; ++i) {
        auto s = m.create_sequence();
        if (!s.ok()) {
            std::fprintf(stderr, "error: %s\n", s.status().message().c_str());
            return 1;
        }
        seqs.push_back(std::move(s).value());
    }
    std::printf("\nparallel decode: each sequence generates %d tokens after BOS, all started together\n", n_tokens);
    std::printf("%-10s %16s %18s %10s\n", "sequences", "aggregate tok/s", "per-sequence tok/s", "vs 1");
    double base = 0;
    for (int p : parallel) {
        auto warm = run_parallel(m, seqs, p, 4);
        auto r = warm.ok() ? run_parallel(m, seqs, p, n_tokens) : warm;
        if (!r.ok()) {
            std::fprintf(stderr, "error: %s\n", r.status().message().c_str());
            return 1;
        }
        const double agg = p * static_cast<double>(n_tokens) / r->seconds;
        if (p == 1) base = agg;
        char ratio[32] = "-";
        if (base > 0) std::snprintf(ratio, sizeof ratio, "%.2fx", agg / base);
        std::printf("%-10d %16.2f %18.2f %10s\n", p, agg, r->per_seq_tps, ratio);
    }
    if (most > 1 && ttft_prompt > 0) {
        Sequence& fresh = *seqs.back();
        std::vector<std::unique_ptr<Sequence>> others;
        for (int i = 0; i + 1 < most; ++i) others.push_back(std::move(seqs[static_cast<size_t>(i)]));
        std::vector<std::unique_ptr<Sequence>> none;
        auto idle = time_to_first_token(m, fresh, none, ttft_prompt);
        auto loaded = idle.ok() ? time_to_first_token(m, fresh, others, ttft_prompt) : idle;
        if (!loaded.ok()) {
            std::fprintf(stderr, "error: %s\n", loaded.status().message().c_str());
            return 1;
        }
        std::printf("\ntime to first token, %d-token prompt: idle %.3f s; while %d others decode %.3f s (%.2fx)\n",
                    ttft_prompt, *idle, most - 1, *loaded, *loaded / *idle);
    }
    return 0;
}

}  // namespace strata::cli
