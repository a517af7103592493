// The OpenAI wire format, both ways: request bodies of /v1/chat/completions and /v1/completions
// become a CompletionRequest (or an ApiError that names the offending field), and engine
// results become the response, stream-chunk, model-list and error objects that OpenAI clients
// parse. Pure functions of their arguments; thread-safe. Fields this server does not implement
// and clients send by default (presence_penalty: 0, user, ...) are ignored; ones that would
// silently change the answer's meaning if ignored (n > 1, echo, logprobs, images, a forced
// tool_choice) are refused with 400.
//
// Tools follow OpenAI's chat format: `tools` (functions with JSON-schema parameters) reach the
// model's chat template; assistant messages in the history may carry `tool_calls` (and
// `reasoning_content`), and `tool` messages carry results with their `tool_call_id`. Answers
// carry `reasoning_content` apart from `content` for reasoning models, and `tool_calls` (with
// finish_reason "tool_calls") when tools were offered and the model called one.
#pragma once

#include <QByteArray>
#include <QString>
#include <optional>

#include "chat/chat_types.h"
#include "strata/sampling.h"

namespace strata::app {

struct ApiError {
    int status = 400;
    QString message;
    QString param;  // the request field at fault ("messages[1].role"), or empty
};

struct CompletionRequest {
    ChatRequest chat;          // chat completions: messages, tools, template variables
    QString prompt;            // text completions
    QString model;             // as the client named it (this server answers with the loaded one)
    // Sampler fields the client left out keep the engine's defaults (those of llama-server:
    // temperature 0.8, top_k 40, top_p 0.95, min_p 0.05).
    strata::GenerateParams params;
    bool hasMaxTokens = false;  // false: the server lets the answer run to the context's end
    bool hasSeed = false;       // false: the server picks a random seed
    bool stream = false;
    bool includeUsage = false;  // stream_options.include_usage: a last chunk carries usage
};

std::optional<ApiError> parseChatRequest(const QByteArray& body, CompletionRequest& out);
std::optional<ApiError> parseCompletionRequest(const QByteArray& body, CompletionRequest& out);

// {"error":{"message":..., "type":..., "param":..., "code":...}}; the type follows the status
// as llama-server names them (invalid_request_error, not_found_error, unavailable_error, ...).
QByteArray errorJson(const ApiError& error);
QByteArray errorJson(int status, const QString& message);

// "stop" for an end of text or a stop string; "length" for the token limit or a full context
// (a chat answer with tool calls says "tool_calls").
QString finishReason(strata::StopReason reason);

// What every response object of one request shares.
struct ResponseMeta {
    bool chat = true;   // chat.completion(.chunk) or text_completion
    QString id;         // "chatcmpl-..." / "cmpl-..."
    qint64 created = 0; // Unix seconds
    QString model;
};
ResponseMeta newResponseMeta(bool chat, const QString& model);

QByteArray modelsJson(const QString& modelId, qint64 created);  // empty list when modelId is empty
QByteArray completionJson(const ResponseMeta& meta, const QString& text, const strata::GenerateStats& stats);
// A chat answer: content (null when only tools were called), reasoning_content when the model
// reasoned, tool_calls when it called tools (finish_reason "tool_calls").
QByteArray chatCompletionJson(const ResponseMeta& meta, const ParsedAnswer& answer, const strata::GenerateStats& stats);
// One stream chunk: text (chat: the delta's content, with role "assistant" in the first one),
// finishReason empty while the answer goes on.
QByteArray chunkJson(const ResponseMeta& meta, const QString& text, bool first, const QString& finishReason);
// Chat stream chunks whose delta is reasoning text, or the answer's tool calls (all at once,
// each with its index, id, name and complete arguments).
QByteArray reasoningChunkJson(const ResponseMeta& meta, const QString& reasoning);
QByteArray toolCallsChunkJson(const ResponseMeta& meta, const QList<ChatToolCall>& calls);
// The extra last chunk of stream_options.include_usage: no choices, only usage.
QByteArray usageChunkJson(const ResponseMeta& meta, const strata::GenerateStats& stats);

}  // namespace strata::app
