// A repository's GGUF files as the models a user picks from: each single file is one entry, and
// each split set (llama.cpp's gguf-split names: `<prefix>-00001-of-00003.gguf`, ...) is one
// entry whose parts are listed in order and whose size is theirs summed. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "strata/hub/hub_client.h"

namespace strata::hub {

struct GgufEntry {
    std::string name;              // the file, or the set's first part
    std::string quant;             // from the name: "Q4_K_M", "IQ2_XXS", "F16", ... ("" = unknown)
    std::vector<RepoFile> parts;   // one for a single file; the set's parts in order
    uint64_t size = 0;             // all parts
    bool complete = true;          // a split set with every part present in the listing
    bool is_split() const { return parts.size() > 1; }
};

// The GGUF files of a listing grouped into entries, ordered by size (smallest first).
// Files under a folder keep their folder in RepoFile::path; names are matched case-insensitively
// on ".gguf". Multimodal projector files (names starting "mmproj") are left out: they are not
// models on their own.
std::vector<GgufEntry> gguf_entries(const std::vector<RepoFile>& files);

// The quantization a file name carries ("Qwen3-8B-Q4_K_M.gguf" → "Q4_K_M"), upper case; "".
std::string quant_from_name(const std::string& file_name);

}  // namespace strata::hub
