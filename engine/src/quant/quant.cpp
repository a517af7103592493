// Dispatcher of quant.h: maps a tensor type and the CPU level (util/cpu_features.h) to the
// reference, scalar and AVX2 functions of the per-format files.
#include "quant/quant.h"

#include <cstring>

#include "quant/quant_dispatch.h"
#include "quant/quant_internal.h"
#include "util/fp16.h"

namespace strata::quant {
namespace {

void copy_f32(const void* src, float* dst, int64_t n) { std::memcpy(dst, src, static_cast<size_t>(n) * 4); }
void f16_to_f32_row(const void* src, float* dst, int64_t n) {
    const auto* s = static_cast<const uint16_t*>(src);
    for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(s[i]);
}
void bf16_to_f32_row(const void* src, float* dst, int64_t n) {
    const auto* s = static_cast<const uint16_t*>(src);
    for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(s[i]);
}
void f32_to_f32_row(const float* src, void* dst, int64_t n) { std::memcpy(dst, src, static_cast<size_t>(n) * 4); }
void f32_to_f16_row(const float* src, void* dst, int64_t n) {
    auto* d = static_cast<uint16_t*>(dst);
    for (int64_t i = 0; i < n; ++i) d[i] = fp32_to_fp16(src[i]);
}
void f32_to_bf16_row(const float* src, void* dst, int64_t n) {
    auto* d = static_cast<uint16_t*>(dst);
    for (int64_t i = 0; i < n; ++i) d[i] = fp32_to_bf16(src[i]);
}

DequantizeRowFn dequantize_ref_fn(TensorType t) {
    switch (t) {
        case TensorType::F32: return copy_f32;
        case TensorType::F16: return f16_to_f32_row;
        case TensorType::BF16: return bf16_to_f32_row;
        case TensorType::Q4_0: return dequantize_row_q4_0;
        case TensorType::Q4_1: return dequantize_row_q4_1;
        case TensorType::Q5_0: return dequantize_row_q5_0;
        case TensorType::Q5_1: return dequantize_row_q5_1;
        case TensorType::Q8_0: return dequantize_row_q8_0;
        case TensorType::Q8_1: return dequantize_row_q8_1;
        case TensorType::Q2_K: return dequantize_row_q2_k;
        case TensorType::Q3_K: return dequantize_row_q3_k;
        case TensorType::Q4_K: return dequantize_row_q4_k;
        case TensorType::Q5_K: return dequantize_row_q5_k;
        case TensorType::Q6_K: return dequantize_row_q6_k;
        case TensorType::Q8_K: return dequantize_row_q8_k;
        case TensorType::IQ4_NL: return dequantize_row_iq4_nl;
        case TensorType::IQ4_XS: return dequantize_row_iq4_xs;
        case TensorType::MXFP4: return dequantize_row_mxfp4;
        default: return nullptr;
    }
}

}  // namespace

bool can_dequantize(TensorType t) { return dequantize_ref_fn(t) != nullptr; }

bool can_quantize(TensorType t) { return can_dequantize(t); }

void dequantize_row_ref(TensorType t, const void* src, float* dst, int64_t n) {
    if (auto fn = dequantize_ref_fn(t)) fn(src, dst, n);
}

void quantize_row_ref(TensorType t, const float* src, void* dst, int64_t n, const float* importance) {
    switch (t) {
        case TensorType::F32: return f32_to_f32_row(src, dst, n);
        case TensorType::F16: return f32_to_f16_row(src, dst, n);
        case TensorType::BF16: return f32_to_bf16_row(src, dst, n);
        case TensorType::Q4_0: return quantize_row_q4_0(src, dst, n);
        case TensorType::Q4_1: return quantize_row_q4_1(src, dst, n);
        case TensorType::Q5_0: return quantize_row_q5_0(src, dst, n);
        case TensorType::Q5_1: return quantize_row_q5_1(src, dst, n);
        case TensorType::Q8_0: return quantize_row_q8_0(src, dst, n);
        case TensorType::Q8_1: return quantize_row_q8_1(src, dst, n);
        case TensorType::Q2_K: return quantize_row_q2_k(src, dst, n, importance);
        case TensorType::Q3_K: return quantize_row_q3_k(src, dst, n, importance);
        case TensorType::Q4_K: return quantize_row_q4_k(src, dst, n, importance);
        case TensorType::Q5_K: return quantize_row_q5_k(src, dst, n, importance);
        case TensorType::Q6_K: return quantize_row_q6_k(src, dst, n, importance);
        case TensorType::Q8_K: return quantize_row_q8_k(src, dst, n);
        case TensorType::IQ4_NL: return quantize_row_iq4_nl(src, dst, n, importance);
        case TensorType::IQ4_XS: return quantize_row_iq4_xs(src, dst, n, importance);
        case TensorType::MXFP4: return quantize_row_mxfp4(src, dst, n, importance);
        default: return;
    }
}

TensorType vec_dot_type(TensorType w) {
    switch (w) {
        case TensorType::Q4_0:
        case TensorType::Q5_0:
        case TensorType::Q8_0:
        case TensorType::IQ4_NL:
        case TensorType::MXFP4: return TensorType::Q8_0;
        case TensorType::Q4_1:
        case TensorType::Q5_1: return TensorType::Q8_1;
        case TensorType::Q2_K:
        case TensorType::Q3_K:
        case TensorType::Q4_K:
        case TensorType::Q5_K:
        case TensorType::Q6_K:
        case TensorType::Q8_K:
        case TensorType::IQ4_XS: return TensorType::Q8_K;
        default: return TensorType::F32;  // F32, F16, BF16 weights take float activations
    }
}

VecDotFn vec_dot_fn(TensorType w, CpuIsa isa) {
    const bool avx2 = isa >= CpuIsa::avx2;
    switch (w) {
        case TensorType::F32: return avx2 ? vec_dot_f32_f32_avx2 : vec_dot_f32_f32_scalar;
        case TensorType::F16: return avx2 ? vec_dot_f16_f32_avx2 : vec_dot_f16_f32_scalar;
        case TensorType::BF16: return avx2 ? vec_dot_bf16_f32_avx2 : vec_dot_bf16_f32_scalar;
        case TensorType::Q4_0: return avx2 ? vec_dot_q4_0_q8_0_avx2 : vec_dot_q4_0_q8_0_scalar;
        case TensorType::Q4_1: return avx2 ? vec_dot_q4_1_q8_1_avx2 : vec_dot_q4_1_q8_1_scalar;
        case TensorType::Q5_0: return avx2 ? vec_dot_q5_0_q8_0_avx2 : vec_dot_q5_0_q8_0_scalar;
        case TensorType::Q5_1: return avx2 ? vec_dot_q5_1_q8_1_avx2 : vec_dot_q5_1_q8_1_scalar;
        case TensorType::Q8_0: return avx2 ? vec_dot_q8_0_q8_0_avx2 : vec_dot_q8_0_q8_0_scalar;
        case TensorType::Q2_K: return avx2 ? vec_dot_q2_k_q8_k_avx2 : vec_dot_q2_k_q8_k_scalar;
        case TensorType::Q3_K: return avx2 ? vec_dot_q3_k_q8_k_avx2 : vec_dot_q3_k_q8_k_scalar;
        case TensorType::Q4_K: return avx2 ? vec_dot_q4_k_q8_k_avx2 : vec_dot_q4_k_q8_k_scalar;
        case TensorType::Q5_K: return avx2 ? vec_dot_q5_k_q8_k_avx2 : vec_dot_q5_k_q8_k_scalar;
        case TensorType::Q6_K: return avx2 ? vec_dot_q6_k_q8_k_avx2 : vec_dot_q6_k_q8_k_scalar;
        case TensorType::Q8_K: return avx2 ? vec_dot_q8_k_q8_k_avx2 : vec_dot_q8_k_q8_k_scalar;
        case TensorType::IQ4_NL: return avx2 ? vec_dot_iq4_nl_q8_0_avx2 : vec_dot_iq4_nl_q8_0_scalar;
        case TensorType::IQ4_XS: return avx2 ? vec_dot_iq4_xs_q8_k_avx2 : vec_dot_iq4_xs_q8_k_scalar;
        case TensorType::MXFP4: return avx2 ? vec_dot_mxfp4_q8_0_avx2 : vec_dot_mxfp4_q8_0_scalar;
        default: return nullptr;
    }
}

QuantizeRowFn quantize_row_fn(TensorType t, CpuIsa isa) {
    const bool avx2 = isa >= CpuIsa::avx2;
    const bool avx512 = cpu_isa_has_avx512(isa);  // Q8_1 (unrepacked Q4_1/Q5_1 rows only) stays on AVX2
    switch (t) {
        case TensorType::F32: return f32_to_f32_row;
        case TensorType::F16: return f32_to_f16_row;
        case TensorType::BF16: return f32_to_bf16_row;
        case TensorType::Q8_0: return avx512 ? quantize_row_q8_0_avx512 : avx2 ? quantize_row_q8_0_avx2 : quantize_row_q8_0;
        case TensorType::Q8_1: return avx2 ? quantize_row_q8_1_avx2 : quantize_row_q8_1;
        case TensorType::Q8_K: return avx512 ? quantize_row_q8_k_avx512 : avx2 ? quantize_row_q8_k_avx2 : quantize_row_q8_k;
        case TensorType::Q4_0: return quantize_row_q4_0;
        case TensorType::Q4_1: return quantize_row_q4_1;
        case TensorType::Q5_0: return quantize_row_q5_0;
        case TensorType::Q5_1: return quantize_row_q5_1;
        default: return nullptr;  // K-quant weights: quantize_row_ref (takes importance)
    }
}

DequantizeRowFn dequantize_row_fn(TensorType t, CpuIsa isa) {
    if (t == TensorType::F16 && isa >= CpuIsa::avx2) return dequantize_row_f16_avx2;
    return dequantize_ref_fn(t);
}

void quantize_row(TensorType t, const float* src, void* dst, int64_t n) {
    if (auto fn = quantize_row_fn(t, cpu_isa())) return fn(src, dst, n);
    quantize_row_ref(t, src, dst, n);
}

void dequantize_row(TensorType t, const void* src, float* dst, int64_t n) {
    if (auto fn = dequantize_row_fn(t, cpu_isa())) fn(src, dst, n);
}

float vec_dot(TensorType w, int64_t n, const void* w_row, const void* a_row) {
    auto fn = vec_dot_fn(w, cpu_isa());
    return fn ? fn(n, w_row, a_row) : 0.0f;
}

std::string cpu_kernel_isa() { return cpu_isa_name(cpu_isa()); }

}  // namespace strata::quant
