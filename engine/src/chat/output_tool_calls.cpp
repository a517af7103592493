// Tool-call parsing entry points: format detection from a template, dispatch to the
// per-format parsers, and the one-shot parse of a complete raw output.
#include <exception>
#include <string>

#include "chat/output_tool_internal.h"

namespace strata {

namespace {

bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

}  // namespace

OutputFormats detect_output_formats(std::string_view t) {
    OutputFormats f;
    // Harmony first: its templates are unambiguous and mention no other format's markers.
    if (contains(t, "<|channel|>")) return {ReasoningFormat::harmony, ToolCallFormat::harmony};
    if (contains(t, "<tool_call>")) f.tool_calls = ToolCallFormat::hermes;
    else if (contains(t, "[TOOL_CALLS]")) f.tool_calls = ToolCallFormat::mistral;
    else if (contains(t, "<｜tool▁call▁begin｜>")) f.tool_calls = ToolCallFormat::deepseek;
    else if (contains(t, "<|python_tag|>") || contains(t, "ipython")) f.tool_calls = ToolCallFormat::llama3_json;
    if (contains(t, "[THINK]")) f.reasoning = ReasoningFormat::mistral_think;
    else if (contains(t, "<think>") || contains(t, "</think>")) f.reasoning = ReasoningFormat::think_tags;
    return f;
}

Result<ParsedToolCalls> parse_tool_calls(std::string_view text, ToolCallFormat format) {
    try {
        switch (format) {
            case ToolCallFormat::none: {
                ParsedToolCalls out;
                out.content = std::string(text);
                return out;
            }
            case ToolCallFormat::hermes: return chat_output::parse_hermes_calls(text);
            case ToolCallFormat::llama3_json: return chat_output::parse_llama3_calls(text);
            case ToolCallFormat::mistral: return chat_output::parse_mistral_calls(text);
            case ToolCallFormat::harmony: return chat_output::parse_harmony_calls(text);
            case ToolCallFormat::deepseek: return chat_output::parse_deepseek_calls(text);
        }
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("parsing tool calls: ") + e.what());
    }
    return make_error(ErrorCode::invalid_argument,
                      "unknown tool-call format " + std::to_string(static_cast<int>(format)));
}

Result<ParsedAssistantOutput> parse_assistant_output(std::string_view raw, OutputFormats formats,
                                                     bool starts_in_reasoning) {
    try {
        ParsedAssistantOutput out;
        const bool harmony =
            formats.reasoning == ReasoningFormat::harmony || formats.tool_calls == ToolCallFormat::harmony;
        ReasoningSplitter splitter({harmony ? ReasoningFormat::harmony : formats.reasoning, starts_in_reasoning});
        std::vector<OutputDelta> deltas = splitter.push(raw);
        for (OutputDelta& d : splitter.flush()) deltas.push_back(std::move(d));
        std::string content;
        for (const OutputDelta& d : deltas) {
            if (d.channel == OutputChannel::reasoning) out.reasoning += d.text;
            else if (d.channel == OutputChannel::content) content += d.text;
        }
        // Harmony calls live in their own messages: parse them from the raw text, whose
        // visible messages make the same content the splitter gave (plus any failed call).
        ParsedToolCalls calls;
        if (harmony) {
            calls = chat_output::parse_harmony_calls(raw, starts_in_reasoning);
        } else {
            STRATA_ASSIGN_OR_RETURN(calls, parse_tool_calls(content, formats.tool_calls));
        }
        out.content = std::move(calls.content);
        out.calls = std::move(calls.calls);
        out.problems = std::move(calls.problems);
        return out;
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, std::string("parsing assistant output: ") + e.what());
    }
}

}  // namespace strata
