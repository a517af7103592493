#include "gguf/split_writer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <new>

#include "gguf/gguf_writer.h"
#include "gguf/split_set.h"

namespace strata::gguf {

namespace {

bool same_inode(const std::string& a, const std::string& b) {
    struct stat sa {}, sb {};
    return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

Result<std::vector<std::string>> write_parts(const GgufFile& in, const std::string& prefix, int64_t n_parts,
                                             const std::function<void(size_t, size_t)>& progress) {
    STRATA_ASSIGN_OR_RETURN(auto sizes, plan_split(in.tensors(), n_parts));
    std::vector<std::string> paths;
    for (int64_t k = 0; k < n_parts; ++k) {
        paths.push_back(split_part_path(prefix, k + 1, n_parts));
        for (const GgufPart& p : in.parts()) {
            if (same_inode(paths.back(), p.path)) {
                return make_error(ErrorCode::invalid_argument,
                                  paths.back() + ": is a file of the input model; write the parts elsewhere");
            }
        }
    }

    const size_t n_total = in.tensors().size();
    std::vector<std::string> written;  // parts whose .partial is complete
    auto discard = [&] {
        for (const std::string& p : written) ::unlink((p + ".partial").c_str());
    };
    size_t first = 0;
    for (int64_t k = 0; k < n_parts; ++k) {
        GgufWriter w(in.alignment());
        if (k == 0) w.copy_metadata_from(in);
        w.set_u16(std::string(kSplitNoKey), static_cast<uint16_t>(k));
        w.set_u16(std::string(kSplitCountKey), static_cast<uint16_t>(n_parts));
        w.set_i32(std::string(kSplitTensorsCountKey), static_cast<int32_t>(n_total));
        for (size_t i = first; i < first + sizes[k]; ++i) {
            const TensorInfo& t = in.tensors()[i];
            // The data stays in the input's mapping until the writer asks for it.
            Status st = w.add_tensor(t.name, t.type, t.ne, [&t](uint8_t* dst, size_t n) {
                std::memcpy(dst, t.data, n);
                return Status::success();
            });
            if (!st.ok()) {
                discard();
                return st.with_context(paths[k]);
            }
        }
        const size_t done_before = first;
        Status st = w.write_partial(paths[k], [&](size_t done, size_t) {
            if (progress) progress(done_before + done, n_total);
        });
        if (!st.ok()) {
            discard();
            return st;
        }
        written.push_back(paths[k]);
        first += sizes[k];
    }
    for (size_t k = 0; k < paths.size(); ++k) {
        Status st = GgufWriter::commit_partial(paths[k]);
        if (!st.ok()) {
            // Rare (the folder changed under us): take back what this call put in place.
            for (size_t j = 0; j < k; ++j) ::unlink(paths[j].c_str());
            discard();
            return st;
        }
    }
    return paths;
}

}  // namespace

Result<std::vector<size_t>> plan_split(const std::vector<TensorInfo>& tensors, int64_t n_parts) {
    if (n_parts < 2 || n_parts > kMaxSplitCount) {
        return make_error(ErrorCode::invalid_argument,
                          "cannot split into " + std::to_string(n_parts) + " parts (2 to 65535)");
    }
    const size_t n = tensors.size();
    if (static_cast<uint64_t>(n_parts) > n) {
        return make_error(ErrorCode::invalid_argument, "cannot split " + std::to_string(n) + " tensors into " +
                                                           std::to_string(n_parts) + " parts (each part needs one)");
    }
    unsigned __int128 total = 0;
    for (const TensorInfo& t : tensors) total += t.n_bytes;
    std::vector<size_t> sizes;
    size_t i = 0;
    unsigned __int128 done = 0;  // bytes in the parts planned so far
    for (int64_t k = 0; k < n_parts; ++k) {
        const size_t left_for_later = static_cast<size_t>(n_parts - 1 - k);
        const unsigned __int128 target = total * static_cast<unsigned>(k + 1) / static_cast<unsigned>(n_parts);
        const size_t start = i;
        done += tensors[i++].n_bytes;  // every part gets one
        if (k + 1 == n_parts) {
            i = n;  // the last part takes the rest
        } else {
            // Take the next tensor while its middle still falls before this part's share ends.
            while (n - i > left_for_later && done + tensors[i].n_bytes / 2 <= target) done += tensors[i++].n_bytes;
        }
        sizes.push_back(i - start);
    }
    return sizes;
}

Result<std::vector<std::string>> write_split_set(const GgufFile& in, const std::string& prefix, int64_t n_parts,
                                                 const std::function<void(size_t, size_t)>& progress) {
    try {
        return write_parts(in, prefix, n_parts, progress);
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::out_of_memory, prefix + ": out of memory while writing the split set");
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, prefix + ": " + e.what());
    }
}

}  // namespace strata::gguf
