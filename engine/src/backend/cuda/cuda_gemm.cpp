// The prefill matmul through cuBLAS (plan in cuda_gemm_plan.h). out (n_tok, n_rows) row-major
// is, in cuBLAS's column-major terms, C (n_rows × n_tok) = Wᵀ-as-stored (n_cols × n_rows)ᵀ ·
// X (n_cols × n_tok): cublasGemmEx(OP_T, OP_N, m = rows, n = n_tok, k = cols) with lda = ldb =
// the row length and ldc = n_rows.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "backend/cuda/cuda_device.h"
#include "backend/cuda/cuda_gemm_plan.h"

namespace strata::cuda {

namespace {

// cuBLAS status → a cudaError_t for the executor (the text goes to `what`).
cudaError_t blas(cublasStatus_t st, std::string& what, const char* call) {
    if (st == CUBLAS_STATUS_SUCCESS) return cudaSuccess;
    what = std::string(call) + " failed: " + cublasGetStatusName(st) + " (" + cublasGetStatusString(st) + ")";
    return cudaErrorUnknown;
}

}  // namespace

void destroy_cublas(cublasHandle_t handle) { cublasDestroy(handle); }

Status CudaDevice::ensure_cublas() {
    if (cublas_) return {};
    cublasHandle_t h = nullptr;
    const cublasStatus_t st = cublasCreate(&h);
    if (st != CUBLAS_STATUS_SUCCESS) {
        return fail_locked(std::string("creating the cuBLAS handle failed: ") + cublasGetStatusName(st) + " (" +
                           cublasGetStatusString(st) + ")");
    }
    cublasSetStream(h, stream_.get());
    cublasSetMathMode(h, CUBLAS_DEFAULT_MATH);  // F32 GEMMs stay full F32 (no TF32)
    cublas_.reset(h);
    return {};
}

Status CudaDevice::prepare_gemm() {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed_) return Status(ErrorCode::device_failure, info_.id + " has failed");
    cudaSetDevice(ordinal_);
    return ensure_cublas();
}

cudaError_t CudaDevice::run_gemm(const Op& op, bool convert_x, std::string& what) {
    const auto* w = static_cast<const CudaWeight*>(op.w.handle);
    const cuk::WeightView& v = w->view();
    const int64_t n_rows = v.n_rows, n_cols = v.n_cols, n_tok = op.n_tok;
    const GemmPlan g = plan_gemm(v.type, n_rows, n_cols, n_tok);
    char* ws = static_cast<char*>(op.ws);
    void* act16 = ws + g.act16_offset;
    const float one = 1.0f, zero = 0.0f;
    cudaError_t e;
    if ((e = blas(cublasSetWorkspace(cublas_.get(), ws, kCublasWorkspaceBytes), what, "cublasSetWorkspace")) != cudaSuccess)
        return e;
    if (!g.f32 && convert_x) {
        what = "converting activations to F16";
        if ((e = cuk::launch_f32_to_f16(op.x, n_tok * n_cols, act16, cuk::LaunchOn(stream_.get(), pdl_))) != cudaSuccess) return e;
    }
    if (g.f32) {
        return blas(cublasGemmEx(cublas_.get(), CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(n_rows), static_cast<int>(n_tok),
                                 static_cast<int>(n_cols), &one, v.main, CUDA_R_32F, static_cast<int>(n_cols), op.x,
                                 CUDA_R_32F, static_cast<int>(n_cols), &zero, op.out, CUDA_R_32F,
                                 static_cast<int>(n_rows), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                    what, "cublasGemmEx (F32)");
    }
    if (g.direct) {
        return blas(cublasGemmEx(cublas_.get(), CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(n_rows), static_cast<int>(n_tok),
                                 static_cast<int>(n_cols), &one, v.main, CUDA_R_16F, static_cast<int>(n_cols), act16,
                                 CUDA_R_16F, static_cast<int>(n_cols), &zero, op.out, CUDA_R_32F,
                                 static_cast<int>(n_rows), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                    what, "cublasGemmEx (F16)");
    }
    // Tiles: stream_b_ dequantizes tile k into buffer k % 2 while stream_ multiplies tile k - 1.
    // stream_b_ starts only once stream_ reaches this matmul (the tiles share memory with
    // earlier launches' activations).
    void* tiles[2] = {ws + g.tile0_offset, ws + g.tile1_offset};
    what = "pipelining weight tiles";
    if ((e = cudaEventRecord(ev_start_.get(), stream_.get())) != cudaSuccess) return e;
    if ((e = cudaStreamWaitEvent(stream_b_.get(), ev_start_.get(), 0)) != cudaSuccess) return e;
    int k = 0;
    for (int64_t rt = 0; rt < g.n_row_tiles; ++rt) {
        const int64_t r0 = rt * g.tile_rows, rows = std::min(g.tile_rows, n_rows - r0);
        for (int64_t cc = 0; cc < g.n_col_chunks; ++cc, ++k) {
            const int64_t c0 = cc * g.tile_cols, cols = std::min(g.tile_cols, n_cols - c0);
            const int buf = k % 2;
            what = "pipelining weight tiles";
            if (k >= 2 && (e = cudaStreamWaitEvent(stream_b_.get(), ev_free_[buf].get(), 0)) != cudaSuccess) return e;
            what = "dequantizing a weight tile";
            if ((e = cuk::launch_dequant_tile(v, r0, rows, c0, cols, tiles[buf], stream_b_.get())) != cudaSuccess) return e;
            what = "pipelining weight tiles";
            if ((e = cudaEventRecord(ev_fill_[buf].get(), stream_b_.get())) != cudaSuccess) return e;
            if ((e = cudaStreamWaitEvent(stream_.get(), ev_fill_[buf].get(), 0)) != cudaSuccess) return e;
            const float* beta = cc == 0 ? &zero : &one;  // column chunks accumulate
            e = blas(cublasGemmEx(cublas_.get(), CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(rows), static_cast<int>(n_tok),
                                  static_cast<int>(cols), &one, tiles[buf], CUDA_R_16F, static_cast<int>(cols),
                                  static_cast<const char*>(act16) + c0 * 2, CUDA_R_16F, static_cast<int>(n_cols), beta,
                                  op.out + r0, CUDA_R_32F, static_cast<int>(n_rows), CUBLAS_COMPUTE_32F,
                                  CUBLAS_GEMM_DEFAULT),
                     what, "cublasGemmEx (F16 tile)");
            if (e != cudaSuccess) return e;
            what = "pipelining weight tiles";
            if ((e = cudaEventRecord(ev_free_[buf].get(), stream_.get())) != cudaSuccess) return e;
        }
    }
    return cudaSuccess;
}

}  // namespace strata::cuda
