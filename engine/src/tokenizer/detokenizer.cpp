#include "tokenizer/detokenize.h"

#include <utility>

#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace strata::tokenizer {

void detokenize_push(const Vocab& vocab, bool strip_leading_space, bool control_text, int32_t id, bool& at_start,
                     std::string& pending, std::string& out) {
    if (id < 0 || id >= vocab.n_tokens()) return;
    if (at_start && id == vocab.bos()) return;  // still at the start: the next piece follows BOS
    std::string bytes = control_text && vocab.is_control(id) ? vocab.token_text(id) : vocab.token_to_bytes(id);
    if (at_start && strip_leading_space && vocab.kind() == VocabKind::spm && vocab.add_space_prefix() &&
        !bytes.empty() && bytes[0] == ' ') {
        bytes.erase(0, 1);
    }
    at_start = false;
    if (pending.empty()) {
        const size_t held = unicode::append_valid_utf8(out, bytes);
        pending.assign(bytes, bytes.size() - held, held);
    } else {
        pending += bytes;
        std::string joined = std::move(pending);
        const size_t held = unicode::append_valid_utf8(out, joined);
        pending.assign(joined, joined.size() - held, held);
    }
}

void detokenize_flush(std::string& pending, std::string& out) {
    if (!pending.empty()) out.append(unicode::k_replacement_char);
    pending.clear();
}

}  // namespace strata::tokenizer

namespace strata {

StreamingDetokenizer::StreamingDetokenizer(std::shared_ptr<const Vocab> vocab, bool strip_leading_space,
                                           bool control_text)
    : vocab_(std::move(vocab)), at_start_(true), strip_leading_space_(strip_leading_space), control_text_(control_text) {}

std::string StreamingDetokenizer::push(int32_t id) {
    std::string out;
    if (vocab_) tokenizer::detokenize_push(*vocab_, strip_leading_space_, control_text_, id, at_start_, pending_, out);
    return out;
}

std::string StreamingDetokenizer::flush() {
    std::string out;
    tokenizer::detokenize_flush(pending_, out);
    return out;
}

}  // namespace strata
