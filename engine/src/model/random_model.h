// Random-weight Llama-family models written as GGUF files: for tests (seeded, never all-zero)
// and benchmarks (real model shapes such as TinyLlama-1.1B or Llama-2-7B, any weight type).
// The vocabulary is synthetic but complete (control tokens, 256 byte tokens, word pieces), so
// the files load and generate like real models.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "strata/status.h"
#include "strata/tensor_type.h"

namespace strata {

struct RandomModelConfig {
    std::string arch = "llama";   // llama, qwen2, qwen3, phi3, gemma2, gemma3, mistral3, qwen3moe, gpt-oss, glm4moe
    int64_t n_vocab = 512;
    int64_t n_embd = 64;
    int64_t n_layer = 2;
    int64_t n_head = 4;
    int64_t n_head_kv = 2;
    int64_t head_dim = 0;         // 0 = n_embd / n_head
    int64_t n_ff = 128;
    int64_t n_ctx_train = 2048;
    float rope_freq_base = 10000.0f;
    int64_t n_rot = 0;            // rope.dimension_count (0 = head_dim; less is partial rotary)
    // RoPE scaling written as converters do: "" (none), "linear", "yarn" (keys), "llama3"
    // (rope_freqs.weight from Llama 3.1's formula, low/high frequency factors 1 and 4),
    // "longrope" (Phi-3's short and long factor tensors plus rope.scaling.attn_factor).
    std::string rope_scaling;
    float rope_factor = 8.0f;     // rope.scaling.factor
    int64_t n_ctx_orig = 0;       // the context scaling extends from (0 = n_ctx_train / rope_factor)
    float yarn_log_mul = 0.0f;    // rope.scaling.yarn_log_multiplier (written when not 0)
    int64_t n_swa = 0;            // gemma: attention.sliding_window (written when > 0)
    int swa_pattern = 0;          // gemma: attention.sliding_window_pattern (written when > 0)
    float attn_temp_scale = 0.0f; // mistral3: attention.temperature_scale (written when not 0)
    // Mixture of experts (n_expert > 1): each layer's FFN is n_expert experts of n_ff_exp rows
    // (0 = n_ff), n_expert_used per token, as 3-D ffn_{gate,up,down}_exps tensors and an F32
    // router (ffn_gate_inp), the way current converters write Mixtral and Qwen3-MoE.
    int64_t n_expert = 0;
    int64_t n_expert_used = 0;
    int64_t n_ff_exp = 0;
    // GLM-4.5 (glm4moe): the first n_layer_dense_lead layers have a dense FFN of n_ff rows;
    // n_expert_shared shared experts (one gated FFN of n_expert_shared · n_ff_exp rows) beside
    // the routed ones; routed weights times expert_weights_scale (written when > 0); the last
    // n_layer_nextn of the n_layer blocks are NextN blocks (every MoE tensor plus nextn.*), as
    // its converter writes them; attn_q_norm / attn_k_norm with qk_norm (GLM-4.5 has them,
    // GLM-4.5-Air not).
    int64_t n_layer_dense_lead = 0;
    int64_t n_expert_shared = 0;
    int64_t n_layer_nextn = 0;
    float expert_weights_scale = 0.0f;
    bool qk_norm = false;
    // The experts' type: gpt-oss's are MXFP4 unless this says otherwise (its converter copies
    // OpenAI's MXFP4 experts; a mix does not change them); other architectures' follow the
    // weight type or mix unless this is set.
    std::optional<TensorType> expert_type;
    float rms_eps = 1e-5f;
    bool tied_output = false;     // no output.weight: the head reuses token_embd
    TensorType weight_type = TensorType::F32;  // for 2-D weights (norms and biases stay F32)
    // A quantization mix ("Q4_K_M", quant/quant_mix.h): per-tensor types chosen as the quantizer
    // does, general.file_type set. Overrides weight_type when not empty.
    std::string mix;
    uint64_t seed = 1;
    int n_threads = 0;            // for generating large models (0 = all cores)
};

// Architectures gen-model writes, with the variants that are another architecture's file with
// particular keys: "llama31" is a llama file with Llama 3.1's RoPE (base 500000, llama3
// factors extending 8192 to 131072 positions); "phi3" has Phi-3-mini-128k's LongRoPE (4096 to
// 131072); "gemma2" and "gemma3" have Gemma's window, caps and (Gemma 3) RoPE bases and linear
// scaling; "mistral3" has Ministral 3's YaRN and attention temperature; "mixtral" is a llama
// file with 8 experts, 2 per token; "qwen3moe" has 16 experts, 4 per token, of a quarter of
// n_ff (Qwen3-30B-A3B has 128 and 8); "gpt-oss" has gpt-oss-20b's settings (window 128 on
// even layers, YaRN 32 from 4096, base 150000, head size 64) with 8 experts, 4 per token
// (the 20B has 32), MXFP4 experts with biases and attention sinks; "glm4moe" has GLM-4.5's
// settings (half of each head rotated, NeoX style, base 1e6; sigmoid routing with a choice bias,
// routed scaling 2.5, one shared expert, one leading dense layer, one NextN block at the end)
// with 16 experts of a quarter of n_ff, 4 per token (GLM-4.5-Air has 128 and 8). False for an
// unknown name.
bool random_model_arch(const std::string& name, RandomModelConfig& config);

// Named shapes: "tiny" (tests), "tinyllama" (TinyLlama-1.1B: 2048/22/32/4/5632/32000),
// "llama2-7b" (4096/32/32/32/11008/32000), and with their architecture's settings "gemma3-4b"
// (2560/34/8/4 heads of 256/10240/262144), "phi3-mini" (3072/32/32/32/8192/32064) and
// "qwen3moe-bench" (the MoE benchmark shape: 2048/16/32/4, 16 experts of 768, 4 used, 32000;
// about 1.9 GB at Q4_K_M) and "glm4moe-bench" (GLM-4.5-Air's layout at that scale: 2048, 16
// layers + 1 NextN, 32/4 heads of 128 with 64 rotated, the first layer dense of 6144, 16
// experts of 768, 4 used, 1 shared; 32000) and "gptoss-bench" (gpt-oss at that scale: 2048, 16
// layers alternating a 128-token window and full attention, 32/4 heads of 64 with sinks, 16
// biased experts of 768, 4 used, MXFP4 unless --expert-type says otherwise; 32000). False for
// an unknown name.
bool random_model_preset(const std::string& name, RandomModelConfig& config);

// Writes the model; `progress` gets (tensors written, total). Types whose block size does not
// divide a row fall back to a type that does, by quant::fallback_type (the tensors that did are
// listed in the file's general.description). An unknown mix is invalid_argument.
Status write_random_model(const RandomModelConfig& config, const std::string& path,
                          const std::function<void(size_t, size_t)>& progress = {});

}  // namespace strata
