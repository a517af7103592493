// MappedFile: RAII read-only memory mapping of a whole file (POSIX mmap).
//
// open() maps the file with PROT_READ / MAP_PRIVATE; the destructor unmaps it. An empty file is
// valid and maps to {nullptr, 0}. Errors (ErrorCode::not_found / io) name the path and the
// system's errno text. Immutable after open(): any thread may read the bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "strata/status.h"

namespace strata::gguf {

class MappedFile {
public:
    static Result<std::unique_ptr<MappedFile>> open(const std::string& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::string& path() const { return path_; }
    const uint8_t* data() const { return data_; }  // nullptr when size() == 0
    uint64_t size() const { return size_; }

private:
    MappedFile() = default;
    std::string path_;
    const uint8_t* data_ = nullptr;
    uint64_t size_ = 0;
};

}  // namespace strata::gguf
