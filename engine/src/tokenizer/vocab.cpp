#include "tokenizer/vocab.h"

#include <algorithm>
#include <array>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "tokenizer/bpe.h"
#include "tokenizer/detokenize.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/special_token_index.h"
#include "tokenizer/spm.h"
#include "tokenizer/unicode.h"

namespace strata {

namespace {

constexpr std::string_view k_spm_space = "\xE2\x96\x81";  // U+2581 "▁"
constexpr std::string_view k_spm_unknown = " \xE2\x81\x87 ";  // " ⁇ "

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
    std::string out;
    out.reserve(text.size());
    size_t pos = 0;
    for (size_t hit; (hit = text.find(from, pos)) != std::string_view::npos; pos = hit + from.size()) {
        out.append(text.substr(pos, hit - pos));
        out.append(to);
    }
    out.append(text.substr(pos));
    return out;
}

// Leading and trailing spaces dropped, every inner run of spaces as one.
std::string collapse_spaces(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    bool pending_space = false;
    for (char ch : text) {
        if (ch == ' ') {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) out += ' ';
        pending_space = false;
        out += ch;
    }
    return out;
}

Status check_id(int32_t id, size_t n_vocab, const char* key) {
    if (id >= -1 && id < static_cast<int64_t>(n_vocab)) return {};
    return make_error(ErrorCode::corrupt, std::string(key) + " = " + std::to_string(id) +
                      " is out of range (n_vocab " + std::to_string(n_vocab) + ")");
}

}  // namespace

struct Vocab::Impl {
    VocabData data;
    std::unordered_map<std::string_view, int32_t> token_to_id;  // every token, first id wins
    tokenizer::SpecialTokenIndex control;       // matched with parse_special
    tokenizer::SpecialTokenIndex user_defined;  // always matched
    std::optional<tokenizer::SpmEncoder> spm;
    std::optional<tokenizer::BpeEncoder> bpe;

    TokenType type(int32_t id) const { return data.types.empty() ? TokenType::normal : data.types[id]; }
    bool valid(int32_t id) const { return id >= 0 && id < static_cast<int32_t>(data.tokens.size()); }

    // The id of the longest matchable token spelled at text[pos..], with its length; -1 if none.
    // Control tokens count only with parse_special.
    std::pair<int32_t, size_t> match_special(std::string_view text, size_t pos, bool parse_special) const {
        const auto user = user_defined.longest_at(text, pos);
        if (!parse_special) return user;
        const auto ctrl = control.longest_at(text, pos);
        return ctrl.second > user.second ? ctrl : user;
    }

    void encode_plain(std::string_view text, bool after_special, std::vector<int32_t>& out,
                      tokenizer::PieceCache& cache) const {
        if (spm) {
            std::string normalized;
            if (data.remove_extra_whitespaces) {
                // SentencePiece's normalizer option: no leading or trailing spaces, runs as one.
                const std::string collapsed = collapse_spaces(text);
                if (collapsed.empty()) return;
                if (data.add_space_prefix && after_special) normalized = k_spm_space;
                normalized += replace_all(collapsed, " ", k_spm_space);
            } else {
                if (data.add_space_prefix && after_special) normalized = k_spm_space;
                normalized += replace_all(text, " ", k_spm_space);
            }
            spm->encode(normalized, out, &cache);
        } else {
            bpe->encode(text, out, &cache);
        }
    }
};

Vocab::Vocab(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Vocab::~Vocab() = default;

Result<std::shared_ptr<const Vocab>> Vocab::create(VocabData data) {
    auto impl = std::make_unique<Impl>();
    impl->data = std::move(data);
    const VocabData& d = impl->data;
    const size_t n = d.tokens.size();
    if (n == 0) return make_error(ErrorCode::corrupt, "tokenizer.ggml.tokens is empty");
    if (n > static_cast<size_t>(INT32_MAX)) {
        return make_error(ErrorCode::corrupt, "tokenizer.ggml.tokens has " + std::to_string(n) + " entries (too many)");
    }
    if (!d.scores.empty() && d.scores.size() != n) {
        return make_error(ErrorCode::corrupt, "tokenizer.ggml.scores has " + std::to_string(d.scores.size()) +
                          " entries, tokenizer.ggml.tokens has " + std::to_string(n));
    }
    if (!d.types.empty() && d.types.size() != n) {
        return make_error(ErrorCode::corrupt, "tokenizer.ggml.token_type has " + std::to_string(d.types.size()) +
                          " entries, tokenizer.ggml.tokens has " + std::to_string(n));
    }
    for (size_t i = 0; i < d.types.size(); ++i) {
        const auto t = static_cast<int32_t>(d.types[i]);
        if (t < 0 || t > static_cast<int32_t>(TokenType::byte)) {
            return make_error(ErrorCode::corrupt, "tokenizer.ggml.token_type[" + std::to_string(i) + "] = " +
                              std::to_string(t) + " is not a known token type (0..6)");
        }
    }
    STRATA_RETURN_IF_ERROR(check_id(d.bos_id, n, "tokenizer.ggml.bos_token_id"));
    STRATA_RETURN_IF_ERROR(check_id(d.eos_id, n, "tokenizer.ggml.eos_token_id"));
    STRATA_RETURN_IF_ERROR(check_id(d.unk_id, n, "tokenizer.ggml.unknown_token_id"));
    STRATA_RETURN_IF_ERROR(check_id(d.pad_id, n, "tokenizer.ggml.padding_token_id"));
    for (int32_t id : d.extra_eog_ids) {
        STRATA_RETURN_IF_ERROR(check_id(id, n, "end-of-generation token id (tokenizer.ggml.eot/eom_token_id)"));
    }

    impl->token_to_id.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        const auto id = static_cast<int32_t>(i);
        impl->token_to_id.try_emplace(std::string_view(d.tokens[i]), id);
        const TokenType t = impl->type(id);
        if (t == TokenType::control) impl->control.add(id, d.tokens[i]);
        if (t == TokenType::user_defined) impl->user_defined.add(id, d.tokens[i]);
    }
    impl->control.finish();
    impl->user_defined.finish();

    if (d.kind == VocabKind::spm) {
        auto spm = tokenizer::SpmEncoder::build(d);
        if (!spm.ok()) return spm.status();
        impl->spm.emplace(std::move(spm).value());
    } else {
        const tokenizer::PreTokenizer* pre = tokenizer::pre_tokenizer_from_name(d.pre);
        if (!pre) {
            return make_error(ErrorCode::unsupported, "tokenizer.ggml.pre = '" + d.pre +
                              "' is not a supported pre-tokenizer (supported: " +
                              tokenizer::supported_pre_tokenizer_names() + ")");
        }
        auto bpe = tokenizer::BpeEncoder::build(d, *pre);
        if (!bpe.ok()) return bpe.status();
        impl->bpe.emplace(std::move(bpe).value());
    }
    return std::shared_ptr<const Vocab>(new Vocab(std::move(impl)));
}

VocabKind Vocab::kind() const { return impl_->data.kind; }
int32_t Vocab::n_tokens() const { return static_cast<int32_t>(impl_->data.tokens.size()); }
int32_t Vocab::bos() const { return impl_->data.bos_id; }
int32_t Vocab::eos() const { return impl_->data.eos_id; }
int32_t Vocab::unk() const { return impl_->data.unk_id; }
int32_t Vocab::pad() const { return impl_->data.pad_id; }
bool Vocab::add_bos() const { return impl_->data.add_bos; }
bool Vocab::add_eos() const { return impl_->data.add_eos; }
bool Vocab::add_space_prefix() const { return impl_->data.kind == VocabKind::spm && impl_->data.add_space_prefix; }
const std::string& Vocab::pre() const { return impl_->data.pre; }

bool Vocab::is_eog(int32_t id) const {
    if (id < 0) return false;
    const auto& extra = impl_->data.extra_eog_ids;
    return id == impl_->data.eos_id || std::find(extra.begin(), extra.end(), id) != extra.end();
}

bool Vocab::is_control(int32_t id) const { return impl_->valid(id) && impl_->type(id) == TokenType::control; }

TokenType Vocab::token_type(int32_t id) const { return impl_->valid(id) ? impl_->type(id) : TokenType::undefined; }

const std::string& Vocab::token_text(int32_t id) const {
    static const std::string empty;
    return impl_->valid(id) ? impl_->data.tokens[id] : empty;
}

int32_t Vocab::find_token(std::string_view text) const {
    const auto it = impl_->token_to_id.find(text);
    return it == impl_->token_to_id.end() ? -1 : it->second;
}

namespace {
// Whether [begin, end) overlaps one of the sorted, disjoint ranges.
bool overlaps(const std::vector<std::pair<size_t, size_t>>& ranges, size_t begin, size_t end) {
    auto it = std::upper_bound(ranges.begin(), ranges.end(), begin,
                               [](size_t b, const std::pair<size_t, size_t>& r) { return b < r.second; });
    return it != ranges.end() && it->first < end;
}
}  // namespace

std::vector<int32_t> Vocab::encode(std::string_view text, bool add_bos, bool parse_special) const {
    return encode(text, EncodeOptions{add_bos, false, parse_special});
}

std::vector<int32_t> Vocab::encode(std::string_view text, const EncodeOptions& options) const {
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 2);
    if (options.add_bos && impl_->data.bos_id >= 0) out.push_back(impl_->data.bos_id);
    bool after_special = true;  // the text's start counts as following a special token
    size_t plain_start = 0;
    tokenizer::PieceCache cache;
    if (!impl_->user_defined.empty() || (options.parse_special && !impl_->control.empty())) {
        for (size_t pos = 0; pos < text.size();) {
            auto [id, len] = impl_->match_special(text, pos, options.parse_special);
            if (id >= 0 && options.parse_special && options.literal && overlaps(*options.literal, pos, pos + len))
                std::tie(id, len) = impl_->match_special(text, pos, false);
            if (id < 0) {
                ++pos;
                continue;
            }
            if (pos > plain_start) impl_->encode_plain(text.substr(plain_start, pos - plain_start), after_special, out, cache);
            out.push_back(id);
            after_special = true;
            pos += len;
            plain_start = pos;
        }
    }
    if (text.size() > plain_start) impl_->encode_plain(text.substr(plain_start), after_special, out, cache);
    if (options.add_eos && impl_->data.eos_id >= 0) out.push_back(impl_->data.eos_id);
    return out;
}

std::string Vocab::token_to_bytes(int32_t id) const {
    if (!impl_->valid(id)) return {};
    const std::string& text = impl_->data.tokens[id];
    const TokenType type = impl_->type(id);
    const bool spm = impl_->data.kind == VocabKind::spm;
    switch (type) {
        case TokenType::control:
        case TokenType::unused:
            return {};
        case TokenType::byte: {
            const int b = tokenizer::parse_byte_token(text);
            return b < 0 ? text : std::string(1, static_cast<char>(b));
        }
        case TokenType::unknown:
            return spm ? std::string(k_spm_unknown) : text;
        case TokenType::user_defined:
            return spm ? replace_all(text, k_spm_space, " ") : text;
        case TokenType::normal:
        case TokenType::undefined:
            break;
    }
    if (spm) {
        if (impl_->data.types.empty()) {  // no types: byte tokens are known by their spelling
            const int b = tokenizer::parse_byte_token(text);
            if (b >= 0) return std::string(1, static_cast<char>(b));
        }
        return replace_all(text, k_spm_space, " ");
    }
    // Byte-level BPE: every character stands for one byte; anything else is kept as it is.
    std::string out;
    out.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) {
        const unicode::Utf8Step step = unicode::utf8_step(text, pos);
        const int b = step.status == unicode::Utf8Status::complete ? tokenizer::codepoint_to_byte(step.cp) : -1;
        if (b >= 0) {
            out += static_cast<char>(b);
        } else {
            out.append(text, pos, step.len);
        }
        pos += step.len;
    }
    return out;
}

std::string Vocab::decode(const std::vector<int32_t>& ids, bool strip_leading_space) const {
    std::string out, pending;
    bool at_start = true;
    for (int32_t id : ids) tokenizer::detokenize_push(*this, strip_leading_space, /*control_text=*/false, id, at_start, pending, out);
    tokenizer::detokenize_flush(pending, out);
    return out;
}

}  // namespace strata
