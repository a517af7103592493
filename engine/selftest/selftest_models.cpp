// selftest: whole models on GPUs against the CPU. Random models (written with
// write_random_model) of each architecture and weight type, and a real model when one is given:
// a 20-token prompt (the batched prefill path, with every token's logits as perplexity asks
// for them) then 100 greedy tokens, the GPU run fed the CPU's tokens so every step compares the
// same inputs.
//
// Measure: max over steps of max |logit_gpu - logit_cpu| / rms(logits_cpu). Tolerance: F32
// 2e-3; F16 0.02 (the GPU prefill rounds activations to F16); BF16 0.05 (with
// STRATA_CPU_BF16_DOTS=1 on a CPU with AVX512-BF16 the CPU's matmuls round activations to
// BF16, 8 significant bits: its logits
// differ from a double-precision reference by up to 0.016 of rms on tst_forward's model, and
// more steps and layers here); quantized 0.25: the CPU and
// GPU quantize activations to 8 bits differently (Q8_K vs blocks of 32; F16 in the GPU prefill)
// and the CPU alone differs from a double-precision float-activation reference by up to 0.09
// on these models, so two such runs may differ by about 0.13; a wrong kernel errs by ~1.
// Top-1 must agree at every step except near-ties (CPU gap between the two picks ≤ 2 × tol ×
// rms); the count of agreeing steps is shown. Plans: one GPU; two stages on one GPU; GPU + CPU
// both ways; GPU, CPU, GPU (output head back on the GPU); GPU with graphs and fusion off.
#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "backend/registry.h"
#include "gguf/gguf_file.h"
#include "model/hparams.h"
#include "model/model_tensors.h"
#include "model/random_model.h"
#include "plan/model_footprint.h"
#include "runtime/loaded_model.h"
#include "selftest.h"
#include "strata/engine.h"
#include "strata/model_info.h"
#include "tokenizer/vocab_loader.h"
#include "util/cpu_features.h"

namespace strata::selftest {

namespace {

constexpr int kSteps = 100;

struct Trace {
    std::vector<int32_t> tokens;              // the picks (greedy on the CPU)
    std::vector<std::vector<float>> logits;   // every prompt token's, then one per step
};

int32_t argmax(const std::vector<float>& v) {
    return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

// Prompt, then kSteps tokens: its own greedy picks, or `forced` ones.
Result<Trace> run(Model& m, const std::vector<int32_t>& prompt, const std::vector<int32_t>* forced) {
    auto seq = m.create_sequence();
    if (!seq.ok()) return seq.status();
    Trace tr;
    std::vector<float> logits;
    STRATA_RETURN_IF_ERROR((*seq)->eval_all(prompt, &logits));
    const size_t n_vocab = logits.size() / prompt.size();
    for (size_t t = 0; t < prompt.size(); ++t)
        tr.logits.emplace_back(logits.begin() + static_cast<std::ptrdiff_t>(t * n_vocab),
                               logits.begin() + static_cast<std::ptrdiff_t>((t + 1) * n_vocab));
    logits = tr.logits.back();
    for (int i = 0; i < kSteps; ++i) {
        const int32_t next = forced ? (*forced)[static_cast<size_t>(i)] : argmax(logits);
        tr.tokens.push_back(next);
        STRATA_RETURN_IF_ERROR((*seq)->eval({next}, &logits));
        tr.logits.push_back(logits);
    }
    return tr;
}

double model_tol(TensorType t) {
    if (t == TensorType::F32) return 2e-3;
    if (t == TensorType::F16) return 0.02;
    if (t == TensorType::BF16) return cpu_bf16_dots() ? 0.05 : 0.02;  // see above
    return 0.25;
}

void compare(const Trace& cpu, const Trace& dev, const std::string& group, const std::string& device, double tol,
             Report& rep) {
    double worst = 0;
    int same = 0, ties = 0, hard = 0;
    for (size_t s = 0; s < cpu.logits.size() && s < dev.logits.size(); ++s) {
        const auto& c = cpu.logits[s];
        const auto& g = dev.logits[s];
        std::vector<double> cd(c.begin(), c.end());
        const double r = rms(cd);
        worst = std::max(worst, rel_max_err(g, cd));
        if (std::isnan(worst)) break;
        const int32_t tc = argmax(c), tg = argmax(g);
        if (tc == tg) {
            ++same;
        } else if (c[static_cast<size_t>(tc)] - c[static_cast<size_t>(tg)] <= 2 * tol * r) {
            ++ties;
        } else {
            ++hard;
        }
    }
    char detail[128];
    std::snprintf(detail, sizeof detail, "%zu rows: top-1 equal %d, near-ties %d, differ %d", cpu.logits.size(), same,
                  ties, hard);
    if (hard > 0) return rep.fail(group, device, detail, "top-1 differs beyond a near-tie");
    rep.add(group, device, detail, worst, tol);
}

RandomModelConfig model_config(const std::string& arch, TensorType type, uint64_t seed) {
    RandomModelConfig c;
    random_model_arch(arch, c);  // llama31: Llama 3.1's RoPE frequency factors
    c.n_vocab = 512;
    c.n_embd = 256;
    c.n_layer = 2;
    c.n_head = 4;
    c.n_head_kv = 2;
    c.n_ff = 512;
    c.head_dim = arch == "qwen3" || arch == "gemma2" || arch == "gemma3" ? 64 : 0;
    if (c.n_swa > 0) c.n_swa = 24;              // windows well inside the 192-position context
    if (arch == "gemma3") c.swa_pattern = 2;    // one sliding and one global layer
    if (!c.rope_scaling.empty() && arch != "llama31") c.n_ctx_orig = 64;  // scaling past position 64
    c.weight_type = type;
    c.seed = seed;
    c.n_threads = 2;
    return c;
}

LoadOptions load_options(const std::string& devices, KvCacheType kv, const std::vector<double>& ratios = {}) {
    LoadOptions o;
    std::string err;
    parse_device_specs(devices, o.devices, err);
    o.n_ctx = 192;
    o.n_batch = 64;
    o.kv_type = kv;
    o.ratios = ratios;
    if (!ratios.empty()) o.mode = SplitMode::ratios;
    return o;
}

// Loads with an explicit list of stages (plans the planner would not make: two stages on one GPU).
Result<std::unique_ptr<Model>> load_stages(DeviceRegistry& reg, const std::string& path, const std::string& devices,
                                           const std::vector<StagePlan>& stages, KvCacheType kv) {
    auto inputs = read_load_inputs(path);
    if (!inputs.ok()) return inputs.status();
    LoadInputs in = std::move(inputs).value();
    const LoadOptions lo = load_options(devices, kv);
    auto described = reg.describe(lo.devices);
    if (!described.ok()) return described.status();
    auto created = reg.create(lo.devices);
    if (!created.ok()) return created.status();
    auto req = make_plan_request(in.footprint, *described, lo, lo.n_ctx);
    if (!req.ok()) return req.status();
    Plan plan;
    plan.fits = true;
    plan.stages = stages;
    RuntimeConfig cfg;
    cfg.n_ctx = lo.n_ctx;
    cfg.n_batch = lo.n_batch;
    cfg.kv_type = kv;
    auto m = std::make_unique<LoadedModel>(std::move(in), reg, std::move(created).value(), std::move(req).value(),
                                           std::move(plan), cfg);
    STRATA_RETURN_IF_ERROR(m->build({}, nullptr));
    return std::unique_ptr<Model>(std::move(m));
}

StagePlan stage(int device, const std::string& id, int begin, int end, bool emb, bool out) {
    StagePlan s;
    s.device = device;
    s.device_id = id;
    s.layer_begin = begin;
    s.layer_end = end;
    s.has_embedding = emb;
    s.has_output = out;
    return s;
}

struct Variant {
    std::string name;     // shown in the device column
    std::string devices;  // --devices
    std::vector<double> ratios;
    std::vector<StagePlan> stages;  // explicit stages (empty: the planner decides)
    bool plain = false;   // graphs and fusion off
    bool gpu_experts = false;  // STRATA_CUDA_MOE=1: the experimental CUDA expert kernels (and
                               // attention sinks, gpt-oss)
    bool cpu_moe = false;      // every expert on the CPU (--cpu-moe)
};

// What a variant's run must show beyond matching logits: its layers ran on a GPU (a plan that
// quietly fell back to the CPU would match trivially), and, with experts on a GPU, each GPU's
// weights as allocated are the plan's within 5% (the expert tables, allocated at each layer's
// first call, included; tst_cuda_plan checks the experts' share byte for byte without a GPU).
std::string placement_problem(const Model& m, const Variant& v) {
    if (v.devices.find("cuda") == std::string::npos) return {};  // the CPU pipeline check
    bool gpu_layers = false;
    for (const StagePlan& st : m.plan().stages)
        if (st.layer_end > st.layer_begin && st.device_id.rfind("cuda", 0) == 0) gpu_layers = true;
    if (!gpu_layers) return "no layer was planned on a GPU";
    if (!v.gpu_experts) return {};
    for (const DeviceMemory& dm : m.memory()) {
        for (const DeviceUse& u : m.plan().devices) {
            if (u.device_id != dm.device_id || dm.device_id.rfind("cuda", 0) != 0) continue;
            const double planned = static_cast<double>(u.weight_bytes), got = static_cast<double>(dm.weights);
            if (std::abs(got - planned) > 0.05 * planned)
                return dm.device_id + " holds " + std::to_string(dm.weights) + " weight bytes, the plan said " +
                       std::to_string(u.weight_bytes);
        }
    }
    return {};
}

// Runs `v` and compares it with the CPU trace.
void check_variant(const std::string& path, const std::string& group, const Variant& v, const std::vector<int32_t>& prompt,
                   const Trace& cpu, KvCacheType kv, double tol, Report& rep) {
    if (v.plain) {
        setenv("STRATA_CUDA_GRAPHS", "0", 1);
        setenv("STRATA_CUDA_FUSE", "0", 1);
    }
    if (v.gpu_experts) setenv("STRATA_CUDA_MOE", "1", 1);
    {
        Engine engine;  // after setenv: its devices read the switches
        DeviceRegistry reg;
        LoadOptions lo = load_options(v.devices, kv, v.ratios);
        if (v.cpu_moe) lo.expert_mode = ExpertMode::cpu;
        Result<std::unique_ptr<Model>> m =
            v.stages.empty() ? engine.load(path, lo) : load_stages(reg, path, v.devices, v.stages, kv);
        if (!m.ok()) {
            rep.fail(group, v.name, "load", m.status().message());
        } else {
            auto tr = run(**m, prompt, &cpu.tokens);
            // After the run: a GPU allocates a MoE layer's expert table at its first call.
            const std::string problem = tr.ok() ? placement_problem(**m, v) : std::string();
            if (!tr.ok()) {
                rep.fail(group, v.name, "run", tr.status().message());
            } else if (!problem.empty()) {
                rep.fail(group, v.name, "plan", problem);
            } else {
                compare(cpu, *tr, group, v.name, tol, rep);
            }
        }
    }
    if (v.plain) {
        unsetenv("STRATA_CUDA_GRAPHS");
        unsetenv("STRATA_CUDA_FUSE");
    }
    if (v.gpu_experts) unsetenv("STRATA_CUDA_MOE");
}

void check_model(const std::string& path, const std::string& group, const std::vector<Variant>& variants,
                 const std::vector<int32_t>& prompt_or_empty, const std::string& prompt_text, KvCacheType kv,
                 double tol, Report& rep) {
    Engine engine;
    auto cpu_model = engine.load(path, load_options("cpu", kv));
    if (!cpu_model.ok()) return rep.fail(group, "cpu", "load", cpu_model.status().message());
    std::vector<int32_t> prompt = prompt_or_empty;
    if (prompt.empty()) prompt = (*cpu_model)->tokenize(prompt_text, true);
    auto cpu = run(**cpu_model, prompt, nullptr);
    if (!cpu.ok()) return rep.fail(group, "cpu", "run", cpu.status().message());
    for (const Variant& v : variants) check_variant(path, group, v, prompt, *cpu, kv, tol, rep);
}

}  // namespace

void run_model_checks(const std::vector<std::string>& gpu_ids, const Options& opt, Report& rep) {
    const bool q = opt.quick;
    std::vector<int32_t> prompt = {1};
    Rng rng(4242);
    while (prompt.size() < 20) prompt.push_back(static_cast<int32_t>(3 + rng.below(509)));

    const std::vector<std::string> archs = q ? std::vector<std::string>{"llama", "qwen3"}
                                             : std::vector<std::string>{"llama", "llama31", "qwen2", "qwen3", "phi3",
                                                                        "gemma2", "gemma3", "mistral3", "qwen3moe",
                                                                        "mixtral", "gpt-oss"};
    std::vector<TensorType> types = q ? std::vector<TensorType>{TensorType::F16, TensorType::Q4_K}
                                      : std::vector<TensorType>{TensorType::F32,  TensorType::F16,  TensorType::BF16,
                                                                TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_K,
                                                                TensorType::Q5_K, TensorType::Q6_K};
    uint64_t seed = 500;
    for (const std::string& arch : archs) {
        // The newer architectures differ in their blocks, not their weights: three formats each.
        const bool block_variant = arch != "llama" && arch != "qwen2" && arch != "qwen3";
        for (TensorType type : types) {
            if (block_variant && type != TensorType::F16 && type != TensorType::Q4_K && type != TensorType::Q8_0) continue;
            const std::string group = "model " + arch + " " + tensor_type_name(type);
            const std::string path = opt.work_dir + "/" + arch + "_" + tensor_type_name(type) + ".gguf";
            const Status st = write_random_model(model_config(arch, type, ++seed), path);
            if (!st.ok()) {
                rep.fail(group, "-", "write", st.message());
                continue;
            }
            std::vector<Variant> variants;
            if (gpu_ids.empty()) {
                // No GPU: the pipeline itself (two CPU stages) must match one CPU exactly.
                variants.push_back({"cpu+cpu", "cpu,cpu", {}, {stage(0, "cpu", 0, 1, true, false), stage(1, "cpu1", 1, 2, false, true)}});
            }
            const bool moe = arch == "qwen3moe" || arch == "mixtral";
            for (const std::string& g : gpu_ids) {
                if (arch == "gpt-oss") {
                    // Its attention sinks, windowed and full layers alternating, run on a GPU
                    // only with STRATA_CUDA_MOE=1 (experimental kernels): experts on the CPU
                    // (its MXFP4 experts stay MXFP4 there), then beside their layers (Q8_0 on
                    // the GPU).
                    variants.push_back({g + " experts on cpu", g + ",cpu", {}, {}, false, true, true});
                    variants.push_back({g + " experts on gpu", g, {}, {}, false, true});
                    continue;
                }
                if (moe) {
                    // By default attention on the GPU, every expert on the CPU, rows handed over
                    // and back each layer (runtime/expert_host.h); with STRATA_CUDA_MOE=1 the
                    // experimental CUDA expert kernels run the experts beside their layers.
                    variants.push_back({g + " experts on cpu", g + ",cpu", {}, {}});
                    variants.push_back({g + " experts on gpu", g, {}, {}, false, true});
                    continue;
                }
                variants.push_back({g, g, {}, {}});
                // The plan variants on a few models: each architecture, float and quantized.
                const bool splits = q ? type == TensorType::Q4_K
                                      : (arch == "llama" && (type == TensorType::Q4_K || type == TensorType::F16)) ||
                                            (arch == "qwen2" && type == TensorType::Q4_0) ||
                                            (arch == "qwen3" && type == TensorType::Q6_K);
                if (splits) {
                    variants.push_back({g + " x2", g, {}, {stage(0, g, 0, 1, true, false), stage(0, g, 1, 2, false, true)}});
                    variants.push_back({g + "+cpu", g + ",cpu", {1, 1}, {}});
                    variants.push_back({"cpu+" + g, "cpu," + g, {1, 1}, {}});
                    variants.push_back({g + ",cpu," + g, g + ",cpu",  {},
                                        {stage(0, g, 0, 1, true, false), stage(1, "cpu", 1, 2, false, false),
                                         stage(0, g, 2, 2, false, true)}});
                    variants.push_back({g + " plain", g, {}, {}, true});
                }
            }
            const double tol = gpu_ids.empty() ? 1e-6 : model_tol(type);
            check_model(path, group, variants, prompt, "", KvCacheType::f16, tol, rep);
            if (!q && arch == "llama" && type == TensorType::Q4_0) {
                for (KvCacheType kv : {KvCacheType::f32, KvCacheType::q8_0}) {
                    std::vector<Variant> kvv;
                    for (const std::string& g : gpu_ids) kvv.push_back({g, g, {}, {}});
                    if (!kvv.empty())
                        check_model(path, group + " kv " + kv_cache_type_name(kv), kvv, prompt, "", kv, tol, rep);
                }
            }
            std::error_code ec;
            std::filesystem::remove(path, ec);
        }
    }
    if (!opt.model_path.empty() && !gpu_ids.empty()) {
        std::vector<Variant> variants;
        for (const std::string& g : gpu_ids) {
            variants.push_back({g, g, {}, {}});
            variants.push_back({g + "+cpu", g + ",cpu", {1, 1}, {}});
        }
        auto info = inspect_model(opt.model_path);
        const TensorType dominant = info.ok() && !info->type_totals.empty() ? info->type_totals.front().type : TensorType::F32;
        const std::string name = std::filesystem::path(opt.model_path).filename().string();
        check_model(opt.model_path, "model " + name, variants, {}, "Once upon a time", KvCacheType::f16,
                    model_tol(dominant), rep);
    } else if (!opt.model_path.empty()) {
        rep.add("model " + std::filesystem::path(opt.model_path).filename().string(), "-", "skipped: no GPU", 0, 0);
    }
}

}  // namespace strata::selftest
