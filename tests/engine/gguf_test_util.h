// Helpers shared by the tst_gguf_* and tst_model_info tests (header-only; not a test itself).
#pragma once

#include <QByteArray>
#include <QFile>
#include <QString>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <algorithm>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"

namespace strata::test {

// Seeded random bytes, never all zero.
inline std::vector<uint8_t> randomBytes(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> v(n);
    for (auto& b : v) b = static_cast<uint8_t>(rng());
    if (!v.empty()) v[0] |= 1;
    return v;
}

inline QByteArray readFileBytes(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return f.readAll();
}

// Replaces the file (removed first: truncating a file that was just mapped is slow on some
// file systems, ~3 ms each, which adds up over thousands of damaged variants).
inline bool writeFileBytes(const QString& path, const QByteArray& bytes) {
    QFile::remove(path);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) return false;
    return f.write(bytes) == bytes.size();
}

inline void putLe(QByteArray& bytes, qsizetype at, uint64_t v, int n_bytes) {
    for (int b = 0; b < n_bytes; ++b) bytes[at + b] = static_cast<char>(v >> (8 * b));
}

inline uint64_t getLe(const QByteArray& bytes, qsizetype at, int n_bytes) {
    uint64_t v = 0;
    for (int b = n_bytes - 1; b >= 0; --b) v = (v << 8) | static_cast<uint8_t>(bytes[at + b]);
    return v;
}

// Recursive comparison of two metadata values; `why` says where they differ.
inline bool sameValue(const gguf::Value& a, const gguf::Value& b, std::string& why, const std::string& at = "value") {
    using gguf::ValueType;
    auto differ = [&](const std::string& what) {
        why = at + ": " + what;
        return false;
    };
    if (a.type != b.type) return differ("type");
    switch (a.type) {
        case ValueType::UINT8: case ValueType::UINT16: case ValueType::UINT32: case ValueType::UINT64:
        case ValueType::BOOL:
            return a.u == b.u ? true : differ("unsigned value");
        case ValueType::INT8: case ValueType::INT16: case ValueType::INT32: case ValueType::INT64:
            return a.i == b.i ? true : differ("signed value");
        case ValueType::FLOAT32: case ValueType::FLOAT64:
            return a.f == b.f ? true : differ("float value");
        case ValueType::STRING:
            return a.str == b.str ? true : differ("string");
        case ValueType::ARRAY: break;
    }
    if (a.array_type != b.array_type) return differ("array element type");
    if (a.array_size != b.array_size) return differ("array size");
    if (a.array_strings != b.array_strings) return differ("string elements");
    if (a.array_numbers != b.array_numbers) return differ("number elements");
    if (a.array_arrays.size() != b.array_arrays.size()) return differ("nested count");
    for (size_t k = 0; k < a.array_arrays.size(); ++k) {
        if (!sameValue(a.array_arrays[k], b.array_arrays[k], why, at + "[" + std::to_string(k) + "]")) return false;
    }
    return true;
}

// Options for writeTinyModel().
struct TinyModel {
    std::string arch = "qwen2";
    std::vector<std::string> skip;  // keys left out
    int64_t file_type = -1;         // -1: no general.file_type
    bool tokens = true;
    bool vocab_size = false;
    bool chat_template = true;
    int experts = 0;                // > 0: expert_count / expert_used_count and expert tensors
    std::string tokenizer = "gpt2"; // tokenizer.ggml.model
    std::string pre;                // tokenizer.ggml.pre ("" = left out)
    bool vision = false;            // a vision tower's tensors beside the text model
};

// A small but consistent model: n_embd 256, 2 layers, 4 heads / 2 kv heads, ffn 512, vocab 32,
// tensors in Q4_K, Q6_K, Q8_0 and F32 (sizes chosen so the byte order is Q4_K > Q6_K > F32 > Q8_0).
inline Status writeTinyModel(const std::string& path, const TinyModel& m) {
    gguf::GgufWriter w;
    auto keep = [&](const std::string& k) { return std::find(m.skip.begin(), m.skip.end(), k) == m.skip.end(); };
    const std::string a = m.arch;
    if (keep("general.architecture")) w.set_string("general.architecture", a);
    w.set_string("general.name", "Tiny Test");
    if (keep(a + ".context_length")) w.set_u32(a + ".context_length", 4096);
    if (keep(a + ".embedding_length")) w.set_u32(a + ".embedding_length", 256);
    if (keep(a + ".block_count")) w.set_u32(a + ".block_count", 2);
    if (keep(a + ".feed_forward_length")) w.set_u32(a + ".feed_forward_length", 512);
    if (keep(a + ".attention.head_count")) w.set_u32(a + ".attention.head_count", 4);
    if (keep(a + ".attention.head_count_kv")) w.set_u32(a + ".attention.head_count_kv", 2);
    if (keep(a + ".rope.dimension_count")) w.set_u32(a + ".rope.dimension_count", 32);
    if (keep(a + ".rope.freq_base")) w.set_f32(a + ".rope.freq_base", 1000000.0f);
    if (keep(a + ".attention.layer_norm_rms_epsilon")) w.set_f32(a + ".attention.layer_norm_rms_epsilon", 1e-6f);
    if (m.file_type >= 0) w.set_u32("general.file_type", uint32_t(m.file_type));
    if (m.tokens) {
        std::vector<std::string> toks;
        for (int k = 0; k < 32; ++k) toks.push_back("t" + std::to_string(k));
        w.set_string_array("tokenizer.ggml.tokens", toks);
    }
    if (m.vocab_size) w.set_u32(a + ".vocab_size", 48);
    w.set_string("tokenizer.ggml.model", m.tokenizer);
    if (!m.pre.empty()) w.set_string("tokenizer.ggml.pre", m.pre);
    if (m.experts > 0) {
        w.set_u32(a + ".expert_count", uint32_t(m.experts));
        w.set_u32(a + ".expert_used_count", 2);
    }
    if (m.chat_template) w.set_string("tokenizer.chat_template", "{{ messages }}");
    uint32_t seed = 1;
    auto add = [&](const std::string& name, TensorType t, std::vector<int64_t> ne) {
        int64_t rows = 1;
        for (size_t d = 1; d < ne.size(); ++d) rows *= ne[d];
        return w.add_tensor(name, t, ne, randomBytes(tensor_row_bytes(t, ne[0]) * size_t(rows), seed++));
    };
    STRATA_RETURN_IF_ERROR(add("token_embd.weight", TensorType::Q8_0, {256, 32}));
    STRATA_RETURN_IF_ERROR(add("output_norm.weight", TensorType::F32, {256}));
    if (m.vision) {
        STRATA_RETURN_IF_ERROR(add("v.blk.0.attn_q.weight", TensorType::F16, {256, 256}));
        STRATA_RETURN_IF_ERROR(add("mm.input_projection.weight", TensorType::F16, {256, 256}));
    }
    for (int il = 0; il < 2; ++il) {
        const std::string p = "blk." + std::to_string(il) + ".";
        STRATA_RETURN_IF_ERROR(add(p + "attn_q.weight", TensorType::Q4_K, {256, 256}));
        STRATA_RETURN_IF_ERROR(add(p + "ffn_down.weight", TensorType::Q6_K, {512, 256}));
        STRATA_RETURN_IF_ERROR(add(p + "ffn_up.weight", TensorType::Q4_K, {256, 512}));
        STRATA_RETURN_IF_ERROR(add(p + "attn_norm.weight", TensorType::F32, {256}));
        STRATA_RETURN_IF_ERROR(add(p + "ffn_norm.weight", TensorType::F32, {256, 8}));
        if (m.experts > 0) {  // Mixtral's router and stacked experts
            STRATA_RETURN_IF_ERROR(add(p + "ffn_gate_inp.weight", TensorType::F32, {256, m.experts}));
            STRATA_RETURN_IF_ERROR(add(p + "ffn_up_exps.weight", TensorType::Q8_0, {256, 64, m.experts}));
        }
    }
    return w.write(path);
}

}  // namespace strata::test
