// GgufParser: fills a GgufFile from its mapping, validating every count, length and offset
// against the file size before use. Internal to gguf/; GgufFile::open() is the public entry.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "gguf/gguf_file.h"
#include "strata/status.h"

namespace strata::gguf {

// Limits the parser enforces beyond "fits in the file".
inline constexpr int kMaxArrayNesting = 8;      // array of array of ... (the spec sets none)
inline constexpr uint32_t kMaxTensorDims = 4;   // ggml tensors have at most four dimensions

// A name from a file, safe to print on one line: control and non-ASCII bytes escaped, cut short.
std::string printable(std::string_view s);

class GgufParser {
public:
    // Parses f.file_ (already mapped) into f's fields. Never throws.
    static Status parse(GgufFile& f);
    // Parses f.header_, the first bytes of a `file_size`-byte file held elsewhere (a remote file
    // read with range requests): tensor extents are checked against file_size and TensorInfo::data
    // stays null. When the bytes end inside the header or tensor directory, *prefix_short is set
    // (and an error returned): read more of the file and parse again. Never throws.
    static Status parse_header(GgufFile& f, uint64_t file_size, bool* prefix_short);

private:
    GgufParser(GgufFile& f, const uint8_t* data, uint64_t size, uint64_t file_size, bool header_only);
    Status run();

    // Throws the error "<path>: <field> at offset <offset>: <what>", with `fault` (and its
    // detail) for the errors callers explain to people without reading the message.
    [[noreturn]] void fail(ErrorCode code, const std::string& field, uint64_t offset, const std::string& what,
                           FileFault fault = FileFault::none, std::string fault_detail = {}) const;
    // fail() for data that would run past the end of the file: FileFault::truncated.
    // `needed`: the bytes from the cursor the failed read wanted (whether a header-only parse
    // should read more of the file, or the file itself is too short).
    [[noreturn]] void fail_truncated(const std::string& field, uint64_t offset, const std::string& what,
                                     uint64_t needed = 0) const;
    uint64_t remaining() const { return size_ - pos_; }
    // Fails unless n more bytes exist at the cursor.
    void need(uint64_t n, const std::string& field, const char* what) const;
    uint8_t read_u8(const std::string& field);
    uint16_t read_u16(const std::string& field);
    uint32_t read_u32(const std::string& field);
    uint64_t read_u64(const std::string& field);
    std::string_view read_string(const std::string& field);
    // Reads an array count and checks count × min element size fits in the remaining bytes.
    uint64_t read_count(const std::string& field, uint64_t min_element_bytes, const char* what);

    ValueType read_value_type(const std::string& field);
    void read_value(Value& v, ValueType type, const std::string& field, int depth);
    void read_array(Value& v, const std::string& field, int depth);

    void parse_header();
    void parse_metadata();
    void parse_alignment();
    void parse_tensor_directory();
    void check_tensor_extents();

    GgufFile& f_;
    const uint8_t* data_;
    uint64_t size_;       // bytes available to read
    uint64_t file_size_;  // the whole file's size (== size_ unless header_only_)
    bool header_only_;    // size_ bytes are a prefix of the file; no tensor data is present
    bool in_directory_ = true;   // still reading the header and tensor directory (not extents)
    mutable bool prefix_short_ = false;  // header_only_: the prefix ended inside the directory
    uint64_t pos_ = 0;
    uint64_t n_tensors_ = 0;
    uint64_t n_kv_ = 0;
    std::vector<uint64_t> tensor_info_offsets_;  // where each tensor's directory entry starts
};

}  // namespace strata::gguf
