// ReasoningSplitter's public face, the format names, and the reasoning helpers for prompts
// and history.
#include <string>

#include "chat/output_harmony.h"
#include "chat/output_splitter_internal.h"
#include "chat/output_text.h"

namespace strata {

namespace chat_output {

void append_delta(std::vector<OutputDelta>& out, OutputChannel channel, std::string_view text,
                  std::string_view recipient) {
    if (text.empty()) return;
    if (!out.empty() && out.back().channel == channel && out.back().recipient == recipient) {
        out.back().text.append(text);
        return;
    }
    out.push_back({channel, std::string(text), std::string(recipient)});
}

ReasoningTags reasoning_tags(ReasoningFormat format) {
    switch (format) {
        case ReasoningFormat::think_tags: return {"<think>", "</think>"};
        case ReasoningFormat::mistral_think: return {"[THINK]", "[/THINK]"};
        case ReasoningFormat::none:
        case ReasoningFormat::harmony: break;
    }
    return {};
}

namespace {

// ReasoningFormat::none: every byte is content, as it arrives.
class PlainSplitter final : public ReasoningSplitter::Impl {
public:
    void push(std::string_view text, std::vector<OutputDelta>& out) override {
        append_delta(out, OutputChannel::content, text);
    }
    void flush(std::vector<OutputDelta>&) override {}
    bool in_reasoning() const override { return false; }
};

std::unique_ptr<ReasoningSplitter::Impl> make_impl(const ReasoningSplitterOptions& o) {
    switch (o.format) {
        case ReasoningFormat::think_tags:
        case ReasoningFormat::mistral_think: return make_tag_splitter(reasoning_tags(o.format), o.starts_in_reasoning);
        case ReasoningFormat::harmony: return make_harmony_splitter(o.starts_in_reasoning);
        case ReasoningFormat::none: break;
    }
    return std::make_unique<PlainSplitter>();
}

}  // namespace
}  // namespace chat_output

const char* reasoning_format_name(ReasoningFormat format) {
    switch (format) {
        case ReasoningFormat::none: return "none";
        case ReasoningFormat::think_tags: return "think_tags";
        case ReasoningFormat::mistral_think: return "mistral_think";
        case ReasoningFormat::harmony: return "harmony";
    }
    return "unknown";
}

const char* tool_call_format_name(ToolCallFormat format) {
    switch (format) {
        case ToolCallFormat::none: return "none";
        case ToolCallFormat::hermes: return "hermes";
        case ToolCallFormat::llama3_json: return "llama3_json";
        case ToolCallFormat::mistral: return "mistral";
        case ToolCallFormat::harmony: return "harmony";
        case ToolCallFormat::deepseek: return "deepseek";
    }
    return "unknown";
}

ReasoningSplitter::ReasoningSplitter(ReasoningSplitterOptions options)
    : options_(options), impl_(chat_output::make_impl(options)) {}
ReasoningSplitter::~ReasoningSplitter() = default;
ReasoningSplitter::ReasoningSplitter(ReasoningSplitter&&) noexcept = default;
ReasoningSplitter& ReasoningSplitter::operator=(ReasoningSplitter&&) noexcept = default;

std::vector<OutputDelta> ReasoningSplitter::push(std::string_view text) {
    std::vector<OutputDelta> out;
    if (impl_) impl_->push(text, out);
    return out;
}

std::vector<OutputDelta> ReasoningSplitter::flush() {
    std::vector<OutputDelta> out;
    if (impl_) impl_->flush(out);
    return out;
}

bool ReasoningSplitter::in_reasoning() const { return impl_ && impl_->in_reasoning(); }

bool prompt_opens_reasoning(std::string_view rendered_prompt, ReasoningFormat format) {
    if (format == ReasoningFormat::harmony) {
        // Open when the prompt ends right after an analysis header's <|message|>.
        using chat_output::kHarmonyMessage;
        using chat_output::kHarmonyStart;
        const std::string_view p = rendered_prompt;
        if (p.size() < kHarmonyMessage.size() || p.substr(p.size() - kHarmonyMessage.size()) != kHarmonyMessage)
            return false;
        const std::string_view head = p.substr(0, p.size() - kHarmonyMessage.size());
        const size_t start = head.rfind(kHarmonyStart);
        const std::string_view header = start == std::string_view::npos ? head : head.substr(start + kHarmonyStart.size());
        if (header.find(kHarmonyMessage) != std::string_view::npos) return false;
        const chat_output::HarmonyHeader h = chat_output::parse_harmony_header(header);
        return h.channel == "analysis" && h.recipient.empty();
    }
    const chat_output::ReasoningTags tags = chat_output::reasoning_tags(format);
    if (tags.open.empty()) return false;
    const std::string_view p = chat_output::rtrim(rendered_prompt);
    return p.size() >= tags.open.size() && p.substr(p.size() - tags.open.size()) == tags.open;
}

HistoryMessageText split_reasoning_for_history(std::string_view text, ReasoningFormat format) {
    using namespace chat_output;
    HistoryMessageText out;
    auto trim_newlines = [](std::string_view s, bool front, bool back) {
        while (front && !s.empty() && s.front() == '\n') s.remove_prefix(1);
        while (back && !s.empty() && s.back() == '\n') s.remove_suffix(1);
        return s;
    };
    if (format == ReasoningFormat::harmony) {
        ReasoningSplitter splitter({ReasoningFormat::harmony, false});
        auto deltas = splitter.push(text);
        for (auto& d : splitter.flush()) deltas.push_back(std::move(d));
        for (const OutputDelta& d : deltas) {
            if (d.channel == OutputChannel::content) out.content += d.text;
            else if (d.channel == OutputChannel::reasoning) out.reasoning += d.text;
        }
        return out;
    }
    const ReasoningTags tags = reasoning_tags(format);
    const size_t close = tags.close.empty() ? std::string_view::npos : text.find(tags.close);
    if (close == std::string_view::npos) {
        // An opening tag with no end: a turn cut short inside its reasoning.
        const std::string_view lead = ltrim(text);
        if (!tags.open.empty() && lead.substr(0, tags.open.size()) == tags.open) {
            out.reasoning = std::string(trim_newlines(lead.substr(tags.open.size()), true, true));
            return out;
        }
        out.content = std::string(text);
        return out;
    }
    // As the templates do: reasoning is what precedes the first closing tag (after the last
    // opening tag there), content what follows the last closing tag.
    std::string_view before = text.substr(0, close);
    if (const size_t open = before.rfind(tags.open); open != std::string_view::npos)
        before = before.substr(open + tags.open.size());
    out.reasoning = std::string(trim_newlines(before, true, true));
    const size_t last_close = text.rfind(tags.close);
    out.content = std::string(trim_newlines(text.substr(last_close + tags.close.size()), true, false));
    return out;
}

}  // namespace strata
