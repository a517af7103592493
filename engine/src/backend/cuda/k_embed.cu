// Token embedding: out[t] = dequantized row tokens[t] of the table (native GGUF layout, any
// device type). A token outside the table writes zeros and sets *bad_token_flag to id + 1
// (the host reports it after the flush).
#include "backend/cuda/quant_units.cuh"

namespace strata::cuk {

namespace {

__global__ void embed_kernel(WeightView table, const int32_t* __restrict__ tokens, int64_t n_tok, float* out,
                             int* bad_token_flag) {
    pdl_enter();
    const int64_t t = blockIdx.y;
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (t >= n_tok || i >= table.n_cols) return;
    const int32_t id = tokens[t];
    float v = 0.0f;
    if (id < 0 || id >= table.n_rows) {
        // A plain store to mapped host memory (any bad id may win; the host reports one).
        if (i == 0) *reinterpret_cast<volatile int*>(bad_token_flag) = id < 0 ? 1 : id + 1;
    } else {
        v = dequant_native(table.type, table.main + static_cast<int64_t>(id) * table.row_bytes, i);
    }
    out[t * table.n_cols + i] = v;
}

}  // namespace

cudaError_t launch_embed(const WeightView& table, const int32_t* tokens, int64_t n_tok, float* out,
                         int* bad_token_flag, LaunchOn stream) {
    if (n_tok <= 0 || table.n_cols <= 0) return cudaSuccess;
    if (n_tok > 65535) return cudaErrorInvalidValue;
    constexpr int kThreads = 256;
    const dim3 grid(grid_1d(table.n_cols, kThreads), static_cast<unsigned>(n_tok));
    launch_kernel(embed_kernel, grid, kThreads, 0, stream, table, tokens, n_tok, out, bad_token_flag);
    return cudaGetLastError();
}

}  // namespace strata::cuk
