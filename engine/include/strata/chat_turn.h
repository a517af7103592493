// One assistant turn of a chat, the way every chat front end needs it (strata-cli chat, the
// app's chat and its OpenAI-compatible API): the conversation rendered with the model's own
// template (or a custom one), the oldest turns dropped when it does not fit, the answer
// generated, and the output split into reasoning, answer and tool calls as it streams.
//
// Ownership and threads: run_chat_turn borrows the model and the sequence for the call and runs
// on the caller's thread; the callbacks are called on that thread, in order. Nothing here
// throws; a failure is a Status.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>

#include "strata/chat_output.h"
#include "strata/chat_prompt.h"
#include "strata/engine.h"

namespace strata {

struct ChatTurnOptions {
    // The conversation does not fit the context with room for an answer: drop the oldest turns
    // after the system prompt until it does (the app and the API), instead of failing (the CLI,
    // which tells the user to /reset).
    bool drop_oldest_turns = true;
};

struct ChatTurnCallbacks {
    // Once, before generation: the prompt that is used (its template, and a warning when a
    // built-in format stands in for the model's template).
    std::function<void(const ChatPrompt& prompt, const OutputFormats& formats)> on_prompt;
    // The output as it streams, split by channel (ReasoningSplitter).
    std::function<void(const OutputDelta& delta)> on_delta;
};

struct ChatTurnResult {
    GenerateStats stats;
    OutputFormats formats;
    std::string template_name;       // ChatPrompt::template_name
    std::string template_warning;    // ChatPrompt::warning ("" when the template was used)
    int dropped_turns = 0;           // oldest turns left out to fit the context
    // The whole output parsed: reasoning, the answer, tool calls and what failed to parse.
    ParsedAssistantOutput output;
};

// The output formats of a model's chat template, or of a custom template when one is given.
OutputFormats chat_output_formats(const Model& model, const ChatPromptRequest& request);

// A chat turn's prompt, rendered and fitted to the context, ready to generate from. Made once:
// its tokens are also what picks a sequence from a SequencePool (the one holding the longest
// prefix of them), so a caller leasing a sequence renders the conversation only once.
struct PreparedChatTurn {
    ChatPrompt prompt;        // the fitted prompt (its tokens, stop strings, template)
    OutputFormats formats;    // how the model's output is structured (chat_output_formats)
    int dropped_turns = 0;    // oldest turns left out to fit the context
};

// Renders `request` for `model` with room for `max_tokens` of answer, dropping the oldest turns
// when allowed. Fails with invalid_argument when even the last message alone does not fit.
Result<PreparedChatTurn> prepare_chat_turn(const Model& model, const ChatPromptRequest& request, int max_tokens,
                                           const ChatTurnOptions& options = {});

// Generates the prepared turn on `sequence` (reusing its KV cache of a common prefix) and parses
// the output, as run_chat_turn below.
Result<ChatTurnResult> run_chat_turn(Sequence& sequence, const PreparedChatTurn& turn, GenerateParams params, const ChatTurnCallbacks& callbacks,
                                     const std::atomic<bool>* cancel = nullptr);

// Renders `request` for `model` (prepare_chat_turn with params.max_tokens), generates on
// `sequence` (reusing its KV cache of a common prefix) and parses the output. `params` gets the prompt's stop strings added, and control
// tokens are rendered as text when the output formats read them as structure. Fails with
// invalid_argument when even the last message alone does not fit the context.
Result<ChatTurnResult> run_chat_turn(const Model& model, Sequence& sequence, const ChatPromptRequest& request,
                                     GenerateParams params, const ChatTurnCallbacks& callbacks,
                                     const std::atomic<bool>* cancel = nullptr, const ChatTurnOptions& options = {});

// How much of a streaming answer's content can be shown before the end while the client may
// expect tool calls: the length of the prefix of `content` before anything that is, or may grow
// into, a tool-call marker of `format` (a Llama 3 JSON call is the whole message, so nothing of
// a content that starts with "{" is safe). For formats without markers: all of it.
size_t tool_call_safe_prefix(std::string_view content, ToolCallFormat format);

}  // namespace strata
