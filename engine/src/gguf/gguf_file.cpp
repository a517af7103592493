#include "gguf/gguf_file.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "gguf/gguf_parser.h"
#include "gguf/mapped_file.h"
#include "gguf/split_set.h"

namespace strata::gguf {

const char* value_type_name(ValueType t) {
    switch (t) {
        case ValueType::UINT8: return "uint8";
        case ValueType::INT8: return "int8";
        case ValueType::UINT16: return "uint16";
        case ValueType::INT16: return "int16";
        case ValueType::UINT32: return "uint32";
        case ValueType::INT32: return "int32";
        case ValueType::FLOAT32: return "float32";
        case ValueType::BOOL: return "bool";
        case ValueType::STRING: return "string";
        case ValueType::ARRAY: return "array";
        case ValueType::UINT64: return "uint64";
        case ValueType::INT64: return "int64";
        case ValueType::FLOAT64: return "float64";
    }
    return "unknown";
}

// ---- Value ------------------------------------------------------------------------------------

namespace {

bool is_unsigned_type(ValueType t) {
    return t == ValueType::UINT8 || t == ValueType::UINT16 || t == ValueType::UINT32 || t == ValueType::UINT64;
}
bool is_signed_type(ValueType t) {
    return t == ValueType::INT8 || t == ValueType::INT16 || t == ValueType::INT32 || t == ValueType::INT64;
}
bool is_float_type(ValueType t) { return t == ValueType::FLOAT32 || t == ValueType::FLOAT64; }
bool is_numeric_type(ValueType t) {
    return is_unsigned_type(t) || is_signed_type(t) || is_float_type(t) || t == ValueType::BOOL;
}

// Integers exactly; floats with the fewest digits that read back as the same float32/float64.
std::string number_text(double x, ValueType t) {
    char buf[64];
    if (t != ValueType::FLOAT32 && t != ValueType::FLOAT64) {
        std::snprintf(buf, sizeof buf, "%.0f", x);
        return buf;
    }
    for (int digits = 6; digits <= 17; ++digits) {
        std::snprintf(buf, sizeof buf, "%.*g", digits, x);
        const double back = std::strtod(buf, nullptr);
        if (t == ValueType::FLOAT32 ? static_cast<float>(back) == static_cast<float>(x) : back == x) break;
    }
    return buf;
}

// A string for one-line display: quoted, escapes for control characters, cut at `max_bytes`
// on a UTF-8 character boundary.
std::string quoted(std::string_view s, size_t max_bytes) {
    size_t n = s.size();
    if (n > max_bytes) {
        n = max_bytes;
        while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    }
    std::string out = "\"";
    for (size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        switch (c) {
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\x%02x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += "\"";
    if (n < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
    return out;
}

}  // namespace

bool Value::is_integer() const { return is_unsigned_type(type) || is_signed_type(type); }

bool Value::is_number() const { return is_numeric_type(type); }

std::optional<int64_t> Value::as_int() const {
    if (is_unsigned_type(type) || type == ValueType::BOOL) {
        if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
        return static_cast<int64_t>(u);
    }
    if (is_signed_type(type)) return i;
    if (is_float_type(type)) {
        // Integral floats within range convert; 2^63 itself is out of range.
        if (!std::isfinite(f) || f != std::trunc(f) || f < -9223372036854775808.0 || f >= 9223372036854775808.0) {
            return std::nullopt;
        }
        return static_cast<int64_t>(f);
    }
    return std::nullopt;
}

std::optional<double> Value::as_double() const {
    if (is_unsigned_type(type) || type == ValueType::BOOL) return static_cast<double>(u);
    if (is_signed_type(type)) return static_cast<double>(i);
    if (is_float_type(type)) return f;
    return std::nullopt;
}

std::string Value::to_display_string(size_t max_items) const {
    constexpr size_t kMaxStringBytes = 60;
    if (is_unsigned_type(type)) return std::to_string(u);
    if (is_signed_type(type)) return std::to_string(i);
    if (is_float_type(type)) return number_text(f, type);
    if (type == ValueType::BOOL) return u != 0 ? "true" : "false";
    if (type == ValueType::STRING) return quoted(str, kMaxStringBytes);

    std::string out = std::string("[") + value_type_name(array_type) + " × " + std::to_string(array_size) + "]";
    if (array_size == 0) return out;
    out += " [";
    const size_t shown = static_cast<size_t>(std::min<uint64_t>(array_size, max_items));
    for (size_t k = 0; k < shown; ++k) {
        if (k > 0) out += ", ";
        if (array_type == ValueType::STRING) {
            out += quoted(array_strings[k], kMaxStringBytes / 2);
        } else if (array_type == ValueType::ARRAY) {
            out += array_arrays[k].to_display_string(max_items);
        } else if (array_type == ValueType::BOOL) {
            out += array_numbers[k] != 0 ? "true" : "false";
        } else {
            out += number_text(array_numbers[k], array_type);
        }
    }
    if (shown < array_size) out += ", ...";
    out += "]";
    return out;
}

// ---- GgufFile ---------------------------------------------------------------------------------

Result<std::unique_ptr<GgufFile>> GgufFile::open(const std::string& path) {
    STRATA_ASSIGN_OR_RETURN(auto f, open_single(path));
    return SplitSet::assemble(std::move(f));  // f itself unless it is a part of a split set
}

Result<std::unique_ptr<GgufFile>> GgufFile::open_single(const std::string& path) {
    try {
        std::unique_ptr<GgufFile> f(new GgufFile());
        f->path_ = path;
        STRATA_ASSIGN_OR_RETURN(f->file_, MappedFile::open(path));
        STRATA_RETURN_IF_ERROR(GgufParser::parse(*f));
        f->parts_.push_back(GgufPart{path, f->file_->size(), f->data_offset_, 0, f->tensors_.size()});
        f->index_tensors();
        return f;
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::out_of_memory, path + ": out of memory while opening");
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, path + ": " + e.what());
    }
}

Result<std::unique_ptr<GgufFile>> GgufFile::open_header(const std::string& name, std::vector<uint8_t> header,
                                                        uint64_t file_size, bool* prefix_short) {
    if (prefix_short) *prefix_short = false;
    try {
        std::unique_ptr<GgufFile> f(new GgufFile());
        f->path_ = name;
        f->header_ = std::move(header);
        STRATA_RETURN_IF_ERROR(GgufParser::parse_header(*f, file_size, prefix_short));
        f->parts_.push_back(GgufPart{name, file_size, f->data_offset_, 0, f->tensors_.size()});
        f->index_tensors();
        return f;
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::out_of_memory, name + ": out of memory while reading the header");
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, name + ": " + e.what());
    }
}

void GgufFile::index_tensors() {
    tensor_index_.clear();
    tensor_index_.reserve(tensors_.size());
    for (size_t k = 0; k < tensors_.size(); ++k) tensor_index_.emplace(tensors_[k].name, k);
}

GgufFile::~GgufFile() = default;

uint64_t GgufFile::file_size() const {
    uint64_t total = 0;
    for (const GgufPart& p : parts_) total += p.file_size;
    return total;
}

const uint8_t* GgufFile::file_data() const { return file_ ? file_->data() : header_.data(); }

const Value* GgufFile::find(std::string_view key) const {
    for (const KeyValue& kv : metadata_) {
        if (kv.key == key) return &kv.value;
    }
    return nullptr;
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const {
    const auto it = tensor_index_.find(name);
    return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {

Status wrong_type(const std::string& path, std::string_view key, const char* expected, const Value& v) {
    std::string actual = value_type_name(v.type);
    if (v.type == ValueType::ARRAY) actual = std::string("array of ") + value_type_name(v.array_type);
    return make_error(ErrorCode::corrupt, path + ": key '" + std::string(key) + "' has type " + actual +
                                              ", expected " + expected);
}

}  // namespace

Result<std::optional<std::string>> GgufFile::get_string(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return std::optional<std::string>();
    if (v->type != ValueType::STRING) return wrong_type(path_, key, "string", *v);
    return std::optional<std::string>(std::string(v->str));
}

Result<std::optional<int64_t>> GgufFile::get_int(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return std::optional<int64_t>();
    if (!v->is_integer()) return wrong_type(path_, key, "an integer", *v);
    const auto x = v->as_int();
    if (!x) {
        return make_error(ErrorCode::corrupt, path_ + ": key '" + std::string(key) + "' value " +
                                                  std::to_string(v->u) + " does not fit in int64");
    }
    return std::optional<int64_t>(*x);
}

Result<std::optional<double>> GgufFile::get_float(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return std::optional<double>();
    if (!v->is_number() || v->type == ValueType::BOOL) return wrong_type(path_, key, "a number", *v);
    return std::optional<double>(*v->as_double());
}

Result<std::optional<bool>> GgufFile::get_bool(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return std::optional<bool>();
    if (v->type != ValueType::BOOL) return wrong_type(path_, key, "bool", *v);
    return std::optional<bool>(v->u != 0);
}

Result<std::optional<std::vector<std::string_view>>> GgufFile::get_string_array(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return std::optional<std::vector<std::string_view>>();
    if (v->type != ValueType::ARRAY || v->array_type != ValueType::STRING) {
        return wrong_type(path_, key, "array of string", *v);
    }
    return std::optional<std::vector<std::string_view>>(v->array_strings);
}

Result<std::optional<std::vector<double>>> GgufFile::get_number_array(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return std::optional<std::vector<double>>();
    if (v->type != ValueType::ARRAY || !is_numeric_type(v->array_type)) {
        return wrong_type(path_, key, "array of numbers", *v);
    }
    return std::optional<std::vector<double>>(v->array_numbers);
}

// ---- TensorInfo -------------------------------------------------------------------------------

int64_t TensorInfo::n_elements() const {
    int64_t n = 1;
    for (int64_t d : ne) n *= d;
    return ne.empty() ? 0 : n;
}

}  // namespace strata::gguf
