// write_split_set: writes an open model (a file or a set) as a split set that llama.cpp and
// GgufFile::open() read: `<prefix>-00001-of-0000N.gguf` ... (gguf/split_set.h has the format).
//
// The tensors keep their order and are cut into N contiguous runs of about equal bytes, at least
// one tensor per part. Part 1 gets every metadata key of the input; the other parts only the
// split keys. Tensor data is copied from the input's mappings as each part is written, never
// held whole in memory. Every part is first written to "<part>.partial" (gguf_writer.h); only
// when all are complete are they renamed, so a failure leaves no part of the new set behind.
// Output files that are files of the input are refused (writing over them could lose the model
// if a later part failed). Not thread-safe; `in` must outlive the call.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "strata/status.h"

namespace strata::gguf {

// The number of tensors each of `n_parts` parts gets: contiguous, about equal bytes, none empty.
// invalid_argument unless 2 <= n_parts <= 65535 and n_parts <= the number of tensors.
Result<std::vector<size_t>> plan_split(const std::vector<TensorInfo>& tensors, int64_t n_parts);

// Writes the set; returns the paths written, in part order. `progress` gets (tensors written
// over all parts, total).
Result<std::vector<std::string>> write_split_set(const GgufFile& in, const std::string& prefix, int64_t n_parts,
                                                 const std::function<void(size_t, size_t)>& progress = {});

}  // namespace strata::gguf
