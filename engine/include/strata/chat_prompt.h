// The prompt a loaded model gets for a conversation: its own chat template (the GGUF's
// tokenizer.chat_template, run by ChatTemplate), or a custom template the user gave, rendered
// and tokenized so that special tokens are read only in the template's own markup — never in
// what a user or a tool wrote. When the template is missing or cannot be rendered, a built-in
// format of the model's family is used instead and the result says so (`warning`), so callers
// can show it: a model prompted wrongly must never be silent.
// Plain value types; Model::chat_prompt (strata/engine.h) fills them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "strata/chat.h"

namespace strata {

struct ChatPromptRequest {
    std::vector<ChatMessage> messages;
    std::optional<nlohmann::ordered_json> tools;     // tool definitions (an array), if any
    nlohmann::ordered_json extra_vars = nlohmann::ordered_json::object();  // enable_thinking, ...
    bool add_generation_prompt = true;
    // Text the answer already begins with (Continue: an answer cut short is carried on from its
    // last word). Appended after the generation prompt as plain text — never read as special
    // tokens — so the model goes on with the same answer; the KV cache reuses the shared prefix.
    std::string assistant_prefix;
    std::string custom_template;                     // "" = the model's own
};

enum class ChatTemplateSource {
    model,     // the file's tokenizer.chat_template
    custom,    // ChatPromptRequest::custom_template
    builtin,   // a built-in format: the template is missing or failed (see `warning`)
};

struct ChatPrompt {
    std::vector<int32_t> tokens;         // BOS included where the model wants one
    std::string text;                    // the rendered prompt
    ChatTemplateSource source = ChatTemplateSource::model;
    std::string template_name;           // "the model's template", "a custom template", "built-in ChatML"
    std::string warning;                 // why a built-in format is used ("" otherwise)
    std::vector<std::string> stop_strings;  // end-of-turn text, beside the model's end tokens
};

}  // namespace strata
