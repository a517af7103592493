// The tag-delimited reasoning splitter (<think>…</think>, [THINK]…[/THINK]).
//
// Only a block at the very start of the output is reasoning (see chat_output.h for why).
// Every decision depends on the bytes seen so far and never on where chunks were cut: bytes
// that a later chunk could turn into a marker, or into framing whitespace, are held back.
#include <string>

#include "chat/output_splitter_internal.h"
#include "chat/output_text.h"

namespace strata::chat_output {

namespace {

class TagSplitter final : public ReasoningSplitter::Impl {
public:
    TagSplitter(ReasoningTags tags, bool starts_in_reasoning)
        : tags_(tags), starts_in_reasoning_(starts_in_reasoning) {}

    void push(std::string_view text, std::vector<OutputDelta>& out) override {
        pending_.append(text);
        drain(out);
    }

    void flush(std::vector<OutputDelta>& out) override {
        switch (state_) {
            case State::start:
                // Never decided: blank text or a partial opening tag that never completed.
                if (starts_in_reasoning_) append_delta(out, OutputChannel::reasoning, trim(pending_));
                else append_delta(out, OutputChannel::content, pending_);
                break;
            case State::reasoning:
                // Unterminated block: all of it was reasoning, a partial closing tag included.
                append_delta(out, OutputChannel::reasoning, rtrim(pending_));
                break;
            case State::content:
                append_delta(out, OutputChannel::content, pending_);
                break;
            case State::reasoning_lead:
            case State::content_lead:
                break;  // only framing whitespace was held
        }
        pending_.clear();
        state_ = State::start;
    }

    bool in_reasoning() const override {
        return state_ == State::reasoning || state_ == State::reasoning_lead ||
               (state_ == State::start && starts_in_reasoning_);
    }

private:
    enum class State {
        start,           // nothing decided: leading whitespace and maybe a partial opening tag
        reasoning_lead,  // in reasoning, dropping its leading whitespace
        reasoning,       // in reasoning
        content_lead,    // after the closing tag, dropping the content's leading whitespace
        content,         // everything else is content, verbatim
    };

    void drain(std::vector<OutputDelta>& out) {
        for (;;) {
            switch (state_) {
                case State::start: {
                    const size_t first = skip_space(pending_, 0);
                    const std::string_view rest = std::string_view(pending_).substr(first);
                    if (rest.empty()) return;
                    if (rest.substr(0, tags_.open.size()) == tags_.open) {
                        pending_.erase(0, first + tags_.open.size());
                        state_ = State::reasoning_lead;
                        continue;
                    }
                    if (rest.size() < tags_.open.size() && tags_.open.substr(0, rest.size()) == rest) return;
                    state_ = starts_in_reasoning_ ? State::reasoning_lead : State::content;
                    continue;
                }
                case State::reasoning_lead:
                case State::content_lead: {
                    pending_.erase(0, skip_space(pending_, 0));
                    if (pending_.empty()) return;
                    state_ = state_ == State::reasoning_lead ? State::reasoning : State::content;
                    continue;
                }
                case State::reasoning: {
                    const size_t close = pending_.find(tags_.close);
                    if (close != std::string::npos) {
                        append_delta(out, OutputChannel::reasoning, rtrim(std::string_view(pending_).substr(0, close)));
                        pending_.erase(0, close + tags_.close.size());
                        state_ = State::content_lead;
                        continue;
                    }
                    const std::string_view markers[] = {tags_.close};
                    size_t keep = pending_.size() - partial_marker_suffix(pending_, markers);
                    // Trailing whitespace waits: it is dropped if the closing tag follows.
                    while (keep > 0 && is_space(pending_[keep - 1])) --keep;
                    append_delta(out, OutputChannel::reasoning, std::string_view(pending_).substr(0, keep));
                    pending_.erase(0, keep);
                    return;
                }
                case State::content:
                    append_delta(out, OutputChannel::content, pending_);
                    pending_.clear();
                    return;
            }
        }
    }

    ReasoningTags tags_;
    bool starts_in_reasoning_;
    State state_ = State::start;
    std::string pending_;
};

}  // namespace

std::unique_ptr<ReasoningSplitter::Impl> make_tag_splitter(ReasoningTags tags, bool starts_in_reasoning) {
    return std::make_unique<TagSplitter>(tags, starts_in_reasoning);
}

}  // namespace strata::chat_output
