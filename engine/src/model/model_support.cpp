#include "model/model_support.h"

#include <string_view>
#include <vector>

#include "gguf/gguf_file.h"
#include "model/hparams.h"
#include "tokenizer/pretokenizer.h"

namespace strata {

namespace {

// Names people know architectures by, for the ones they are likely to drop on Strata.
std::string family_name(const std::string& arch) {
    struct Name { const char* arch; const char* family; };
    static constexpr Name kNames[] = {
        {"gemma", "Gemma"},           {"gemma2", "Gemma 2"},          {"gemma3", "Gemma 3"},
        {"gemma3n", "Gemma 3n"},      {"mistral3", "Mistral 3"},      {"deepseek2", "DeepSeek V2/V3"},
        {"deepseek", "DeepSeek"},     {"qwen2moe", "Qwen2 MoE"},      {"qwen3moe", "Qwen3 MoE"},
        {"qwen35moe", "Qwen3.5 MoE"}, {"gpt-oss", "gpt-oss"},         {"glm4moe", "GLM-4.5"},
        {"glm4", "GLM-4"},            {"command-r", "Command R"},     {"cohere2", "Command R7B / A"},
        {"phi2", "Phi-2"},            {"phimoe", "Phi-3.5 MoE"},      {"falcon", "Falcon"},
        {"starcoder2", "StarCoder 2"}, {"olmo2", "OLMo 2"},           {"granite", "Granite"},
        {"mamba", "Mamba"},           {"bert", "BERT"},               {"llama4", "Llama 4"},
        {"exaone", "EXAONE"},         {"minicpm", "MiniCPM"},         {"internlm2", "InternLM 2"},
    };
    for (const Name& n : kNames)
        if (arch == n.arch) return n.family;
    return {};
}

bool is_expert_tensor(std::string_view name) {
    return name.find("_exps.") != std::string_view::npos || name.find(".ffn_gate_inp.") != std::string_view::npos ||
           name.find("_shexp.") != std::string_view::npos;
}

// "Mixtral-style (llama), qwen3moe, gpt-oss and glm4moe (with shared experts)", from the table.
std::string moe_architectures_text() {
    std::vector<std::string> names;
    for (const std::string& a : supported_architecture_names()) {
        const ExpertSupport e = architecture_experts(a);
        if (e == ExpertSupport::none) continue;
        std::string n = a == "llama" ? "Mixtral-style (llama)" : a;
        if (architecture_runs_shared_experts(a)) n += " (with shared experts)";
        names.push_back(n);
    }
    std::string out;
    for (size_t i = 0; i < names.size(); ++i) out += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
    return out;
}

SupportVerdict refuse(Unsupported reason, std::string detail, std::string message) {
    return SupportVerdict{reason, std::move(detail), std::move(message)};
}

}  // namespace

std::string supported_architectures_text() { return supported_architecture_list(); }

std::vector<std::string> model_notes(const gguf::GgufFile& f) {
    // Vision encoders and their projectors: "v." and "mm." tensors (the names converters give
    // them when they write one file for both parts).
    uint64_t n = 0, bytes = 0;
    for (const gguf::TensorInfo& t : f.tensors()) {
        if (t.name.starts_with("v.") || t.name.starts_with("mm.")) {
            ++n;
            bytes += t.n_bytes;
        }
    }
    if (n == 0) return {};
    return {"its vision tower (" + std::to_string(n) + " tensors, " + format_bytes(bytes) +
            ") is not used: Strata runs the text model"};
}

SupportVerdict judge_support(const gguf::GgufFile& f, const std::string& arch) {
    if (!is_supported_architecture(arch)) {
        const std::string family = family_name(arch);
        const std::string what = family.empty() ? "The '" + arch + "' architecture" : family + " (" + arch + ")";
        return refuse(Unsupported::architecture, arch,
                      what + " is not supported yet; Strata runs " + supported_architectures_text() + " models");
    }
    // Experts: what the architecture table (model/hparams.cpp) says each architecture runs —
    // Mixtral ('llama' with expert keys), Qwen3-MoE, gpt-oss, and GLM-4.5 with its shared
    // experts. Experts an architecture does not run, shared experts elsewhere and experts
    // without their keys are refused here, not at load.
    int64_t n_expert = 0, n_expert_used = 0;
    if (auto v = f.get_int(arch + ".expert_count"); v.ok() && v->has_value()) n_expert = **v;
    if (auto v = f.get_int(arch + ".expert_used_count"); v.ok() && v->has_value()) n_expert_used = **v;
    bool expert_tensors = false, shared_experts = false;
    for (const gguf::TensorInfo& t : f.tensors()) {
        if (is_expert_tensor(t.name)) expert_tensors = true;
        if (t.name.find("_shexp.") != std::string::npos) shared_experts = true;
    }
    const bool runs_experts = architecture_experts(arch) != ExpertSupport::none;
    const bool runs_shared = architecture_runs_shared_experts(arch);
    if ((n_expert > 1 || expert_tensors) && (!runs_experts || (shared_experts && !runs_shared) || n_expert <= 1)) {
        std::string detail = n_expert > 1 ? std::to_string(n_expert) + " experts" : "expert tensors";
        if (n_expert_used > 0) detail += ", " + std::to_string(n_expert_used) + " per token";
        if (shared_experts) detail += ", shared experts";
        return refuse(Unsupported::mixture_of_experts, detail,
                      "This is a mixture-of-experts model (" + detail + ") of a kind Strata cannot run yet; it runs " +
                          moe_architectures_text() + " experts");
    }
    auto model = f.get_string("tokenizer.ggml.model");
    if (model.ok() && model->has_value()) {
        const std::string& m = **model;
        if (m != "llama" && m != "gpt2") {
            return refuse(Unsupported::tokenizer, m,
                          "Its tokenizer ('" + m + "') is not supported yet; Strata reads SentencePiece ('llama') "
                          "and byte-level BPE ('gpt2') vocabularies");
        }
        auto pre = f.get_string("tokenizer.ggml.pre");
        const std::string pre_name = pre.ok() && pre->has_value() ? **pre : "";
        if (m == "gpt2" && !tokenizer::pre_tokenizer_from_name(pre_name)) {
            return refuse(Unsupported::pre_tokenizer, pre_name,
                          "Its pre-tokenizer ('" + pre_name + "') is not supported yet; Strata knows the ones "
                          "GGUF converters write for the common model families, not this one");
        }
    }
    return {};
}

}  // namespace strata
