#include "gguf/split_set.h"

#include <cstdio>
#include <new>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gguf/gguf_parser.h"
#include "gguf/mapped_file.h"

namespace strata::gguf {

namespace {

std::string part_suffix(int64_t part_no, int64_t count) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "-%05lld-of-%05lld.gguf", static_cast<long long>(part_no),
                  static_cast<long long>(count));
    return buf;
}

std::string part_of(int64_t index, int64_t count) {
    return "part " + std::to_string(index + 1) + " of " + std::to_string(count);
}

// An integer split key in [lo, hi]; nullopt when absent.
Result<std::optional<int64_t>> read_key(const GgufFile& f, std::string_view key, int64_t lo, int64_t hi,
                                        const std::string& range_why) {
    STRATA_ASSIGN_OR_RETURN(auto v, f.get_int(key));
    if (v && (*v < lo || *v > hi)) {
        return make_error(ErrorCode::corrupt, f.path() + ": key '" + std::string(key) + "' is " + std::to_string(*v) +
                                                  " (" + range_why + ")");
    }
    return v;
}

// Whether `part` (opened on its own) is part `index` of the set described by `want`; the error
// names the part's file, from the point of view of the file the user opened (`context`).
Status check_sibling(const GgufFile& part, int64_t index, const SplitKeys& want, const std::string& context) {
    auto keys = read_split_keys(part);
    if (!keys.ok()) return keys.status().with_context(context + ": " + part_of(index, want.count));
    const std::string not_ours = context + ": " + part.path() + " is not " + part_of(index, want.count) +
                                 " of this split set: ";
    auto foreign = [&](const std::string& why) {
        return make_error(ErrorCode::corrupt, not_ours + why)
            .with_fault(FileFault::split_set_incomplete, part.path());
    };
    if (!keys->has_value()) return foreign("it is a whole model (no split.count above 1)");
    const SplitKeys& k = **keys;
    if (k.count != want.count) {
        return foreign("its split.count is " + std::to_string(k.count) + ", this set's is " + std::to_string(want.count));
    }
    if (k.no != index) {
        return foreign("its split.no is " + std::to_string(k.no) + " (" + part_of(k.no, k.count) + "), its name says " +
                       part_of(index, want.count));
    }
    if (k.tensors_count != want.tensors_count) {
        return foreign("its split.tensors.count is " + std::to_string(k.tensors_count) + ", this set's is " +
                       std::to_string(want.tensors_count));
    }
    return Status::success();
}

}  // namespace

std::string split_part_path(const std::string& prefix, int64_t part_no, int64_t count) {
    return prefix + part_suffix(part_no, count);
}

std::optional<std::string> split_prefix(const std::string& path, int64_t part_no, int64_t count) {
    const std::string suffix = part_suffix(part_no, count);
    if (path.size() <= suffix.size() || path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0) {
        return std::nullopt;
    }
    return path.substr(0, path.size() - suffix.size());
}

std::optional<std::string> split_first_part_path(const std::string& path) {
    // "-NNNNN-of-MMMMM.gguf": 5 + 4 + 5 + 5 characters after the prefix.
    constexpr size_t kTail = 1 + 5 + 4 + 5 + 5;
    if (path.size() <= kTail) return std::nullopt;
    const std::string tail = path.substr(path.size() - kTail);
    auto digits = [&](size_t at) {
        int64_t v = 0;
        for (size_t i = at; i < at + 5; ++i) {
            if (tail[i] < '0' || tail[i] > '9') return int64_t{-1};
            v = v * 10 + (tail[i] - '0');
        }
        return v;
    };
    if (tail[0] != '-' || tail.compare(6, 4, "-of-") != 0 || tail.compare(15, 5, ".gguf") != 0) return std::nullopt;
    const int64_t no = digits(1), count = digits(10);
    if (no < 1 || count < 1 || no > count) return std::nullopt;
    return split_part_path(path.substr(0, path.size() - kTail), 1, count);
}

Result<std::optional<SplitKeys>> read_split_keys(const GgufFile& f) {
    STRATA_ASSIGN_OR_RETURN(auto count, read_key(f, kSplitCountKey, 1, kMaxSplitCount, "a split set has 1 to 65535 parts"));
    if (!count) return std::optional<SplitKeys>();
    SplitKeys k;
    k.count = *count;
    STRATA_ASSIGN_OR_RETURN(auto no, read_key(f, kSplitNoKey, 0, k.count - 1,
                                              "split.count is " + std::to_string(k.count) +
                                                  " and split.no counts parts from 0"));
    if (k.count == 1) return std::optional<SplitKeys>();  // a set of one part is a whole file
    if (!no) {
        return make_error(ErrorCode::corrupt, f.path() + ": key 'split.no' is missing (split.count is " +
                                                  std::to_string(k.count) + ")");
    }
    k.no = *no;
    STRATA_ASSIGN_OR_RETURN(auto total, read_key(f, kSplitTensorsCountKey, 0, INT32_MAX, "must be 0 to 2^31-1"));
    if (!total) {
        return make_error(ErrorCode::corrupt, f.path() + ": key 'split.tensors.count' is missing (split.count is " +
                                                  std::to_string(k.count) + ")");
    }
    k.tensors_count = *total;
    return std::optional<SplitKeys>(k);
}

Result<std::unique_ptr<GgufFile>> SplitSet::assemble(std::unique_ptr<GgufFile> opened) {
    const std::string path = opened->path();
    try {
        STRATA_ASSIGN_OR_RETURN(auto keys, read_split_keys(*opened));
        if (!keys) return opened;
        return assemble_parts(std::move(opened), *keys);
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::out_of_memory, path + ": out of memory while opening the split set");
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, path + ": " + e.what());
    }
}

Result<std::unique_ptr<GgufFile>> SplitSet::assemble_parts(std::unique_ptr<GgufFile> opened, const SplitKeys& keys) {
    const std::string given = opened->path();
    const auto prefix = split_prefix(given, keys.no + 1, keys.count);
    if (!prefix) {
        // The siblings are found by name only, so a renamed part cannot lead to them.
        return make_error(ErrorCode::corrupt, given + ": this is " + part_of(keys.no, keys.count) +
                                                  " of a split set (split.no " + std::to_string(keys.no) +
                                                  "), but its name does not end in '" +
                                                  part_suffix(keys.no + 1, keys.count) +
                                                  "', so the other parts cannot be found")
            .with_fault(FileFault::split_set_incomplete, given);
    }

    // Grown part by part: a hostile split.count costs memory only for parts that exist.
    std::vector<std::unique_ptr<GgufFile>> parts;
    for (int64_t k = 0; k < keys.count; ++k) {
        if (k == keys.no) {
            parts.push_back(std::move(opened));
            continue;
        }
        const std::string part_path = split_part_path(*prefix, k + 1, keys.count);
        auto part = GgufFile::open_single(part_path);
        if (!part.ok()) {
            const Status& why = part.status();
            if (why.code() == ErrorCode::not_found) {
                return make_error(ErrorCode::not_found,
                                  given + ": " + part_of(k, keys.count) + " of this split set is missing: " + part_path)
                    .with_fault(FileFault::split_set_incomplete, part_path);
            }
            const Status in_set = why.with_context(given + ": " + part_of(k, keys.count));
            // A file named like a part that is no GGUF at all is not a part of this set; "<the
            // opened part> is not a GGUF file" would blame the wrong file. A part cut short or
            // in a format Strata cannot read keeps its fault: the message names that part.
            return why.fault() == FileFault::not_gguf ? in_set.with_fault(FileFault::split_set_incomplete, part_path)
                                                      : in_set;
        }
        STRATA_RETURN_IF_ERROR(check_sibling(**part, k, keys, given));
        parts.push_back(std::move(part).value());
    }

    // The first part is the set: its metadata, then every other part's tensors and mapping.
    size_t n_tensors = 0;  // what the parts hold (split.tensors.count is only a claim until checked)
    for (const auto& part : parts) n_tensors += part->tensors_.size();
    std::unique_ptr<GgufFile> set = std::move(parts.front());
    std::unordered_map<std::string, uint32_t> owner;  // tensor name → part index
    owner.reserve(n_tensors);
    set->tensors_.reserve(n_tensors);
    for (const TensorInfo& t : set->tensors_) owner.emplace(t.name, 0);
    for (size_t k = 1; k < parts.size(); ++k) {
        GgufFile& part = *parts[k];
        GgufPart info = part.parts_.front();
        info.first_tensor = set->tensors_.size();
        for (TensorInfo& t : part.tensors_) {
            const auto [it, fresh] = owner.emplace(t.name, static_cast<uint32_t>(k));
            if (!fresh) {
                return make_error(ErrorCode::corrupt, given + ": tensor '" + printable(t.name) + "' is in both " +
                                                          set->parts_[it->second].path + " and " + part.path());
            }
            t.part = static_cast<uint32_t>(k);
            set->tensors_.push_back(std::move(t));
        }
        set->parts_.push_back(std::move(info));
        set->other_files_.push_back(std::move(part.file_));
        parts[k].reset();  // its metadata's string_views die with it; nothing keeps them
    }
    if (set->tensors_.size() != static_cast<uint64_t>(keys.tensors_count)) {
        return make_error(ErrorCode::corrupt, given + ": split.tensors.count is " + std::to_string(keys.tensors_count) +
                                                  " but the " + std::to_string(keys.count) + " parts hold " +
                                                  std::to_string(set->tensors_.size()) + " tensors");
    }
    set->index_tensors();
    return set;
}

}  // namespace strata::gguf
