// TEMPORARY: plain-type conversions so the runtime links before the quantized-formats work
// lands (it replaces this file with the real reference code and kernels).
#include <cmath>
#include <cstring>

#include "quant/quant.h"
#include "util/fp16.h"

namespace strata::quant {

bool can_dequantize(TensorType t) { return t == TensorType::F32 || t == TensorType::F16 || t == TensorType::BF16 || t == TensorType::Q8_0; }
bool can_quantize(TensorType t) { return can_dequantize(t); }

void dequantize_row_ref(TensorType t, const void* src, float* dst, int64_t n) {
    if (t == TensorType::F32) { std::memcpy(dst, src, n * 4); return; }
    const uint16_t* h = static_cast<const uint16_t*>(src);
    if (t == TensorType::F16) { for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(h[i]); return; }
    if (t == TensorType::BF16) { for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(h[i]); return; }
    const uint8_t* b = static_cast<const uint8_t*>(src);
    for (int64_t blk = 0; blk < n / 32; ++blk, b += 34) {
        uint16_t d; std::memcpy(&d, b, 2);
        for (int i = 0; i < 32; ++i) dst[blk * 32 + i] = fp16_to_fp32(d) * static_cast<int8_t>(b[2 + i]);
    }
}

void quantize_row_ref(TensorType t, const float* src, void* dst, int64_t n, const float*) {
    if (t == TensorType::F32) { std::memcpy(dst, src, n * 4); return; }
    uint16_t* h = static_cast<uint16_t*>(dst);
    if (t == TensorType::F16) { for (int64_t i = 0; i < n; ++i) h[i] = fp32_to_fp16(src[i]); return; }
    if (t == TensorType::BF16) { for (int64_t i = 0; i < n; ++i) h[i] = fp32_to_bf16(src[i]); return; }
    uint8_t* b = static_cast<uint8_t*>(dst);
    for (int64_t blk = 0; blk < n / 32; ++blk, b += 34) {
        float amax = 0; for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(src[blk * 32 + i]));
        const float d = amax / 127.0f; const float id = d ? 1.0f / d : 0.0f;
        const uint16_t dh = fp32_to_fp16(d); std::memcpy(b, &dh, 2);
        for (int i = 0; i < 32; ++i) b[2 + i] = static_cast<uint8_t>(static_cast<int8_t>(std::lround(src[blk * 32 + i] * id)));
    }
}

TensorType vec_dot_type(TensorType w) { return w == TensorType::F32 ? TensorType::F32 : TensorType::F32; }
void quantize_row(TensorType t, const float* src, void* dst, int64_t n) { quantize_row_ref(t, src, dst, n); }
void dequantize_row(TensorType t, const void* src, float* dst, int64_t n) { dequantize_row_ref(t, src, dst, n); }
float vec_dot(TensorType, int64_t, const void*, const void*) { return 0.0f; }
std::string cpu_kernel_isa() { return "scalar"; }

}  // namespace strata::quant
