// Sampler: greedy, reproducibility by seed, and that each filter keeps exactly the tokens it
// should (checked by sampling many times and looking at which ids ever come out).
#include <QtTest>

#include <set>

#include "runtime/sampler.h"

using namespace strata;

namespace {
// Logits with a known order: token i has logit base[i].
std::vector<float> logits_from(std::initializer_list<float> l) { return std::vector<float>(l); }

std::set<int32_t> drawn(const SamplerParams& p, const std::vector<float>& logits, int n = 2000) {
    std::set<int32_t> seen;
    Sampler s(p);
    for (int i = 0; i < n; ++i) {
        std::vector<float> l = logits;
        seen.insert(s.sample(l.data(), static_cast<int64_t>(l.size()), {}));
    }
    return seen;
}

SamplerParams no_filters(float temp) {
    SamplerParams p;
    p.temperature = temp;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.repeat_penalty = 1.0f;
    return p;
}
}  // namespace

class TestSampler : public QObject {
    Q_OBJECT
private slots:
    void greedyPicksArgmax() {
        SamplerParams p = no_filters(0.0f);
        Sampler s(p);
        auto l = logits_from({0.1f, 2.5f, -1.0f, 2.4f});
        QCOMPARE(s.sample(l.data(), 4, {}), 1);
    }

    void seedReproducesAndDiffers() {
        SamplerParams p = no_filters(1.0f);
        p.seed = 42;
        std::vector<float> logits(50);
        for (int i = 0; i < 50; ++i) logits[i] = std::sin(i * 1.3f);
        auto run = [&](uint64_t seed) {
            SamplerParams q = p;
            q.seed = seed;
            Sampler s(q);
            std::vector<int32_t> out;
            for (int i = 0; i < 64; ++i) {
                auto l = logits;
                out.push_back(s.sample(l.data(), 50, out));
            }
            return out;
        };
        QCOMPARE(run(42), run(42));
        QVERIFY(run(42) != run(43));
    }

    void topKKeepsK() {
        SamplerParams p = no_filters(5.0f);  // hot: without the filter every token would appear
        p.top_k = 3;
        const auto seen = drawn(p, logits_from({1.0f, 3.0f, 2.0f, 0.5f, 2.5f, 0.0f}));
        QCOMPARE(seen, (std::set<int32_t>{1, 2, 4}));
    }

    void topPKeepsSmallestSetAboveP() {
        // Probabilities at T=1 ∝ e^l: 0.5, 0.25, 0.125, 0.125 for l = ln of those.
        SamplerParams p = no_filters(1.0f);
        p.top_p = 0.7f;  // 0.5 < 0.7 ≤ 0.75: tokens 0 and 1
        const auto seen = drawn(p, logits_from({std::log(0.5f), std::log(0.25f), std::log(0.125f), std::log(0.125f)}));
        QCOMPARE(seen, (std::set<int32_t>{0, 1}));
    }

    void minPDropsUnlikely() {
        SamplerParams p = no_filters(1.0f);
        p.min_p = 0.3f;  // keeps p ≥ 0.3 × 0.5 = 0.15: tokens 0 (0.5) and 1 (0.25)
        const auto seen = drawn(p, logits_from({std::log(0.5f), std::log(0.25f), std::log(0.125f), std::log(0.125f)}));
        QCOMPARE(seen, (std::set<int32_t>{0, 1}));
    }

    void repetitionPenaltyChangesGreedyChoice() {
        SamplerParams p = no_filters(0.0f);
        p.repeat_penalty = 1.5f;
        p.repeat_last_n = 4;
        Sampler s(p);
        auto l = logits_from({2.0f, 1.8f, 0.0f});
        QCOMPARE(s.sample(l.data(), 3, {0}), 1);  // 2.0 / 1.5 < 1.8
        auto l2 = logits_from({2.0f, 1.8f, 0.0f});
        QCOMPARE(s.sample(l2.data(), 3, {0, 5, 6, 7, 8}), 0);  // token 0 is outside the last 4
    }

    // OpenAI's penalties: c × frequency + presence off the logit of a token seen c times in
    // the window; negative values favour repeats; tokens older than the window are free.
    void frequencyAndPresencePenalties() {
        const std::vector<int32_t> twice{0, 0};
        auto greedy = [](float freq, float pres, const std::vector<int32_t>& history) {
            SamplerParams p = no_filters(0.0f);
            p.frequency_penalty = freq;
            p.presence_penalty = pres;
            p.repeat_last_n = 4;
            Sampler s(p);
            auto l = logits_from({5.0f, 4.5f, 1.0f});
            return s.sample(l.data(), 3, history);
        };
        QCOMPARE(greedy(0.0f, 0.0f, twice), 0);
        QCOMPARE(greedy(0.3f, 0.0f, twice), 1);   // 5 - 2 × 0.3 = 4.4 < 4.5
        QCOMPARE(greedy(0.2f, 0.0f, twice), 0);   // 4.6
        QCOMPARE(greedy(0.0f, 0.6f, twice), 1);   // 5 - 0.6, once however often
        QCOMPARE(greedy(0.0f, 0.4f, twice), 0);   // 4.6
        QCOMPARE(greedy(0.2f, 0.2f, twice), 1);   // 5 - 0.4 - 0.2 = 4.4
        QCOMPARE(greedy(0.3f, 0.0f, {0, 0, 5, 6, 7, 8}), 0);  // both uses outside the last 4
        QCOMPARE(greedy(-0.6f, 0.0f, {1}), 1);    // 4.5 + 0.6 = 5.1: a negative penalty favours a repeat
    }

    void logitBiasComesFirst() {
        SamplerParams p = no_filters(0.0f);
        p.logit_bias = {{2, 4.5f}, {0, -100.0f}, {99, 50.0f}};  // id 99 is outside the vocab: ignored
        Sampler s(p);
        auto l = logits_from({5.0f, 4.5f, 1.0f});
        QCOMPARE(s.sample(l.data(), 3, {}), 2);  // 1 + 4.5 = 5.5 beats 4.5; token 0 is all but banned
        QCOMPARE(l[0], -95.0f);
    }

    // A filter (JSON mode): never returns a refused token; greedy takes the best allowed; draws
    // are redone among the rest, in proportion; when top-k leaves nothing allowed, the best
    // allowed of the whole vocab; -1 when nothing is allowed.
    void filterRestrictsTheChoice() {
        const Sampler::TokenFilter odd = [](int32_t id) { return id % 2 == 1; };
        SamplerParams g = no_filters(0.0f);
        Sampler greedy(g);
        auto l = logits_from({3.0f, 1.0f, 2.0f, 1.5f});
        QCOMPARE(greedy.sample(l.data(), 4, {}, odd), 3);
        auto none = logits_from({3.0f, 1.0f});
        QCOMPARE(greedy.sample(none.data(), 2, {}, [](int32_t) { return false; }), -1);

        SamplerParams p = no_filters(1.0f);
        p.seed = 3;
        Sampler s(p);
        const auto base = logits_from({std::log(0.6f), std::log(0.3f), std::log(0.05f), std::log(0.05f)});
        int counts[4] = {0, 0, 0, 0};
        const int n = 20000;
        for (int i = 0; i < n; ++i) {
            auto x = base;
            const int32_t id = s.sample(x.data(), 4, {}, odd);
            QVERIFY(id == 1 || id == 3);
            ++counts[id];
        }
        // Among the allowed 0.3 and 0.05: 6/7 and 1/7 (±3 standard deviations ≈ 0.0074).
        QVERIFY2(std::fabs(counts[1] / double(n) - 6.0 / 7.0) < 0.0074, qPrintable(QString::number(counts[1])));

        // Nearly all the mass refused: after a few redraws the refused are dropped at once.
        std::vector<float> flat(5000, 0.0f);
        flat[4321] = -8.0f;
        const Sampler::TokenFilter only = [](int32_t id) { return id == 4321; };
        for (int i = 0; i < 50; ++i) {
            auto x = flat;
            QCOMPARE(s.sample(x.data(), int64_t(x.size()), {}, only), 4321);
        }

        SamplerParams k = no_filters(1.0f);
        k.top_k = 1;  // keeps only token 0, which the filter refuses
        Sampler topk(k);
        auto y = base;
        QCOMPARE(topk.sample(y.data(), 4, {}, odd), 1);
    }

    void samplesFollowProbabilities() {
        SamplerParams p = no_filters(1.0f);
        p.seed = 7;
        Sampler s(p);
        const auto base = logits_from({std::log(0.7f), std::log(0.2f), std::log(0.1f)});
        int counts[3] = {0, 0, 0};
        const int n = 20000;
        for (int i = 0; i < n; ++i) {
            auto l = base;
            counts[s.sample(l.data(), 3, {})]++;
        }
        // Binomial standard deviation for p=0.7, n=20000 is ~0.003: 0.02 is > 6 sigma.
        QVERIFY(std::fabs(counts[0] / double(n) - 0.7) < 0.02);
        QVERIFY(std::fabs(counts[1] / double(n) - 0.2) < 0.02);
        QVERIFY(std::fabs(counts[2] / double(n) - 0.1) < 0.02);
    }
};

QTEST_GUILESS_MAIN(TestSampler)
#include "tst_sampler.moc"
