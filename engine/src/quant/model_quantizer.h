// Model quantizer: rewrites a GGUF model with each tensor at the type a mix chooses (the engine
// half of `strata-cli quantize`).
//
// Two steps, so a caller can show the plan (fallbacks, a requantization warning) before the
// work starts: plan_quantization() reads only the tensor directory; write_quantized() streams
// the tensors through GgufWriter producer callbacks, one tensor in memory at a time. Each row is
// dequantized with the reference dequantizer and quantized with quant::quantize_row_ref; rows
// are spread over a thread pool, and since every row is converted independently the output is
// byte-identical for any thread count. A tensor whose type does not change is copied verbatim
// (requantizing Q4_K to Q4_K would only add rounding error). Metadata is copied, with
// general.file_type and general.quantization_version set. The file is written to
// OUT.partial and renamed at the end: a failure leaves no half-written OUT.
//
// Thread safety: the functions are reentrant; the GgufFile is only read.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "quant/quant_mix.h"
#include "strata/status.h"

namespace strata::quant {

struct PlannedTensor {
    std::string name;
    std::vector<int64_t> ne;  // ne[0] innermost (row length)
    TensorType from = TensorType::F32;
    TypeChoice choice{TensorType::F32, TensorType::F32};
    uint64_t bytes_in = 0, bytes_out = 0;
};

struct QuantizePlan {
    QuantMix mix{};
    std::vector<PlannedTensor> tensors;  // in file order
    int64_t n_layer = 0;
    // Block-quantized types among the source's tensors that will be converted ("Q4_K Q6_K"); a
    // non-empty list means this is a requantization, which compounds rounding error.
    std::vector<TensorType> quantized_sources;

    std::vector<const PlannedTensor*> fallbacks() const;
};

// The per-tensor types for `mix`. Fails (unsupported) naming the tensor when a tensor must be
// converted from a type this build cannot dequantize.
Result<QuantizePlan> plan_quantization(const gguf::GgufFile& in, const QuantMix& mix);

struct TensorProgress {
    size_t index = 0;  // 0-based, in file order
    size_t n_tensors = 0;
    const PlannedTensor* tensor = nullptr;
    double seconds = 0;  // converting this tensor
};

struct QuantizeOptions {
    int n_threads = 0;  // 0: the machine's hardware threads
    // Called after each tensor is converted (from the writing thread).
    std::function<void(const TensorProgress&)> on_tensor;
};

struct QuantizeReport {
    uint64_t file_bytes_in = 0, file_bytes_out = 0;
    uint64_t tensor_bytes_in = 0, tensor_bytes_out = 0;
    int64_t n_elements = 0;  // over all tensors
    double seconds = 0;

    double bits_per_weight_in() const { return n_elements ? 8.0 * tensor_bytes_in / n_elements : 0; }
    double bits_per_weight_out() const { return n_elements ? 8.0 * tensor_bytes_out / n_elements : 0; }
};

// True when the two paths name the same file (or would, once `b` exists).
bool same_file(const std::string& a, const std::string& b);

// Writes `plan` applied to `in` as `out_path`. Refuses (invalid_argument) when out_path is the
// input file or the input is out_path's ".partial" temporary.
Result<QuantizeReport> write_quantized(const gguf::GgufFile& in, const QuantizePlan& plan,
                                       const std::string& out_path, const QuantizeOptions& options = {});

// open + plan + write, for callers with nothing to show in between.
Result<QuantizeReport> quantize_model(const std::string& in_path, const std::string& out_path,
                                      const QuantMix& mix, const QuantizeOptions& options = {});

}  // namespace strata::quant
