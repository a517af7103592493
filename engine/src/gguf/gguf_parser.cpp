// The validating GGUF parser. Layout (little-endian throughout):
//   header:  "GGUF", u32 version, u64 n_tensors, u64 n_kv
//   n_kv ×   string key, u32 value type, value        (string = u64 length + bytes)
//   n_tensors × string name, u32 n_dims, u64 dims[n_dims], u32 type id, u64 offset
//   padding to `alignment`, then the tensor data section (offsets are relative to its start).
// Internally a failure throws ParseFailure; parse() turns it into a Status.
#include "gguf/gguf_parser.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <new>
#include <unordered_set>

#include "gguf/mapped_file.h"

namespace strata::gguf {

namespace {

struct ParseFailure {
    Status status;
};

constexpr uint64_t kMinKeyValueBytes = 8 + 1 + 4 + 1;             // key len, 1-byte key, type, u8
constexpr uint64_t kMinTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8;   // name, n_dims, 1 dim, type, offset
constexpr uint64_t kReserveCap = 256;                            // entries reserved before parsing
constexpr uint32_t kMaxValueType = static_cast<uint32_t>(ValueType::FLOAT64);

uint64_t load_le(const uint8_t* p, int n_bytes) {
    uint64_t v = 0;
    for (int b = n_bytes - 1; b >= 0; --b) v = (v << 8) | p[b];
    return v;
}

// Smallest number of bytes one value of this type can take in the file.
uint64_t min_value_bytes(ValueType t) {
    switch (t) {
        case ValueType::UINT8: case ValueType::INT8: case ValueType::BOOL: return 1;
        case ValueType::UINT16: case ValueType::INT16: return 2;
        case ValueType::UINT32: case ValueType::INT32: case ValueType::FLOAT32: return 4;
        case ValueType::UINT64: case ValueType::INT64: case ValueType::FLOAT64: return 8;
        case ValueType::STRING: return 8;        // the length
        case ValueType::ARRAY: return 4 + 8;     // element type and count
    }
    return 1;
}

}  // namespace

std::string printable(std::string_view s) {
    std::string out;
    const size_t limit = 96;
    for (size_t i = 0; i < s.size() && i < limit; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7f && c != '\'') {
            out += static_cast<char>(c);
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    if (s.size() > limit) out += "...";
    return out;
}

GgufParser::GgufParser(GgufFile& f, const uint8_t* data, uint64_t size, uint64_t file_size, bool header_only)
    : f_(f), data_(data), size_(size), file_size_(file_size), header_only_(header_only) {}

Status GgufParser::parse(GgufFile& f) {
    GgufParser p(f, f.file_->data(), f.file_->size(), f.file_->size(), false);
    return p.run();
}

Status GgufParser::parse_header(GgufFile& f, uint64_t file_size, bool* prefix_short) {
    const uint64_t n = f.header_.size();
    GgufParser p(f, f.header_.data(), std::min<uint64_t>(n, file_size), file_size, true);
    Status s = p.run();
    if (prefix_short) *prefix_short = p.prefix_short_;
    return s;
}

Status GgufParser::run() {
    try {
        parse_header();
        parse_metadata();
        parse_alignment();
        parse_tensor_directory();
        in_directory_ = false;
        check_tensor_extents();
        return Status::success();
    } catch (const ParseFailure& e) {
        return e.status;
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::out_of_memory, f_.path_ + ": out of memory while reading the GGUF header");
    }
}

void GgufParser::fail(ErrorCode code, const std::string& field, uint64_t offset, const std::string& what,
                      FileFault fault, std::string fault_detail) const {
    throw ParseFailure{make_error(code, f_.path_ + ": " + field + " at offset " + std::to_string(offset) + ": " + what)
                           .with_fault(fault, std::move(fault_detail))};
}

// A file cut short (an interrupted download) shows up as a count, length or offset that reaches
// past its end; so does a corrupt one, but the reader cannot tell them apart and the first is
// far more common, so every such error is FileFault::truncated.
void GgufParser::fail_truncated(const std::string& field, uint64_t offset, const std::string& what,
                                uint64_t needed) const {
    // Reading only a prefix of a longer file, running out of bytes means "read more" — when what
    // is missing lies within the file; a count or length that reaches past the whole file is
    // corrupt, however much more of it is read.
    if (header_only_ && in_directory_ && size_ < file_size_ && needed <= file_size_ - pos_) prefix_short_ = true;
    fail(ErrorCode::corrupt, field, offset, what, FileFault::truncated);
}

void GgufParser::need(uint64_t n, const std::string& field, const char* what) const {
    if (n > remaining()) {
        fail_truncated(field, pos_,
                       std::string("truncated: ") + what + " needs " + std::to_string(n) + " bytes but only " +
                           std::to_string(remaining()) + " remain in the " + std::to_string(size_) + "-byte file",
                       n);
    }
}

uint8_t GgufParser::read_u8(const std::string& field) {
    need(1, field, "a 1-byte value");
    return data_[pos_++];
}

uint16_t GgufParser::read_u16(const std::string& field) {
    need(2, field, "a 2-byte value");
    const auto v = static_cast<uint16_t>(load_le(data_ + pos_, 2));
    pos_ += 2;
    return v;
}

uint32_t GgufParser::read_u32(const std::string& field) {
    need(4, field, "a 4-byte value");
    const auto v = static_cast<uint32_t>(load_le(data_ + pos_, 4));
    pos_ += 4;
    return v;
}

uint64_t GgufParser::read_u64(const std::string& field) {
    need(8, field, "an 8-byte value");
    const uint64_t v = load_le(data_ + pos_, 8);
    pos_ += 8;
    return v;
}

std::string_view GgufParser::read_string(const std::string& field) {
    const uint64_t at = pos_;
    const uint64_t len = read_u64(field);
    if (len > remaining()) {
        fail_truncated(field, at,
                       "string length " + std::to_string(len) + " exceeds the " + std::to_string(remaining()) +
                           " bytes left in the file",
                       len);
    }
    std::string_view s(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(len));
    pos_ += len;
    return s;
}

uint64_t GgufParser::read_count(const std::string& field, uint64_t min_element_bytes, const char* what) {
    const uint64_t at = pos_;
    const uint64_t count = read_u64(field);
    if (count > remaining() / min_element_bytes) {
        fail_truncated(field, at,
                       std::string(what) + " " + std::to_string(count) + " needs at least " +
                           (count > UINT64_MAX / min_element_bytes ? std::string("2^64")
                                                                   : std::to_string(count * min_element_bytes)) +
                           " bytes but only " + std::to_string(remaining()) + " remain",
                       count > UINT64_MAX / min_element_bytes ? UINT64_MAX : count * min_element_bytes);
    }
    return count;
}

ValueType GgufParser::read_value_type(const std::string& field) {
    const uint64_t at = pos_;
    const uint32_t t = read_u32(field);
    if (t > kMaxValueType) fail(ErrorCode::corrupt, field, at, "unknown value type " + std::to_string(t));
    return static_cast<ValueType>(t);
}

void GgufParser::read_value(Value& v, ValueType type, const std::string& field, int depth) {
    v.type = type;
    switch (type) {
        case ValueType::UINT8: v.u = read_u8(field); break;
        case ValueType::INT8: v.i = static_cast<int8_t>(read_u8(field)); break;
        case ValueType::UINT16: v.u = read_u16(field); break;
        case ValueType::INT16: v.i = static_cast<int16_t>(read_u16(field)); break;
        case ValueType::UINT32: v.u = read_u32(field); break;
        case ValueType::INT32: v.i = static_cast<int32_t>(read_u32(field)); break;
        case ValueType::UINT64: v.u = read_u64(field); break;
        case ValueType::INT64: v.i = static_cast<int64_t>(read_u64(field)); break;
        case ValueType::FLOAT32: v.f = std::bit_cast<float>(read_u32(field)); break;
        case ValueType::FLOAT64: v.f = std::bit_cast<double>(read_u64(field)); break;
        case ValueType::BOOL: v.u = read_u8(field) != 0 ? 1 : 0; break;
        case ValueType::STRING: v.str = read_string(field); break;
        case ValueType::ARRAY: read_array(v, field, depth); break;
    }
}

void GgufParser::read_array(Value& v, const std::string& field, int depth) {
    const uint64_t type_at = pos_;
    const ValueType et = read_value_type(field + " array element type");
    if (et == ValueType::ARRAY && depth + 1 >= kMaxArrayNesting) {
        fail(ErrorCode::corrupt, field, type_at,
             "arrays nested deeper than " + std::to_string(kMaxArrayNesting) + " levels");
    }
    const uint64_t count = read_count(field + " array count", min_value_bytes(et), "array count");
    v.array_type = et;
    v.array_size = count;
    const uint8_t* p = data_ + pos_;
    auto widen_all = [&](int width, auto convert) {
        // count × width bytes are known to exist (read_count checked the minimum element size).
        v.array_numbers.resize(static_cast<size_t>(count));
        for (uint64_t k = 0; k < count; ++k) v.array_numbers[k] = convert(load_le(p + k * width, width));
        pos_ += count * static_cast<uint64_t>(width);
    };
    switch (et) {
        case ValueType::UINT8: widen_all(1, [](uint64_t x) { return double(uint8_t(x)); }); break;
        case ValueType::INT8: widen_all(1, [](uint64_t x) { return double(int8_t(x)); }); break;
        case ValueType::UINT16: widen_all(2, [](uint64_t x) { return double(uint16_t(x)); }); break;
        case ValueType::INT16: widen_all(2, [](uint64_t x) { return double(int16_t(x)); }); break;
        case ValueType::UINT32: widen_all(4, [](uint64_t x) { return double(uint32_t(x)); }); break;
        case ValueType::INT32: widen_all(4, [](uint64_t x) { return double(int32_t(x)); }); break;
        case ValueType::UINT64: widen_all(8, [](uint64_t x) { return double(x); }); break;
        case ValueType::INT64: widen_all(8, [](uint64_t x) { return double(int64_t(x)); }); break;
        case ValueType::FLOAT32:
            widen_all(4, [](uint64_t x) { return double(std::bit_cast<float>(uint32_t(x))); });
            break;
        case ValueType::FLOAT64: widen_all(8, [](uint64_t x) { return std::bit_cast<double>(x); }); break;
        case ValueType::BOOL: widen_all(1, [](uint64_t x) { return x != 0 ? 1.0 : 0.0; }); break;
        case ValueType::STRING:
            v.array_strings.reserve(static_cast<size_t>(count));
            for (uint64_t k = 0; k < count; ++k) {
                const uint64_t len_at = pos_;
                if (remaining() < 8 || load_le(data_ + pos_, 8) > remaining() - 8) {
                    read_string(field + "[" + std::to_string(k) + "]");  // fails with the detail
                    fail(ErrorCode::internal, field, len_at, "string check");
                }
                const uint64_t len = load_le(data_ + pos_, 8);
                v.array_strings.emplace_back(reinterpret_cast<const char*>(data_ + pos_ + 8),
                                             static_cast<size_t>(len));
                pos_ += 8 + len;
            }
            break;
        case ValueType::ARRAY:
            // Grown element by element: memory stays proportional to the bytes actually parsed.
            for (uint64_t k = 0; k < count; ++k) {
                Value child;
                read_array(child, field + "[" + std::to_string(k) + "]", depth + 1);
                child.type = ValueType::ARRAY;
                v.array_arrays.push_back(std::move(child));
            }
            break;
    }
}

void GgufParser::parse_header() {
    const char* const kBigEndian = "big-endian GGUF file; only little-endian GGUF files are supported";
    if (size_ < 4 && size_ < file_size_) fail_truncated("magic", 0, "the first bytes read end before the magic", 4);
    if (size_ < 4) {
        const std::string what_it_is = size_ == 0 ? "it is empty"
                                       : size_ == 1 ? "it is only 1 byte long"
                                                    : "it is only " + std::to_string(size_) + " bytes long";
        fail(ErrorCode::corrupt, "magic", 0, "not a GGUF file (only " + std::to_string(size_) + " bytes long)",
             FileFault::not_gguf, what_it_is);
    }
    if (std::memcmp(data_, "FUGG", 4) == 0) {
        fail(ErrorCode::unsupported, "magic", 0, kBigEndian, FileFault::unsupported_gguf, kBigEndian);
    }
    if (std::memcmp(data_, "GGUF", 4) != 0) {
        const std::string head = printable({reinterpret_cast<const char*>(data_), 4});
        fail(ErrorCode::corrupt, "magic", 0, "not a GGUF file (starts with '" + head + "', expected 'GGUF')",
             FileFault::not_gguf, "it starts with '" + head + "'");
    }
    pos_ = 4;
    const uint32_t version = read_u32("version");
    const uint32_t swapped = __builtin_bswap32(version);
    if (version != swapped && (swapped == 2 || swapped == 3)) {
        fail(ErrorCode::unsupported, "version", 4,
             "big-endian GGUF file (version field reads " + std::to_string(version) +
                 "); only little-endian GGUF files are supported",
             FileFault::unsupported_gguf, kBigEndian);
    }
    const std::string versions = "GGUF version " + std::to_string(version) + "; Strata reads versions 2 and 3";
    if (version == 1) {
        fail(ErrorCode::unsupported, "version", 4,
             "GGUF version 1 is not supported (versions 2 and 3 are); re-convert the model",
             FileFault::unsupported_gguf, versions + " (re-convert the model)");
    }
    if (version != 2 && version != 3) {
        fail(ErrorCode::unsupported, "version", 4,
             "unsupported GGUF version " + std::to_string(version) + " (versions 2 and 3 are)",
             FileFault::unsupported_gguf, versions);
    }
    f_.version_ = version;

    const uint64_t tensors_at = pos_;
    n_tensors_ = read_u64("tensor count");
    const uint64_t kv_at = pos_;
    n_kv_ = read_u64("metadata key count");
    // Each entry takes a minimum number of bytes: counts the file cannot hold are corrupt.
    if (n_tensors_ > remaining() / kMinTensorInfoBytes) {
        fail_truncated("tensor count", tensors_at,
                       std::to_string(n_tensors_) + " tensors cannot fit in the " + std::to_string(remaining()) +
                           " bytes that follow the header",
                       n_tensors_ > UINT64_MAX / kMinTensorInfoBytes ? UINT64_MAX : n_tensors_ * kMinTensorInfoBytes);
    }
    if (n_kv_ > remaining() / kMinKeyValueBytes ||
        n_kv_ * kMinKeyValueBytes > remaining() - n_tensors_ * kMinTensorInfoBytes) {
        fail_truncated("metadata key count", kv_at,
                       std::to_string(n_kv_) + " keys (and " + std::to_string(n_tensors_) +
                           " tensors) cannot fit in the " + std::to_string(remaining()) +
                           " bytes that follow the header",
                       // n_tensors_ passed its check: n_tensors_ × kMinTensorInfoBytes fits in the bytes read.
                       n_kv_ > (UINT64_MAX - n_tensors_ * kMinTensorInfoBytes) / kMinKeyValueBytes
                           ? UINT64_MAX
                           : n_kv_ * kMinKeyValueBytes + n_tensors_ * kMinTensorInfoBytes);
    }
}

void GgufParser::parse_metadata() {
    // Reserve only a little up front: a large (but file-size-consistent) hostile count then
    // costs memory only as entries are actually parsed.
    f_.metadata_.reserve(static_cast<size_t>(std::min<uint64_t>(n_kv_, kReserveCap)));
    std::unordered_set<std::string_view> seen;
    for (uint64_t k = 0; k < n_kv_; ++k) {
        KeyValue kv;
        kv.offset = pos_;
        const std::string_view key = read_string("metadata key #" + std::to_string(k) + " name");
        if (key.empty()) fail(ErrorCode::corrupt, "metadata key #" + std::to_string(k), kv.offset, "empty key name");
        const std::string field = "key '" + printable(key) + "'";
        if (!seen.insert(key).second) fail(ErrorCode::corrupt, field, kv.offset, "duplicate key");
        const ValueType type = read_value_type(field + " value type");
        read_value(kv.value, type, field, 0);
        kv.key = std::string(key);
        kv.n_bytes = pos_ - kv.offset;
        f_.metadata_.push_back(std::move(kv));
    }
}

void GgufParser::parse_alignment() {
    f_.alignment_ = 32;
    for (const KeyValue& kv : f_.metadata_) {
        if (kv.key != "general.alignment") continue;
        const auto a = kv.value.is_integer() ? kv.value.as_int() : std::nullopt;
        if (!a) {
            fail(ErrorCode::corrupt, "key 'general.alignment'", kv.offset,
                 std::string("must be an integer, not ") + value_type_name(kv.value.type));
        }
        if (*a <= 0 || *a > int64_t(UINT32_MAX) || !std::has_single_bit(static_cast<uint64_t>(*a))) {
            fail(ErrorCode::corrupt, "key 'general.alignment'", kv.offset,
                 "alignment " + std::to_string(*a) + " is not a non-zero power of two");
        }
        f_.alignment_ = static_cast<uint64_t>(*a);
    }
}

void GgufParser::parse_tensor_directory() {
    f_.tensors_.reserve(static_cast<size_t>(std::min<uint64_t>(n_tensors_, kReserveCap)));
    tensor_info_offsets_.reserve(static_cast<size_t>(std::min<uint64_t>(n_tensors_, kReserveCap)));
    std::unordered_set<std::string_view> seen;
    for (uint64_t k = 0; k < n_tensors_; ++k) {
        const uint64_t info_at = pos_;
        const std::string_view name = read_string("tensor #" + std::to_string(k) + " name");
        if (name.empty()) fail(ErrorCode::corrupt, "tensor #" + std::to_string(k), info_at, "empty tensor name");
        const std::string field = "tensor '" + printable(name) + "'";
        if (!seen.insert(name).second) fail(ErrorCode::corrupt, field, info_at, "duplicate tensor name");

        TensorInfo t;
        t.name = std::string(name);
        const uint64_t dims_at = pos_;
        const uint32_t n_dims = read_u32(field + " n_dims");
        if (n_dims < 1 || n_dims > kMaxTensorDims) {
            fail(ErrorCode::corrupt, field + " n_dims", dims_at,
                 std::to_string(n_dims) + " dimensions (must be 1 to " + std::to_string(kMaxTensorDims) + ")");
        }
        int64_t n_elements = 1;
        for (uint32_t d = 0; d < n_dims; ++d) {
            const uint64_t dim_at = pos_;
            const uint64_t dim = read_u64(field + " dims");
            if (dim == 0 || dim > uint64_t(INT64_MAX)) {
                fail(ErrorCode::corrupt, field + " dims", dim_at,
                     "dimension " + std::to_string(d) + " is " + std::to_string(dim) + " (must be positive)");
            }
            if (__builtin_mul_overflow(n_elements, static_cast<int64_t>(dim), &n_elements)) {
                fail(ErrorCode::corrupt, field + " dims", dim_at, "element count overflows 64 bits");
            }
            t.ne.push_back(static_cast<int64_t>(dim));
        }
        const uint64_t type_at = pos_;
        const uint32_t type_id = read_u32(field + " type");
        const TensorTypeTraits& tr = tensor_type_traits(type_id);
        if (tr.block_bytes == 0) {
            fail(ErrorCode::unsupported, field + " type", type_at,
                 "unknown tensor type id " + std::to_string(type_id));
        }
        t.type = static_cast<TensorType>(type_id);
        if (t.ne[0] % tr.block_size != 0) {
            fail(ErrorCode::corrupt, field + " dims", dims_at + 4,
                 "row length " + std::to_string(t.ne[0]) + " is not a multiple of " + tr.name +
                     "'s block size " + std::to_string(tr.block_size));
        }
        const uint64_t n_blocks = static_cast<uint64_t>(n_elements / tr.block_size);
        if (__builtin_mul_overflow(n_blocks, static_cast<uint64_t>(tr.block_bytes), &t.n_bytes)) {
            fail(ErrorCode::corrupt, field + " dims", dims_at + 4, "byte size overflows 64 bits");
        }
        const uint64_t offset_at = pos_;
        t.offset = read_u64(field + " data offset");
        if (t.offset % f_.alignment_ != 0) {
            fail(ErrorCode::corrupt, field + " data offset", offset_at,
                 "offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                     std::to_string(f_.alignment_));
        }
        f_.tensors_.push_back(std::move(t));
        tensor_info_offsets_.push_back(info_at);
    }
}

void GgufParser::check_tensor_extents() {
    const uint64_t a = f_.alignment_;
    f_.data_offset_ = (pos_ + a - 1) / a * a;
    if (f_.tensors_.empty()) return;  // a file without tensors needs no data section
    if (f_.data_offset_ > file_size_) {
        fail_truncated("tensor data section", pos_,
                       "truncated: the data section would start at offset " + std::to_string(f_.data_offset_) +
                           ", past the end of the " + std::to_string(file_size_) + "-byte file");
    }
    const uint64_t avail = file_size_ - f_.data_offset_;
    for (size_t k = 0; k < f_.tensors_.size(); ++k) {
        TensorInfo& t = f_.tensors_[k];
        if (t.offset > avail || t.n_bytes > avail - t.offset) {
            fail_truncated("tensor '" + printable(t.name) + "' data", tensor_info_offsets_[k],
                           "data at file offset " + std::to_string(f_.data_offset_) + " + " +
                               std::to_string(t.offset) + " (" + std::to_string(t.n_bytes) +
                               " bytes) runs past the end of the " + std::to_string(file_size_) + "-byte file");
        }
        t.data = header_only_ ? nullptr : data_ + f_.data_offset_ + t.offset;
    }
    std::vector<size_t> order(f_.tensors_.size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::sort(order.begin(), order.end(),
              [&](size_t x, size_t y) { return f_.tensors_[x].offset < f_.tensors_[y].offset; });
    for (size_t k = 1; k < order.size(); ++k) {
        const TensorInfo& prev = f_.tensors_[order[k - 1]];
        const TensorInfo& cur = f_.tensors_[order[k]];
        if (prev.offset + prev.n_bytes > cur.offset) {
            fail(ErrorCode::corrupt, "tensor '" + printable(cur.name) + "' data", tensor_info_offsets_[order[k]],
                 "data [" + std::to_string(cur.offset) + ", " + std::to_string(cur.offset + cur.n_bytes) +
                     ") overlaps tensor '" + printable(prev.name) + "' [" + std::to_string(prev.offset) +
                     ", " + std::to_string(prev.offset + prev.n_bytes) + ")");
        }
    }
}

}  // namespace strata::gguf
