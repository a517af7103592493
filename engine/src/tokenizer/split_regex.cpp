#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/split_regex.h"

#include <pcre2.h>

#include "tokenizer/unicode.h"

namespace strata::tokenizer {

struct SplitRegex::Code {
    pcre2_code* code = nullptr;
    bool jit = false;
    ~Code() { pcre2_code_free(code); }
};

namespace {

// What one thread needs to run any SplitRegex: match data for the whole-match offsets only (so it
// fits every pattern) and a JIT stack that can grow well past PCRE2's 32 KiB default (long runs
// of white space under `\s+(?!\S)` need more). Built on first use, freed at thread exit.
class ThreadMatchState {
public:
    ThreadMatchState() {
        data_ = pcre2_match_data_create(1, nullptr);
        context_ = pcre2_match_context_create(nullptr);
        stack_ = pcre2_jit_stack_create(32 * 1024, 16 * 1024 * 1024, nullptr);
        if (context_ && stack_) pcre2_jit_stack_assign(context_, nullptr, stack_);
    }
    ~ThreadMatchState() {
        pcre2_jit_stack_free(stack_);
        pcre2_match_context_free(context_);
        pcre2_match_data_free(data_);
    }
    ThreadMatchState(const ThreadMatchState&) = delete;
    ThreadMatchState& operator=(const ThreadMatchState&) = delete;

    pcre2_match_data* data() const { return data_; }
    pcre2_match_context* context() const { return context_; }

private:
    pcre2_match_data* data_ = nullptr;
    pcre2_match_context* context_ = nullptr;
    pcre2_jit_stack* stack_ = nullptr;
};

ThreadMatchState& thread_match_state() {
    thread_local ThreadMatchState state;
    return state;
}

std::string pcre2_message(int code) {
    PCRE2_UCHAR buffer[256];
    const int n = pcre2_get_error_message(code, buffer, sizeof(buffer));
    return n < 0 ? "PCRE2 error " + std::to_string(code) : std::string(reinterpret_cast<const char*>(buffer));
}

}  // namespace

Result<SplitRegex> SplitRegex::create(std::string pattern) {
    int error = 0;
    PCRE2_SIZE error_offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error, &error_offset, nullptr);
    if (!code) {
        return make_error(ErrorCode::invalid_argument, "split pattern '" + pattern + "' does not compile: " +
                          pcre2_message(error) + " (at offset " + std::to_string(error_offset) + ")");
    }
    auto compiled = std::make_shared<Code>();
    compiled->code = code;
    // Without JIT support (or on a JIT failure) pcre2_match runs the interpreter: same results.
    compiled->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
    SplitRegex regex;
    regex.pattern_ = std::move(pattern);
    regex.code_ = std::move(compiled);
    return regex;
}

bool SplitRegex::jit() const { return code_ && code_->jit; }

void SplitRegex::split(std::string_view text, std::vector<std::string_view>& out) const {
    if (text.empty()) return;
    ThreadMatchState& state = thread_match_state();
    if (!code_ || !state.data()) {  // allocation failed: the text stays whole rather than crash
        out.push_back(text);
        return;
    }
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t pos = 0;        // where the next search starts
    size_t emitted = 0;    // end of the last piece pushed
    while (pos < text.size()) {
        int rc = pcre2_match(code_->code, subject, text.size(), pos, 0, state.data(), state.context());
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
            // A match deeper than even the grown JIT stack: the interpreter keeps its frames on
            // the heap and gets the same answer.
            rc = pcre2_match(code_->code, subject, text.size(), pos, PCRE2_NO_JIT, state.data(), state.context());
        }
        if (rc < 0) break;  // no further match, or a resource limit: the rest is one piece
        const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(state.data());
        const size_t start = ovector[0], end = ovector[1];
        if (start < emitted || end < start || end > text.size()) break;  // \K tricks; none of ours
        if (end == start) {
            if (start >= text.size()) break;
            // An empty match is no piece (as in tokenizers); search again one character on.
            pos = start + unicode::utf8_step(text, start).len;
            continue;
        }
        if (start > emitted) out.push_back(text.substr(emitted, start - emitted));
        out.push_back(text.substr(start, end - start));
        emitted = pos = end;
    }
    if (emitted < text.size()) out.push_back(text.substr(emitted));
}

}  // namespace strata::tokenizer
