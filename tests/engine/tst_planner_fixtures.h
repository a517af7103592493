// Shared by the planner tests: synthetic model footprints with real shapes, device presets, and
// the invariants every plan must satisfy, recomputed here independently of the planner.
#pragma once

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "plan/memory_estimate.h"
#include "plan/plan_internal.h"
#include "strata/plan.h"
#include "strata/tensor_type.h"

namespace planner_test {

using namespace strata;

constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kMiB = uint64_t{1} << 20;

struct ModelShape {
    const char* arch = "llama";
    int n_layer = 32;
    int64_t n_embd = 4096, n_ff = 11008, n_head = 32, n_head_kv = 32, n_vocab = 32000;
    int64_t n_ctx_train = 4096;
    TensorType layer_type = TensorType::Q4_0;
    TensorType emb_type = TensorType::Q4_0;
    TensorType out_type = TensorType::Q6_K;
    bool tied = false;
    bool mixed = false;  // every third layer's ffn_down in Q6_K (like Q4_K_M files)
};

// Bytes of a (rows, cols) matrix in `type` (cols = row length).
inline uint64_t matrix_bytes(TensorType type, int64_t rows, int64_t cols) {
    return static_cast<uint64_t>(rows) * tensor_row_bytes(type, cols);
}

// A footprint laid out as a Llama-style GGUF would be: q/k/v/o, gate/up/down, two F32 norms.
inline ModelFootprint make_footprint(const ModelShape& s) {
    ModelFootprint m;
    m.architecture = s.arch;
    m.n_layer = s.n_layer;
    m.n_embd = s.n_embd;
    m.n_ff = s.n_ff;
    m.n_head = s.n_head;
    m.n_head_kv = s.n_head_kv;
    const int64_t head_dim = s.n_embd / s.n_head;
    m.n_embd_kv = s.n_head_kv * head_dim;
    m.n_vocab = s.n_vocab;
    m.n_ctx_train = s.n_ctx_train;
    for (int il = 0; il < s.n_layer; ++il) {
        const TensorType down = s.mixed && il % 3 == 0 ? TensorType::Q6_K : s.layer_type;
        uint64_t b = 2 * matrix_bytes(s.layer_type, s.n_embd, s.n_embd) +       // q, o
                     2 * matrix_bytes(s.layer_type, m.n_embd_kv, s.n_embd) +    // k, v
                     2 * matrix_bytes(s.layer_type, s.n_ff, s.n_embd) +         // gate, up
                     matrix_bytes(down, s.n_embd, s.n_ff) +                     // down
                     2 * static_cast<uint64_t>(s.n_embd) * 4;                    // norms
        m.layer_bytes.push_back(b);
    }
    m.layer_flops_per_token = 2 * static_cast<uint64_t>(2 * s.n_embd * s.n_embd +
                                                        2 * m.n_embd_kv * s.n_embd +
                                                        3 * s.n_ff * s.n_embd);
    m.embedding_bytes = matrix_bytes(s.emb_type, s.n_vocab, s.n_embd);
    m.output_tied = s.tied;
    m.output_bytes = s.tied ? m.embedding_bytes : matrix_bytes(s.out_type, s.n_vocab, s.n_embd);
    m.output_norm_bytes = static_cast<uint64_t>(s.n_embd) * 4;
    return m;
}

inline ModelFootprint llama2_7b_q4_0() { return make_footprint({}); }

inline ModelFootprint llama2_70b_q4_k() {
    ModelShape s;
    s.n_layer = 80;
    s.n_embd = 8192;
    s.n_ff = 28672;
    s.n_head = 64;
    s.n_head_kv = 8;
    s.layer_type = s.emb_type = TensorType::Q4_K;
    s.mixed = true;
    return make_footprint(s);
}

inline ModelFootprint llama3_8b_q4_k() {
    ModelShape s;
    s.n_ff = 14336;
    s.n_head_kv = 8;
    s.n_vocab = 128256;
    s.n_ctx_train = 131072;
    s.layer_type = s.emb_type = TensorType::Q4_K;
    s.mixed = true;
    return make_footprint(s);
}

inline ModelFootprint qwen_small_tied() {
    ModelShape s;
    s.arch = "qwen2";
    s.n_layer = 24;
    s.n_embd = 896;
    s.n_ff = 4864;
    s.n_head = 14;
    s.n_head_kv = 2;
    s.n_vocab = 151936;
    s.n_ctx_train = 32768;
    s.layer_type = s.emb_type = TensorType::Q8_0;
    s.tied = true;
    return make_footprint(s);
}

inline ModelFootprint model_by_name(const QString& name) {
    if (name == "7b") return llama2_7b_q4_0();
    if (name == "70b") return llama2_70b_q4_k();
    if (name == "8b") return llama3_8b_q4_k();
    if (name == "tied") return qwen_small_tied();
    if (name == "7b5") {  // the 7B's shapes with only 5 layers
        ModelShape s;
        s.n_layer = 5;
        return make_footprint(s);
    }
    qFatal("unknown model %s", qPrintable(name));
    return {};
}

inline PlanDevice gpu(int index, const char* name, double total_gib, double bw, double tflops) {
    PlanDevice d;
    d.info.id = "cuda" + std::to_string(index);
    d.info.name = name;
    d.info.type = DeviceType::cuda;
    d.info.total_memory = static_cast<uint64_t>(total_gib * static_cast<double>(kGiB));
    d.info.free_memory = d.info.total_memory - 400 * kMiB;  // the driver's own share
    d.info.memory_bandwidth_gbs = bw;
    d.info.matmul_tflops = tflops;
    return d;
}

inline PlanDevice cpu_device(const std::string& id, double gib, int n_threads = 8) {
    PlanDevice d;
    d.info.id = id;
    d.info.name = "host CPU";
    d.info.type = DeviceType::cpu;
    d.info.total_memory = d.info.free_memory = static_cast<uint64_t>(gib * static_cast<double>(kGiB));
    d.info.memory_bandwidth_gbs = 80;
    d.info.matmul_tflops = 2;
    d.n_threads = n_threads;
    return d;
}

// "4090,4090,6000,cpu" → devices (GPUs numbered in order). Sizes: 3090/4090 24 GiB, 6000 (RTX
// 6000 Ada) 48 GiB, a100/h100 80 GiB, cpu 128 GiB; "-" prefix = disabled.
inline std::vector<PlanDevice> devices_by_spec(const QString& spec, double reserve_gib = 1.0) {
    std::vector<PlanDevice> out;
    int n_gpu = 0;
    for (QString item : spec.split(',')) {
        const bool disabled = item.startsWith('-');
        if (disabled) item = item.mid(1);
        PlanDevice d;
        if (item == "3090") d = gpu(n_gpu++, "RTX 3090", 24, 936, 71);
        else if (item == "4090") d = gpu(n_gpu++, "RTX 4090", 24, 1008, 165);
        else if (item == "6000") d = gpu(n_gpu++, "RTX 6000 Ada", 48, 960, 182);
        else if (item == "a100") d = gpu(n_gpu++, "A100 80GB", 80, 2039, 312);
        else if (item == "h100") d = gpu(n_gpu++, "H100 80GB HBM3", 80, 3350, 989);
        else if (item == "cpu") d = cpu_device("cpu", 128);
        else qFatal("unknown device %s", qPrintable(item));
        if (d.info.type == DeviceType::cuda) d.reserve_bytes = static_cast<uint64_t>(reserve_gib * static_cast<double>(kGiB));
        d.enabled = !disabled;
        out.push_back(d);
    }
    return out;
}

inline uint64_t capacity_of(const PlanDevice& d) {
    return d.info.free_memory > d.reserve_bytes ? d.info.free_memory - d.reserve_bytes : 0;
}

// KV bytes recomputed here from the cache layout (K and V rows per layer, sequence, position).
inline uint64_t expected_kv(const PlanRequest& r, int n_layers) {
    const uint64_t n = static_cast<uint64_t>(r.model.n_embd_kv);
    uint64_t row = 0;
    switch (r.kv_type) {
        case KvCacheType::f32: row = 4 * n; break;
        case KvCacheType::f16: row = 2 * n; break;
        case KvCacheType::q8_0: row = (n + 31) / 32 * 34; break;
    }
    return 2 * static_cast<uint64_t>(n_layers) * static_cast<uint64_t>(r.n_seq) *
           static_cast<uint64_t>(r.n_ctx) * row;
}

struct Held {
    int n_layers = 0;
    uint64_t layer_bytes = 0;
    bool emb = false, out = false;
};

inline Held held_by(const PlanRequest& r, const Plan& p, int device) {
    Held h;
    for (const StagePlan& s : p.stages) {
        if (s.device != device) continue;
        h.n_layers += s.layer_end - s.layer_begin;
        for (int il = s.layer_begin; il < s.layer_end; ++il) h.layer_bytes += r.model.layer_bytes[static_cast<size_t>(il)];
        h.emb = h.emb || s.has_embedding;
        h.out = h.out || s.has_output;
    }
    return h;
}

// Total a device would hold with `h`, recomputed from the model (weights and KV) and the shared
// scratch layout (itself checked against hand-computed regions in tst_memory_estimate).
inline uint64_t expected_total(const PlanRequest& r, int device, const Held& h, uint64_t* weights = nullptr,
                               uint64_t* kv = nullptr, uint64_t* scratch = nullptr) {
    const ModelFootprint& m = r.model;
    uint64_t w = h.layer_bytes + (h.emb ? m.embedding_bytes : 0);
    if (h.out) w += m.output_norm_bytes + (m.output_tied && h.emb ? 0 : m.output_bytes);
    const uint64_t k = expected_kv(r, h.n_layers);
    uint64_t s = 0;
    if (h.n_layers > 0 || h.emb || h.out) {
        ScratchParams sp;
        sp.n_batch = r.n_batch;
        sp.n_ctx = r.n_ctx;
        sp.n_seq = r.n_seq;
        sp.first_stage = h.emb;
        sp.last_stage = h.out;
        sp.device_type = r.devices[static_cast<size_t>(device)].info.type;
        sp.n_threads = std::max(1, r.devices[static_cast<size_t>(device)].n_threads);
        s = make_scratch_layout(m, sp).total;
    }
    if (weights) *weights = w;
    if (kv) *kv = k;
    if (scratch) *scratch = s;
    return w + k + s;
}

// Largest remainder with exact integer arithmetic (integral ratios); ties to the earlier device.
inline std::vector<int> lr_counts(int n, const std::vector<long long>& ratios) {
    const long long sum = std::accumulate(ratios.begin(), ratios.end(), 0LL);
    std::vector<int> out(ratios.size(), 0);
    std::vector<long long> rem(ratios.size(), -1);
    int given = 0;
    for (size_t i = 0; i < ratios.size(); ++i) {
        if (ratios[i] <= 0) continue;
        out[i] = static_cast<int>(n * ratios[i] / sum);
        rem[i] = n * ratios[i] % sum;
        given += out[i];
    }
    while (given < n) {
        size_t best = 0;
        for (size_t i = 1; i < ratios.size(); ++i)
            if (rem[i] > rem[best]) best = i;
        ++out[best];
        rem[best] = -2;
        ++given;
    }
    return out;
}

inline std::vector<int> layer_counts(const PlanRequest& r, const Plan& p) {
    std::vector<int> c(r.devices.size(), 0);
    for (const StagePlan& s : p.stages) c[static_cast<size_t>(s.device)] += s.layer_end - s.layer_begin;
    return c;
}

inline bool pin_valid(const PlanRequest& r, int pin) {
    return pin >= 0 && pin < static_cast<int>(r.devices.size()) && r.devices[static_cast<size_t>(pin)].enabled;
}

// What each device holds when layers are laid out by `counts` in device order (roles: pinned,
// else with the first and last layer).
inline std::vector<Held> held_from_counts(const PlanRequest& r, const std::vector<int>& counts) {
    int first = -1, last = -1;
    for (size_t k = 0; k < counts.size(); ++k)
        if (counts[k] > 0) { if (first < 0) first = static_cast<int>(k); last = static_cast<int>(k); }
    const int emb = pin_valid(r, r.embedding_device) ? r.embedding_device : first;
    const int out = pin_valid(r, r.output_device) ? r.output_device : last;
    std::vector<Held> held(counts.size());
    int b = 0;
    for (size_t k = 0; k < counts.size(); ++k) {
        held[k].n_layers = counts[k];
        for (int il = b; il < b + counts[k]; ++il) held[k].layer_bytes += r.model.layer_bytes[static_cast<size_t>(il)];
        b += counts[k];
        held[k].emb = emb == static_cast<int>(k);
        held[k].out = out == static_cast<int>(k);
    }
    return held;
}

// Share of a device's usable memory taken by its layers (weights and KV cache): what even
// mode balances.
inline double layer_share(const PlanRequest& r, const Plan& p, int device) {
    const Held h = held_by(r, p, device);
    const double cap = static_cast<double>(std::max<uint64_t>(1, capacity_of(r.devices[static_cast<size_t>(device)])));
    return static_cast<double>(h.layer_bytes + expected_kv(r, h.n_layers)) / cap;
}

inline double max_layer_share(const PlanRequest& r, const Plan& p) {
    double m = 0;
    for (const DeviceUse& u : p.devices) m = std::max(m, layer_share(r, p, u.device));
    return m;
}

// The most relaxed version of a request (what the planner's last-resort suggestion tries).
inline PlanRequest relaxed(const PlanRequest& r) {
    PlanRequest t = r;
    std::vector<PlanDevice> gpus, cpus;
    for (PlanDevice d : r.devices) {
        d.enabled = true;
        (d.info.type == DeviceType::cpu ? cpus : gpus).push_back(d);
    }
    t.devices = gpus;
    t.devices.insert(t.devices.end(), cpus.begin(), cpus.end());
    t.mode = SplitMode::fewest;
    t.embedding_device = t.output_device = -1;
    t.kv_type = KvCacheType::q8_0;
    t.n_seq = 1;
    t.n_batch = std::min<int64_t>(r.n_batch, 32);
    t.n_ctx = 256;
    return t;
}

// Every invariant of a plan; `deep` also re-plans to check max_ctx_that_fits and suggestions.
// Callers check QTest::currentTestFailed() afterwards.
inline void check_invariants(const PlanRequest& r, const Plan& p, bool deep = true) {
    const QByteArray dump = QByteArray::fromStdString("\n" + format_plan(r, p));
    const int n = r.model.n_layer;
    const int n_dev = static_cast<int>(r.devices.size());
    if (p.fits) QVERIFY2(!p.stages.empty(), dump);

    // Stages: every layer once, contiguous, in device priority order, roles at the ends.
    if (!p.stages.empty()) {
        std::vector<int> cover(static_cast<size_t>(n), 0);
        int next = 0, last_dev = -1, n_emb = 0, n_out = 0;
        const size_t n_st = p.stages.size();
        for (size_t i = 0; i < n_st; ++i) {
            const StagePlan& s = p.stages[i];
            QVERIFY2(s.device >= 0 && s.device < n_dev, dump);
            QVERIFY2(r.devices[static_cast<size_t>(s.device)].enabled, "stage on a disabled device" + dump);
            QCOMPARE(s.device_id, r.devices[static_cast<size_t>(s.device)].info.id);
            QVERIFY2(s.layer_begin <= s.layer_end, dump);
            if (s.layer_end > s.layer_begin) {
                QVERIFY2(s.layer_begin == next, "stages not contiguous" + dump);
                QVERIFY2(s.device > last_dev, "stages not in device priority order" + dump);
                next = s.layer_end;
                last_dev = s.device;
                for (int il = s.layer_begin; il < s.layer_end; ++il) ++cover[static_cast<size_t>(il)];
            } else {
                QVERIFY2((i == 0 && s.has_embedding && !s.has_output) ||
                             (i + 1 == n_st && s.has_output && !s.has_embedding),
                         "a stage without layers that is not an embedding/output stage" + dump);
            }
            if (s.has_embedding) { ++n_emb; QVERIFY2(i == 0, "embedding not in the first stage" + dump); }
            if (s.has_output) { ++n_out; QVERIFY2(i + 1 == n_st, "output not in the last stage" + dump); }
        }
        QVERIFY2(next == n, "not every layer assigned" + dump);
        for (int c : cover) QVERIFY2(c == 1, "a layer assigned twice or never" + dump);
        QCOMPARE(n_emb, 1);
        QCOMPARE(n_out, 1);
        if (pin_valid(r, r.embedding_device)) QCOMPARE(p.stages.front().device, r.embedding_device);
        if (pin_valid(r, r.output_device)) QCOMPARE(p.stages.back().device, r.output_device);
    }

    // Devices: exactly the holders, bytes as recomputed here.
    std::vector<int> holders;
    for (const StagePlan& s : p.stages) holders.push_back(s.device);
    std::sort(holders.begin(), holders.end());
    holders.erase(std::unique(holders.begin(), holders.end()), holders.end());
    QVERIFY2(p.devices.size() == holders.size(), dump);
    uint64_t sum_plan = 0, sum_expected = 0;
    bool all_fit = true;
    for (size_t i = 0; i < p.devices.size(); ++i) {
        const DeviceUse& u = p.devices[i];
        QCOMPARE(u.device, holders[i]);
        QCOMPARE(u.device_id, r.devices[static_cast<size_t>(u.device)].info.id);
        QCOMPARE(u.capacity, capacity_of(r.devices[static_cast<size_t>(u.device)]));
        uint64_t w = 0, k = 0, s = 0;
        const uint64_t total = expected_total(r, u.device, held_by(r, p, u.device), &w, &k, &s);
        QCOMPARE(u.weight_bytes, w);
        QCOMPARE(u.kv_bytes, k);
        QCOMPARE(u.scratch_bytes, s);
        sum_plan += u.total();
        sum_expected += total;
        all_fit = all_fit && u.total() <= u.capacity;
    }
    QCOMPARE(sum_plan, sum_expected);
    if (p.fits) {
        QVERIFY2(all_fit, "fits, but a device is over capacity" + dump);
        QVERIFY2(p.shortfalls.empty() && p.suggestions.empty(), dump);
    } else {
        QVERIFY2(!p.shortfalls.empty(), "does not fit, but no shortfall is stated" + dump);
    }

    const std::vector<int> counts = layer_counts(r, p);
    if (!p.stages.empty() && r.mode == SplitMode::ratios) {
        std::vector<long long> ratios;
        bool integral = true;
        for (const PlanDevice& d : r.devices) {
            const double v = d.enabled ? d.ratio : 0;
            integral = integral && v == std::floor(v);
            ratios.push_back(static_cast<long long>(v));
        }
        if (integral) QVERIFY2(counts == lr_counts(n, ratios), "ratios not honoured exactly" + dump);
    }
    if (!p.stages.empty() && r.mode == SplitMode::fewest) {
        // Each device but the last holding layers was full: one more layer would not fit.
        const bool emb_free = !pin_valid(r, r.embedding_device), out_free = !pin_valid(r, r.output_device);
        int last_layer_dev = -1;
        for (int d = 0; d < n_dev; ++d) if (counts[static_cast<size_t>(d)] > 0) last_layer_dev = d;
        int b = 0;
        for (int d = 0; d < last_layer_dev; ++d) {
            if (r.devices[static_cast<size_t>(d)].enabled) {
                Held h = held_by(r, p, d);
                const int e = b + h.n_layers;  // would take layer e next
                h.n_layers += 1;
                h.layer_bytes += r.model.layer_bytes[static_cast<size_t>(e)];
                h.emb = h.emb || (emb_free && b == 0);
                h.out = h.out || (out_free && e + 1 == n);
                QVERIFY2(expected_total(r, d, h) > capacity_of(r.devices[static_cast<size_t>(d)]),
                         qPrintable("fewest moved past device " + QString::number(d) + " before it was full" + dump));
            }
            b += counts[static_cast<size_t>(d)];
        }
    }
    if (!deep) return;
    if (r.mode == SplitMode::even && !p.stages.empty()) {
        PlanRequest f = r;
        f.mode = SplitMode::fewest;
        const Plan fp = make_plan(f);
        QVERIFY2(fp.fits == p.fits, "even and fewest disagree on whether it fits" + dump);
        if (p.fits) {
            // Balanced: no device's layer share is above what fewest needed ...
            const double m = max_layer_share(r, p);
            QVERIFY2(m <= max_layer_share(f, fp) * (1 + 1e-9) + 1e-12, "even is less balanced than fewest" + dump);
            // ... and every device before the last one with layers either is full or would go
            // past the highest share with one more layer.
            const std::vector<int> c = layer_counts(r, p);
            int last = -1, b = 0;
            for (int d = 0; d < n_dev; ++d) if (c[static_cast<size_t>(d)] > 0) last = d;
            for (int d = 0; d < last; ++d) {
                const PlanDevice& dev = r.devices[static_cast<size_t>(d)];
                const int e = b + c[static_cast<size_t>(d)];
                b = e;
                if (!dev.enabled) continue;
                Held h = held_by(r, p, d);
                h.n_layers += 1;
                h.layer_bytes += r.model.layer_bytes[static_cast<size_t>(e)];
                h.emb = h.emb || (!pin_valid(r, r.embedding_device) && e == 0);
                h.out = h.out || (!pin_valid(r, r.output_device) && e + 1 == n);
                const uint64_t cap = capacity_of(dev);
                if (expected_total(r, d, h) > cap) continue;  // full
                const double share = static_cast<double>(h.layer_bytes + expected_kv(r, h.n_layers)) /
                                     static_cast<double>(cap);
                QVERIFY2(share * (1 + 1e-9) + 1.0 / static_cast<double>(cap) > m,
                         qPrintable("even left device " + QString::number(d) + " underfilled" + dump));
            }
            // ... and moving one layer off the fullest device (when it alone is fullest) to a
            // neighbour cannot lower the highest share: the spread is as even as whole layers allow.
            auto shares = [&](const std::vector<int>& cnt, bool& ok) {
                const std::vector<Held> held = held_from_counts(r, cnt);
                std::vector<double> out(held.size(), 0);
                ok = true;
                for (size_t k = 0; k < held.size(); ++k) {
                    const uint64_t cap = capacity_of(r.devices[k]);
                    ok = ok && expected_total(r, static_cast<int>(k), held[k]) <= cap;
                    out[k] = static_cast<double>(held[k].layer_bytes + expected_kv(r, held[k].n_layers)) /
                             static_cast<double>(std::max<uint64_t>(1, cap));
                }
                return out;
            };
            bool ok = true;
            const std::vector<double> sh = shares(c, ok);
            const int j = static_cast<int>(std::max_element(sh.begin(), sh.end()) - sh.begin());
            int n_top = 0;
            for (double v : sh) n_top += v >= sh[static_cast<size_t>(j)] * (1 - 1e-12);
            std::vector<int> enabled;
            for (int d = 0; d < n_dev; ++d) if (r.devices[static_cast<size_t>(d)].enabled) enabled.push_back(d);
            const auto pos = std::find(enabled.begin(), enabled.end(), j) - enabled.begin();
            for (int step : {-1, 1}) {
                const auto q = pos + step;
                if (n_top != 1 || c[static_cast<size_t>(j)] == 0 || q < 0 || q >= static_cast<long>(enabled.size())) continue;
                // Only a layer at the shared boundary can move: j's first to the one before,
                // j's last to the one after (devices between them hold no layers).
                std::vector<int> moved = c;
                --moved[static_cast<size_t>(j)];
                ++moved[static_cast<size_t>(enabled[static_cast<size_t>(q)])];
                const std::vector<double> sh2 = shares(moved, ok);
                if (!ok) continue;
                QVERIFY2(*std::max_element(sh2.begin(), sh2.end()) >= sh[static_cast<size_t>(j)] * (1 - 1e-9),
                         qPrintable("moving a layer off device " + QString::number(j) + " evens it out more" + dump));
            }
        }
    }

    // max_ctx_that_fits: fits there, not 256 further.
    QVERIFY(p.max_ctx_that_fits % 256 == 0);
    {
        PlanRequest t = r;
        if (p.max_ctx_that_fits > 0) {
            t.n_ctx = p.max_ctx_that_fits;
            QVERIFY2(make_plan(t).fits, "max_ctx_that_fits does not fit" + dump);
        }
        if (p.max_ctx_that_fits < plan_detail::kMaxCtx) {
            t.n_ctx = p.max_ctx_that_fits + 256;
            QVERIFY2(!make_plan(t).fits, "max_ctx_that_fits + 256 fits too" + dump);
        }
    }

    // Suggestions: each re-planned fits; one exists when anything could fit.
    if (!p.fits) {
        const auto sugg = plan_detail::suggest_fixes(r, p);
        QCOMPARE(sugg.size(), p.suggestions.size());
        int n_fitting = 0;
        for (size_t i = 0; i < sugg.size(); ++i) {
            QCOMPARE(sugg[i].text, p.suggestions[i]);
            if (!sugg[i].request) continue;
            const Plan sp = make_plan(*sugg[i].request);
            QVERIFY2(sp.fits, qPrintable("suggestion does not fit: " + QString::fromStdString(sugg[i].text) + dump));
            check_invariants(*sugg[i].request, sp, false);
            ++n_fitting;
        }
        if (make_plan(relaxed(r)).fits)
            QVERIFY2(n_fitting > 0, "something fits, but no fitting suggestion" + dump);
        else
            QVERIFY2(!p.suggestions.empty(), "nothing fits, and the plan does not say so" + dump);
    }
}

}  // namespace planner_test
