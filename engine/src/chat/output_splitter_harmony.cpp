// The harmony reasoning splitter: maps the message stream's events to channels. analysis is
// reasoning; a message with a recipient is a tool call; final, commentary preambles and
// anything else are content. Separate messages on one channel are joined by a blank line.
#include <array>

#include "chat/output_harmony.h"
#include "chat/output_splitter_internal.h"

namespace strata::chat_output {

namespace {

OutputChannel channel_for(const HarmonyHeader& h) {
    if (!h.recipient.empty()) return OutputChannel::tool_call;
    if (h.channel == "analysis") return OutputChannel::reasoning;
    return OutputChannel::content;
}

class HarmonySplitter final : public ReasoningSplitter::Impl {
public:
    explicit HarmonySplitter(bool starts_in_reasoning) : stream_(starts_in_reasoning) {}

    void push(std::string_view text, std::vector<OutputDelta>& out) override {
        events_.clear();
        stream_.push(text, events_);
        map(out);
    }

    void flush(std::vector<OutputDelta>& out) override {
        events_.clear();
        stream_.finish(events_);
        map(out);
        fresh_message_ = true;
        had_text_ = {};
    }

    bool in_reasoning() const override {
        return stream_.in_body() && channel_for(stream_.header()) == OutputChannel::reasoning;
    }

private:
    void map(std::vector<OutputDelta>& out) {
        for (const HarmonyEvent& e : events_) {
            switch (e.kind) {
                case HarmonyEvent::Kind::begin:
                case HarmonyEvent::Kind::end:
                    fresh_message_ = true;
                    break;
                case HarmonyEvent::Kind::text:
                    text(out, channel_for(e.header), e.text, e.header.recipient);
                    break;
                case HarmonyEvent::Kind::stray:
                    fresh_message_ = true;
                    text(out, OutputChannel::content, e.text, {});
                    fresh_message_ = true;
                    break;
            }
        }
    }

    void text(std::vector<OutputDelta>& out, OutputChannel channel, std::string_view text,
              std::string_view recipient) {
        if (text.empty()) return;
        auto& had = had_text_[static_cast<size_t>(channel)];
        if (fresh_message_ && had && channel != OutputChannel::tool_call) append_delta(out, channel, "\n\n");
        if (fresh_message_ && channel == OutputChannel::tool_call) {
            out.push_back({channel, std::string(text), std::string(recipient)});  // one call, one delta
        } else {
            append_delta(out, channel, text, recipient);
        }
        had = true;
        fresh_message_ = false;
    }

    HarmonyStream stream_;
    std::vector<HarmonyEvent> events_;
    bool fresh_message_ = true;
    std::array<bool, 3> had_text_{};
};

}  // namespace

std::unique_ptr<ReasoningSplitter::Impl> make_harmony_splitter(bool starts_in_reasoning) {
    return std::make_unique<HarmonySplitter>(starts_in_reasoning);
}

}  // namespace strata::chat_output
