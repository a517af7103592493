// Sampling settings for generation. Plain value type.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace strata {

class JsonSchema;  // strata/json_schema.h

struct SamplerParams {
    float temperature = 0.8f;    // ≤ 0: greedy (argmax), no randomness
    int top_k = 40;              // keep the k most likely tokens (≤ 0: all)
    float top_p = 0.95f;         // keep the smallest set with this much probability (≥ 1: all)
    float min_p = 0.05f;         // drop tokens below min_p × the top probability (≤ 0: off)
    float repeat_penalty = 1.0f; // divide positive / multiply negative logits of recent tokens (1: off)
    int repeat_last_n = 64;      // how many recent tokens the penalties look at
    // OpenAI's penalties over the same recent tokens: a token seen c times there has
    // c × frequency_penalty + (c > 0) × presence_penalty subtracted from its logit (0: off;
    // negative values favour repeats).
    float frequency_penalty = 0.0f;
    float presence_penalty = 0.0f;
    // Added to the logits of these token ids before anything else (OpenAI's logit_bias:
    // -100 all but bans a token, +100 all but forces it).
    std::vector<std::pair<int32_t, float>> logit_bias;
    uint64_t seed = 0;           // same seed + same settings + same model → same text
};

struct GenerateParams {
    SamplerParams sampler;
    int max_tokens = 512;                   // stop after this many generated tokens
    std::vector<std::string> stop_strings;  // stop when the text ends with one (not emitted)
    bool stop_at_eos = true;
    // JSON mode (OpenAI's response_format json_object): only tokens that keep the text a prefix
    // of one JSON object are sampled, and generation ends when the object closes.
    bool json_object = false;
    // Structured output (strata/json_schema.h): only tokens that keep the text a prefix of a value
    // this schema accepts; generation ends when the value is whole. Takes precedence over
    // json_object.
    std::shared_ptr<const JsonSchema> json_schema;
    // Generated control tokens other than end-of-generation ones are emitted as their text
    // ("[TOOL_CALLS]", "<|channel|>", "<|python_tag|>"), for output parsers that read them as
    // structure (strata/chat_output.h). Off: they give no text, as in plain completions.
    bool control_token_text = false;
};

// Why generation ended.
enum class StopReason { eos, stop_string, max_tokens, context_full, cancelled, error };
const char* stop_reason_name(StopReason r);

struct GenerateStats {
    int n_prompt = 0;          // prompt tokens evaluated (not counting a reused prefix)
    int n_reused = 0;          // prompt tokens whose KV cache was reused from the last turn
    int n_generated = 0;
    double prompt_seconds = 0;
    double generate_seconds = 0;
    double time_to_first_token = 0;  // seconds from the call to the first generated token
    StopReason stop = StopReason::eos;
    double prompt_tps() const { return prompt_seconds > 0 ? n_prompt / prompt_seconds : 0; }
    double generate_tps() const {
        return generate_seconds > 0 && n_generated > 1 ? (n_generated - 1) / generate_seconds : 0;
    }
};

}  // namespace strata
