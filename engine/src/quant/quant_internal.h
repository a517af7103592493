// Internal interface between the quant dispatcher (quant.cpp) and the per-format files.
// Reference functions take whole rows; n is a multiple of the block size.
#pragma once

#include <cstdint>

namespace strata::quant {

// ---- reference dequantizers / quantizers (quant_legacy.cpp, quant_k.cpp, quant_k_fit.cpp) --
void dequantize_row_q4_0(const void* src, float* dst, int64_t n);
void dequantize_row_q4_1(const void* src, float* dst, int64_t n);
void dequantize_row_q5_0(const void* src, float* dst, int64_t n);
void dequantize_row_q5_1(const void* src, float* dst, int64_t n);
void dequantize_row_q8_0(const void* src, float* dst, int64_t n);
void dequantize_row_q8_1(const void* src, float* dst, int64_t n);
void dequantize_row_q2_k(const void* src, float* dst, int64_t n);
void dequantize_row_q3_k(const void* src, float* dst, int64_t n);
void dequantize_row_q4_k(const void* src, float* dst, int64_t n);
void dequantize_row_q5_k(const void* src, float* dst, int64_t n);
void dequantize_row_q6_k(const void* src, float* dst, int64_t n);
void dequantize_row_q8_k(const void* src, float* dst, int64_t n);
void dequantize_row_iq4_nl(const void* src, float* dst, int64_t n);
void dequantize_row_iq4_xs(const void* src, float* dst, int64_t n);
void dequantize_row_mxfp4(const void* src, float* dst, int64_t n);

void quantize_row_q4_0(const float* src, void* dst, int64_t n);
void quantize_row_q4_1(const float* src, void* dst, int64_t n);
void quantize_row_q5_0(const float* src, void* dst, int64_t n);
void quantize_row_q5_1(const float* src, void* dst, int64_t n);
// Activation formats: d = amax/127, q = nearbyint(x * (1/d)) in float arithmetic; the AVX2
// versions produce bit-identical blocks.
void quantize_row_q8_0(const float* src, void* dst, int64_t n);
void quantize_row_q8_1(const float* src, void* dst, int64_t n);
void quantize_row_q8_k(const float* src, void* dst, int64_t n);
void quantize_row_q2_k(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_q3_k(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_q4_k(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_q5_k(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_q6_k(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_iq4_nl(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_iq4_xs(const float* src, void* dst, int64_t n, const float* importance);
// quant_mxfp4.cpp: per block, the exponent (of three around the fitting one) with the lowest
// weighted squared error, each value at its nearest E2M1 code.
void quantize_row_mxfp4(const float* src, void* dst, int64_t n, const float* importance);

// ---- scale fitting (quant_k_fit.cpp) ----------------------------------------------------
// x ≈ scale*q - min with q in [0, nmax], min >= 0; weights w (nullptr = uniform). Returns the
// scale, writes min; q (n bytes) receives the chosen quants.
float fit_scale_min(const float* x, const float* w, int n, int nmax, float* min, uint8_t* q);
// x ≈ scale*q with q in [-(nmax+1), nmax]; the scale may be negative. Returns it.
float fit_scale_sym(const float* x, const float* w, int n, int nmax, int8_t* q);

// ---- scalar dot kernels (dot_scalar.cpp): the fallback path -----------------------------
float vec_dot_q4_0_q8_0_scalar(int64_t n, const void* w, const void* a);
float vec_dot_q4_1_q8_1_scalar(int64_t n, const void* w, const void* a);
float vec_dot_q5_0_q8_0_scalar(int64_t n, const void* w, const void* a);
float vec_dot_q5_1_q8_1_scalar(int64_t n, const void* w, const void* a);
float vec_dot_q8_0_q8_0_scalar(int64_t n, const void* w, const void* a);
float vec_dot_q2_k_q8_k_scalar(int64_t n, const void* w, const void* a);
float vec_dot_q3_k_q8_k_scalar(int64_t n, const void* w, const void* a);
float vec_dot_q4_k_q8_k_scalar(int64_t n, const void* w, const void* a);
float vec_dot_q5_k_q8_k_scalar(int64_t n, const void* w, const void* a);
float vec_dot_q6_k_q8_k_scalar(int64_t n, const void* w, const void* a);
float vec_dot_q8_k_q8_k_scalar(int64_t n, const void* w, const void* a);
float vec_dot_iq4_nl_q8_0_scalar(int64_t n, const void* w, const void* a);
float vec_dot_iq4_xs_q8_k_scalar(int64_t n, const void* w, const void* a);
float vec_dot_mxfp4_q8_0_scalar(int64_t n, const void* w, const void* a);
float vec_dot_f32_f32_scalar(int64_t n, const void* w, const void* a);
float vec_dot_f16_f32_scalar(int64_t n, const void* w, const void* a);
float vec_dot_bf16_f32_scalar(int64_t n, const void* w, const void* a);

// ---- AVX2+FMA+F16C kernels (dot_avx2_*.cpp), compiled with target attributes -------------
float vec_dot_q4_0_q8_0_avx2(int64_t n, const void* w, const void* a);
float vec_dot_q4_1_q8_1_avx2(int64_t n, const void* w, const void* a);
float vec_dot_q5_0_q8_0_avx2(int64_t n, const void* w, const void* a);
float vec_dot_q5_1_q8_1_avx2(int64_t n, const void* w, const void* a);
float vec_dot_q8_0_q8_0_avx2(int64_t n, const void* w, const void* a);
float vec_dot_q2_k_q8_k_avx2(int64_t n, const void* w, const void* a);
float vec_dot_q3_k_q8_k_avx2(int64_t n, const void* w, const void* a);
float vec_dot_q4_k_q8_k_avx2(int64_t n, const void* w, const void* a);
float vec_dot_q5_k_q8_k_avx2(int64_t n, const void* w, const void* a);
float vec_dot_q6_k_q8_k_avx2(int64_t n, const void* w, const void* a);
float vec_dot_q8_k_q8_k_avx2(int64_t n, const void* w, const void* a);
float vec_dot_iq4_nl_q8_0_avx2(int64_t n, const void* w, const void* a);
float vec_dot_iq4_xs_q8_k_avx2(int64_t n, const void* w, const void* a);
float vec_dot_mxfp4_q8_0_avx2(int64_t n, const void* w, const void* a);
float vec_dot_f32_f32_avx2(int64_t n, const void* w, const void* a);
float vec_dot_f16_f32_avx2(int64_t n, const void* w, const void* a);
float vec_dot_bf16_f32_avx2(int64_t n, const void* w, const void* a);
void quantize_row_q8_0_avx2(const float* src, void* dst, int64_t n);
void quantize_row_q8_1_avx2(const float* src, void* dst, int64_t n);
void quantize_row_q8_k_avx2(const float* src, void* dst, int64_t n);
void dequantize_row_f16_avx2(const void* src, float* dst, int64_t n);

// ---- AVX-512 (F+BW+VL+DQ) activation quantizers (quantize_avx512.cpp): bitwise the AVX2 ones --
void quantize_row_q8_0_avx512(const float* src, void* dst, int64_t n);
void quantize_row_q8_k_avx512(const float* src, void* dst, int64_t n);

}  // namespace strata::quant
