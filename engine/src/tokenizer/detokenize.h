// Shared core of Vocab::decode and StreamingDetokenizer (internal).
#pragma once

#include <cstdint>
#include <string>

namespace strata {
class Vocab;
}

namespace strata::tokenizer {

// Appends to `out` the text that becomes complete with token `id`; `pending` holds the bytes
// of an unfinished UTF-8 character between calls, `at_start` is true until a non-BOS token
// has been seen (for the SPM leading-space rule).
void detokenize_push(const Vocab& vocab, bool strip_leading_space, bool control_text, int32_t id, bool& at_start,
                     std::string& pending, std::string& out);
// Appends whatever `pending` still holds (one U+FFFD for an unfinished character) and clears it.
void detokenize_flush(std::string& pending, std::string& out);

}  // namespace strata::tokenizer
