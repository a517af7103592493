#include "chat/tracked_text.h"

#include <algorithm>

namespace strata::jinja {

TrackedText TrackedText::untrusted(std::string bytes) {
    TrackedText t(std::move(bytes));
    t.mark_untrusted(0, t.size());
    return t;
}

TrackedText TrackedText::derived(std::string bytes, bool from_untrusted) {
    return from_untrusted ? untrusted(std::move(bytes)) : TrackedText(std::move(bytes));
}

void TrackedText::mark_untrusted(size_t begin, size_t end) {
    end = std::min(end, bytes_.size());
    if (begin >= end) return;
    // Ranges are only ever added at or after the last one while appending; merge generally
    // anyway so the invariant holds for any caller.
    if (untrusted_.empty() || untrusted_.back().end < begin) {
        untrusted_.push_back({begin, end});
        return;
    }
    if (untrusted_.back().end >= begin && untrusted_.back().begin <= begin) {
        untrusted_.back().end = std::max(untrusted_.back().end, end);
        return;
    }
    untrusted_.push_back({begin, end});
    std::sort(untrusted_.begin(), untrusted_.end(),
              [](const ByteRange& a, const ByteRange& b) { return a.begin < b.begin; });
    std::vector<ByteRange> merged;
    for (const auto& r : untrusted_) {
        if (!merged.empty() && merged.back().end >= r.begin) merged.back().end = std::max(merged.back().end, r.end);
        else merged.push_back(r);
    }
    untrusted_ = std::move(merged);
}

void TrackedText::append(const TrackedText& other) {
    const size_t base = bytes_.size();
    bytes_ += other.bytes_;
    for (const auto& r : other.untrusted_) mark_untrusted(base + r.begin, base + r.end);
}

TrackedText TrackedText::substr(size_t begin, size_t end) const {
    end = std::min(end, bytes_.size());
    if (begin >= end) return {};
    TrackedText out(bytes_.substr(begin, end - begin));
    for (const auto& r : untrusted_) {
        const size_t b = std::max(r.begin, begin);
        const size_t e = std::min(r.end, end);
        if (b < e) out.mark_untrusted(b - begin, e - begin);
    }
    return out;
}

}  // namespace strata::jinja
