// GgufWriter: builds a GGUF v3 file (used by tests, the quantizer and model generators).
//
// Add metadata and tensors, then write(path). The alignment given to the constructor must be a
// power of two (write() fails otherwise); when it is not the default 32 the writer emits
// `general.alignment` itself (a `general.alignment` set through set_* is ignored). Tensor data is either handed over as bytes or
// produced by a callback at write time (so multi-GiB models stream to disk without being held
// in memory). write() goes to "path.partial" and renames on success: a failure never leaves a
// half-written file at `path`. Not thread-safe; one thread builds and writes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf_file.h"
#include "strata/status.h"
#include "strata/tensor_type.h"

namespace strata::gguf {

class GgufWriter {
public:
    explicit GgufWriter(uint64_t alignment = 32);

    // Metadata, kept in insertion order; setting a key twice replaces the value.
    void set_u8(std::string key, uint8_t v);
    void set_i8(std::string key, int8_t v);
    void set_u16(std::string key, uint16_t v);
    void set_i16(std::string key, int16_t v);
    void set_u32(std::string key, uint32_t v);
    void set_i32(std::string key, int32_t v);
    void set_u64(std::string key, uint64_t v);
    void set_i64(std::string key, int64_t v);
    void set_f32(std::string key, float v);
    void set_f64(std::string key, double v);
    void set_bool(std::string key, bool v);
    void set_string(std::string key, std::string v);
    void set_string_array(std::string key, std::vector<std::string> v);
    void set_i32_array(std::string key, std::vector<int32_t> v);
    void set_f32_array(std::string key, std::vector<float> v);
    // Any value the reader can return, nested arrays included. Numeric array elements are held
    // as doubles in Value, so 64-bit integers beyond 2^53 lose precision here (copy_metadata_from
    // copies exactly); out-of-range elements are clamped to the element type.
    void set_value(std::string key, const Value& v);
    // Copies every key except general.alignment and the split.* keys from an open file (the
    // quantizer keeps metadata; a split set's copy is a whole file).
    void copy_metadata_from(const GgufFile& file);

    // Tensors are written in the order added. `ne` innermost first; data size must equal
    // tensor_row_bytes(type, ne[0]) * rows. Errors (invalid_argument): duplicate or empty name,
    // 0 or more than 4 dims, a dim < 1, a type without a known layout, a row length that is not
    // a multiple of the block size, a wrong data size. The producer is called once, at write
    // time, with a buffer of exactly the tensor's size.
    using Producer = std::function<Status(uint8_t* dst, size_t n_bytes)>;
    Status add_tensor(std::string name, TensorType type, std::vector<int64_t> ne, std::vector<uint8_t> data);
    Status add_tensor(std::string name, TensorType type, std::vector<int64_t> ne, Producer producer);

    // Writes the file. `progress` (optional) gets (tensors written, total).
    Status write(const std::string& path,
                 const std::function<void(size_t, size_t)>& progress = {}) const;
    // write() in two steps, for writers of several files that must appear together (split sets):
    // write_partial() leaves the complete, synced file at "path.partial" (nothing on failure);
    // commit_partial() renames it to `path` (and removes it if the rename fails).
    Status write_partial(const std::string& path,
                         const std::function<void(size_t, size_t)>& progress = {}) const;
    static Status commit_partial(const std::string& path);

    // Testing hooks: write the version field as given (2 or 3) — v2 is read-compatible.
    void set_version(uint32_t version) { version_ = version; }

private:
    struct Entry {
        std::string key;
        std::vector<uint8_t> value;  // encoded: u32 value type, then the value as in the file
    };
    struct Tensor {
        std::string name;
        TensorType type;
        std::vector<int64_t> ne;
        uint64_t n_bytes;
        std::vector<uint8_t> data;  // empty when `producer` is set
        Producer producer;
    };
    void set_encoded(std::string key, std::vector<uint8_t> value);
    Status check_tensor(const std::string& name, TensorType type, const std::vector<int64_t>& ne,
                        uint64_t* n_bytes) const;
    Status write_to(int fd, const std::string& path, const std::function<void(size_t, size_t)>& progress) const;

    std::vector<Entry> metadata_;
    std::vector<Tensor> tensors_;
    uint64_t alignment_;
    uint32_t version_ = 3;
};

}  // namespace strata::gguf
