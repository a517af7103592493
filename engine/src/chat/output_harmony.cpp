// The harmony message stream: headers are held until <|message|> decides them, body text is
// released except for a possible marker prefix at its end.
#include "chat/output_harmony.h"

#include "chat/output_text.h"

namespace strata::chat_output {

namespace {

// A header longer than this is not one: the model is writing plain text, shown as content.
// Real headers ("assistant<|channel|>commentary to=functions.NAME <|constrain|>json") are far
// shorter. Decided on the first bytes only, so chunking cannot change the outcome.
constexpr size_t kMaxHeader = 512;

std::vector<std::string_view> words(std::string_view s) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
        i = skip_space(s, i);
        size_t j = i;
        while (j < s.size() && !is_space(s[j])) ++j;
        if (j > i) out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

// Searched in a header: what ends it (<|message|>) or abandons it.
constexpr std::string_view kHeaderMarkers[] = {kHarmonyStart, kHarmonyMessage, kHarmonyEnd, kHarmonyReturn,
                                               kHarmonyCall};
// Searched in a body, in this order of index (the code below relies on it).
constexpr std::string_view kBodyMarkers[] = {kHarmonyEnd,     kHarmonyReturn,   kHarmonyCall,
                                             kHarmonyStart,   kHarmonyChannel,  kHarmonyMessage,
                                             kHarmonyConstrain};

bool has_marker(std::string_view s) { return s.find("<|") != std::string_view::npos; }

}  // namespace

HarmonyHeader parse_harmony_header(std::string_view header) {
    HarmonyHeader h;
    // <|constrain|> only introduces the content type: make it a word boundary.
    std::string flat(header);
    for (size_t p; (p = flat.find(kHarmonyConstrain)) != std::string::npos;)
        flat.replace(p, kHarmonyConstrain.size(), " \x01");
    const size_t ch = flat.find(kHarmonyChannel);
    const std::string_view all(flat);
    const std::string_view role_part = all.substr(0, ch);
    const std::string_view channel_part =
        ch == std::string::npos ? std::string_view() : all.substr(ch + kHarmonyChannel.size());

    auto take = [&h](std::string_view w) {
        if (w.substr(0, 3) == "to=") {
            h.recipient = std::string(w.substr(3));
            return true;
        }
        if (!w.empty() && w[0] == '\x01') {
            h.content_type = std::string(w.substr(1));
            return true;
        }
        return false;
    };
    bool first = true;
    for (std::string_view w : words(role_part)) {
        if (take(w)) continue;
        if (first) h.role = std::string(w);
        first = false;
    }
    first = true;
    for (std::string_view w : words(channel_part)) {
        if (take(w)) continue;
        if (first) h.channel = std::string(w);
        else if (h.content_type.empty()) h.content_type = std::string(w);  // "commentary json"
        first = false;
    }
    return h;
}

HarmonyStream::HarmonyStream(bool starts_in_analysis) : starts_in_analysis_(starts_in_analysis) { reset(); }

void HarmonyStream::reset() {
    pending_.clear();
    pending_offset_ = 0;
    header_ = {};
    in_body_ = starts_in_analysis_;
    if (starts_in_analysis_) {
        header_.role = "assistant";
        header_.channel = "analysis";
    }
}

void HarmonyStream::consume(size_t n) {
    pending_.erase(0, n);
    pending_offset_ += n;
}

void HarmonyStream::push(std::string_view text, std::vector<HarmonyEvent>& out) {
    pending_.append(text);
    drain(out, false);
}

void HarmonyStream::finish(std::vector<HarmonyEvent>& out) {
    drain(out, true);
    if (in_body_) {
        HarmonyEvent e;
        e.kind = HarmonyEvent::Kind::end;
        e.offset = pending_offset_;
        out.push_back(std::move(e));
    }
    reset();
}

void HarmonyStream::drain(std::vector<HarmonyEvent>& out, bool at_end) {
    auto emit = [&](HarmonyEvent::Kind kind, std::string_view text, size_t offset) {
        HarmonyEvent e;
        e.kind = kind;
        e.text = std::string(text);
        e.offset = offset;
        e.header = header_;
        out.push_back(std::move(e));
    };
    auto stray = [&](size_t n) {
        // Header leftovers with markers in them are structure (a header cut short); plain
        // non-blank text is something the model said and must not be lost.
        const std::string_view s(pending_.data(), n);
        if (!has_marker(s) && !trim(s).empty()) emit(HarmonyEvent::Kind::stray, s, pending_offset_);
    };
    while (!pending_.empty()) {
        if (!in_body_) {
            const std::string_view window = std::string_view(pending_).substr(0, kMaxHeader);
            const auto [p, which] = find_first_of_markers(window, kHeaderMarkers);
            if (p == std::string_view::npos) {
                if (pending_.size() >= kMaxHeader) {
                    // Not a header: plain text, shown as a message without a channel.
                    header_ = {};
                    in_body_ = true;
                    emit(HarmonyEvent::Kind::begin, {}, pending_offset_);
                    continue;
                }
                if (at_end) {
                    stray(pending_.size());
                    consume(pending_.size());
                }
                return;
            }
            if (which == 1) {  // <|message|>: the header is complete
                header_ = parse_harmony_header(std::string_view(pending_).substr(0, p));
                consume(p + kHarmonyMessage.size());
                in_body_ = true;
                emit(HarmonyEvent::Kind::begin, {}, pending_offset_);
                continue;
            }
            stray(p);
            consume(p + kHeaderMarkers[which].size());
            continue;
        }
        const auto [p, which] = find_first_of_markers(pending_, kBodyMarkers);
        if (p == std::string_view::npos) {
            const size_t hold = at_end ? 0 : partial_marker_suffix(pending_, kBodyMarkers);
            const size_t n = pending_.size() - hold;
            if (n > 0) emit(HarmonyEvent::Kind::text, std::string_view(pending_).substr(0, n), pending_offset_);
            consume(n);
            return;
        }
        if (p > 0) emit(HarmonyEvent::Kind::text, std::string_view(pending_).substr(0, p), pending_offset_);
        consume(p);
        const std::string_view marker = kBodyMarkers[which];
        if (which >= 5) {  // <|message|> or <|constrain|> inside a body: a stray token, dropped
            consume(marker.size());
            continue;
        }
        // <|end|>, <|return|>, <|call|> end the message; <|start|> or <|channel|> begin the next
        // one without an <|end|> (the <|channel|> stays: it is part of the new header).
        const bool explicit_end = which <= 2;
        emit(HarmonyEvent::Kind::end, explicit_end ? marker : std::string_view(), pending_offset_);
        if (which != 4) consume(marker.size());
        in_body_ = false;
        header_ = {};
    }
}

}  // namespace strata::chat_output
