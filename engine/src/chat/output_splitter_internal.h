// The per-format engines behind ReasoningSplitter (internal).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "strata/chat_output.h"

namespace strata {

struct ReasoningSplitter::Impl {
    virtual ~Impl() = default;
    virtual void push(std::string_view text, std::vector<OutputDelta>& out) = 0;
    virtual void flush(std::vector<OutputDelta>& out) = 0;
    virtual bool in_reasoning() const = 0;
};

namespace chat_output {

// Appends text to `out`, merged into the last delta when channel and recipient match.
void append_delta(std::vector<OutputDelta>& out, OutputChannel channel, std::string_view text,
                  std::string_view recipient = {});

// Opening and closing markers of a tag-delimited reasoning format ("<think>", "</think>").
struct ReasoningTags {
    std::string_view open;
    std::string_view close;
};
// The tags of `format`, or empty ones for formats without tags (none, harmony).
ReasoningTags reasoning_tags(ReasoningFormat format);

std::unique_ptr<ReasoningSplitter::Impl> make_tag_splitter(ReasoningTags tags, bool starts_in_reasoning);
std::unique_ptr<ReasoningSplitter::Impl> make_harmony_splitter(bool starts_in_reasoning);

}  // namespace chat_output
}  // namespace strata
