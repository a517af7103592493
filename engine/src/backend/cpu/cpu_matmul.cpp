// Placeholder CPU matmul (F32/F16/BF16 only, straightforward loops). The quantized-weights
// work replaces this with repacked SIMD kernels for every format.
#include "backend/cpu/cpu_matmul.h"

#include <vector>

#include "backend/cpu/thread_pool.h"
#include "util/fp16.h"

namespace strata {

Result<CpuWeight> CpuWeight::prepare(TensorType type, const void* data, int64_t n_rows,
                                     int64_t n_cols, bool /*allow_repack*/) {
    if (type != TensorType::F32 && type != TensorType::F16 && type != TensorType::BF16) {
        return Status(ErrorCode::unsupported,
                      std::string("CPU matmul does not support tensor type ") + tensor_type_name(type));
    }
    CpuWeight w;
    w.type_ = type;
    w.data_ = data;
    w.n_rows_ = n_rows;
    w.n_cols_ = n_cols;
    return w;
}

size_t CpuWeight::bytes() const { return tensor_row_bytes(type_, n_cols_) * static_cast<size_t>(n_rows_); }

void cpu_matmul(ThreadPool& pool, const CpuWeight& w, const float* x, int64_t n_tok, float* out,
                MatmulScratch& /*scratch*/) {
    const int64_t n_rows = w.n_rows(), n_cols = w.n_cols();
    constexpr int64_t kRowsPerTask = 16;
    const int64_t n_tasks = (n_rows + kRowsPerTask - 1) / kRowsPerTask;
    pool.parallel_for(n_tasks, [&](int64_t task, int) {
        std::vector<float> row(static_cast<size_t>(n_cols));
        const int64_t r1 = std::min(n_rows, (task + 1) * kRowsPerTask);
        for (int64_t r = task * kRowsPerTask; r < r1; ++r) {
            const float* wr;
            if (w.type() == TensorType::F32) {
                wr = static_cast<const float*>(w.data()) + r * n_cols;
            } else {
                const uint16_t* src = static_cast<const uint16_t*>(w.data()) + r * n_cols;
                for (int64_t k = 0; k < n_cols; ++k)
                    row[k] = w.type() == TensorType::F16 ? fp16_to_fp32(src[k]) : bf16_to_fp32(src[k]);
                wr = row.data();
            }
            for (int64_t t = 0; t < n_tok; ++t) {
                const float* xt = x + t * n_cols;
                float acc = 0.0f;
                for (int64_t k = 0; k < n_cols; ++k) acc += wr[k] * xt[k];
                out[t * n_rows + r] = acc;
            }
        }
    });
}

}  // namespace strata
