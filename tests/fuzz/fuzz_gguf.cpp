// libFuzzer target for the GGUF reader (whole files, and header prefixes of remote files as the
// hub reads them) and inspect_model(). Not part of CTest; built only in a -DSTRATA_FUZZ=ON (clang)
// build (tests/fuzz/CMakeLists.txt). Run, e.g.:
//   build-fuzz/tests/fuzz/fuzz_gguf -max_len=4096 -max_total_time=60 CORPUS_DIR
// Seed the corpus with small written GGUF files (tests write some into their temp folders).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "strata/model_info.h"

namespace {

// One in-memory file reused for every input, reachable by path through /proc/self/fd.
int memory_file() {
    static const int fd = memfd_create("fuzz_gguf", MFD_CLOEXEC);
    return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const int fd = memory_file();
    if (fd < 0 || ftruncate(fd, 0) != 0) return 0;
    size_t done = 0;
    while (done < size) {
        const ssize_t w = pwrite(fd, data + done, size - done, static_cast<off_t>(done));
        if (w <= 0) return 0;
        done += static_cast<size_t>(w);
    }
    const std::string path = "/proc/self/fd/" + std::to_string(fd);

    auto f = strata::gguf::GgufFile::open(path);
    if (f.ok()) {
        // Touch everything the reader hands out: it must all be inside the mapping.
        size_t sink = 0;
        for (const auto& kv : (*f)->metadata()) sink += kv.value.to_display_string().size();
        for (const auto& t : (*f)->tensors()) {
            sink += t.data[0] + t.data[t.n_bytes - 1];
            sink += static_cast<size_t>(t.n_rows());
            if ((*f)->find_tensor(t.name) != &t) __builtin_trap();
        }
        if (sink == 1) std::fputc(' ', stderr);  // keep the reads
    } else if (f.status().message().find(path) == std::string::npos) {
        __builtin_trap();  // every error names the file
    }
    (void)strata::inspect_model(path);

    // The hub's header-only reading: the first half, then the whole, as a prefix of a file of
    // `size` bytes. A short prefix may only ask for more; the whole input parses exactly when
    // open() parses it, to the same directory.
    for (const size_t n : {size / 2, size}) {
        bool more = false;
        auto h = strata::gguf::GgufFile::open_header("remote", std::vector<uint8_t>(data, data + n), size, &more);
        if (more && (h.ok() || n >= size)) __builtin_trap();
        if (n == size && h.ok() != f.ok()) __builtin_trap();
        if (n == size && h.ok() && (*h)->tensors().size() != (*f)->tensors().size()) __builtin_trap();
        if (h.ok())
            for (const auto& t : (*h)->tensors())
                if (t.data != nullptr) __builtin_trap();
    }
    return 0;
}
