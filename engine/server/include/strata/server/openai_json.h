// The OpenAI wire format, both ways, without Qt: request bodies of /v1/chat/completions and
// /v1/completions become a CompletionRequest (or an ApiError that names the offending field), and
// engine results become the response, stream-chunk, model-list and error objects that OpenAI
// clients parse. Pure functions of their arguments (new_response_meta reads the clock and a
// random source); thread-safe; nothing throws.
//
// Fields this server does not implement and clients send by default (presence_penalty: 0, user,
// ...) are ignored; ones that would silently change the answer's meaning if ignored (n > 1, echo,
// logprobs, images, a forced tool_choice, a json_schema response format) are refused with 400.
//
// Tools follow OpenAI's chat format: `tools` (functions with JSON-schema parameters) reach the
// model's chat template; assistant messages in the history may carry `tool_calls` (and
// `reasoning_content`), and `tool` messages carry results with their `tool_call_id`. Answers
// carry `reasoning_content` apart from `content` for reasoning models, and `tool_calls` (with
// finish_reason "tool_calls") when tools were offered and the model called one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/chat.h"
#include "strata/chat_prompt.h"
#include "strata/sampling.h"

namespace strata::server {

struct ApiError {
    int status = 400;
    std::string message;
    std::string param;  // the request field at fault ("messages[1].role"), or empty
};

struct CompletionRequest {
    bool chat = true;
    ChatPromptRequest prompt_request;  // chat completions: messages, tools, template variables
    std::string prompt;                // text completions
    std::string model;                 // as the client named it (the server answers with its own)
    // Sampler fields the client left out keep the engine's defaults (those of llama-server).
    GenerateParams params;
    bool has_max_tokens = false;  // false: the server lets the answer run to the context's end
    bool has_seed = false;        // false: the server picks a random seed
    bool stream = false;
    bool include_usage = false;   // stream_options.include_usage: a last chunk carries usage
    bool tools_offered() const { return prompt_request.tools.has_value(); }
};

std::optional<ApiError> parse_chat_request(std::string_view body, CompletionRequest& out);
std::optional<ApiError> parse_completion_request(std::string_view body, CompletionRequest& out);

// {"error":{"message":..., "type":..., "param":..., "code":...}}; the type follows the status
// as llama-server names them (invalid_request_error, not_found_error, unavailable_error, ...).
std::string error_json(const ApiError& error);
std::string error_json(int status, const std::string& message);

// "stop" for an end of text or a stop string; "length" for the token limit or a full context
// (a chat answer with tool calls says "tool_calls").
const char* finish_reason(StopReason reason);

// What every response object of one request shares.
struct ResponseMeta {
    bool chat = true;      // chat.completion(.chunk) or text_completion
    std::string id;        // "chatcmpl-..." / "cmpl-..."
    int64_t created = 0;   // Unix seconds
    std::string model;
};
ResponseMeta new_response_meta(bool chat, const std::string& model);

// A chat answer as the response carries it.
struct ChatAnswer {
    std::string reasoning;
    std::string content;
    std::vector<ToolCall> tool_calls;
};

std::string models_json(const std::string& model_id, int64_t created);  // empty list when id is ""
std::string completion_json(const ResponseMeta& meta, const std::string& text, const GenerateStats& stats);
// content (null when only tools were called), reasoning_content when the model reasoned,
// tool_calls when it called tools (finish_reason "tool_calls").
std::string chat_completion_json(const ResponseMeta& meta, const ChatAnswer& answer, const GenerateStats& stats);
// One stream chunk: text (chat: the delta's content, with role "assistant" in the first one),
// finish_reason empty while the answer goes on.
std::string chunk_json(const ResponseMeta& meta, const std::string& text, bool first, const std::string& finish_reason);
// Chat stream chunks whose delta is reasoning text, or the answer's tool calls (all at once,
// each with its index, id, name and complete arguments).
std::string reasoning_chunk_json(const ResponseMeta& meta, const std::string& reasoning);
std::string tool_calls_chunk_json(const ResponseMeta& meta, const std::vector<ToolCall>& calls);
// The extra last chunk of stream_options.include_usage: no choices, only usage.
std::string usage_chunk_json(const ResponseMeta& meta, const GenerateStats& stats);

// One server-sent event carrying `json`: "data: {json}\n\n".
inline std::string sse(const std::string& json) { return "data: " + json + "\n\n"; }

}  // namespace strata::server
