#include "tokenizer/hf_tokenizer_import.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "gguf/gguf_writer.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/spm.h"
#include "tokenizer/vocab.h"

namespace strata::tokenizer {

namespace {

using nlohmann::json;

constexpr std::string_view k_spm_space = "\xE2\x96\x81";  // "▁"
// What a ByteLevel pre-tokenizer with use_regex splits on (Hugging Face's byte_level.rs).
constexpr std::string_view k_byte_level_regex =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

Result<json> read_json(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(ErrorCode::not_found, path + ": cannot open");
    std::ostringstream text;
    text << in.rdbuf();
    json j = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return make_error(ErrorCode::corrupt, path + ": not valid JSON");
    return j;
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
    for (size_t pos = 0; (pos = text.find(from, pos)) != std::string::npos; pos += to.size()) {
        text.replace(pos, from.size(), to);
    }
    return text;
}

bool starts_ends(std::string_view s, std::string_view head, std::string_view tail) {
    return s.size() >= head.size() + tail.size() && s.substr(0, head.size()) == head &&
           s.substr(s.size() - tail.size()) == tail;
}

// convert_hf_to_gguf.py's does_token_look_special: added tokens some models forget to mark.
bool looks_special(std::string_view t) {
    return t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]" || starts_ends(t, "<|", "|>") ||
           starts_ends(t, "<\xEF\xBD\x9C", "\xEF\xBD\x9C>") /* <｜ ｜> */ || starts_ends(t, "<unused", ">");
}

// A config entry such as "bos_token": "<s>" or {"content": "<s>", ...}; "" when absent or null.
std::string token_content(const json& config, const char* key) {
    if (!config.is_object() || !config.contains(key)) return {};
    const json& v = config[key];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
    return {};
}

std::optional<bool> config_bool(const json& config, const char* key) {
    if (config.is_object() && config.contains(key) && config[key].is_boolean()) return config[key].get<bool>();
    return std::nullopt;
}

// A literal string as a regex matching exactly it.
std::string regex_quote(std::string_view s) {
    std::string out;
    for (char ch : s) {
        if (std::string_view("\\^$.|?*+()[]{}/-").find(ch) != std::string_view::npos) out += '\\';
        out += ch;
    }
    return out;
}

// The pre-tokenizer's split patterns in order, as Strata's table spells them; an error names a
// step that is not a pattern split.
Status collect_patterns(const json& node, std::vector<std::string>& out, bool& metaspace) {
    if (node.is_null()) return {};
    const std::string type = node.value("type", "");
    if (type == "Sequence") {
        for (const json& step : node.value("pretokenizers", json::array())) {
            STRATA_RETURN_IF_ERROR(collect_patterns(step, out, metaspace));
        }
        return {};
    }
    if (type == "Split") {
        const json& pattern = node.value("pattern", json::object());
        const std::string behavior = node.value("behavior", "");
        const bool invert = node.value("invert", false);
        // "Removed" with invert keeps only the matches: the same pieces as "Isolated" when the
        // pattern matches every character, as the o200k pattern's final \s+ alternatives make it.
        if (!(behavior == "Isolated" && !invert) && !(behavior == "Removed" && invert)) {
            return make_error(ErrorCode::unsupported, "a Split step with behavior '" + behavior +
                              (invert ? "' (inverted)" : "'") + " is not a pattern split Strata runs");
        }
        if (pattern.contains("Regex")) out.push_back(pattern["Regex"].get<std::string>());
        else if (pattern.contains("String")) out.push_back(regex_quote(pattern["String"].get<std::string>()));
        return {};
    }
    if (type == "Digits") {
        out.push_back(node.value("individual_digits", false) ? "\\p{N}" : "\\p{N}+");
        return {};
    }
    if (type == "ByteLevel") {
        if (node.value("use_regex", true)) out.emplace_back(k_byte_level_regex);
        return {};
    }
    if (type == "Metaspace") {
        metaspace = true;
        return {};
    }
    return make_error(ErrorCode::unsupported, "pre-tokenizer step '" + type + "' is not a pattern split Strata runs");
}

bool has_type(const json& node, std::string_view type) {
    if (node.is_object()) {
        if (node.value("type", "") == type) return true;
        for (const auto& [key, value] : node.items()) {
            if (value.is_array() || value.is_object()) {
                if (has_type(value, type)) return true;
            }
        }
    } else if (node.is_array()) {
        for (const json& v : node) {
            if (has_type(v, type)) return true;
        }
    }
    return false;
}

// Whether the normalizer turns " " into "▁" (Replace) and whether it prepends "▁" (Prepend).
void spm_normalizer(const json& node, bool& replaces_space, bool& prepends_space) {
    if (!node.is_object()) return;
    const std::string type = node.value("type", "");
    if (type == "Sequence") {
        for (const json& n : node.value("normalizers", json::array())) spm_normalizer(n, replaces_space, prepends_space);
    } else if (type == "Replace") {
        const json& p = node.value("pattern", json::object());
        if (p.value("String", "") == " " && node.value("content", "") == k_spm_space) replaces_space = true;
    } else if (type == "Prepend") {
        if (node.value("prepend", "") == k_spm_space) prepends_space = true;
    }
}

// add_bos / add_eos from a TemplateProcessing post-processor (gguf-py's SpecialVocab rule).
void template_ends(const json& post, const std::string& bos, const std::string& eos, std::optional<bool>& add_bos,
                   std::optional<bool>& add_eos) {
    if (!post.is_object()) return;
    if (post.value("type", "") == "Sequence") {
        for (const json& p : post.value("processors", json::array())) template_ends(p, bos, eos, add_bos, add_eos);
        return;
    }
    if (post.value("type", "") != "TemplateProcessing") return;
    const json& single = post.value("single", json::array());
    if (!single.is_array() || single.size() < 2) return;
    const auto special_id = [](const json& item) -> std::string {
        if (item.is_object() && item.contains("SpecialToken")) return item["SpecialToken"].value("id", "");
        return {};
    };
    if (const std::string first = special_id(single.front()); !first.empty()) add_bos = first == bos;
    if (const std::string last = special_id(single.back()); !last.empty()) add_eos = last == eos;
}

std::string merge_text(const json& m) {
    if (m.is_string()) return m.get<std::string>();
    // ["a", "b"]: spaces inside a part are spelled as GPT-2's byte map spells them (U+0120), as
    // gguf-py does, so the pair stays splittable at its one space.
    std::string out;
    for (size_t k = 0; k < m.size(); ++k) {
        if (k) out += ' ';
        out += replace_all(m[k].get<std::string>(), " ", "\xC4\xA0");
    }
    return out;
}

struct Tokens {
    std::vector<std::string> text;
    std::vector<int32_t> type;
    std::unordered_map<std::string, int32_t> id_of;  // first id of each text (added tokens win)
};

Result<HfTokenizerImport> import(const json& tj, const json& config, gguf::GgufWriter& w, std::string_view pre_override) {
    HfTokenizerImport r;
    const json& model = tj.at("model");
    const std::string model_type = model.value("type", "");
    if (model_type != "BPE") {
        return make_error(ErrorCode::unsupported, "model.type = '" + model_type +
                          "': only BPE tokenizer.json files are converted (Unigram and WordPiece are not)");
    }
    const json& vocab = model.at("vocab");
    const json& added = tj.value("added_tokens", json::array());
    int64_t max_id = -1;
    for (const auto& [text, id] : vocab.items()) max_id = std::max<int64_t>(max_id, id.get<int64_t>());
    for (const json& a : added) max_id = std::max<int64_t>(max_id, a.at("id").get<int64_t>());
    if (max_id < 0 || max_id >= std::numeric_limits<int32_t>::max()) {
        return make_error(ErrorCode::corrupt, "model.vocab is empty or its ids are out of range");
    }
    const auto n = static_cast<size_t>(max_id + 1);

    const bool byte_level = has_type(tj.value("pre_tokenizer", json()), "ByteLevel") ||
                            has_type(tj.value("decoder", json()), "ByteLevel");
    bool replaces_space = false, prepends_space = false, metaspace = false;
    spm_normalizer(tj.value("normalizer", json()), replaces_space, prepends_space);
    std::vector<std::string> patterns;
    const Status pattern_status = collect_patterns(tj.value("pre_tokenizer", json()), patterns, metaspace);
    const bool spm = !byte_level && (replaces_space || metaspace);
    if (!byte_level && !spm) {
        return make_error(ErrorCode::unsupported, "neither byte-level BPE (no ByteLevel step) nor SentencePiece-style "
                          "BPE (no \"▁\" for spaces): not a tokenizer Strata can run");
    }

    Tokens t;
    t.text.resize(n);
    t.type.assign(n, static_cast<int32_t>(TokenType::unused));
    for (size_t i = 0; i < n; ++i) t.text[i] = "[PAD" + std::to_string(i) + "]";
    for (const auto& [text, id_json] : vocab.items()) {
        const auto id = id_json.get<int64_t>();
        if (id < 0) return make_error(ErrorCode::corrupt, "model.vocab['" + text + "'] has a negative id");
        t.text[id] = text;
        t.type[id] = static_cast<int32_t>(spm && parse_byte_token(text) >= 0 ? TokenType::byte : TokenType::normal);
    }
    for (const json& a : added) {
        const auto id = a.at("id").get<int64_t>();
        std::string text = a.at("content").get<std::string>();
        if (id < 0) return make_error(ErrorCode::corrupt, "added_tokens: '" + text + "' has a negative id");
        if (a.value("special", false) || looks_special(text)) {
            t.type[id] = static_cast<int32_t>(TokenType::control);
        } else {
            text = replace_all(std::move(text), k_spm_space, " ");  // user-defined spaces, pre-normalized
            t.type[id] = static_cast<int32_t>(TokenType::user_defined);
        }
        t.text[id] = std::move(text);
    }
    // Ids by text for the special-token lookups: added tokens' own text first.
    for (const json& a : added) t.id_of.try_emplace(a.at("content").get<std::string>(), a.at("id").get<int32_t>());
    for (size_t i = 0; i < n; ++i) t.id_of.try_emplace(t.text[i], static_cast<int32_t>(i));
    if (spm && model.contains("unk_token") && model["unk_token"].is_string()) {
        const auto it = t.id_of.find(model["unk_token"].get<std::string>());
        if (it != t.id_of.end() && t.type[it->second] == static_cast<int32_t>(TokenType::normal))
            t.type[it->second] = static_cast<int32_t>(TokenType::unknown);
    }

    const json& merges = model.value("merges", json::array());
    r.n_merges = merges.size();
    r.model = spm ? "llama" : "gpt2";
    w.set_string("general.name", "vocab only (converted from tokenizer.json)");
    w.set_string("tokenizer.ggml.model", r.model);
    if (spm) {
        // Scores that make "merge the best-scoring pair" pick what "merge the lowest-ranked pair"
        // picks: each piece scores −(rank of the first merge producing it); pieces no merge
        // produces rank below every merge, in id order.
        std::vector<float> scores(n, 0.0f);
        std::unordered_map<std::string, size_t> first_rank;
        first_rank.reserve(merges.size());
        for (size_t rank = 0; rank < merges.size(); ++rank) {
            const json& m = merges[rank];
            std::string joined;
            if (m.is_string()) {
                const std::string s = m.get<std::string>();
                const size_t space = s.find(' ');
                joined = space == std::string::npos ? s : s.substr(0, space) + s.substr(space + 1);
            } else {
                for (const json& part : m) joined += part.get<std::string>();
            }
            first_rank.try_emplace(std::move(joined), rank);
        }
        for (const auto& [text, id_json] : vocab.items()) {
            const auto id = id_json.get<size_t>();
            const auto it = first_rank.find(text);
            const double rank = it != first_rank.end() ? static_cast<double>(it->second)
                                                       : static_cast<double>(merges.size() + id);
            scores[id] = static_cast<float>(-rank);
        }
        w.set_f32_array("tokenizer.ggml.scores", std::move(scores));
        // Gemma's normalizer only replaces spaces; Llama 2 / Mistral's also prepends "▁".
        bool prefix = prepends_space;
        if (metaspace) prefix = prefix || tj["pre_tokenizer"].value("prepend_scheme", "always") != "never";
        w.set_bool("tokenizer.ggml.add_space_prefix", prefix);
        if (tj.contains("normalizer") && !tj["normalizer"].is_null() && !replaces_space && !prepends_space)
            r.notes.push_back("normalizer " + tj["normalizer"].value("type", "?") + " is not applied");
    } else {
        if (!pre_override.empty()) {
            if (!pre_tokenizer_from_name(pre_override)) {
                return make_error(ErrorCode::invalid_argument, "--pre '" + std::string(pre_override) +
                                  "' is not a pre-tokenizer Strata knows (known: " + supported_pre_tokenizer_names() + ")");
            }
            r.pre = std::string(pre_override);
        } else {
            if (!pattern_status.ok()) return pattern_status;
            r.pre = pre_tokenizer_name_for_patterns(patterns);
            if (r.pre.empty()) {
                return make_error(ErrorCode::unsupported, "the pre-tokenizer's split patterns match no pre-tokenizer Strata "
                                  "knows; name one with --pre (known: " + supported_pre_tokenizer_names() + ")");
            }
        }
        w.set_string("tokenizer.ggml.pre", r.pre);
        std::vector<std::string> merge_texts;
        merge_texts.reserve(merges.size());
        for (const json& m : merges) merge_texts.push_back(merge_text(m));
        w.set_string_array("tokenizer.ggml.merges", std::move(merge_texts));
        if (const json& norm = tj.value("normalizer", json()); norm.is_object()) {
            const std::string type = norm.value("type", "");
            const bool empty_sequence = type == "Sequence" && norm.value("normalizers", json::array()).empty();
            if (!empty_sequence) r.notes.push_back("normalizer " + type + " is not applied (as in llama.cpp)");
        }
    }
    r.n_tokens = n;
    w.set_string_array("tokenizer.ggml.tokens", t.text);
    w.set_i32_array("tokenizer.ggml.token_type", t.type);

    const auto id_of = [&](const std::string& content) -> std::optional<int32_t> {
        if (content.empty()) return std::nullopt;
        const auto it = t.id_of.find(content);
        return it == t.id_of.end() ? std::nullopt : std::optional<int32_t>(it->second);
    };
    std::string bos = token_content(config, "bos_token"), eos = token_content(config, "eos_token");
    std::string unk = token_content(config, "unk_token");
    if (unk.empty() && model.contains("unk_token") && model["unk_token"].is_string()) unk = model["unk_token"].get<std::string>();
    for (const auto& [key, content] : {std::pair<const char*, std::string>{"bos", bos}, {"eos", eos}, {"unknown", unk},
                                       {"padding", token_content(config, "pad_token")}}) {
        if (const auto id = id_of(content)) w.set_u32(std::string("tokenizer.ggml.") + key + "_token_id", static_cast<uint32_t>(*id));
    }
    std::optional<bool> add_bos, add_eos;
    template_ends(tj.value("post_processor", json()), bos, eos, add_bos, add_eos);
    if (const auto v = config_bool(config, "add_bos_token")) add_bos = v;
    if (const auto v = config_bool(config, "add_eos_token")) add_eos = v;
    r.add_bos = add_bos.value_or(false) && id_of(bos).has_value();
    r.add_eos = add_eos.value_or(false) && id_of(eos).has_value();
    w.set_bool("tokenizer.ggml.add_bos_token", r.add_bos);
    w.set_bool("tokenizer.ggml.add_eos_token", r.add_eos);
    if (config.is_object() && config.contains("chat_template") && config["chat_template"].is_string()) {
        w.set_string("tokenizer.chat_template", config["chat_template"].get<std::string>());
    }
    return r;
}

}  // namespace

Result<HfTokenizerImport> write_vocab_gguf_from_hf(const std::string& tokenizer_json_path,
                                                   const std::string& tokenizer_config_path, const std::string& out_path,
                                                   std::string_view pre_override) {
    STRATA_ASSIGN_OR_RETURN(json tj, read_json(tokenizer_json_path));
    json config = json::object();
    if (!tokenizer_config_path.empty()) {
        STRATA_ASSIGN_OR_RETURN(config, read_json(tokenizer_config_path));
    }
    gguf::GgufWriter writer;
    Result<HfTokenizerImport> imported = make_error(ErrorCode::internal, "not converted");
    try {
        imported = import(tj, config, writer, pre_override);
    } catch (const json::exception& e) {
        // A field of the wrong type or missing where every tokenizer.json has it.
        return make_error(ErrorCode::corrupt, tokenizer_json_path + ": unexpected structure (" + e.what() + ")");
    }
    if (!imported.ok()) return imported.status().with_context(tokenizer_json_path);
    STRATA_RETURN_IF_ERROR(writer.write(out_path));
    return imported;
}

}  // namespace strata::tokenizer
