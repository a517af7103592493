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
        else if (item == "4060ti") d = gpu(n_gpu++, "RTX 4060 Ti", 16, 288, 44);
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

// Bytes of layer `il` as device `device` stores it: GPUs hold the cuda_* sizes when the model
// lists them (types their kernels cannot read are converted).
inline uint64_t layer_bytes_on(const PlanRequest& r, int device, int il) {
    const bool cuda = r.devices[static_cast<size_t>(device)].info.type == DeviceType::cuda &&
                      r.model.cuda_layer_bytes.size() == r.model.layer_bytes.size();
    return (cuda ? r.model.cuda_layer_bytes : r.model.layer_bytes)[static_cast<size_t>(il)];
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
        for (int il = s.layer_begin; il < s.layer_end; ++il) h.layer_bytes += layer_bytes_on(r, device, il);
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
    // A GPU holds converted types at their stored size; a tied head is held apart from the
    // embedding table even on the same device (rows for the lookup, a matmul layout for the head).
    const bool cuda = r.devices[static_cast<size_t>(device)].info.type == DeviceType::cuda;
    const uint64_t emb = cuda && m.cuda_embedding_bytes ? m.cuda_embedding_bytes : m.embedding_bytes;
    const uint64_t out = cuda && m.cuda_output_bytes ? m.cuda_output_bytes : m.output_bytes;
    uint64_t w = h.layer_bytes + (h.emb ? emb : 0);
    if (h.out) w += m.output_norm_bytes + out;
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
        for (int il = b; il < b + counts[k]; ++il) held[k].layer_bytes += layer_bytes_on(r, static_cast<int>(k), il);
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

}  // namespace planner_test
