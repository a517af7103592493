#include "tokenizer/vocab_loader.h"

#include <algorithm>
#include <array>
#include <string>

#include "tokenizer/pretokenizer.h"

namespace strata {

namespace {

constexpr std::string_view k_prefix = "tokenizer.ggml.";

std::string key(std::string_view name) { return std::string(k_prefix) + std::string(name); }

// An optional token id key; absent → `fallback`. Range is checked by Vocab::create.
Result<int32_t> read_id(const gguf::GgufFile& file, std::string_view name, int32_t fallback) {
    const std::string k = key(name);
    STRATA_ASSIGN_OR_RETURN(std::optional<int64_t> v, file.get_int(k));
    if (!v) return fallback;
    if (*v == -1 || *v == 0xFFFFFFFFll) return -1;  // "none", as converters write it (uint32 -1)
    if (*v < -1 || *v > INT32_MAX) {
        return make_error(ErrorCode::corrupt, k + " = " + std::to_string(*v) + " is not a token id");
    }
    return static_cast<int32_t>(*v);
}

Result<bool> read_bool(const gguf::GgufFile& file, std::string_view name, bool fallback) {
    STRATA_ASSIGN_OR_RETURN(std::optional<bool> v, file.get_bool(key(name)));
    return v.value_or(fallback);
}

}  // namespace

Result<VocabData> read_vocab_data(const gguf::GgufFile& file) {
    VocabData d;
    const auto model = file.get_string(key("model"));
    if (!model.ok()) return model.status();
    if (!model.value()) return make_error(ErrorCode::not_found, key("model") + " is missing (the file has no tokenizer)");
    const std::string& model_name = *model.value();
    if (model_name == "llama") {
        d.kind = VocabKind::spm;
    } else if (model_name == "gpt2") {
        d.kind = VocabKind::bpe;
    } else {
        return make_error(ErrorCode::unsupported, key("model") + " = '" + model_name +
                          "' is not supported (supported: llama, gpt2)");
    }

    STRATA_ASSIGN_OR_RETURN(auto tokens, file.get_string_array(key("tokens")));
    if (!tokens) return make_error(ErrorCode::not_found, key("tokens") + " is missing");
    if (tokens->empty()) return make_error(ErrorCode::corrupt, key("tokens") + " is empty");
    if (tokens->size() > static_cast<size_t>(INT32_MAX)) {
        return make_error(ErrorCode::corrupt, key("tokens") + " has too many entries (" +
                          std::to_string(tokens->size()) + ")");
    }
    const size_t n = tokens->size();
    d.tokens.reserve(n);
    for (std::string_view t : *tokens) d.tokens.emplace_back(t);

    STRATA_ASSIGN_OR_RETURN(auto scores, file.get_number_array(key("scores")));
    if (scores) {
        if (scores->size() != n) {
            return make_error(ErrorCode::corrupt, key("scores") + " has " + std::to_string(scores->size()) +
                              " entries, " + key("tokens") + " has " + std::to_string(n));
        }
        d.scores.assign(scores->begin(), scores->end());
    }

    STRATA_ASSIGN_OR_RETURN(auto types, file.get_number_array(key("token_type")));
    if (types) {
        if (types->size() != n) {
            return make_error(ErrorCode::corrupt, key("token_type") + " has " + std::to_string(types->size()) +
                              " entries, " + key("tokens") + " has " + std::to_string(n));
        }
        d.types.reserve(n);
        for (size_t i = 0; i < n; ++i) {
            const double t = (*types)[i];
            if (!(t >= 0 && t <= static_cast<double>(TokenType::byte)) || t != static_cast<int32_t>(t)) {
                return make_error(ErrorCode::corrupt, key("token_type") + "[" + std::to_string(i) + "] = " +
                                  std::to_string(t) + " is not a token type (0..6)");
            }
            d.types.push_back(static_cast<TokenType>(static_cast<int32_t>(t)));
        }
    }

    STRATA_ASSIGN_OR_RETURN(auto merges, file.get_string_array(key("merges")));
    if (merges) {
        d.merges.reserve(merges->size());
        for (std::string_view m : *merges) d.merges.emplace_back(m);
    } else if (d.kind == VocabKind::bpe) {
        return make_error(ErrorCode::not_found, key("merges") + " is missing (required for model 'gpt2')");
    }
    STRATA_ASSIGN_OR_RETURN(auto pre, file.get_string(key("pre")));
    if (pre) d.pre = *pre;

    const bool spm = d.kind == VocabKind::spm;
    // SentencePiece's conventional ids, where this vocab has them.
    const auto spm_default = [&](int32_t id) { return spm && id < static_cast<int64_t>(n) ? id : -1; };
    STRATA_ASSIGN_OR_RETURN(d.bos_id, read_id(file, "bos_token_id", spm_default(1)));
    STRATA_ASSIGN_OR_RETURN(d.eos_id, read_id(file, "eos_token_id", spm_default(2)));
    STRATA_ASSIGN_OR_RETURN(d.unk_id, read_id(file, "unknown_token_id", spm_default(0)));
    STRATA_ASSIGN_OR_RETURN(d.pad_id, read_id(file, "padding_token_id", -1));
    for (const char* name : {"eot_token_id", "eom_token_id"}) {
        STRATA_ASSIGN_OR_RETURN(int32_t id, read_id(file, name, -1));
        if (id >= 0) d.extra_eog_ids.push_back(id);
    }
    // Without the key, llama.cpp's defaults: SPM and some pre-tokenizers (Llama 3, Tekken) add BOS.
    const tokenizer::PreTokenizer* pre_tokenizer = spm ? nullptr : tokenizer::pre_tokenizer_from_name(d.pre);
    const bool bos_default = spm || (pre_tokenizer && pre_tokenizer->add_bos_by_default());
    STRATA_ASSIGN_OR_RETURN(d.add_bos, read_bool(file, "add_bos_token", bos_default));
    STRATA_ASSIGN_OR_RETURN(d.add_eos, read_bool(file, "add_eos_token", false));
    STRATA_ASSIGN_OR_RETURN(d.add_space_prefix, read_bool(file, "add_space_prefix", spm));
    STRATA_ASSIGN_OR_RETURN(d.remove_extra_whitespaces, read_bool(file, "remove_extra_whitespaces", false));

    // Common end-of-turn markers end generation even where the file names no eot id.
    static constexpr std::array<std::string_view, 6> k_eog_texts = {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|eom_id|>", "<|endoftext|>"};
    if (d.types.size() == n) {
        for (size_t i = 0; i < n; ++i) {
            if (d.types[i] != TokenType::control) continue;
            for (std::string_view t : k_eog_texts) {
                const auto id = static_cast<int32_t>(i);
                if (d.tokens[i] != t || id == d.eos_id) continue;
                if (std::find(d.extra_eog_ids.begin(), d.extra_eog_ids.end(), id) == d.extra_eog_ids.end())
                    d.extra_eog_ids.push_back(id);
            }
        }
    }
    return d;
}

Result<std::shared_ptr<const Vocab>> load_vocab(const gguf::GgufFile& file) {
    auto data = read_vocab_data(file);
    if (!data.ok()) return data.status().with_context(file.path());
    auto vocab = Vocab::create(std::move(data).value());
    if (!vocab.ok()) return vocab.status().with_context(file.path());
    return vocab;
}

}  // namespace strata
