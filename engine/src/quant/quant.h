// Block quantization formats (GGUF/ggml layouts): reference code, quantizers and fast kernels.
//
// The scalar reference functions are the truth every fast kernel is tested against. All
// functions are pure (no global state besides the CPU-feature dispatch chosen once at start-up)
// and thread-safe. Row lengths `n` must be multiples of the type's block size.
#pragma once

#include <cstdint>
#include <string>

#include "strata/status.h"
#include "strata/tensor_type.h"

namespace strata::quant {

// ---- reference (scalar) ------------------------------------------------------------------
// True for types this build can dequantize (F32, F16, BF16, Q4_0 ... Q8_K, IQ4_NL, IQ4_XS, MXFP4).
bool can_dequantize(TensorType t);
// True for types this build can produce.
bool can_quantize(TensorType t);
// src: n/block_size blocks → dst: n floats.
void dequantize_row_ref(TensorType t, const void* src, float* dst, int64_t n);
// src: n floats → dst: n/block_size blocks. `importance` (optional, n weights) may steer the
// choice of scales in formats that search for them; nullptr means uniform.
void quantize_row_ref(TensorType t, const float* src, void* dst, int64_t n,
                      const float* importance = nullptr);

// ---- direct re-encodings (quant_transcode.cpp) ------------------------------------------
// Whether a row of `from` can be re-encoded as `to` level for level, without a float round trip:
// Q3_K → Q6_K, and Q5_0, IQ4_NL, IQ4_XS, MXFP4 → Q8_0 (exact but for IQ4_XS's group scales,
// rounded to fp16, and MXFP4 scales beyond fp16's range).
bool can_transcode(TensorType from, TensorType to);
// n values (a multiple of both block sizes); false, writing nothing, where can_transcode is false.
bool transcode_row(TensorType from, TensorType to, const void* src, void* dst, int64_t n);

// ---- fast kernels (dispatched by CPU features at run time) -------------------------------
// The format activations are converted to for dot products with weight type w: Q8_0 for
// Q4_0/Q5_0/Q8_0/IQ4_NL/MXFP4, Q8_1 for Q4_1/Q5_1 (its block sum serves the min term), Q8_K for
// K-quants and IQ4_XS,
// F32 for the float weight types F32/F16/BF16.
TensorType vec_dot_type(TensorType w);
// Fast quantizer for activation formats (Q8_0, Q8_1, Q8_K: bit-identical to quantize_row_ref)
// and the float types; other types fall back to quantize_row_ref.
void quantize_row(TensorType t, const float* src, void* dst, int64_t n);
void dequantize_row(TensorType t, const void* src, float* dst, int64_t n);
// Σ_k w[k]·a[k] with w in weight type `w`, a in vec_dot_type(w). `w` must be a type
// can_dequantize() accepts (Q8_1 excepted); others return 0. Integer block sums are exact; the
// float accumulation order differs between instruction sets (results agree to ~1e-6 relative).
float vec_dot(TensorType w, int64_t n, const void* w_row, const void* a_row);

// Which instruction set the dispatcher picked ("avx2+fma+f16c", "scalar"), for logs and bench.
std::string cpu_kernel_isa();

}  // namespace strata::quant
