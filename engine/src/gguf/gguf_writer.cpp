#include "gguf/gguf_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <new>
#include <unordered_set>

#include "gguf/split_set.h"

namespace strata::gguf {

namespace {

constexpr uint64_t kDefaultAlignment = 32;

void put_le(std::vector<uint8_t>& out, uint64_t v, int n_bytes) {
    for (int b = 0; b < n_bytes; ++b) out.push_back(static_cast<uint8_t>(v >> (8 * b)));
}
void put_string(std::vector<uint8_t>& out, std::string_view s) {
    put_le(out, s.size(), 8);
    out.insert(out.end(), s.begin(), s.end());
}
std::vector<uint8_t> scalar(ValueType t, uint64_t bits, int n_bytes) {
    std::vector<uint8_t> v;
    put_le(v, static_cast<uint32_t>(t), 4);
    put_le(v, bits, n_bytes);
    return v;
}
std::vector<uint8_t> array_header(ValueType element_type, uint64_t count) {
    std::vector<uint8_t> v;
    put_le(v, static_cast<uint32_t>(ValueType::ARRAY), 4);
    put_le(v, static_cast<uint32_t>(element_type), 4);
    put_le(v, count, 8);
    return v;
}
uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

// A double as the bits of an integer element type, clamped into range (no UB on a bad cast).
uint64_t int_bits(double x, ValueType t) {
    double lo = 0, hi = 0;
    switch (t) {
        case ValueType::UINT8: hi = 255; break;
        case ValueType::INT8: lo = -128; hi = 127; break;
        case ValueType::UINT16: hi = 65535; break;
        case ValueType::INT16: lo = -32768; hi = 32767; break;
        case ValueType::UINT32: hi = 4294967295.0; break;
        case ValueType::INT32: lo = -2147483648.0; hi = 2147483647.0; break;
        case ValueType::UINT64: hi = 18446744073709549568.0; break;  // largest double below 2^64
        case ValueType::INT64: lo = -9223372036854775808.0; hi = 9223372036854774784.0; break;
        default: break;
    }
    if (!(x >= lo)) x = lo;  // NaN → lo
    if (x > hi) x = hi;
    if (t == ValueType::UINT64) return static_cast<uint64_t>(x);
    return static_cast<uint64_t>(static_cast<int64_t>(x));
}

int value_width(ValueType t) {
    switch (t) {
        case ValueType::UINT8: case ValueType::INT8: case ValueType::BOOL: return 1;
        case ValueType::UINT16: case ValueType::INT16: return 2;
        case ValueType::UINT32: case ValueType::INT32: case ValueType::FLOAT32: return 4;
        default: return 8;
    }
}

void put_array_body(std::vector<uint8_t>& out, const Value& v);

// The value's payload as stored in the file (without its own type id).
void put_value_body(std::vector<uint8_t>& out, const Value& v) {
    switch (v.type) {
        case ValueType::UINT8: case ValueType::UINT16: case ValueType::UINT32: case ValueType::UINT64:
            put_le(out, v.u, value_width(v.type));
            break;
        case ValueType::INT8: case ValueType::INT16: case ValueType::INT32: case ValueType::INT64:
            put_le(out, static_cast<uint64_t>(v.i), value_width(v.type));
            break;
        case ValueType::BOOL: put_le(out, v.u != 0 ? 1 : 0, 1); break;
        case ValueType::FLOAT32: put_le(out, std::bit_cast<uint32_t>(static_cast<float>(v.f)), 4); break;
        case ValueType::FLOAT64: put_le(out, std::bit_cast<uint64_t>(v.f), 8); break;
        case ValueType::STRING: put_string(out, v.str); break;
        case ValueType::ARRAY: put_array_body(out, v); break;
    }
}

// Element type, count and elements (also the encoding of an array nested in an array).
void put_array_body(std::vector<uint8_t>& out, const Value& v) {
    const ValueType et = v.array_type;
    put_le(out, static_cast<uint32_t>(et), 4);
    if (et == ValueType::STRING) {
        put_le(out, v.array_strings.size(), 8);
        for (std::string_view s : v.array_strings) put_string(out, s);
    } else if (et == ValueType::ARRAY) {
        put_le(out, v.array_arrays.size(), 8);
        for (const Value& child : v.array_arrays) put_array_body(out, child);
    } else {
        put_le(out, v.array_numbers.size(), 8);
        for (double x : v.array_numbers) {
            if (et == ValueType::FLOAT32) {
                put_le(out, std::bit_cast<uint32_t>(static_cast<float>(x)), 4);
            } else if (et == ValueType::FLOAT64) {
                put_le(out, std::bit_cast<uint64_t>(x), 8);
            } else if (et == ValueType::BOOL) {
                put_le(out, x != 0 ? 1 : 0, 1);
            } else {
                put_le(out, int_bits(x, et), value_width(et));
            }
        }
    }
}

// Buffered writes to a descriptor; every write is checked (a full disk fails here, not later).
class FileOut {
public:
    FileOut(int fd, const std::string& path) : fd_(fd), path_(path) { buf_.reserve(kBufBytes); }

    Status put(const uint8_t* p, size_t n) {
        pos_ += n;
        while (n > 0) {
            if (buf_.size() == kBufBytes) STRATA_RETURN_IF_ERROR(flush());
            const size_t take = std::min(n, kBufBytes - buf_.size());
            buf_.insert(buf_.end(), p, p + take);
            p += take;
            n -= take;
        }
        return Status::success();
    }
    Status put(const std::vector<uint8_t>& v) { return put(v.data(), v.size()); }
    Status pad_to(uint64_t alignment) {
        static const uint8_t zeros[256] = {};
        while (pos_ % alignment != 0) {
            const uint64_t n = std::min<uint64_t>(sizeof zeros, align_up(pos_, alignment) - pos_);
            STRATA_RETURN_IF_ERROR(put(zeros, static_cast<size_t>(n)));
        }
        return Status::success();
    }
    Status flush() {
        size_t done = 0;
        while (done < buf_.size()) {
            const ssize_t w = ::write(fd_, buf_.data() + done, buf_.size() - done);
            if (w < 0) {
                if (errno == EINTR) continue;
                return make_error(ErrorCode::io, path_ + ": write failed at offset " +
                                                     std::to_string(flushed_ + done) + ": " + std::strerror(errno));
            }
            done += static_cast<size_t>(w);
        }
        flushed_ += done;
        buf_.clear();
        return Status::success();
    }
    uint64_t pos() const { return pos_; }

private:
    static constexpr size_t kBufBytes = size_t(1) << 20;
    int fd_;
    const std::string& path_;
    std::vector<uint8_t> buf_;
    uint64_t pos_ = 0;      // bytes accepted so far
    uint64_t flushed_ = 0;  // bytes handed to the kernel
};

}  // namespace

GgufWriter::GgufWriter(uint64_t alignment) : alignment_(alignment) {}

void GgufWriter::set_encoded(std::string key, std::vector<uint8_t> value) {
    for (Entry& e : metadata_) {
        if (e.key == key) {
            e.value = std::move(value);
            return;
        }
    }
    metadata_.push_back(Entry{std::move(key), std::move(value)});
}

void GgufWriter::set_u8(std::string key, uint8_t v) { set_encoded(std::move(key), scalar(ValueType::UINT8, v, 1)); }
void GgufWriter::set_i8(std::string key, int8_t v) {
    set_encoded(std::move(key), scalar(ValueType::INT8, static_cast<uint8_t>(v), 1));
}
void GgufWriter::set_u16(std::string key, uint16_t v) { set_encoded(std::move(key), scalar(ValueType::UINT16, v, 2)); }
void GgufWriter::set_i16(std::string key, int16_t v) {
    set_encoded(std::move(key), scalar(ValueType::INT16, static_cast<uint16_t>(v), 2));
}
void GgufWriter::set_u32(std::string key, uint32_t v) { set_encoded(std::move(key), scalar(ValueType::UINT32, v, 4)); }
void GgufWriter::set_i32(std::string key, int32_t v) {
    set_encoded(std::move(key), scalar(ValueType::INT32, static_cast<uint32_t>(v), 4));
}
void GgufWriter::set_u64(std::string key, uint64_t v) { set_encoded(std::move(key), scalar(ValueType::UINT64, v, 8)); }
void GgufWriter::set_i64(std::string key, int64_t v) {
    set_encoded(std::move(key), scalar(ValueType::INT64, static_cast<uint64_t>(v), 8));
}
void GgufWriter::set_f32(std::string key, float v) {
    set_encoded(std::move(key), scalar(ValueType::FLOAT32, std::bit_cast<uint32_t>(v), 4));
}
void GgufWriter::set_f64(std::string key, double v) {
    set_encoded(std::move(key), scalar(ValueType::FLOAT64, std::bit_cast<uint64_t>(v), 8));
}
void GgufWriter::set_bool(std::string key, bool v) { set_encoded(std::move(key), scalar(ValueType::BOOL, v ? 1 : 0, 1)); }

void GgufWriter::set_string(std::string key, std::string v) {
    std::vector<uint8_t> e;
    put_le(e, static_cast<uint32_t>(ValueType::STRING), 4);
    put_string(e, v);
    set_encoded(std::move(key), std::move(e));
}

void GgufWriter::set_string_array(std::string key, std::vector<std::string> v) {
    std::vector<uint8_t> e = array_header(ValueType::STRING, v.size());
    for (const std::string& s : v) put_string(e, s);
    set_encoded(std::move(key), std::move(e));
}

void GgufWriter::set_i32_array(std::string key, std::vector<int32_t> v) {
    std::vector<uint8_t> e = array_header(ValueType::INT32, v.size());
    for (int32_t x : v) put_le(e, static_cast<uint32_t>(x), 4);
    set_encoded(std::move(key), std::move(e));
}

void GgufWriter::set_f32_array(std::string key, std::vector<float> v) {
    std::vector<uint8_t> e = array_header(ValueType::FLOAT32, v.size());
    for (float x : v) put_le(e, std::bit_cast<uint32_t>(x), 4);
    set_encoded(std::move(key), std::move(e));
}

void GgufWriter::set_value(std::string key, const Value& v) {
    std::vector<uint8_t> e;
    put_le(e, static_cast<uint32_t>(v.type), 4);
    put_value_body(e, v);
    set_encoded(std::move(key), std::move(e));
}

void GgufWriter::copy_metadata_from(const GgufFile& file) {
    // The entries are copied byte for byte from the validated mapping: every value type, nested
    // arrays and 64-bit integers included, round-trips exactly. The split.* keys describe how a
    // model was cut into files, not the model: a copy written as one file must not claim to be
    // a part of a set (the split writer sets them for each part it writes).
    for (const KeyValue& kv : file.metadata()) {
        if (kv.key == "general.alignment" || kv.key == kSplitNoKey || kv.key == kSplitCountKey ||
            kv.key == kSplitTensorsCountKey) {
            continue;
        }
        const uint8_t* begin = file.file_data() + kv.offset + 8 + kv.key.size();
        const uint8_t* end = file.file_data() + kv.offset + kv.n_bytes;
        set_encoded(kv.key, std::vector<uint8_t>(begin, end));
    }
}

Status GgufWriter::check_tensor(const std::string& name, TensorType type, const std::vector<int64_t>& ne,
                                uint64_t* n_bytes) const {
    const std::string what = "tensor '" + name + "'";
    if (name.empty()) return make_error(ErrorCode::invalid_argument, "tensor with an empty name");
    for (const Tensor& t : tensors_) {
        if (t.name == name) return make_error(ErrorCode::invalid_argument, what + " added twice");
    }
    if (ne.empty() || ne.size() > 4) {
        return make_error(ErrorCode::invalid_argument, what + ": " + std::to_string(ne.size()) + " dims (must be 1 to 4)");
    }
    const TensorTypeTraits& tr = tensor_type_traits(type);
    if (tr.block_bytes == 0) {
        return make_error(ErrorCode::invalid_argument,
                          what + ": unknown tensor type id " + std::to_string(static_cast<uint32_t>(type)));
    }
    int64_t n = 1;
    for (int64_t d : ne) {
        if (d < 1) return make_error(ErrorCode::invalid_argument, what + ": dimension " + std::to_string(d));
        if (__builtin_mul_overflow(n, d, &n)) return make_error(ErrorCode::invalid_argument, what + ": too many elements");
    }
    if (ne[0] % tr.block_size != 0) {
        return make_error(ErrorCode::invalid_argument, what + ": row length " + std::to_string(ne[0]) +
                                                           " is not a multiple of " + tr.name + "'s block size " +
                                                           std::to_string(tr.block_size));
    }
    *n_bytes = static_cast<uint64_t>(n / tr.block_size) * tr.block_bytes;
    return Status::success();
}

Status GgufWriter::add_tensor(std::string name, TensorType type, std::vector<int64_t> ne, std::vector<uint8_t> data) {
    uint64_t n_bytes = 0;
    STRATA_RETURN_IF_ERROR(check_tensor(name, type, ne, &n_bytes));
    if (data.size() != n_bytes) {
        return make_error(ErrorCode::invalid_argument, "tensor '" + name + "': " + std::to_string(data.size()) +
                                                           " bytes of data, expected " + std::to_string(n_bytes));
    }
    tensors_.push_back(Tensor{std::move(name), type, std::move(ne), n_bytes, std::move(data), {}});
    return Status::success();
}

Status GgufWriter::add_tensor(std::string name, TensorType type, std::vector<int64_t> ne, Producer producer) {
    uint64_t n_bytes = 0;
    STRATA_RETURN_IF_ERROR(check_tensor(name, type, ne, &n_bytes));
    if (!producer) return make_error(ErrorCode::invalid_argument, "tensor '" + name + "': no data producer");
    tensors_.push_back(Tensor{std::move(name), type, std::move(ne), n_bytes, {}, std::move(producer)});
    return Status::success();
}

Status GgufWriter::write_to(int fd, const std::string& path,
                            const std::function<void(size_t, size_t)>& progress) const {
    FileOut out(fd, path);
    std::vector<uint8_t> head;

    std::vector<const Entry*> entries;
    for (const Entry& e : metadata_) {
        if (e.key != "general.alignment") entries.push_back(&e);
    }
    Entry alignment_entry{"general.alignment", scalar(ValueType::UINT32, alignment_, 4)};
    if (alignment_ != kDefaultAlignment) entries.push_back(&alignment_entry);

    head.insert(head.end(), {'G', 'G', 'U', 'F'});
    put_le(head, version_, 4);
    put_le(head, tensors_.size(), 8);
    put_le(head, entries.size(), 8);
    for (const Entry* e : entries) {
        put_string(head, e->key);
        head.insert(head.end(), e->value.begin(), e->value.end());
    }
    uint64_t offset = 0;
    for (const Tensor& t : tensors_) {
        put_string(head, t.name);
        put_le(head, t.ne.size(), 4);
        for (int64_t d : t.ne) put_le(head, static_cast<uint64_t>(d), 8);
        put_le(head, static_cast<uint32_t>(t.type), 4);
        put_le(head, offset, 8);
        offset += align_up(t.n_bytes, alignment_);
    }
    STRATA_RETURN_IF_ERROR(out.put(head));
    STRATA_RETURN_IF_ERROR(out.pad_to(alignment_));

    std::vector<uint8_t> produced;
    for (size_t k = 0; k < tensors_.size(); ++k) {
        const Tensor& t = tensors_[k];
        if (t.producer) {
            produced.assign(static_cast<size_t>(t.n_bytes), 0);
            STRATA_RETURN_IF_ERROR(
                t.producer(produced.data(), produced.size()).with_context(path + ": tensor '" + t.name + "'"));
            STRATA_RETURN_IF_ERROR(out.put(produced));
        } else {
            STRATA_RETURN_IF_ERROR(out.put(t.data));
        }
        STRATA_RETURN_IF_ERROR(out.pad_to(alignment_));
        if (progress) progress(k + 1, tensors_.size());
    }
    return out.flush();
}

Status GgufWriter::write(const std::string& path, const std::function<void(size_t, size_t)>& progress) const {
    STRATA_RETURN_IF_ERROR(write_partial(path, progress));
    return commit_partial(path);
}

Status GgufWriter::write_partial(const std::string& path, const std::function<void(size_t, size_t)>& progress) const {
    if (alignment_ == 0 || alignment_ > UINT32_MAX || !std::has_single_bit(alignment_)) {
        return make_error(ErrorCode::invalid_argument,
                          path + ": alignment " + std::to_string(alignment_) + " is not a power of two");
    }
    if (version_ != 2 && version_ != 3) {
        return make_error(ErrorCode::invalid_argument,
                          path + ": cannot write GGUF version " + std::to_string(version_) + " (only 2 or 3)");
    }
    const std::string partial = path + ".partial";
    const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return make_error(ErrorCode::io, partial + ": cannot create: " + std::strerror(errno));

    Status st;
    try {
        st = write_to(fd, partial, progress);
    } catch (const std::bad_alloc&) {
        st = make_error(ErrorCode::out_of_memory, partial + ": out of memory while writing");
    } catch (const std::exception& e) {
        st = make_error(ErrorCode::internal, partial + ": " + e.what());
    }
    if (st.ok() && ::fsync(fd) != 0) st = make_error(ErrorCode::io, partial + ": fsync failed: " + std::strerror(errno));
    if (::close(fd) != 0 && st.ok()) st = make_error(ErrorCode::io, partial + ": close failed: " + std::strerror(errno));
    if (!st.ok()) ::unlink(partial.c_str());
    return st;
}

Status GgufWriter::commit_partial(const std::string& path) {
    const std::string partial = path + ".partial";
    if (::rename(partial.c_str(), path.c_str()) != 0) {
        const Status st = make_error(ErrorCode::io, path + ": cannot rename from " + partial + ": " + std::strerror(errno));
        ::unlink(partial.c_str());
        return st;
    }
    return Status::success();
}

}  // namespace strata::gguf
