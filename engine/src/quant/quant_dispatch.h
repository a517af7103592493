// Kernel tables per instruction-set level, for callers that fetch a kernel once and call it in
// a loop (cpu_matmul) or test every level (tests). quant.h's functions go through these.
#pragma once

#include <cstdint>

#include "strata/tensor_type.h"
#include "util/cpu_features.h"

namespace strata::quant {

using VecDotFn = float (*)(int64_t n, const void* w_row, const void* a_row);
using QuantizeRowFn = void (*)(const float* src, void* dst, int64_t n);
using DequantizeRowFn = void (*)(const void* src, float* dst, int64_t n);

// nullptr where the type has no kernel (not computable).
VecDotFn vec_dot_fn(TensorType w, CpuIsa isa);
// Activation quantizer for type t (a vec_dot_type, or any type can_quantize() accepts).
QuantizeRowFn quantize_row_fn(TensorType t, CpuIsa isa);
DequantizeRowFn dequantize_row_fn(TensorType t, CpuIsa isa);

}  // namespace strata::quant
