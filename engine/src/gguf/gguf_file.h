// GgufFile: a validated, memory-mapped view of a GGUF file (versions 2 and 3).
//
// open() maps the file read-only and parses the header, every metadata key/value (all value
// types, nested arrays included) and the tensor directory. Every count, string length, offset
// and tensor extent is checked against the file size before it is used; a bad file yields a
// Status (ErrorCode::corrupt / unsupported / io) naming the file, the field and the byte offset.
// Memory use is bounded by the file size: a count is accepted only if the bytes it implies exist.
//
// Split sets (llama.cpp's gguf-split: `<prefix>-00001-of-00003.gguf` ...): when the opened file
// has split.count > 1, open() finds and maps every sibling part by name, checks that each one
// belongs to the set (gguf/split_set.h) and presents the set as one model: the first part's
// metadata, every part's tensors (each TensorInfo::data points into its own part's mapping) and
// the total size. Any part may be opened; path() is then the first part's. Callers that only use
// metadata() and tensors() need not know a set from a single file.
//
// Ownership: the GgufFile owns the mappings; string_views and tensor data pointers it hands out
// stay valid while it lives. Thread safety: immutable after open(); any thread may read.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "strata/status.h"
#include "strata/tensor_type.h"

namespace strata::gguf {

// Value type ids as stored in the file.
enum class ValueType : uint32_t {
    UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
    STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
const char* value_type_name(ValueType t);

// One metadata value. Scalars are widened (integers to int64/uint64, floats to double); strings
// and string arrays point into the mapping. Arrays keep their element type; nested arrays are
// held as child Values.
struct Value {
    ValueType type = ValueType::UINT8;
    // scalar storage (which member is meaningful follows `type`)
    uint64_t u = 0;   // UINT8/16/32/64, BOOL
    int64_t i = 0;    // INT8/16/32/64
    double f = 0.0;   // FLOAT32/64
    std::string_view str;  // STRING
    // ARRAY
    ValueType array_type = ValueType::UINT8;
    uint64_t array_size = 0;
    std::vector<std::string_view> array_strings;  // array of STRING
    std::vector<double> array_numbers;            // array of any numeric/bool type, widened
    std::vector<Value> array_arrays;              // array of ARRAY (nested)

    bool is_integer() const;
    bool is_number() const;  // integer, float or bool
    // Numeric value as int64 / double whatever the integer or float width (nullopt if not numeric
    // or, for as_int, not representable).
    std::optional<int64_t> as_int() const;
    std::optional<double> as_double() const;
    std::string to_display_string(size_t max_items = 8) const;  // for `strata-cli info --all`
};

struct KeyValue {
    std::string key;
    Value value;
    uint64_t offset = 0;   // byte offset of the key in the file (for messages)
    uint64_t n_bytes = 0;  // size of the whole entry in the file: key, value type id and value
};

struct TensorInfo {
    std::string name;
    TensorType type = TensorType::F32;
    std::vector<int64_t> ne;      // dims, ne[0] innermost (row length); 1..4 entries
    uint64_t offset = 0;          // from the start of its part's data section
    uint64_t n_bytes = 0;         // exact size of the tensor's data
    const uint8_t* data = nullptr;  // into its part's mapping
    uint32_t part = 0;            // index into GgufFile::parts() (0 for a single file)

    int64_t n_elements() const;
    int64_t n_rows() const { return ne.empty() ? 0 : n_elements() / ne[0]; }
};

// One file of a model: the file itself, or one part of a split set (in part order).
struct GgufPart {
    std::string path;
    uint64_t file_size = 0;
    uint64_t data_offset = 0;  // start of this part's tensor data section
    size_t first_tensor = 0;   // this part's tensors are tensors()[first_tensor, + n_tensors)
    size_t n_tensors = 0;
};

class MappedFile;  // RAII read-only mmap (gguf/mapped_file.h)

class GgufFile {
public:
    // Opens a file, or the whole split set the file is a part of.
    static Result<std::unique_ptr<GgufFile>> open(const std::string& path);
    // Opens exactly this file, a split part on its own (split_set.cpp uses it for each part).
    static Result<std::unique_ptr<GgufFile>> open_single(const std::string& path);
    // Parses the first bytes of a GGUF file that is not on this machine (the hub reads a remote
    // file's header with range requests): `header` holds bytes [0, header.size()) of a file of
    // `file_size` bytes, named `name` in messages. Metadata and tensor directory are as open()
    // gives them (extents checked against file_size) but TensorInfo::data is null and a split
    // part is not assembled with its siblings. When the bytes end before the tensor directory
    // does, *prefix_short is set and an error returned: read more of the file and try again.
    static Result<std::unique_ptr<GgufFile>> open_header(const std::string& name, std::vector<uint8_t> header,
                                                         uint64_t file_size, bool* prefix_short);
    ~GgufFile();
    GgufFile(const GgufFile&) = delete;
    GgufFile& operator=(const GgufFile&) = delete;

    // The file opened or, for a split set, its first part (the set's one name).
    const std::string& path() const { return path_; }
    uint32_t version() const { return version_; }
    uint64_t file_size() const;  // all parts together
    // The first file's: the one holding metadata(). KeyValue::offset is into file_data().
    uint64_t alignment() const { return alignment_; }
    uint64_t data_offset() const { return data_offset_; }  // start of tensor data in that file
    const uint8_t* file_data() const;                       // that file's whole mapping
    // Every file of the model, in order; one entry for a single file.
    const std::vector<GgufPart>& parts() const { return parts_; }
    bool is_split() const { return parts_.size() > 1; }

    const std::vector<KeyValue>& metadata() const { return metadata_; }
    const Value* find(std::string_view key) const;

    // Typed getters: nullopt when the key is absent; an error Status when present with the
    // wrong type (message names the key, expected and actual type).
    Result<std::optional<std::string>> get_string(std::string_view key) const;
    Result<std::optional<int64_t>> get_int(std::string_view key) const;    // any integer type
    Result<std::optional<double>> get_float(std::string_view key) const;   // float or integer
    Result<std::optional<bool>> get_bool(std::string_view key) const;
    // Arrays: element type must match (numbers: any numeric type, widened).
    Result<std::optional<std::vector<std::string_view>>> get_string_array(std::string_view key) const;
    Result<std::optional<std::vector<double>>> get_number_array(std::string_view key) const;

    const std::vector<TensorInfo>& tensors() const { return tensors_; }
    const TensorInfo* find_tensor(std::string_view name) const;

private:
    GgufFile() = default;
    void index_tensors();  // (re)builds tensor_index_ from tensors_
    std::string path_;
    std::unique_ptr<MappedFile> file_;                      // the (first) file: metadata
    std::vector<std::unique_ptr<MappedFile>> other_files_;  // parts 2..n of a split set
    std::vector<uint8_t> header_;                           // open_header(): the bytes read
    std::vector<GgufPart> parts_;
    uint32_t version_ = 0;
    uint64_t alignment_ = 32;
    uint64_t data_offset_ = 0;
    std::vector<KeyValue> metadata_;
    std::vector<TensorInfo> tensors_;
    std::unordered_map<std::string_view, size_t> tensor_index_;  // name (into tensors_) → index
    friend class GgufParser;
    friend class SplitSet;
};

}  // namespace strata::gguf
