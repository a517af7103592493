// TrackedText: a UTF-8 string that remembers which of its bytes came from untrusted input
// (message and tool data), so the rendered prompt can be tokenized with special-token parsing
// on for the template's own markup and off for what a user typed.
//
// Operations that copy bytes through unchanged (append, substr) keep the ranges exactly; code
// that builds a new string some other way uses `derived`, which marks the whole result untrusted
// when any input was (conservative: it may over-mark, never under-mark). A plain value type.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace strata::jinja {

struct ByteRange {
    size_t begin = 0;
    size_t end = 0;  // exclusive
    bool operator==(const ByteRange&) const = default;
};

class TrackedText {
public:
    TrackedText() = default;
    explicit TrackedText(std::string trusted) : bytes_(std::move(trusted)) {}

    // All bytes untrusted (a string that came from the input data).
    static TrackedText untrusted(std::string bytes);
    // A string computed from inputs: untrusted as a whole when `from_untrusted`.
    static TrackedText derived(std::string bytes, bool from_untrusted);

    const std::string& str() const { return bytes_; }
    size_t size() const { return bytes_.size(); }
    bool empty() const { return bytes_.empty(); }

    // Sorted, disjoint, non-empty, non-adjacent ranges.
    const std::vector<ByteRange>& untrusted_ranges() const { return untrusted_; }
    bool has_untrusted() const { return !untrusted_.empty(); }

    void append(std::string_view trusted) { bytes_ += trusted; }
    void append(const TrackedText& other);
    void mark_untrusted(size_t begin, size_t end);

    // Bytes [begin, end) with their ranges (clipped and shifted).
    TrackedText substr(size_t begin, size_t end) const;

private:
    std::string bytes_;
    std::vector<ByteRange> untrusted_;
};

}  // namespace strata::jinja
