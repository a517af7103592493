#include "strata/chat_turn.h"

#include <algorithm>
#include <span>
#include <utility>

namespace strata {

namespace {

// Renders the conversation; when it does not fit with room for an answer, drops the oldest turns
// after the system prompt (when allowed) until it does. Empty tokens: even the last message
// alone does not fit.
Result<ChatPrompt> fit_prompt(const Model& model, ChatPromptRequest request, int max_tokens, bool drop_oldest,
                              int& dropped) {
    const int64_t n_ctx = model.n_ctx();
    const int64_t room = std::min<int64_t>(std::max(max_tokens, 1), std::max<int64_t>(n_ctx / 4, 1));
    const size_t first = !request.messages.empty() && request.messages.front().role == "system" ? 1 : 0;
    dropped = 0;
    for (;;) {
        auto prompt = model.chat_prompt(request);
        if (!prompt.ok()) return prompt.status();
        const int64_t n = static_cast<int64_t>(prompt->tokens.size());
        if (n + room <= n_ctx) return prompt;
        if (!drop_oldest || request.messages.size() <= first + 1) {
            if (n >= n_ctx) prompt->tokens.clear();
            return prompt;
        }
        request.messages.erase(request.messages.begin() + static_cast<std::ptrdiff_t>(first));
        ++dropped;
    }
}

}  // namespace

OutputFormats chat_output_formats(const Model& model, const ChatPromptRequest& request) {
    return detect_output_formats(request.custom_template.empty() ? model.info().chat_template : request.custom_template);
}

Result<PreparedChatTurn> prepare_chat_turn(const Model& model, const ChatPromptRequest& request, int max_tokens,
                                           const ChatTurnOptions& options) {
    PreparedChatTurn turn;
    auto prompt = fit_prompt(model, request, max_tokens, options.drop_oldest_turns, turn.dropped_turns);
    if (!prompt.ok()) return prompt.status();
    if (prompt->tokens.empty())
        return Status(ErrorCode::invalid_argument, "the conversation is longer than the model's context (" +
                                                       std::to_string(model.n_ctx()) + " tokens)");
    turn.prompt = std::move(prompt).value();
    turn.formats = chat_output_formats(model, request);
    return turn;
}

Result<ChatTurnResult> run_chat_turn(const Model& model, Sequence& sequence, const ChatPromptRequest& request,
                                     GenerateParams params, const ChatTurnCallbacks& callbacks,
                                     const std::atomic<bool>* cancel, const ChatTurnOptions& options) {
    auto turn = prepare_chat_turn(model, request, params.max_tokens, options);
    if (!turn.ok()) return turn.status();
    return run_chat_turn(sequence, *turn, std::move(params), callbacks, cancel);
}

Result<ChatTurnResult> run_chat_turn(Sequence& sequence, const PreparedChatTurn& turn, GenerateParams params,
                                     const ChatTurnCallbacks& callbacks, const std::atomic<bool>* cancel) {
    ChatTurnResult result;
    const ChatPrompt* prompt = &turn.prompt;
    result.dropped_turns = turn.dropped_turns;
    result.formats = turn.formats;
    result.template_name = prompt->template_name;
    result.template_warning = prompt->warning;
    if (callbacks.on_prompt) callbacks.on_prompt(*prompt, result.formats);

    for (const std::string& s : prompt->stop_strings) params.stop_strings.push_back(s);
    // Markers such as [TOOL_CALLS] and harmony's <|channel|> are control tokens: without their
    // text the parsers would see bare JSON and channel names run together with the answer.
    params.control_token_text = result.formats != OutputFormats{};
    const bool opens_reasoning = prompt_opens_reasoning(prompt->text, result.formats.reasoning);
    ReasoningSplitter splitter({result.formats.reasoning, opens_reasoning});
    std::string raw;
    auto deliver = [&](const std::vector<OutputDelta>& deltas) {
        if (!callbacks.on_delta) return;
        for (const OutputDelta& d : deltas) callbacks.on_delta(d);
    };
    auto stats = sequence.generate(
        prompt->tokens, params,
        [&](std::string_view text) {
            raw.append(text);
            deliver(splitter.push(text));
        },
        cancel);
    deliver(splitter.flush());
    if (!stats.ok()) return stats.status();
    result.stats = *stats;
    auto parsed = parse_assistant_output(raw, result.formats, opens_reasoning);
    if (!parsed.ok()) return parsed.status();
    result.output = std::move(parsed).value();
    return result;
}

size_t tool_call_safe_prefix(std::string_view content, ToolCallFormat format) {
    static constexpr std::string_view kHermes[] = {"<tool_call>"};
    static constexpr std::string_view kMistral[] = {"[TOOL_CALLS]"};
    static constexpr std::string_view kLlama3[] = {"<|python_tag|>", "<function="};
    static constexpr std::string_view kDeepSeek[] = {"<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>"};
    std::span<const std::string_view> markers;
    switch (format) {
        case ToolCallFormat::hermes: markers = kHermes; break;
        case ToolCallFormat::mistral: markers = kMistral; break;
        case ToolCallFormat::deepseek: markers = kDeepSeek; break;
        case ToolCallFormat::llama3_json: {
            const size_t lead = content.find_first_not_of(" \t\r\n");
            if (lead == std::string_view::npos) return 0;  // only whitespace so far: may be a call's start
            if (content[lead] == '{') return 0;
            markers = kLlama3;
            break;
        }
        case ToolCallFormat::none:
        case ToolCallFormat::harmony:  // calls come on their own channel, never in the content
            return content.size();
    }
    size_t safe = content.size();
    for (std::string_view marker : markers) {
        if (const size_t at = content.find(marker); at != std::string_view::npos) safe = std::min(safe, at);
        // A marker's beginning at the very end may still grow into the marker.
        for (size_t n = std::min(marker.size() - 1, content.size()); n > 0; --n)
            if (content.substr(content.size() - n) == marker.substr(0, n)) {
                safe = std::min(safe, content.size() - n);
                break;
            }
    }
    return safe;
}

}  // namespace strata
