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

bool cuda_split(TensorType stored, WeightRole role, CudaSplit& out) {
    if (role != WeightRole::matrix) return false;
    switch (stored) {
        case TensorType::Q4_0: out = {32, 18, 0, 16}; return true;
        case TensorType::Q8_0: out = {32, 34, 0, 32}; return true;
        case TensorType::Q6_K: out = {256, 210, 208, 208}; return true;
        default: return false;
    }
}

uint64_t cuda_weight_bytes(TensorType t, WeightRole role, int64_t n_rows, int64_t n_cols) {
    const TensorTypeTraits& tr = tensor_type_traits(t);
    const auto rows = static_cast<uint64_t>(n_rows);
    if (!tr.known || n_cols <= 0 || n_rows <= 0 || n_cols % tr.block_size != 0) return 0;
    const TensorType stored = cuda_storage_type(t, role, n_cols);
    CudaSplit s;
    if (!cuda_split(stored, role, s)) return rows * tensor_row_bytes(stored, n_cols);
    // Split: the blocks without their scale, padded to 256 bytes, then the 2-byte scales.
    const uint64_t blocks = rows * static_cast<uint64_t>(n_cols / s.block_elems);
    const uint64_t main = blocks * static_cast<uint64_t>(s.main_bytes);
    return (main + 255) / 256 * 256 + 2 * blocks;
}

}  // namespace strata
