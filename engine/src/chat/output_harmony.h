// The gpt-oss harmony message stream (internal): cuts generated text into messages
// `<|start|>{header}<|message|>{body}<|end|>` as it arrives. The ReasoningSplitter maps its
// events to channels; the tool-call parser collects whole messages from it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace strata::chat_output {

inline constexpr std::string_view kHarmonyStart = "<|start|>";
inline constexpr std::string_view kHarmonyEnd = "<|end|>";
inline constexpr std::string_view kHarmonyMessage = "<|message|>";
inline constexpr std::string_view kHarmonyChannel = "<|channel|>";
inline constexpr std::string_view kHarmonyConstrain = "<|constrain|>";
inline constexpr std::string_view kHarmonyReturn = "<|return|>";
inline constexpr std::string_view kHarmonyCall = "<|call|>";

// What a message header says: `assistant<|channel|>commentary to=functions.f <|constrain|>json`
// gives role "assistant", channel "commentary", recipient "functions.f", content type "json".
// The recipient may also follow the role ("assistant to=functions.f<|channel|>commentary json").
struct HarmonyHeader {
    std::string role;
    std::string channel;
    std::string recipient;
    std::string content_type;
};

HarmonyHeader parse_harmony_header(std::string_view header);

struct HarmonyEvent {
    enum class Kind {
        begin,  // a message body starts: `header` says what it is
        text,   // body text
        end,    // the body ended; `text` is the marker that ended it ("" when implicit: a new
                // header began without <|end|>, or the output ended)
        stray,  // text outside any message that is not structure (a model not speaking harmony)
    };
    Kind kind = Kind::text;
    HarmonyHeader header;
    std::string text;
    size_t offset = 0;  // input byte offset: of the body for begin, of the text for text/stray
};

class HarmonyStream {
public:
    // starts_in_analysis: the prompt ended inside an analysis message body.
    explicit HarmonyStream(bool starts_in_analysis);

    void push(std::string_view text, std::vector<HarmonyEvent>& out);
    // Ends the stream (closing an unterminated message) and resets it for a new one.
    void finish(std::vector<HarmonyEvent>& out);

    bool in_body() const { return in_body_; }
    const HarmonyHeader& header() const { return header_; }

private:
    void drain(std::vector<HarmonyEvent>& out, bool at_end);
    void consume(size_t n);
    void reset();

    bool starts_in_analysis_;
    bool in_body_ = false;
    HarmonyHeader header_;
    std::string pending_;
    size_t pending_offset_ = 0;  // input offset of pending_[0]
};

}  // namespace strata::chat_output
