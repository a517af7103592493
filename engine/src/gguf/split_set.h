// Split GGUF sets, as llama.cpp's gguf-split writes them: one model in files named
// `<prefix>-00001-of-00003.gguf`, `<prefix>-00002-of-00003.gguf`, ... (numbers 1-based, five
// digits). Every part carries `split.no` (u16, its zero-based index), `split.count` (u16, the
// number of parts) and `split.tensors.count` (i32, the tensors of all parts together). The first
// part holds the model's metadata and its share of the tensors; the others hold the split keys
// (sometimes general.* too) and their tensors. Internal to gguf/; GgufFile::open() uses it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "gguf/gguf_file.h"
#include "strata/status.h"

namespace strata::gguf {

inline constexpr std::string_view kSplitNoKey = "split.no";
inline constexpr std::string_view kSplitCountKey = "split.count";
inline constexpr std::string_view kSplitTensorsCountKey = "split.tensors.count";
inline constexpr int64_t kMaxSplitCount = 65535;  // split.count is a u16

// "<prefix>-%05d-of-%05d.gguf" for part `part_no` (1-based) of `count`.
std::string split_part_path(const std::string& prefix, int64_t part_no, int64_t count);
// The prefix when `path` ends in exactly "-<part_no>-of-<count>.gguf" (as split_part_path
// writes it) after a non-empty prefix; nullopt otherwise.
std::optional<std::string> split_prefix(const std::string& path, int64_t part_no, int64_t count);

// The first part's path when `path` is named like a part ("<prefix>-00002-of-00003.gguf"),
// else nullopt. By name only: nothing is opened.
std::optional<std::string> split_first_part_path(const std::string& path);

// A file's split keys, checked for type and range (errors name the file and the key).
struct SplitKeys {
    int64_t no = 0;             // zero-based part index
    int64_t count = 1;          // parts in the set
    int64_t tensors_count = 0;  // tensors in all parts together
};
// nullopt for a whole file: no split.count, or a set of one part (split.count 1, split.no 0).
Result<std::optional<SplitKeys>> read_split_keys(const GgufFile& f);

class SplitSet {
public:
    // `opened` itself when it is not a part of a split set. Otherwise every part, found by name
    // beside `opened`, mapped and checked — each carries the same split.count and
    // split.tensors.count, the split.no its name says, no tensor name appears twice and the
    // tensors add up to split.tensors.count — and merged into one GgufFile: the first part's
    // metadata, every part's tensors in part order. Errors name the missing or wrong file.
    static Result<std::unique_ptr<GgufFile>> assemble(std::unique_ptr<GgufFile> opened);

private:
    static Result<std::unique_ptr<GgufFile>> assemble_parts(std::unique_ptr<GgufFile> opened, const SplitKeys& keys);
};

}  // namespace strata::gguf
