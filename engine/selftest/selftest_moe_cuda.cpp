// selftest suite "moe": the CUDA mixture-of-experts kernels (backend/cuda/k_moe.cu) against the
// CPU backend's moe_route and moe_ffn (itself tested against the double-precision model
// reference in tests/engine/tst_moe.cpp), on seeded Gaussian data. Runs only where a CUDA device
// exists: the CUDA expert kernels are experimental (STRATA_CUDA_MOE=1) and this is where they
// are first run.
//
// For each routing kind (mixtral: softmax, top-2 of 8, normalised; qwen3moe: softmax, top-4 of
// 16, normalised; gpt-oss: softmax, top-2 of 8, normalised (top-k then softmax is the same),
// expert biases, clamped SwiGLU; glm4moe: sigmoid, top-4 of 16 by score + choice bias,
// normalised, routed scale 2.5), each weight format the CUDA kernels read, and 1, 7 and 130
// tokens (the first two run the pair matvecs, 130 the grouped GEMM of prefill, with experts
// holding more pairs than one tile):
//   route  the same logits on both devices: the chosen ids must be equal; err = max |w - w_cpu|,
//          tol 1e-6 (both score in double and round once to float)
//   ffn    routing then experts chained on each device (the GPU's ids never leave it):
//          err = max |out - out_cpu| / rms(out_cpu); tol F32 1e-4 · F16 1e-3 (the same
//          weights, float accumulation in another order) · BF16 4e-2 (the same, but with
//          STRATA_CPU_BF16_DOTS=1 on a CPU with AVX512-BF16 the CPU rounds each matmul's
//          activations to BF16, 8 significant bits:
//          up to 0.009 of rms per matmul in the matmul suite, two in a row here) ·
//          quantized 0.1 (both quantize x and
//          the experts' activations to 8 bits, in different block forms for K-quants: each
//          matmul differs by up to 0.08 as in the matmul suite, and there are two in a row)
// Outputs are poisoned (NaN bytes) first, so anything left unwritten fails.
#include <cmath>
#include <cstdio>
#include <cstring>

#include "selftest.h"
#include "util/cpu_features.h"

namespace strata::selftest {

namespace {

struct RoutingKind {
    const char* name;
    int64_t n_expert, n_used;
    MoeGating gating;
    float scale;
    bool selection_bias;  // glm4moe
    bool expert_biases;   // gpt-oss
    FfnActivation act;
};

constexpr RoutingKind kKinds[] = {
    {"mixtral", 8, 2, MoeGating::softmax, 1.0f, false, false, FfnActivation::silu},
    {"qwen3moe", 16, 4, MoeGating::softmax, 1.0f, false, false, FfnActivation::silu},
    {"gpt-oss", 8, 2, MoeGating::softmax, 1.0f, false, true, FfnActivation::swiglu_oai},
    {"glm4moe", 16, 4, MoeGating::sigmoid, 2.5f, true, false, FfnActivation::silu},
};

double ffn_tol(TensorType t) {
    if (t == TensorType::F32) return 1e-4;
    if (t == TensorType::F16) return 1e-3;
    if (t == TensorType::BF16) return cpu_bf16_dots() ? 4e-2 : 1e-3;  // see above
    return 0.1;
}

// The host data of one case, uploaded to each device as it is run there.
struct MoeCase {
    RoutingKind kind;
    TensorType type;
    int64_t n_tok, n_embd, n_ff;
    std::vector<std::vector<uint8_t>> gate, up, down;                  // (n_expert)
    std::vector<std::vector<uint8_t>> gate_bias, up_bias, down_bias;   // gpt-oss
    std::vector<uint8_t> selection_bias;                               // glm4moe
    std::vector<float> x, logits;
};

// What a device computed for a case.
struct MoeResult {
    std::vector<int32_t> ids;
    std::vector<float> weights, out;
};

Result<MoeResult> run_on(Device& d, const MoeCase& c) {
    const int64_t n_expert = c.kind.n_expert, n_used = c.kind.n_used;
    std::vector<std::unique_ptr<DeviceWeight>> owned;
    ExpertWeights ew;
    ew.n_ff = c.n_ff;
    const auto up_w = [&](const std::string& name, WeightRole role, int64_t rows, int64_t cols,
                          const std::vector<uint8_t>& bytes, TensorType type) -> Result<const DeviceWeight*> {
        auto w = d.upload_weight(host_tensor(name, role, type, rows, cols, bytes));
        if (!w.ok()) return w.status();
        owned.push_back(std::move(w).value());
        return owned.back().get();
    };
    for (int64_t e = 0; e < n_expert; ++e) {
        const auto i = static_cast<size_t>(e);
        const std::string n = "blk.0.ffn_*_exps." + std::to_string(e);
        auto g = up_w(n + ".gate", WeightRole::matrix, c.n_ff, c.n_embd, c.gate[i], c.type);
        if (!g.ok()) return g.status();
        auto u = up_w(n + ".up", WeightRole::matrix, c.n_ff, c.n_embd, c.up[i], c.type);
        if (!u.ok()) return u.status();
        auto dn = up_w(n + ".down", WeightRole::matrix, c.n_embd, c.n_ff, c.down[i], c.type);
        if (!dn.ok()) return dn.status();
        ew.gate.push_back(*g);
        ew.up.push_back(*u);
        ew.down.push_back(*dn);
        if (c.kind.expert_biases) {
            auto bg = up_w(n + ".gate_bias", WeightRole::vector, 1, c.n_ff, c.gate_bias[i], TensorType::F32);
            if (!bg.ok()) return bg.status();
            auto bu = up_w(n + ".up_bias", WeightRole::vector, 1, c.n_ff, c.up_bias[i], TensorType::F32);
            if (!bu.ok()) return bu.status();
            auto bd = up_w(n + ".down_bias", WeightRole::vector, 1, c.n_embd, c.down_bias[i], TensorType::F32);
            if (!bd.ok()) return bd.status();
            ew.gate_bias.push_back(*bg);
            ew.up_bias.push_back(*bu);
            ew.down_bias.push_back(*bd);
        }
    }
    const DeviceWeight* sel = nullptr;
    if (c.kind.selection_bias) {
        auto b = up_w("blk.0.exp_probs_b", WeightRole::vector, 1, n_expert, c.selection_bias, TensorType::F32);
        if (!b.ok()) return b.status();
        sel = *b;
    }
    MoeRouting r;
    r.n_expert = n_expert;
    r.n_used = n_used;
    r.normalize = true;
    r.scale = c.kind.scale;
    r.gating = c.kind.gating;

    // Scratch as a stage sizes it: n_batch = n_tok rows per region.
    const size_t embd = static_cast<size_t>(c.n_tok * c.n_embd) * 4, ff = static_cast<size_t>(c.n_tok * c.n_ff) * 4;
    const size_t pairs = static_cast<size_t>(c.n_tok * n_used);
    auto xb = upload(d, c.x.data(), embd);
    auto lb = upload(d, c.logits.data(), c.logits.size() * 4);
    auto ids = poisoned(d, pairs * 4), wts = poisoned(d, pairs * 4), out = poisoned(d, embd);
    auto sx = poisoned(d, embd, MemoryUse::scratch), sg = poisoned(d, ff, MemoryUse::scratch),
         su = poisoned(d, ff, MemoryUse::scratch), sy = poisoned(d, embd, MemoryUse::scratch);
    for (const auto* b : {&xb, &lb, &ids, &wts, &out, &sx, &sg, &su, &sy})
        if (!b->ok()) return b->status();
    const MoeScratch s{(*sx)->as<float>(), (*sg)->as<float>(), (*su)->as<float>(), (*sy)->as<float>()};
    Status st = d.ops().moe_route((*lb)->as<float>(), c.n_tok, r, sel, (*ids)->as<int32_t>(), (*wts)->as<float>());
    if (st.ok())
        st = d.ops().moe_ffn(ew, c.kind.act, (*xb)->as<float>(), c.n_tok, (*ids)->as<int32_t>(), (*wts)->as<float>(),
                             n_used, s, (*out)->as<float>());
    MoeResult res;
    res.ids.resize(pairs);
    res.weights.resize(pairs);
    res.out.resize(static_cast<size_t>(c.n_tok * c.n_embd));
    if (st.ok()) st = download(d, **ids, res.ids.data(), pairs * 4);
    if (st.ok()) st = download(d, **wts, res.weights.data(), pairs * 4);
    if (st.ok()) st = download(d, **out, res.out.data(), embd);
    if (!st.ok()) return st;
    return res;
}

MoeCase make_case(const RoutingKind& kind, TensorType type, int64_t n_tok, uint64_t seed) {
    Rng rng(seed);
    MoeCase c{kind, type, n_tok, 256, 512, {}, {}, {}, {}, {}, {}, {}, {}, {}};
    const float s_in = 1.0f / std::sqrt(static_cast<float>(c.n_embd)), s_ff = 1.0f / std::sqrt(static_cast<float>(c.n_ff));
    for (int64_t e = 0; e < kind.n_expert; ++e) {
        c.gate.push_back(random_weight(type, c.n_ff, c.n_embd, rng, 2.0f * s_in));
        c.up.push_back(random_weight(type, c.n_ff, c.n_embd, rng, 2.0f * s_in));
        c.down.push_back(random_weight(type, c.n_embd, c.n_ff, rng, s_ff));
        if (kind.expert_biases) {
            c.gate_bias.push_back(f32_bytes(rng.gauss_vec(static_cast<size_t>(c.n_ff), 0.5f)));
            c.up_bias.push_back(f32_bytes(rng.gauss_vec(static_cast<size_t>(c.n_ff), 0.5f)));
            c.down_bias.push_back(f32_bytes(rng.gauss_vec(static_cast<size_t>(c.n_embd), 0.1f)));
        }
    }
    if (kind.selection_bias) c.selection_bias = f32_bytes(rng.gauss_vec(static_cast<size_t>(kind.n_expert), 0.2f));
    c.x = rng.gauss_vec(static_cast<size_t>(n_tok * c.n_embd));
    // Large activations for gpt-oss, so its clamps (±7) take part.
    if (kind.act == FfnActivation::swiglu_oai)
        for (float& v : c.x) v *= 4.0f;
    c.logits = rng.gauss_vec(static_cast<size_t>(n_tok * kind.n_expert), 2.0f);
    return c;
}

void check_moe(Device& gpu, Device& cpu, const RoutingKind& kind, TensorType type, int64_t n_tok, uint64_t seed,
               Report& rep) {
    const std::string group = std::string("moe ") + kind.name + " " + tensor_type_name(type);
    char detail[96];
    std::snprintf(detail, sizeof detail, "n_tok=%lld top-%lld of %lld", static_cast<long long>(n_tok),
                  static_cast<long long>(kind.n_used), static_cast<long long>(kind.n_expert));
    const MoeCase c = make_case(kind, type, n_tok, seed);
    auto want = run_on(cpu, c);
    if (!want.ok()) return rep.fail(group, cpu.id(), detail, "CPU: " + want.status().message());
    auto got = run_on(gpu, c);
    if (!got.ok()) return rep.fail(group, gpu.id(), detail, got.status().message());
    if (got->ids != want->ids) {
        std::string note = "chosen experts differ from the CPU's:";
        for (size_t i = 0; i < got->ids.size(); ++i) {
            note += ' ';
            note += std::to_string(got->ids[i]);
            note += '/';
            note += std::to_string(want->ids[i]);
        }
        return rep.fail(group + " route", gpu.id(), detail, note);
    }
    double werr = 0;
    for (size_t i = 0; i < got->weights.size(); ++i)
        werr = std::isnan(got->weights[i]) ? NAN : std::max(werr, static_cast<double>(std::fabs(got->weights[i] - want->weights[i])));
    rep.add(group + " route", gpu.id(), detail, werr, 1e-6);
    rep.add(group + " ffn", gpu.id(), detail, rel_max_err(got->out, want->out), ffn_tol(type));
}

}  // namespace

void run_moe_checks(const std::vector<Device*>& devices, const Options& opt, Report& rep) {
    Device* cpu = nullptr;
    for (Device* d : devices)
        if (d->info().type == DeviceType::cpu) cpu = d;
    if (!cpu) return;
    const std::vector<TensorType> types =
        opt.quick ? std::vector<TensorType>{TensorType::F16, TensorType::Q8_0, TensorType::Q4_K}
                  : std::vector<TensorType>{TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q4_0,
                                            TensorType::Q8_0, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K};
    for (Device* d : devices) {
        if (d->info().type != DeviceType::cuda) continue;
        uint64_t seed = 9000;
        for (const RoutingKind& kind : kKinds)
            for (TensorType t : types)
                for (int64_t n_tok : {1, 7, 130}) check_moe(*d, *cpu, kind, t, n_tok, ++seed, rep);
    }
}

}  // namespace strata::selftest
