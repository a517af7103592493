// Chat formatting: turns a conversation into the prompt text a chat model was trained on.
//
// GGUF files carry a Jinja chat template; rather than run Jinja, Strata recognises the template
// families in common use (ChatML, Llama 3, Llama 2 / Mistral [INST], Zephyr, Gemma, Phi-3) by
// their marker tokens and renders them natively, falling back to a plain "User:/Assistant:"
// transcript. Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

namespace strata {

// One structured tool call an assistant made (parsed from its output, strata/chat_output.h, or
// given by an API client in the history).
struct ToolCall {
    std::string id;         // from the output where the format carries one, else "call_<index>"
    std::string name;       // e.g. "get_weather" (harmony's "functions." namespace removed)
    std::string arguments;  // a JSON object as compact text, keys in the model's order
    bool operator==(const ToolCall&) const = default;
};

// One turn of a conversation. The fields after `content` are for chat templates that use them
// (strata/chat_prompt.h passes them on as reasoning_content / thinking, tool_calls,
// tool_call_id, name); the built-in formats render role and content only.
struct ChatMessage {
    std::string role;     // "system", "user", "assistant", "tool"
    std::string content;
    std::string reasoning;                // assistant: its thinking ("" = none)
    std::vector<ToolCall> tool_calls;     // assistant: the calls it made
    std::string tool_call_id;             // tool: the call this result answers
    std::string name;                     // tool: the tool's name
};

enum class ChatFormat { plain, chatml, llama3, llama2, zephyr, gemma, phi3 };
const char* chat_format_name(ChatFormat f);

// Recognises the template family ("" or unknown → plain).
ChatFormat detect_chat_format(const std::string& jinja_template);

// Renders messages; with add_assistant_prefix the text ends where the assistant's reply starts.
// BOS is not included (the tokenizer adds it).
std::string render_chat(ChatFormat format, const std::vector<ChatMessage>& messages, bool add_assistant_prefix = true);

// Text that ends an assistant turn in this format, for use as stop strings (in addition to EOS).
std::vector<std::string> chat_stop_strings(ChatFormat format);

}  // namespace strata
