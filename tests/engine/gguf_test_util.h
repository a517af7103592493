// Helpers shared by the tst_gguf_* and tst_model_info tests (header-only; not a test itself).
#pragma once

#include <QByteArray>
#include <QFile>
#include <QString>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"

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

inline bool writeFileBytes(const QString& path, const QByteArray& bytes) {
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

}  // namespace strata::test
