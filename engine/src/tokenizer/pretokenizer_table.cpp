// The pre-tokenizers Strata knows: tokenizer.ggml.pre names and the split patterns they stand for.
//
// Facts, not code: the names are those llama.cpp's convert_hf_to_gguf.py writes and
// src/llama-vocab.cpp reads; the patterns are the regexes of each model's tokenizer.json
// `pre_tokenizer` in order (Split "Isolated" regexes, Digits as \p{N} or \p{N}+, and the GPT-2
// regex of a ByteLevel step with use_regex). Where llama.cpp rewrote a pattern for std::regex
// (case-insensitive contractions spelled '[sS], \p{Lu} classes as lookaheads), the tokenizer.json
// original is used — PCRE2 runs it as is — as recorded in llama-vocab.cpp's comments and checked
// against the tokenizer.json of Llama 3, Qwen 3, DeepSeek V3, GPT-4o and gpt-oss
// (tests/tokenizer_parity). Entries without a tokenizer.json at hand take llama-vocab.cpp's list.
//
// Strings are spelled as tokenizer.json spells them (JSON and C++ share \\, \r, \n escapes), so
// pre_tokenizer_name_for_patterns can recognise a tokenizer.json by exact comparison.
#include "tokenizer/pretokenizer_table.h"

namespace strata::tokenizer {

namespace {

// GPT-2's regex: what a ByteLevel pre-tokenizer with use_regex = true splits on.
constexpr std::string_view k_gpt2 =
    "\'s|\'t|\'re|\'ve|\'m|\'ll|\'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

// Llama 3 (tokenizer.json of Meta-Llama-3-8B).
constexpr std::string_view k_llama3 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// Qwen 2 / 2.5 / 3: Llama 3's with single digits.
constexpr std::string_view k_qwen2 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// Qwen 3.5: combining marks stay with their letters.
constexpr std::string_view k_qwen35 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// o200k (GPT-4o, gpt-oss, Llama 4): case-aware words with their contraction.
constexpr std::string_view k_o200k =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// Tekken (Mistral Nemo and later): o200k's words without contractions, single digits.
constexpr std::string_view k_tekken =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
    "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*"
    "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// DeepSeek V3 / R1: digit groups, then runs of CJK ideographs and kana, then the word regex
// (its [\r\n] are literal characters in tokenizer.json).
constexpr std::string_view k_deepseek3_digits = "\\p{N}{1,3}";
constexpr std::string_view k_deepseek3_cjk = "[一-龥぀-ゟ゠-ヿ]+";
constexpr std::string_view k_deepseek3_words =
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+"
    "| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+";

// The contraction-free run regex of BLOOM, Poro, Viking and GPT-3 Finnish.
constexpr std::string_view k_bloom = " ?[^(\\s|.,!?…。，、।۔،)]+";

}  // namespace

const std::vector<PreTokenizerSpec>& pre_tokenizer_specs() {
    // Order matters only where entries share patterns: the first is the name a converter picks.
    static const std::vector<PreTokenizerSpec> specs = {
        // llama.cpp's fallback for files without tokenizer.ggml.pre, and for "default".
        {{"default", ""}, {"[\\p{P}\\$\\+<=>\\^~\\|]+", k_gpt2, "\\p{N}+", "[0-9][0-9][0-9]"}},
        {{"gpt-2", "gpt2", "phi-2", "mpt", "olmo", "jais", "trillion", "granite-docling", "exaone4", "jina-es",
          "jina-de", "jina-v2-es", "jina-v2-de", "gigachat", "a.x-4.0", "mellum", "modern-bert"},
         {k_gpt2}},
        {{"llama-bpe", "llama3", "llama-v3", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano"},
         {k_llama3}, /*ignore_merges=*/true, /*add_bos=*/true},
        {{"dbrx", "smaug-bpe"}, {k_llama3}},
        {{"chatglm-bpe", "glm4"}, {k_llama3}},
        {{"qwen2", "deepseek-r1-qwen", "stablelm2", "megrez", "kormo", "f2llmv2", "hunyuan", "solar-open", "grok-2"},
         {k_qwen2}},
        {{"qwen35"}, {k_qwen35}},
        {{"gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"}, {k_o200k}},
        {{"tekken"}, {k_tekken}, /*ignore_merges=*/true, /*add_bos=*/true},
        {{"tiny_aya", "cohere2moe"}, {"\\d{1,3}(?=(?:\\d{3})*\\b)", k_o200k}},
        {{"deepseek-v3", "hunyuan-dense", "joyai-llm", "hy_v4"}, {k_deepseek3_digits, k_deepseek3_cjk, k_deepseek3_words}},
        {{"deepseek-llm"},
         {"[\r\n]",
          "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+",
          "\\s?[!-/:-~！-／：-～‘-‟　-。]+",
          "\\s+$",
          "[一-龥ࠀ-一가-퟿]+",
          "\\p{N}+"}},
        {{"deepseek-coder"}, {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[一-龥ࠀ-一가-퟿]+", "\\p{N}"}},
        {{"falcon"}, {"[\\p{P}\\$\\+<=>\\^~\\|`]+", k_gpt2, "[0-9][0-9][0-9]"}},
        {{"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2"},
         {"\\p{N}", k_gpt2}},
        {{"seed-coder"},
         {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\r\n]+|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"}},
        // Possessive quantifiers as in tokenizer.json (llama.cpp drops them; PCRE2 has them).
        {{"bailingmoe", "bailingmoe2", "llada-moe"},
         {"'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"}},
        {{"exaone-moe"},
         {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?(?:\\p{L}\\p{M}*(?: \\p{L}\\p{M}*)*)+|\\p{N}"
          "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]?|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"}},
        {{"jais-2"},
         {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+"
          "|\\s{512}(?!\\S)|\\s{256}(?!\\S)|\\s{128}(?!\\S)|\\s{64}(?!\\S)|\\s{32}(?!\\S)|\\s{16}(?!\\S)|\\s{8}(?!\\S)"
          "|\\s{4}(?!\\S)|\\s{1,2}(?!\\S)|\\s{1}"}},
        {{"minicpm5"},
         {"\\p{N}{1,3}",
          "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
         /*ignore_merges=*/true},
        // Qwen 2's without the contraction group (Turkish apostrophe suffixes stay attached).
        {{"ufakzeka"}, {"[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}},
        {{"laguna"}, {"[^\\n]+|[\\n]+", k_qwen2}},
        {{"poro-chat", "bloom", "gpt3-finnish"}, {k_bloom}},
        {{"viking"}, {k_bloom, "\\p{N}"}},
    };
    return specs;
}

}  // namespace strata::tokenizer
