#include "gguf/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace strata::gguf {

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// Closes a descriptor when the scope ends (the mapping outlives the descriptor).
struct FdCloser {
    int fd;
    ~FdCloser() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

Result<std::unique_ptr<MappedFile>> MappedFile::open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        return make_error(err == ENOENT ? ErrorCode::not_found : ErrorCode::io,
                          path + ": cannot open: " + errno_text(err));
    }
    FdCloser closer{fd};

    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return make_error(ErrorCode::io, path + ": cannot stat: " + errno_text(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        return make_error(ErrorCode::io, path + ": not a regular file");
    }

    std::unique_ptr<MappedFile> file(new MappedFile());
    file->path_ = path;
    file->size_ = static_cast<uint64_t>(st.st_size);
    if (file->size_ == 0) return file;  // nothing to map; data() stays nullptr

    if (file->size_ > static_cast<uint64_t>(SIZE_MAX)) {
        return make_error(ErrorCode::io, path + ": file too large to map on this system");
    }
    void* p = ::mmap(nullptr, static_cast<size_t>(file->size_), PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        return make_error(ErrorCode::io, path + ": cannot map " + std::to_string(file->size_) +
                                             " bytes: " + errno_text(errno));
    }
    file->data_ = static_cast<const uint8_t*>(p);
    return file;
}

MappedFile::~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), static_cast<size_t>(size_));
}

}  // namespace strata::gguf
