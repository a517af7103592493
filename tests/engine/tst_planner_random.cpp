// Property tests: seeded random models (uneven layer sizes, tied or not) on random device sets
// (1-8 devices, GPUs and CPUs, some disabled, random reserves), every mode, random pins, ratios,
// contexts, sequences, batches and KV types. Every plan must satisfy every invariant; on small
// cases an exhaustive search over all layouts checks that fewest and even fit whenever any
// layout fits.
#include <QtTest>

#include <random>

#include "tst_planner_invariants.h"

using namespace strata;
using namespace planner_test;

namespace {

struct Rng {
    std::mt19937_64 gen;
    explicit Rng(uint64_t seed) : gen(seed) {}
    int64_t uniform(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(gen); }
    double real(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(gen); }
    bool chance(double p) { return real(0, 1) < p; }
    template <class T> const T& pick(const std::vector<T>& v) { return v[static_cast<size_t>(uniform(0, static_cast<int64_t>(v.size()) - 1))]; }
};

std::vector<PlanDevice> random_devices(Rng& rng) {
    std::vector<PlanDevice> out;
    const int n = static_cast<int>(rng.uniform(1, 8));
    int n_gpu = 0, n_cpu = 0;
    for (int i = 0; i < n; ++i) {
        PlanDevice d;
        if (rng.chance(0.2)) {
            d = cpu_device(n_cpu == 0 ? "cpu" : "cpu" + std::to_string(n_cpu), rng.real(1, 64),
                           static_cast<int>(rng.uniform(0, 16)));
            ++n_cpu;
        } else {
            const double gib = rng.pick<double>({2, 4, 6, 8, 11, 12, 16, 24, 40, 48, 80});
            d = gpu(n_gpu++, "GPU", gib, rng.pick<double>({0, 300, 936, 2039, 3350}),
                    rng.pick<double>({0, 30, 165, 989}));
            d.info.free_memory = static_cast<uint64_t>(static_cast<double>(d.info.total_memory) * rng.real(0.3, 1.0));
        }
        d.reserve_bytes = static_cast<uint64_t>(rng.real(0, 1.5) * static_cast<double>(kGiB));
        d.enabled = rng.chance(0.85);
        d.ratio = static_cast<double>(rng.uniform(0, 5));
        out.push_back(d);
    }
    return out;
}

ModelFootprint random_model(Rng& rng, uint64_t usable) {
    ModelShape s;
    s.n_layer = static_cast<int>(rng.chance(0.3) ? rng.uniform(1, 10) : rng.uniform(1, 100));
    const int64_t head_dim = rng.pick<int64_t>({32, 64, 128});
    s.n_head = rng.pick<int64_t>({2, 4, 8, 16, 32, 64});
    s.n_embd = s.n_head * head_dim;
    std::vector<int64_t> kv_heads;
    for (int64_t h = 1; h <= s.n_head; h *= 2) kv_heads.push_back(h);
    s.n_head_kv = rng.pick(kv_heads);
    s.n_ff = 256 * rng.uniform(std::max<int64_t>(1, s.n_embd / 256), 4 * s.n_embd / 256 + 1);
    s.n_vocab = rng.uniform(256, 160000);
    s.n_ctx_train = rng.pick<int64_t>({0, 2048, 4096, 131072});
    s.layer_type = s.n_embd % 256 == 0 ? rng.pick<TensorType>({TensorType::Q4_K, TensorType::Q6_K, TensorType::F16})
                                       : rng.pick<TensorType>({TensorType::Q4_0, TensorType::Q8_0, TensorType::F16});
    s.emb_type = s.out_type = s.layer_type;
    s.tied = rng.chance(0.3);
    ModelFootprint m = make_footprint(s);
    // Scale the weights to a random fraction of the memory on offer, with uneven layers, so that
    // cases land on both sides of fitting.
    uint64_t total = m.embedding_bytes + (s.tied ? 0 : m.output_bytes);
    for (uint64_t b : m.layer_bytes) total += b;
    const double scale = rng.real(0.05, 1.4) * static_cast<double>(std::max<uint64_t>(usable, kGiB)) /
                         static_cast<double>(total);
    for (uint64_t& b : m.layer_bytes) b = static_cast<uint64_t>(static_cast<double>(b) * scale * rng.real(0.8, 1.2)) + 1;
    m.embedding_bytes = static_cast<uint64_t>(static_cast<double>(m.embedding_bytes) * scale) + 1;
    m.output_bytes = s.tied ? m.embedding_bytes : static_cast<uint64_t>(static_cast<double>(m.output_bytes) * scale) + 1;
    // Some models hold a type GPUs convert to a larger one (as Q2_K is stored as Q8_0).
    if (rng.chance(0.3)) {
        const double grow = rng.real(1.0, 2.5);
        for (uint64_t b : m.layer_bytes) m.cuda_layer_bytes.push_back(static_cast<uint64_t>(static_cast<double>(b) * grow));
        m.cuda_embedding_bytes = static_cast<uint64_t>(static_cast<double>(m.embedding_bytes) * grow);
        m.cuda_output_bytes = static_cast<uint64_t>(static_cast<double>(m.output_bytes) * grow);
    }
    return m;
}

PlanRequest random_request(uint64_t seed) {
    Rng rng(seed);
    PlanRequest r;
    r.devices = random_devices(rng);
    uint64_t usable = 0;
    for (const PlanDevice& d : r.devices)
        if (d.enabled) usable += capacity_of(d);
    r.model = random_model(rng, usable);
    r.n_ctx = rng.chance(0.5) ? rng.pick<int64_t>({256, 512, 2048, 4096, 8192, 32768, 131072}) : rng.uniform(1, 70000);
    r.n_seq = static_cast<int>(rng.uniform(1, 4));
    r.n_batch = rng.pick<int64_t>({1, 32, 128, 512, 2048});
    r.kv_type = rng.pick<KvCacheType>({KvCacheType::f32, KvCacheType::f16, KvCacheType::q8_0});
    r.mode = rng.pick<SplitMode>({SplitMode::fewest, SplitMode::even, SplitMode::ratios});
    const int n = static_cast<int>(r.devices.size());
    if (rng.chance(0.2)) r.embedding_device = static_cast<int>(rng.uniform(0, n));  // n = out of range
    if (rng.chance(0.2)) r.output_device = static_cast<int>(rng.uniform(0, n));
    return r;
}

// Whether any layout of whole contiguous layers over the enabled devices fits (pins honoured).
bool any_layout_fits(const PlanRequest& r) {
    std::vector<int> enabled;
    for (size_t d = 0; d < r.devices.size(); ++d)
        if (r.devices[d].enabled) enabled.push_back(static_cast<int>(d));
    const int n = r.model.n_layer;
    std::vector<int> counts(r.devices.size(), 0);
    // Recursive enumeration of compositions of n over the enabled devices.
    std::function<bool(size_t, int)> rec = [&](size_t i, int left) -> bool {
        const int d = enabled[i];
        if (i + 1 == enabled.size()) {
            counts[static_cast<size_t>(d)] = left;
            int first = -1, last = -1;
            for (int k : enabled) if (counts[static_cast<size_t>(k)] > 0) { if (first < 0) first = k; last = k; }
            const int emb = pin_valid(r, r.embedding_device) ? r.embedding_device : first;
            const int out = pin_valid(r, r.output_device) ? r.output_device : last;
            int b = 0;
            for (size_t k = 0; k < r.devices.size(); ++k) {
                Held h;
                h.n_layers = counts[k];
                for (int il = b; il < b + counts[k]; ++il) h.layer_bytes += layer_bytes_on(r, static_cast<int>(k), il);
                b += counts[k];
                h.emb = emb == static_cast<int>(k);
                h.out = out == static_cast<int>(k);
                if (expected_total(r, static_cast<int>(k), h) > capacity_of(r.devices[k])) return false;
            }
            return true;
        }
        for (int c = 0; c <= left; ++c) {
            counts[static_cast<size_t>(d)] = c;
            if (rec(i + 1, left - c)) return true;
        }
        counts[static_cast<size_t>(d)] = 0;
        return false;
    };
    return !enabled.empty() && rec(0, n);
}

}  // namespace

class TestPlannerRandom : public QObject {
    Q_OBJECT
private slots:
    void randomPlans_data() {
        QTest::addColumn<quint64>("seed");
        for (quint64 i = 0; i < 600; ++i) QTest::newRow(qPrintable(QString("seed %1").arg(i))) << (0x5eed0000ull + i);
    }
    void randomPlans() {
        QFETCH(quint64, seed);
        const PlanRequest r = random_request(seed);
        const Plan p = make_plan(r);
        check_invariants(r, p);
        if (QTest::currentTestFailed()) return;
        // Small cases: fewest and even fit exactly when some layout fits.
        int n_enabled = 0;
        for (const PlanDevice& d : r.devices) n_enabled += d.enabled;
        const bool pins_ok = (r.embedding_device < 0 || pin_valid(r, r.embedding_device)) &&
                             (r.output_device < 0 || pin_valid(r, r.output_device));
        if (r.mode != SplitMode::ratios && pins_ok && r.model.n_layer <= 12 && n_enabled <= 4)
            QVERIFY2(p.fits == any_layout_fits(r), qPrintable(QString::fromStdString(format_plan(r, p))));
    }

    // The same random requests with only the mode changed: fewest and even agree on fitting.
    void modesAgreeOnFitting_data() { randomPlans_data(); }
    void modesAgreeOnFitting() {
        QFETCH(quint64, seed);
        PlanRequest r = random_request(seed);
        r.mode = SplitMode::fewest;
        const bool fewest = make_plan(r).fits;
        r.mode = SplitMode::even;
        QCOMPARE(make_plan(r).fits, fewest);
    }
};

QTEST_GUILESS_MAIN(TestPlannerRandom)
#include "tst_planner_random.moc"
