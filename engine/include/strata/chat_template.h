// ChatTemplate: runs a model's own Jinja chat template (the GGUF's tokenizer.chat_template), byte
// for byte as Hugging Face transformers' apply_chat_template renders it (jinja2's sandboxed
// environment with trim_blocks, lstrip_blocks, the loopcontrols extension, raise_exception,
// strftime_now and transformers' tojson).
//
// The rendered prompt says which bytes came from the input data (message contents, tool
// definitions, extra variables): tokenize those with special-token parsing off and the rest
// with it on, so a user who types "<|im_start|>system" gets text, not a control token.
//
// Ownership and threads: compile once; a ChatTemplate is an immutable value (copies share the
// parsed template), and render() is const and safe to call from any number of threads at once.
// Nothing here throws: every failure is a Status (and, when asked for, a ChatTemplateError).
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "strata/status.h"

namespace strata {

// Bounds on one render, so a hostile template fails with a clear error instead of hanging or
// exhausting memory. The defaults leave room for any real template and long conversation.
struct ChatTemplateLimits {
    size_t max_output_bytes = 16u << 20;  // the prompt, and any string the template builds
    size_t max_list_items = 1u << 20;     // any list the template builds
    uint64_t max_steps = 5'000'000;       // loop iterations + macro calls + items filters walk
    int max_call_depth = 32;              // macros calling macros
};

// What a template renders. JSON values use nlohmann::ordered_json so objects keep the order
// they were given in, as Python dicts do (tojson output depends on it).
struct ChatTemplateInput {
    // The conversation as OpenAI-style message objects: {"role", "content", and optionally
    // "reasoning_content", "tool_calls", "tool_call_id", "name", ...}. Content may be a string,
    // null, or a list of parts; the template decides what it accepts. Use
    // ChatTemplateMessage::to_json to build one from fields.
    nlohmann::ordered_json messages = nlohmann::ordered_json::array();
    // Tool definitions (a JSON array), or none: the template sees `tools` as None.
    std::optional<nlohmann::ordered_json> tools;
    bool add_generation_prompt = true;
    std::string bos_token;  // the vocab's BOS text, e.g. "<|begin_of_text|>"
    std::string eos_token;
    // More template variables, one per key: enable_thinking, reasoning_effort, date_string,
    // tools_in_user_message, builtin_tools, ... Must be an object (or null for none).
    nlohmann::ordered_json extra_vars = nlohmann::ordered_json::object();
    // What strftime_now() formats, as a local civil time (tm_isdst ignored); absent: now.
    std::optional<std::tm> now;
    ChatTemplateLimits limits;
};

// One message, field by field; to_json() gives the object ChatTemplateInput::messages holds.
struct ChatTemplateMessage {
    std::string role;
    std::optional<std::string> content;            // absent: "content": null
    std::optional<std::string> reasoning_content;  // thinking text, for templates that show it;
                                                   // to_json writes it as "reasoning_content" and
                                                   // as "thinking" (gpt-oss's name)
    std::optional<nlohmann::ordered_json> tool_calls;  // [{"type":"function","function":{...}}]
    std::optional<std::string> tool_call_id;       // on role "tool"
    std::optional<std::string> name;               // tool name on role "tool"
    nlohmann::ordered_json to_json() const;
};

// A byte range [begin, end) of the rendered text.
struct PromptRange {
    size_t begin = 0;
    size_t end = 0;
    bool operator==(const PromptRange&) const = default;
};

struct RenderedPrompt {
    std::string text;
    // Bytes that came from the input data (sorted, disjoint, non-adjacent). Everything else is
    // the template's own text (and bos/eos tokens), where special tokens are meant.
    std::vector<PromptRange> untrusted;

    // The text cut where trust changes, in order: tokenize each piece with
    // parse_special = trusted.
    struct Segment {
        std::string_view text;
        bool trusted;
    };
    std::vector<Segment> segments() const;
};

// Why a template failed to compile or render, with where (1-based line and column in the
// template source; 0 when unknown).
struct ChatTemplateError {
    enum class Kind {
        syntax,  // the template does not parse (unknown tag or filter, unclosed block, ...)
        render,  // an operation failed while rendering (undefined value used, type error, ...)
        raised,  // the template called raise_exception(message): `message` is its text
        limit,   // a ChatTemplateLimits bound or the nesting limit was reached
        input,   // the ChatTemplateInput itself is malformed (messages not an array, ...)
    };
    Kind kind = Kind::render;
    int line = 0;
    int column = 0;
    std::string message;

    // "line 3, column 7: unknown filter 'foo'" (the position left out when unknown).
    std::string to_string() const;
};

class ChatTemplate {
public:
    // Parses `source`. On failure the Status says why and where (ErrorCode::invalid_argument);
    // `error`, when given, receives the details.
    static Result<ChatTemplate> compile(std::string source, ChatTemplateError* error = nullptr);

    // Renders one conversation. Every failure is ErrorCode::invalid_argument with a message that
    // says where and why; `error`, when given, receives the details (kind, line, column).
    Result<RenderedPrompt> render(const ChatTemplateInput& input, ChatTemplateError* error = nullptr) const;

    const std::string& source() const;

private:
    struct Compiled;
    explicit ChatTemplate(std::shared_ptr<const Compiled> compiled);
    std::shared_ptr<const Compiled> compiled_;
};

}  // namespace strata
