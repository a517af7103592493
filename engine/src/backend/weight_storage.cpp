#include "backend/weight_storage.h"

namespace strata {

bool cuda_reads_type(TensorType t) {
    switch (t) {
        case TensorType::F32:
        case TensorType::F16:
        case TensorType::BF16:
        case TensorType::Q4_0:
        case TensorType::Q8_0:
        case TensorType::Q4_K:
        case TensorType::Q5_K:
        case TensorType::Q6_K: return true;
        default: return false;
    }
}

TensorType cuda_storage_type(TensorType t, WeightRole role, int64_t n_cols) {
    if (role == WeightRole::vector) return TensorType::F32;
    if (cuda_reads_type(t)) return t;
    // Q3_K's levels and group scales are Q6_K's, exactly (quant::transcode_row): 6.6 bits per
    // weight rather than Q8_0's 8.5.
    if (t == TensorType::Q3_K) return TensorType::Q6_K;
    return n_cols % 32 == 0 ? TensorType::Q8_0 : TensorType::F16;
}

bool cuda_split_layout(TensorType stored, WeightRole role) {
    return role == WeightRole::matrix &&
           (stored == TensorType::Q4_0 || stored == TensorType::Q8_0 || stored == TensorType::Q6_K);
}

uint64_t cuda_weight_bytes(TensorType t, WeightRole role, int64_t n_rows, int64_t n_cols) {
    const TensorTypeTraits& tr = tensor_type_traits(t);
    const auto rows = static_cast<uint64_t>(n_rows);
    if (!tr.known || n_cols <= 0 || n_rows <= 0 || n_cols % tr.block_size != 0) return 0;
    const TensorType stored = cuda_storage_type(t, role, n_cols);
    const uint64_t bytes = rows * tensor_row_bytes(stored, n_cols);
    if (!cuda_split_layout(stored, role)) return bytes;
    // Split: the blocks without their 2-byte scale, padded to 256 bytes, then the scales.
    const uint64_t blocks = rows * static_cast<uint64_t>(n_cols / tensor_type_traits(stored).block_size);
    const uint64_t main = bytes - 2 * blocks;
    return (main + 255) / 256 * 256 + 2 * blocks;
}

}  // namespace strata
